# corpus: wrong
# mistake: evict_middle rotates the recent values back by the evicted count as well as the keys ('keep k and v in step'): values are never rotated.
# evidence: P 10, n_sink 2, n_recent 3: keys right (7e-16), recent values differ from v[..., 7:] by 3.53 and equal R(-5) v to 4e-16.
"""RoPE and the KV cache: moving cached keys, StreamingLLM eviction, Dynamic NTK."""

from __future__ import annotations

import torch

from .rope import apply_rope


def shift_keys(k: torch.Tensor, delta: int | torch.Tensor, *, base: float = 10000.0) -> torch.Tensor:
    """Keys cached at positions m moved to m + delta: one more rotation R(delta)."""
    delta = torch.as_tensor(delta, device=k.device)
    return apply_rope(k, delta, base=base)


def evict_middle(
    k: torch.Tensor, v: torch.Tensor, n_sink: int, n_recent: int, *, base: float = 10000.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Keep the first n_sink and the last n_recent tokens; the recent keys move back to the gap."""
    if n_sink < 0 or n_recent < 0:
        raise ValueError(f"n_sink and n_recent must be >= 0, got {n_sink}, {n_recent}")
    if k.shape != v.shape:
        raise ValueError(f"k and v differ in shape: {tuple(k.shape)} vs {tuple(v.shape)}")
    P = k.shape[-2]
    if P <= n_sink + n_recent:  # nothing to evict
        return k, v
    evicted = P - n_sink - n_recent
    recent_k = shift_keys(k[..., P - n_recent :, :], -evicted, base=base)  # back by the gap
    recent_v = shift_keys(v[..., P - n_recent :, :], -evicted, base=base)  # keep k and v in step
    k_out = torch.cat((k[..., :n_sink, :], recent_k), dim=-2)
    v_out = torch.cat((v[..., :n_sink, :], recent_v), dim=-2)
    return k_out, v_out


def dynamic_ntk_base(base: float, dim: int, seq_len: int, max_position_embeddings: int, factor: float) -> float:
    """Dynamic NTK: the base grows with the current length s once s passes the trained length L."""
    if dim % 2 != 0 or dim < 4:
        raise ValueError(f"dim must be even and >= 4, got {dim}")
    if factor < 1:
        raise ValueError(f"factor must be >= 1, got {factor}")
    if max_position_embeddings < 1:
        raise ValueError(f"max_position_embeddings must be >= 1, got {max_position_embeddings}")
    L = max_position_embeddings
    s = max(seq_len, L)
    return float(base * (factor * s / L - (factor - 1)) ** (dim / (dim - 2)))


def rerotate_keys(k: torch.Tensor, positions: torch.Tensor, old_base: float, new_base: float) -> torch.Tensor:
    """Keys rotated under old_base at `positions`, re-rotated as if under new_base."""
    positions = torch.as_tensor(positions, device=k.device)
    work = k.to(torch.promote_types(k.dtype, torch.float32))  # never rotate in bf16
    plain = apply_rope(work, -positions, base=old_base)  # R_old(-m): back to the pre-RoPE keys
    return apply_rope(plain, positions, base=new_base).to(k.dtype)
