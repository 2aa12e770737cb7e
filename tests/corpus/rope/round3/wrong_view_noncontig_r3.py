# mistake: flattens the leading dims with x.view(-1, T, dim), which raises on a non-contiguous x such as q.transpose(1, 2)
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
    if dim % 2:
        raise ValueError("rope_cos_sin: dim must be even")
    half = dim // 2
    j = torch.arange(half, dtype=torch.float64, device=positions.device)
    inv_freq = 1.0 / (base ** (2.0 * j / dim))
    ang = positions.double().unsqueeze(-1) * inv_freq
    ang = torch.cat([ang, ang], dim=-1)
    return torch.cos(ang).to(dtype), torch.sin(ang).to(dtype)


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
    d = x.size(-1)
    if d % 2:
        raise ValueError("apply_rope: dim must be even")
    r = d if rotary_dim is None else int(rotary_dim)
    if r <= 0 or r > d or r % 2:
        raise ValueError("apply_rope: rotary_dim must be even and in 1..dim")
    if cos_sin is not None:
        cos, sin = (t.to(x.device, x.dtype) for t in cos_sin)
    else:
        cos, sin = rope_cos_sin(positions.to(x.device), r, base, dtype=x.dtype)
    h = r // 2
    T = x.shape[-2]
    xf = x.view(-1, T, d)  # [N, T, dim]
    c = torch.broadcast_to(cos[..., :h], (*x.shape[:-1], h)).reshape(-1, T, h)
    s = torch.broadcast_to(sin[..., :h], (*x.shape[:-1], h)).reshape(-1, T, h)
    if interleaved:
        x1, x2 = xf[..., 0:r:2], xf[..., 1:r:2]
        rot = torch.stack([x1 * c - x2 * s, x2 * c + x1 * s], dim=-1).flatten(-2)
    else:
        x1, x2 = xf[..., :h], xf[..., h:r]
        rot = torch.cat([x1 * c - x2 * s, x2 * c + x1 * s], dim=-1)
    return torch.cat([rot, xf[..., r:]], dim=-1).view(x.shape)


def apply_rope_complex(x: torch.Tensor, positions: torch.Tensor, *, base: float = 10000.0) -> torch.Tensor:
    """RoPE as complex multiplication (the paper's eq. 12 and Meta's Llama code).

    Adjacent features (2i, 2i+1) form the complex number z_i = x[2i] + 1j * x[2i+1]; RoPE multiplies
    it by exp(1j * m * theta_i). Equals apply_rope(x, positions, base=base, interleaved=True).
    x: [..., T, dim] with dim even; returns x's shape and dtype (computed in float32 or float64).
    """
    d = x.size(-1)
    if d % 2:
        raise ValueError("apply_rope_complex: dim must be even")
    work = torch.float64 if x.dtype == torch.float64 else torch.float32
    j = torch.arange(d // 2, dtype=torch.float64, device=x.device)
    ang = positions.to(x.device).double().unsqueeze(-1) / (base ** (2.0 * j / d))
    ctype = torch.complex128 if work == torch.float64 else torch.complex64
    rot = torch.complex(torch.cos(ang), torch.sin(ang)).to(ctype)
    pairs = x.to(work).unflatten(-1, (d // 2, 2)).contiguous()
    z = torch.view_as_complex(pairs) * rot
    return torch.view_as_real(z).flatten(-2).to(x.dtype)
