# corpus: valid
# mistake: none: no apply_rope at all; explicit half-split cos/sin rotations in float64 (shift, eviction via its own shift, and re-rotation as two float64 rotations), cast once to k's dtype.
# evidence: passes every contract check of _verify.py: [2,2,5,8] keys with per-token [B,1,P] deltas within 6e-16 of RoPE(k0, m + delta), n_sink 0 / n_recent 0 / nothing to evict right, bf16 re-rotation 0.5 ulp, all ValueErrors.
"""RoPE and the KV cache, written without apply_rope: explicit half-split cos/sin in float64."""

from __future__ import annotations

import torch


def _inv_freq(dim: int, base: float, device) -> torch.Tensor:
    return base ** (-torch.arange(0, dim, 2, dtype=torch.float64, device=device) / dim)  # [dim/2]


def _rotate(x: torch.Tensor, angles: torch.Tensor) -> torch.Tensor:
    """Rotate pairs (i, i + d/2) of x (float64) by angles [..., d/2] (float64)."""
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    cos, sin = angles.cos(), angles.sin()
    return torch.cat((x1 * cos - x2 * sin, x2 * cos + x1 * sin), dim=-1)


def shift_keys(k: torch.Tensor, delta: int | torch.Tensor, *, base: float = 10000.0) -> torch.Tensor:
    """R(delta) k in float64, cast back to k's dtype."""
    d = torch.as_tensor(delta, device=k.device).to(torch.float64)
    angles = d[..., None] * _inv_freq(k.shape[-1], base, k.device)  # [..., P, d/2] or [d/2]
    out = _rotate(k.to(torch.float64), angles)
    return out.to(k.dtype)


def evict_middle(
    k: torch.Tensor, v: torch.Tensor, n_sink: int, n_recent: int, *, base: float = 10000.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sinks kept, middle dropped, recent keys moved back by the number dropped."""
    if n_sink < 0:
        raise ValueError(f"n_sink must be >= 0, got {n_sink}")
    if n_recent < 0:
        raise ValueError(f"n_recent must be >= 0, got {n_recent}")
    if k.shape != v.shape:
        raise ValueError(f"k {tuple(k.shape)} and v {tuple(v.shape)} must have one shape")
    total = k.shape[-2]
    if total <= n_sink + n_recent:
        return k, v
    start = total - n_recent  # first recent index (n_recent may be 0: then nothing recent)
    dropped = start - n_sink
    k_new = torch.cat((k[..., :n_sink, :], shift_keys(k[..., start:, :], -dropped, base=base)), dim=-2)
    v_new = torch.cat((v[..., :n_sink, :], v[..., start:, :]), dim=-2)
    return k_new, v_new


def dynamic_ntk_base(base: float, dim: int, seq_len: int, max_position_embeddings: int, factor: float) -> float:
    """base * (factor * s / L - (factor - 1)) ** (dim / (dim - 2)), s clamped to L."""
    if dim < 4 or dim % 2 == 1:
        raise ValueError(f"bad rotary dim {dim}")
    if factor < 1.0:
        raise ValueError(f"factor {factor} < 1")
    if max_position_embeddings < 1:
        raise ValueError(f"max_position_embeddings {max_position_embeddings} < 1")
    L = float(max_position_embeddings)
    s = float(seq_len) if seq_len > max_position_embeddings else L
    return base * (factor * s / L - (factor - 1.0)) ** (dim / (dim - 2.0))


def rerotate_keys(k: torch.Tensor, positions: torch.Tensor, old_base: float, new_base: float) -> torch.Tensor:
    """R_new(m) R_old(-m) k, two float64 rotations."""
    m = torch.as_tensor(positions, device=k.device).to(torch.float64)[..., None]
    x = k.to(torch.float64)
    x = _rotate(x, -m * _inv_freq(k.shape[-1], old_base, k.device))
    x = _rotate(x, m * _inv_freq(k.shape[-1], new_base, k.device))
    return x.to(k.dtype)
