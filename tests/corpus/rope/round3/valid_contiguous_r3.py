"""Rotary Position Embedding, PyTorch version (RoFormer, Su et al. 2021, arXiv 2104.09864).

RoPE splits the feature dimension (never the sequence) into 2-D pairs and rotates pair i of a token
at position m by the angle m * theta_i, with theta_i = base ** (-2i / d). It is applied to queries and
keys inside attention, never to values and never added to the embeddings. Because rotations compose,

    <R(m) q, R(n) k> = <q, R(m)^T R(n) k> = <q, R(n - m) k>,

so the attention score depends on the positions only through the offset n - m (RoFormer section
3.2.2, eq. 16; derived in section 3.4.1).

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

import functools

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
    if dim % 2 != 0:
        raise ValueError("rope_cos_sin needs an even dim")
    theta = _theta(dim, float(base), positions.device)
    ang = positions.to(torch.float64)[..., None] * theta
    ang = torch.cat((ang, ang), dim=-1)
    return torch.cos(ang).to(dtype), torch.sin(ang).to(dtype)


@functools.lru_cache(maxsize=64)
def _theta(dim: int, base: float, device: torch.device) -> torch.Tensor:
    """theta_j = base ** (-2j / dim) in float64, cached per (dim, base, device)."""
    return base ** (-torch.arange(0, dim, 2, dtype=torch.float64, device=device) / dim)


@functools.lru_cache(maxsize=64)
def _rotation_constants(
    r: int, base: float, interleaved: bool, dtype: torch.dtype, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """Optional helper for apply_rope (no check calls it; change or delete it freely).

    What a model computes once and keeps in a buffer, here cached per configuration: the pairs'
    frequencies theta_i = base ** (-2i / r), [r/2] float64; and the sign each feature's sin takes in
    its pair's rotation (-1 on the pair's first feature x1, +1 on its second x2), [r] in `dtype`, in
    the layout's feature order.
    """
    raise NotImplementedError("write your solution here")


def apply_rope(
    x: torch.Tensor,
    positions: torch.Tensor,
    *,
    base: float = 10000.0,
    interleaved: bool = False,
    rotary_dim: int | None = None,
    cos_sin: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> torch.Tensor:
    """Rotate the feature pairs of x by position-dependent angles.

    x: [..., T, dim]; positions: integers broadcastable to x.shape[:-1] = [..., T], e.g. [T] or
    [B, 1, T] for x [B, H, T, dim]. x may be any tensor of that shape, large or small, a strided
    view included (attention's q.transpose(1, 2)).
    interleaved=False pairs features (i, i + r/2) (half-split); interleaved=True pairs (2i, 2i + 1).
    rotary_dim=r rotates only the first r features (frequencies use r: theta_i = base ** (-2i / r))
    and copies the other dim - r unchanged. Returns a new tensor with x's shape, dtype and device;
    x itself is not modified. No [T, dim, dim] rotation matrix is ever built. Differentiable: the
    gradient of a rotation is the inverse rotation, R(m)^T = R(-m).
    cos_sin (optional): the table rope_cos_sin(positions, r, base, dtype=x.dtype) of these same
    positions, computed once for q, k and all layers; when given, it is used instead of recomputing it.
    Raises ValueError when dim or rotary_dim is odd, or rotary_dim is negative or larger than dim
    (rotary_dim=0 may raise too: nothing would rotate).
    """
    dim = x.shape[-1]
    r = dim if rotary_dim is None else rotary_dim
    if dim % 2 != 0:
        raise ValueError("apply_rope: odd feature dim")
    if r % 2 != 0 or not 0 < r <= dim:
        raise ValueError("apply_rope: rotary_dim must be even, > 0 and <= dim")
    if cos_sin is None:
        cos, sin = rope_cos_sin(positions.to(x.device), r, base, dtype=x.dtype)
    else:
        cos, sin = cos_sin
    lead = x.shape[:-1]
    xc = x.contiguous()  # a transposed view (q.transpose(1, 2)) is copied once; then views are safe
    flat = xc.view(-1, dim)
    h = r // 2
    c = torch.broadcast_to(cos.to(x.device, x.dtype)[..., :h], (*lead, h)).reshape(-1, h)
    s = torch.broadcast_to(sin.to(x.device, x.dtype)[..., :h], (*lead, h)).reshape(-1, h)
    head = flat[:, :r]
    if interleaved:
        x1, x2 = head[:, 0::2], head[:, 1::2]
        rot = torch.stack((x1 * c - x2 * s, x2 * c + x1 * s), dim=-1).view(-1, r)
    else:
        x1, x2 = head[:, :h], head[:, h:]
        rot = torch.cat((x1 * c - x2 * s, x2 * c + x1 * s), dim=-1)
    out = torch.cat((rot, flat[:, r:]), dim=1)
    return out.view(*lead, dim)


def apply_rope_complex(x: torch.Tensor, positions: torch.Tensor, *, base: float = 10000.0) -> torch.Tensor:
    """RoPE as complex multiplication (the paper's eq. 12 and Meta's Llama code).

    Adjacent features (2i, 2i+1) form the complex number z_i = x[2i] + 1j * x[2i+1]; RoPE multiplies
    it by exp(1j * m * theta_i). Equals apply_rope(x, positions, base=base, interleaved=True).
    x: [..., T, dim] with dim even; returns x's shape and dtype (computed in float32 or float64).
    """
    dim = x.shape[-1]
    if dim % 2 != 0:
        raise ValueError("apply_rope_complex: odd feature dim")
    real = torch.float64 if x.dtype == torch.float64 else torch.float32
    theta = _theta(dim, float(base), x.device)
    ang = positions.to(device=x.device, dtype=torch.float64)[..., None] * theta
    xc = x.to(real).contiguous()
    z = torch.view_as_complex(xc.view(*x.shape[:-1], dim // 2, 2))
    w = torch.polar(torch.ones_like(ang), ang).to(z.dtype)
    zw = z * w
    return torch.view_as_real(zw).reshape(*zw.shape[:-1], dim).to(x.dtype)
