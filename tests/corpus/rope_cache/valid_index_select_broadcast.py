# corpus: valid
# mistake: none: apply_rope with positions broadcast to k.shape[:-1] first; eviction by index_select on the kept indices and one per-token delta (0 for the sinks, -evicted for the recent); growth clamped with max(1, .) instead of s = max(seq_len, L).
# evidence: passes every contract check of _verify.py: sinks bit-exact after their zero rotation, shift [2,2,5,8] [B,1,P] within 6e-16, bf16 shift within 0.013, bf16 re-rotation (float32 inside) 0.5 ulp, all ValueErrors.
"""RoPE and the KV cache through apply_rope, with explicit broadcasting and index_select."""

from __future__ import annotations

import torch

from .rope import apply_rope


def shift_keys(k: torch.Tensor, delta: int | torch.Tensor, *, base: float = 10000.0) -> torch.Tensor:
    """apply_rope at positions delta, broadcast to k.shape[:-1] first."""
    positions = torch.broadcast_to(torch.as_tensor(delta, device=k.device), k.shape[:-1])
    return apply_rope(k, positions, base=base)


def evict_middle(
    k: torch.Tensor, v: torch.Tensor, n_sink: int, n_recent: int, *, base: float = 10000.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """index_select the kept tokens; the recent ones rotate back by the evicted count."""
    if n_sink < 0 or n_recent < 0:
        raise ValueError(f"n_sink={n_sink}, n_recent={n_recent}: both must be >= 0")
    if k.shape != v.shape:
        raise ValueError(f"k {tuple(k.shape)} vs v {tuple(v.shape)}")
    axis = k.dim() - 2
    P = k.shape[axis]
    n_evict = P - n_sink - n_recent
    if n_evict <= 0:
        return k, v
    keep = torch.cat((torch.arange(n_sink), torch.arange(P - n_recent, P))).to(k.device)
    k_kept, v_kept = k.index_select(axis, keep), v.index_select(axis, keep)
    # per-token delta: 0 for the sinks, -n_evict for the recent window
    delta = torch.zeros(n_sink + n_recent, dtype=torch.long, device=k.device)
    delta[n_sink:] = -n_evict
    return shift_keys(k_kept, delta, base=base), v_kept  # a zero rotation leaves the sinks as they are


def dynamic_ntk_base(base: float, dim: int, seq_len: int, max_position_embeddings: int, factor: float) -> float:
    """The dynamic base; seq_len clamped from below with min/max on floats."""
    if dim % 2 or dim < 4:
        raise ValueError(f"rotary dim must be even and >= 4: {dim}")
    if factor < 1:
        raise ValueError(f"factor must be >= 1: {factor}")
    if max_position_embeddings < 1:
        raise ValueError(f"max_position_embeddings must be >= 1: {max_position_embeddings}")
    growth = max(1.0, factor * seq_len / max_position_embeddings - (factor - 1))
    return float(base) * growth ** (dim / (dim - 2))


def rerotate_keys(k: torch.Tensor, positions: torch.Tensor, old_base: float, new_base: float) -> torch.Tensor:
    """apply_rope twice in float32 or better (k's dtype promoted), then k's dtype."""
    m = torch.broadcast_to(torch.as_tensor(positions, device=k.device), k.shape[:-1])
    x = k.to(torch.promote_types(k.dtype, torch.float32))
    return apply_rope(apply_rope(x, -m, base=old_base), m, base=new_base).to(k.dtype)
