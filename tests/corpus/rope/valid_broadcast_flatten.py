# corpus: valid
# mistake: none: broadcasts the positions to x.shape[:-1] explicitly, flattens every leading axis into one row axis [N, dim], rotates there and reshapes back; the outer product is a matmul
# evidence: passes all 33 contract checks of _verify.py; x [B=2,H=2,T=4,8] with per-row [B,1,T] positions matches the float64 definition exactly (0), bf16 x at positions 60000..70000 within 0.010, grads equal R(-m) g to 1e-10
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
    if dim <= 0 or dim % 2:
        raise ValueError(f"dim must be a positive even number, got {dim}")
    positions = torch.as_tensor(positions)
    inv_freq = base ** (-torch.arange(0, dim, 2, dtype=torch.float64, device=positions.device) / dim)
    inv_freq = torch.cat([inv_freq, inv_freq])  # [dim]
    angles = positions.to(torch.float64).unsqueeze(-1) @ inv_freq.unsqueeze(0)  # [*positions.shape, dim]
    return angles.cos().to(dtype), angles.sin().to(dtype)


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
    *lead, dim = x.shape
    if dim % 2:
        raise ValueError(f"the last dim of x must be even, got {dim}")
    r = dim if rotary_dim is None else rotary_dim
    if r % 2 or not 0 < r <= dim:
        raise ValueError(f"rotary_dim must be even and 0 < rotary_dim <= {dim}, got {r}")
    pos = torch.broadcast_to(torch.as_tensor(positions, device=x.device), lead).reshape(-1)  # [N]
    xf = x.reshape(-1, dim)  # [N, dim]
    theta = base ** (-torch.arange(0, r, 2, dtype=torch.float64, device=x.device) / r)  # [r/2]
    ang = pos.to(torch.float64)[:, None] * theta[None, :]  # [N, r/2]
    cos, sin = ang.cos().to(x.dtype), ang.sin().to(x.dtype)
    if interleaved:
        p = xf[:, :r].reshape(-1, r // 2, 2)
        x1, x2 = p[..., 0], p[..., 1]
        y = torch.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1).reshape(-1, r)
    else:
        x1, x2 = xf[:, : r // 2], xf[:, r // 2 : r]
        y = torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)
    return torch.cat([y, xf[:, r:]], dim=1).reshape(x.shape)


def apply_rope_complex(x: torch.Tensor, positions: torch.Tensor, *, base: float = 10000.0) -> torch.Tensor:
    """RoPE as complex multiplication (the paper's eq. 12 and Meta's Llama code).

    Adjacent features (2i, 2i+1) form the complex number z_i = x[2i] + 1j * x[2i+1]; RoPE multiplies
    it by exp(1j * m * theta_i). Equals apply_rope(x, positions, base=base, interleaved=True).
    x: [..., T, dim] with dim even; returns x's shape and dtype (computed in float32 or float64).
    """
    *lead, dim = x.shape
    if dim % 2:
        raise ValueError(f"the last dim of x must be even, got {dim}")
    pos = torch.broadcast_to(torch.as_tensor(positions, device=x.device), lead).reshape(-1)  # [N]
    theta = base ** (-torch.arange(0, dim, 2, dtype=torch.float64, device=x.device) / dim)
    rot = torch.exp(1j * (pos.to(torch.float64)[:, None] * theta))  # [N, dim/2] complex128
    z = torch.view_as_complex(x.reshape(-1, dim // 2, 2).to(torch.float64).contiguous())  # [N, dim/2]
    return torch.view_as_real(z * rot).reshape(x.shape).to(x.dtype)
