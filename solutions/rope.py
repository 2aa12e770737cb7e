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
    # TODO: ValueError for an odd dim.
    # TODO: theta [dim/2]; angles = positions[..., None] * theta -> [*positions.shape, dim/2],
    #       computed in float64 (never in `dtype`); duplicate to [..., dim]; cast cos and sin to dtype.
    ### BEGIN SOLUTION
    if dim % 2 != 0:
        raise ValueError(f"dim must be even (features are rotated in pairs), got {dim}")
    positions = torch.as_tensor(positions)
    theta = base ** (-torch.arange(0, dim, 2, dtype=torch.float64, device=positions.device) / dim)  # [dim/2]
    angles = positions.to(torch.float64)[..., None] * theta  # [..., dim/2]
    angles = torch.cat((angles, angles), dim=-1)  # [..., dim]
    return angles.cos().to(dtype), angles.sin().to(dtype)
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    theta = base ** (-torch.arange(0, r, 2, dtype=torch.float64, device=device) / r)  # [r/2]
    signs = torch.tensor([-1.0, 1.0], dtype=dtype, device=device)
    return theta, signs.repeat(r // 2) if interleaved else signs.repeat_interleave(r // 2)
    ### END SOLUTION


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
    # TODO: validate dim, rotary_dim (both even, 0 < rotary_dim <= dim) with ValueErrors.
    # TODO: cos and sin of each feature's angle, in x's dtype (angles computed in float64).
    # TODO: rotate each pair (x1, x2) of the first r features to (x1*cos - x2*sin, x2*cos + x1*sin)
    #       in a new tensor; copy features r: unchanged.
    ### BEGIN SOLUTION
    dim = x.shape[-1]
    r = dim if rotary_dim is None else rotary_dim
    if dim % 2 != 0 or r % 2 != 0:
        raise ValueError(f"dim and rotary_dim must be even, got dim={dim}, rotary_dim={r}")
    if not 0 < r <= dim:
        raise ValueError(f"rotary_dim must be in (0, dim={dim}], got {r}")
    half = r // 2
    theta, signs = _rotation_constants(r, float(base), interleaved, x.dtype, x.device)

    def per_feature(first, second):  # pair i's two values, [..., r/2] each, on its two features
        return torch.stack((first, second), -1).flatten(-2) if interleaved else torch.cat((first, second), -1)

    if cos_sin is None:
        angles = torch.as_tensor(positions, device=x.device)[..., None] * theta  # [..., T, r/2] float64
        c, s = angles.cos().to(x.dtype), angles.sin().to(x.dtype)  # per pair: half a table's work
        cos, sin = per_feature(c, c), per_feature(s, s)  # [..., T, r]
    else:  # a table computed once by the caller and shared by q, k and every layer
        cos, sin = cos_sin  # half-split columns: pair i's angle in columns i and i + r/2
        if interleaved:  # pair i's angle in columns 2i and 2i + 1
            cos, sin = cos[..., :half].repeat_interleave(2, -1), sin[..., :half].repeat_interleave(2, -1)
    sin = sin * signs  # -sin on x1, +sin on x2

    rot = x if r == dim else x[..., :r]
    # each feature's partner in its pair, (x1, x2) -> (x2, x1), as a new tensor
    if interleaved:  # adjacent pairs: flip each one
        swapped = rot.unflatten(-1, (half, 2)).flip(-1).flatten(-2)
    elif rot.numel() < 1 << 16 or not rot.is_contiguous():  # few numbers (a decode step), or a view
        swapped = rot.roll(half, -1)
    else:  # as rows of r/2 features, row 2j holds a vector's x1 and row 2j + 1 its x2: swap whole rows
        rows = rot.view(rot.numel() // half, half)
        swapped = rows.index_select(0, torch.arange(len(rows), device=x.device) ^ 1).view_as(rot)
    # x1' = x1 cos - x2 sin, x2' = x2 cos + x1 sin, i.e. x * cos + swapped * (-sin, +sin):
    # two passes in place over the swapped copy, no other full-size temporary
    out = swapped.mul_(sin).addcmul_(rot, cos)
    return out if r == dim else torch.cat((out, x[..., r:]), dim=-1)  # partial rotary: the rest as is
    ### END SOLUTION


def apply_rope_complex(x: torch.Tensor, positions: torch.Tensor, *, base: float = 10000.0) -> torch.Tensor:
    """RoPE as complex multiplication (the paper's eq. 12 and Meta's Llama code).

    Adjacent features (2i, 2i+1) form the complex number z_i = x[2i] + 1j * x[2i+1]; RoPE multiplies
    it by exp(1j * m * theta_i). Equals apply_rope(x, positions, base=base, interleaved=True).
    x: [..., T, dim] with dim even; returns x's shape and dtype (computed in float32 or float64).
    """
    # TODO: ValueError for an odd dim; view x as [..., T, dim/2] complex numbers (float32 or
    #       float64 first), multiply by exp(1j * angles) [..., T, dim/2], view back as real, cast.
    ### BEGIN SOLUTION
    dim = x.shape[-1]
    if dim % 2 != 0:
        raise ValueError(f"dim must be even (features are rotated in pairs), got {dim}")
    work = torch.promote_types(x.dtype, torch.float32)  # complex needs float32 or float64
    z = torch.view_as_complex(x.to(work).reshape(*x.shape[:-1], dim // 2, 2))  # [..., T, dim/2]
    positions = torch.as_tensor(positions, device=x.device)
    theta = base ** (-torch.arange(0, dim, 2, dtype=torch.float64, device=x.device) / dim)
    angles = positions.to(torch.float64)[..., None] * theta  # [..., T, dim/2]
    rotation = torch.polar(torch.ones_like(angles), angles).to(z.dtype)  # exp(1j * angles)
    return torch.view_as_real(z * rotation).flatten(-2).to(x.dtype)
    ### END SOLUTION
