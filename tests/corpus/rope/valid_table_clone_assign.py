# corpus: valid
# mistake: none: apply_rope reuses its own rope_cos_sin (float64 table, first half of the columns), computes in float64, and writes into a clone of x by slice assignment (autograd-safe), casting once at the end
# evidence: passes all 33 contract checks of _verify.py; x [B=2,H=2,T=4,8] with per-row [B,1,T] positions matches the float64 definition exactly (0), bf16 x at positions 60000..70000 within 0.008, grads equal R(-m) g
"""Rotary Position Embedding, PyTorch version (RoFormer, Su et al. 2021, arXiv 2104.09864).

RoPE splits the feature dimension (never the sequence) into 2-D pairs and rotates pair i of a token
at position m by the angle m * theta_i, with theta_i = base ** (-2i / d). It is applied to queries and
keys inside attention, never to values and never added to the embeddings. Because rotations compose,

    <R(m) q, R(n) k> = <q, R(m)^T R(n) k> = <q, R(n - m) k>,

so the attention score depends on the positions only through the offset n - m (section 3.4.2).

Two layouts of the pairs exist in the wild, and they are the same map up to a fixed permutation of
features:
- half-split (Hugging Face, GPT-NeoX): pair i = features (i, i + d/2);
- interleaved (the paper, Meta's Llama, GPT-J): pair i = features (2i, 2i + 1).

For a pair (x1, x2) and angle a the rotation is

    x1' = x1 * cos(a) - x2 * sin(a)
    x2' = x2 * cos(a) + x1 * sin(a)

The cost is O(T * d) element-wise work; it does not change attention's O(T^2 * d).
"""

from __future__ import annotations

import torch


def rope_cos_sin(
    positions: torch.Tensor,
    dim: int,
    base: float = 10000.0,
    *,
    dtype: torch.dtype = torch.float32,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (cos, sin) of the rotation angles, each of shape [*positions.shape, dim].

    Half-split layout, as in Hugging Face Llama: column j and column j + dim/2 hold the same angle
    positions * theta_j with theta_j = base ** (-2j / dim) (the table is cat(freqs, freqs)).
    Angles are computed in float64 and only then cast to `dtype`, so a bf16 table is exact up to
    bf16 rounding even at positions of 60 000 and more.
    """
    if dim % 2 != 0:
        raise ValueError(f"dim must be even, got {dim}")
    positions = torch.as_tensor(positions)
    half = dim // 2
    theta = torch.full((half,), float(base), dtype=torch.float64, device=positions.device)
    theta = theta.pow(-2.0 * torch.arange(half, dtype=torch.float64, device=positions.device) / dim)
    angles = positions.to(torch.float64)[..., None] * theta  # [*positions.shape, dim/2]
    cos = torch.empty(*positions.shape, dim, dtype=torch.float64, device=positions.device)
    sin = torch.empty_like(cos)
    cos[..., :half] = cos[..., half:] = angles.cos()
    sin[..., :half] = sin[..., half:] = angles.sin()
    return cos.to(dtype), sin.to(dtype)


def apply_rope(
    x: torch.Tensor,
    positions: torch.Tensor,
    *,
    base: float = 10000.0,
    interleaved: bool = False,
    rotary_dim: int | None = None,
) -> torch.Tensor:
    """Rotate the feature pairs of x by position-dependent angles.

    x: [..., T, dim]; positions: integers broadcastable to x.shape[:-1] = [..., T], e.g. [T] or
    [B, 1, T] for x [B, H, T, dim].
    interleaved=False pairs features (i, i + r/2) (half-split); interleaved=True pairs (2i, 2i + 1).
    rotary_dim=r rotates only the first r features (frequencies use r: theta_i = base ** (-2i / r))
    and copies the other dim - r unchanged. Returns a new tensor with x's shape, dtype and device;
    x itself is not modified. No [T, dim, dim] rotation matrix is ever built. Differentiable: the
    gradient of a rotation is the inverse rotation, R(m)^T = R(-m).
    """
    dim = x.shape[-1]
    r = dim if rotary_dim is None else rotary_dim
    if dim % 2 != 0:
        raise ValueError(f"dim must be even, got {dim}")
    if r % 2 != 0 or r > dim or r <= 0:
        raise ValueError(f"rotary_dim must be even and at most dim={dim}, got {r}")
    positions = torch.as_tensor(positions, device=x.device)
    cos, sin = rope_cos_sin(positions, r, base, dtype=torch.float64)
    cos, sin = cos[..., : r // 2], sin[..., : r // 2]  # [..., T, r/2]
    sl1, sl2 = (slice(0, r, 2), slice(1, r, 2)) if interleaved else (slice(0, r // 2), slice(r // 2, r))
    x1, x2 = x[..., sl1].double(), x[..., sl2].double()
    y = x.clone()
    y[..., sl1] = (x1 * cos - x2 * sin).to(x.dtype)
    y[..., sl2] = (x2 * cos + x1 * sin).to(x.dtype)
    return y


def apply_rope_complex(x: torch.Tensor, positions: torch.Tensor, *, base: float = 10000.0) -> torch.Tensor:
    """RoPE as complex multiplication (the paper's eq. 12 and Meta's Llama code).

    Adjacent features (2i, 2i+1) form the complex number z_i = x[2i] + 1j * x[2i+1]; RoPE multiplies
    it by exp(1j * m * theta_i). Equals apply_rope(x, positions, base=base, interleaved=True).
    x: [..., T, dim] with dim even; returns x's shape and dtype (computed in float32 or float64).
    """
    dim = x.shape[-1]
    if dim % 2 != 0:
        raise ValueError(f"dim must be even, got {dim}")
    positions = torch.as_tensor(positions, device=x.device)
    cos, sin = rope_cos_sin(positions, dim, base, dtype=torch.float64)
    rot = torch.complex(cos[..., : dim // 2], sin[..., : dim // 2])  # exp(1j * m * theta_i)
    z = torch.view_as_complex(x.double().reshape(*x.shape[:-1], dim // 2, 2).contiguous())
    return torch.view_as_real(z * rot).reshape(x.shape).to(x.dtype)
