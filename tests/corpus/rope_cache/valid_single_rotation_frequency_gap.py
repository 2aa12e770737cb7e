# corpus: valid
# mistake: none: re-rotation as ONE rotation by m * (theta_new - theta_old) (rotations of a pair commute), Hugging Face rotate_half form in float64, eviction with narrow().
# evidence: passes every contract check of _verify.py: re-rotation within 9.4e-16 of RoPE(k0, m) under the new base on [2,2,5,8] with [B,1,P] positions, bf16 re-rotation 0.5 ulp, all ValueErrors.
"""RoPE and the KV cache with rotate_half and one rotation by m * (theta_new - theta_old)."""

from __future__ import annotations

import torch


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def _rotate(x: torch.Tensor, angles: torch.Tensor) -> torch.Tensor:
    """x * cos + rotate_half(x) * sin with the cat(angles, angles) table; float64 inside."""
    full = torch.cat((angles, angles), dim=-1)
    x64 = x.double()
    return (x64 * full.cos() + _rotate_half(x64) * full.sin()).to(x.dtype)


def _theta(dim: int, base: float, device) -> torch.Tensor:
    return 1.0 / torch.pow(torch.tensor(float(base), dtype=torch.float64, device=device),
                           torch.arange(0, dim, 2, dtype=torch.float64, device=device) / dim)


def shift_keys(k: torch.Tensor, delta: int | torch.Tensor, *, base: float = 10000.0) -> torch.Tensor:
    """R(delta) with the Hugging Face rotate_half form."""
    d = torch.as_tensor(delta, device=k.device).double()
    return _rotate(k, d[..., None] * _theta(k.shape[-1], base, k.device))


def evict_middle(
    k: torch.Tensor, v: torch.Tensor, n_sink: int, n_recent: int, *, base: float = 10000.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """narrow() the two kept blocks; the recent keys move back by the evicted count."""
    if n_sink < 0 or n_recent < 0 or k.shape != v.shape:
        raise ValueError(f"need n_sink, n_recent >= 0 and equal shapes, got {n_sink}, {n_recent}, "
                         f"{tuple(k.shape)}, {tuple(v.shape)}")
    P = k.shape[-2]
    if P <= n_sink + n_recent:
        return k, v
    start = P - n_recent
    k_rec = shift_keys(k.narrow(-2, start, n_recent), -(start - n_sink), base=base)
    k_out = torch.cat((k.narrow(-2, 0, n_sink), k_rec), dim=-2)
    v_out = torch.cat((v.narrow(-2, 0, n_sink), v.narrow(-2, start, n_recent)), dim=-2)
    return k_out, v_out


def dynamic_ntk_base(base: float, dim: int, seq_len: int, max_position_embeddings: int, factor: float) -> float:
    """Dynamic NTK base as a Python float."""
    if dim % 2 != 0 or dim < 4:
        raise ValueError(f"dim {dim}: need an even rotary dim >= 4")
    if factor < 1:
        raise ValueError(f"factor {factor}: need >= 1")
    if max_position_embeddings < 1:
        raise ValueError(f"max_position_embeddings {max_position_embeddings}: need >= 1")
    s, L = max(seq_len, max_position_embeddings), max_position_embeddings
    return (factor * s / L - (factor - 1)) ** (dim / (dim - 2)) * base


def rerotate_keys(k: torch.Tensor, positions: torch.Tensor, old_base: float, new_base: float) -> torch.Tensor:
    """Rotations of one pair commute: R_new(m) R_old(-m) = one rotation by m * (theta_new - theta_old)."""
    m = torch.as_tensor(positions, device=k.device).double()
    gap = _theta(k.shape[-1], new_base, k.device) - _theta(k.shape[-1], old_base, k.device)
    return _rotate(k, m[..., None] * gap)
