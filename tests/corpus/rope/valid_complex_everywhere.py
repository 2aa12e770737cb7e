# corpus: valid
# mistake: none: apply_rope multiplies complex numbers built from the pairs of either layout (in float64, cast back to x's dtype), cos/sin of the table are the real and imaginary parts of exp(1j * angles), the table doubled with repeat
# evidence: passes all 33 contract checks of _verify.py; x [B=2,H=2,T=4,8] with per-row [B,1,T] positions matches the float64 definition exactly (0), bf16 x at positions 60000..70000 within 0.008, complex form on dim 12 exact
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


def _inv_freq(dim: int, base: float, device) -> torch.Tensor:
    return torch.pow(torch.tensor(float(base), dtype=torch.float64), -torch.arange(0, dim, 2, dtype=torch.float64, device=device) / dim)


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
    if dim % 2 == 1:
        raise ValueError(f"RoPE needs an even dim, got {dim}")
    positions = torch.as_tensor(positions)
    angles = positions.to(torch.float64).unsqueeze(-1) * _inv_freq(dim, base, positions.device).to(positions.device)
    e = torch.exp(1j * angles)  # complex128 [*positions.shape, dim/2]
    reps = [1] * angles.dim()
    reps[-1] = 2
    return e.real.repeat(*reps).to(dtype), e.imag.repeat(*reps).to(dtype)


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
    r = rotary_dim if rotary_dim is not None else dim
    for name, v in (("dim", dim), ("rotary_dim", r)):
        if v % 2:
            raise ValueError(f"{name} must be even, got {v}")
    if r > dim or r < 1:
        raise ValueError(f"rotary_dim={r} must be between 2 and dim={dim}")
    positions = torch.as_tensor(positions, device=x.device)
    angles = positions.to(torch.float64)[..., None] * _inv_freq(r, base, x.device)  # [..., T, r/2]
    rot = torch.polar(torch.ones_like(angles), angles)  # complex128
    xr = x[..., :r].to(torch.float64)
    if interleaved:
        pairs = xr.unflatten(-1, (r // 2, 2))  # [..., T, r/2, 2]
        z = torch.complex(pairs[..., 0], pairs[..., 1])
    else:
        z = torch.complex(xr[..., : r // 2], xr[..., r // 2 :])
    w = z * rot  # [..., T, r/2]
    if interleaved:
        y = torch.stack([w.real, w.imag], dim=-1).flatten(-2)
    else:
        y = torch.cat([w.real, w.imag], dim=-1)
    return torch.cat([y.to(x.dtype), x[..., r:]], dim=-1)


def apply_rope_complex(x: torch.Tensor, positions: torch.Tensor, *, base: float = 10000.0) -> torch.Tensor:
    """RoPE as complex multiplication (the paper's eq. 12 and Meta's Llama code).

    Adjacent features (2i, 2i+1) form the complex number z_i = x[2i] + 1j * x[2i+1]; RoPE multiplies
    it by exp(1j * m * theta_i). Equals apply_rope(x, positions, base=base, interleaved=True).
    x: [..., T, dim] with dim even; returns x's shape and dtype (computed in float32 or float64).
    """
    dim = x.shape[-1]
    if dim % 2 == 1:
        raise ValueError(f"RoPE needs an even dim, got {dim}")
    positions = torch.as_tensor(positions, device=x.device)
    angles = positions.to(torch.float64)[..., None] * _inv_freq(dim, base, x.device)  # [..., T, dim/2]
    if x.dtype == torch.float64:
        z = torch.view_as_complex(x.reshape(*x.shape[:-1], dim // 2, 2).contiguous())  # complex128
        w = z * torch.exp(1j * angles)
    else:  # bf16, fp16, fp32: work in complex64
        z = torch.view_as_complex(x.float().reshape(*x.shape[:-1], dim // 2, 2).contiguous())
        w = z * torch.exp(1j * angles).to(torch.complex64)
    return torch.view_as_real(w).reshape(x.shape).to(x.dtype)
