# corpus: wrong
# mistake: interleaved=True reads the pairs (2i, 2i+1) correctly but writes the rotated pairs back half-split (all x1' then all x2') instead of re-interleaving them.
# evidence: x [2, 4, 8] float64, interleaved=True: output differs from the definition on pairs (2i, 2i+1) by 4.17 (even at position 0 the features are permuted); half-split is exact.
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

    Raises ValueError for an odd dim.
    Half-split layout, as in Hugging Face Llama: column j and column j + dim/2 hold the same angle
    positions * theta_j with theta_j = base ** (-2j / dim) (the table is cat(freqs, freqs)).
    Angles are computed in float64 and only then cast to `dtype`, so a bf16 table is exact up to
    bf16 rounding even at positions of 60 000 and more.
    """
    if dim % 2:
        raise ValueError(f"dim must be even, got {dim}")
    half = dim // 2
    theta = base ** (-2.0 * torch.arange(half, dtype=torch.float64, device=positions.device) / dim)
    angles = positions.to(torch.float64)[..., None] * theta  # [*positions.shape, dim/2]
    angles = torch.cat([angles, angles], dim=-1)
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
    Raises ValueError when dim or rotary_dim is odd, or rotary_dim is negative or larger than dim
    (rotary_dim=0 may raise too: nothing would rotate).
    """
    dim = x.shape[-1]
    if dim % 2:
        raise ValueError(f"the feature dimension must be even, got {dim}")
    r = dim if rotary_dim is None else rotary_dim
    if r % 2 or r <= 0 or r > dim:
        raise ValueError(f"rotary_dim must be even and in (0, {dim}], got {rotary_dim}")
    half = r // 2
    theta = base ** (-2.0 * torch.arange(half, dtype=torch.float64, device=x.device) / r)
    pos = torch.as_tensor(positions, device=x.device).to(torch.float64)
    angles = pos[..., None] * theta  # [..., T, r/2]
    cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
    rot = x[..., :r]
    if interleaved:
        x1, x2 = rot[..., 0::2], rot[..., 1::2]
    else:
        x1, x2 = rot[..., :half], rot[..., half:]
    o1 = x1 * cos - x2 * sin
    o2 = x2 * cos + x1 * sin
    out = torch.cat([o1, o2], dim=-1)
    return torch.cat([out, x[..., r:]], dim=-1)


def apply_rope_complex(x: torch.Tensor, positions: torch.Tensor, *, base: float = 10000.0) -> torch.Tensor:
    """RoPE as complex multiplication (the paper's eq. 12 and Meta's Llama code).

    Adjacent features (2i, 2i+1) form the complex number z_i = x[2i] + 1j * x[2i+1]; RoPE multiplies
    it by exp(1j * m * theta_i). Equals apply_rope(x, positions, base=base, interleaved=True).
    x: [..., T, dim] with dim even; returns x's shape and dtype (computed in float32 or float64).
    """
    dim = x.shape[-1]
    if dim % 2:
        raise ValueError(f"the feature dimension must be even, got {dim}")
    work = torch.float64 if x.dtype == torch.float64 else torch.float32
    z = torch.view_as_complex(x.to(work).reshape(*x.shape[:-1], dim // 2, 2).contiguous())
    theta = base ** (-2.0 * torch.arange(dim // 2, dtype=torch.float64, device=x.device) / dim)
    angles = torch.as_tensor(positions, device=x.device).to(torch.float64)[..., None] * theta
    rot = torch.polar(torch.ones_like(angles), angles).to(z.dtype)
    out = torch.view_as_real(z * rot).flatten(-2)
    return out.to(x.dtype)
