# corpus: valid
# mistake: none: every rotation in numpy float64 (theta from math.pow, np.broadcast_arrays, np.take for the kept values), torch only to convert in and out; dynamic base via math.pow.
# evidence: passes every contract check of _verify.py: [2,2,5,8] per-token [B,1,P] shift within 6e-16, bf16 keys and values round-trip exactly through float64, bf16 re-rotation 0.5 ulp, all ValueErrors.
"""RoPE and the KV cache with numpy float64 internals (torch only at the edges)."""

from __future__ import annotations

import math

import numpy as np
import torch


def _np(x: torch.Tensor) -> np.ndarray:
    return x.detach().to(torch.float64).cpu().numpy()


def _back(a: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    return torch.from_numpy(np.array(a, dtype=np.float64)).to(device=like.device, dtype=like.dtype)  # a copy


def _rope(x: np.ndarray, pos: np.ndarray, base: float) -> np.ndarray:
    """Half-split RoPE of x [..., d] at positions pos (broadcastable to x.shape[:-1])."""
    d = x.shape[-1]
    half = d // 2
    inv = np.array([math.pow(base, -2.0 * i / d) for i in range(half)])
    ang = np.asarray(pos, dtype=np.float64)[..., None] * inv
    c, s = np.cos(ang), np.sin(ang)
    a, b = x[..., :half], x[..., half:]
    return np.concatenate(np.broadcast_arrays(a * c - b * s, b * c + a * s), axis=-1)


def _positions(p) -> np.ndarray:
    return _np(p) if isinstance(p, torch.Tensor) else np.float64(p)


def shift_keys(k: torch.Tensor, delta: int | torch.Tensor, *, base: float = 10000.0) -> torch.Tensor:
    """One more rotation by delta, in numpy float64."""
    out = _rope(_np(k), _positions(delta), base)
    return _back(np.broadcast_to(out, k.shape), k)


def evict_middle(
    k: torch.Tensor, v: torch.Tensor, n_sink: int, n_recent: int, *, base: float = 10000.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Kept indices 0..n_sink-1 and P-n_recent..P-1; recent keys rotated back by the gap."""
    if min(n_sink, n_recent) < 0:
        raise ValueError("n_sink and n_recent must be non-negative")
    if tuple(k.shape) != tuple(v.shape):
        raise ValueError("k and v must have the same shape")
    P = k.shape[-2]
    if n_sink + n_recent >= P:
        return k, v
    gap = P - n_sink - n_recent
    kn, vn = _np(k), _np(v)  # float64 holds every bf16/float32 value exactly: sinks and values round-trip
    keep = np.r_[0:n_sink, n_sink + gap : P]
    recent = _rope(kn[..., n_sink + gap :, :], np.float64(-gap), base)
    k_out = np.concatenate((kn[..., :n_sink, :], recent), axis=-2)
    v_out = np.take(vn, keep, axis=-2)
    return _back(k_out, k), _back(v_out, v)


def dynamic_ntk_base(base: float, dim: int, seq_len: int, max_position_embeddings: int, factor: float) -> float:
    """Hugging Face's dynamic base, via math.pow."""
    if dim % 2 or dim < 4:
        raise ValueError(f"dim must be an even number >= 4, got {dim}")
    if not factor >= 1:
        raise ValueError(f"factor must be >= 1, got {factor}")
    if max_position_embeddings < 1:
        raise ValueError("max_position_embeddings must be >= 1")
    s = max(seq_len, max_position_embeddings)
    ratio = factor * s / max_position_embeddings - (factor - 1)
    return float(base) * math.pow(ratio, dim / (dim - 2))


def rerotate_keys(k: torch.Tensor, positions: torch.Tensor, old_base: float, new_base: float) -> torch.Tensor:
    """Undo the old rotation, apply the new one, in numpy float64."""
    m = _positions(positions)
    out = _rope(_rope(_np(k), -m, old_base), m, new_base)
    return _back(np.broadcast_to(out, k.shape), k)
