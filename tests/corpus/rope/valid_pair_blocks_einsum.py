# corpus: valid
# mistake: none: stacks each pair as a 2-vector and applies per-pair 2x2 blocks [..., T, r/2, 2, 2] with einsum (never a [T, dim, dim] matrix); the cos/sin table is built column by column from j mod dim/2
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
        raise ValueError(f"odd dim {dim}: RoPE rotates pairs, dim must be even")
    positions = torch.as_tensor(positions)
    col = torch.arange(dim, device=positions.device) % (dim // 2)  # pair index of every column
    theta = float(base) ** (-2.0 * col.to(torch.float64) / dim)  # [dim]
    angles = torch.einsum("...,j->...j", positions.to(torch.float64), theta)  # [*positions.shape, dim]
    return torch.cos(angles).to(dtype=dtype), torch.sin(angles).to(dtype=dtype)


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
    if dim % 2 != 0:
        raise ValueError(f"dim must be even, got {dim}")
    r = dim if rotary_dim is None else rotary_dim
    if r % 2 != 0:
        raise ValueError(f"rotary_dim must be even, got {r}")
    if not 0 < r <= dim:
        raise ValueError(f"rotary_dim must satisfy 0 < rotary_dim <= dim = {dim}, got {r}")
    positions = torch.as_tensor(positions, device=x.device)
    theta = base ** (-torch.arange(0, r, 2, dtype=torch.float64, device=x.device) / r)  # [r/2]
    a = positions.to(torch.float64)[..., None] * theta  # [..., T, r/2]
    c, s = a.cos().to(x.dtype), a.sin().to(x.dtype)
    blocks = torch.stack([torch.stack([c, -s], -1), torch.stack([s, c], -1)], -2)  # [..., T, r/2, 2, 2]
    if interleaved:
        v = x[..., :r].unflatten(-1, (r // 2, 2))  # [..., T, r/2, 2]: (x[2i], x[2i+1])
    else:
        v = torch.stack([x[..., : r // 2], x[..., r // 2 : r]], dim=-1)  # [..., T, r/2, 2]: (x[i], x[i+r/2])
    w = torch.einsum("...ab,...b->...a", blocks, v)  # [..., T, r/2, 2]
    y = w.flatten(-2) if interleaved else w.transpose(-1, -2).flatten(-2)  # [..., T, r]
    return torch.cat([y, x[..., r:]], dim=-1)


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
    theta = base ** (-torch.arange(0, dim, 2, dtype=torch.float64, device=x.device) / dim)
    a = positions.to(torch.float64)[..., None] * theta  # [..., T, dim/2]
    pairs = x.to(torch.float64).unflatten(-1, (dim // 2, 2)).contiguous()
    z = torch.view_as_complex(pairs)  # [..., T, dim/2] complex128
    out = torch.view_as_real(z * torch.complex(a.cos(), a.sin()))  # [..., T, dim/2, 2]
    return out.flatten(-2).to(x.dtype)
