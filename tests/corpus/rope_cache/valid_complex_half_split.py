# corpus: valid
# mistake: none: pairs (i, i + d/2) as complex128 numbers multiplied by torch.polar(1, angle); eviction by tensor.split into sinks / middle / recent; dynamic base as exp(ln base + d/(d-2) ln r) with an explicit seq_len <= L branch.
# evidence: passes every contract check of _verify.py: per-token [B,1,P] shift within 2.4e-14 of the definition, re-rotation within 3.3e-14, bf16 re-rotation 0.5 ulp, all ValueErrors.
"""RoPE and the KV cache as complex multiplication of the half-split pairs x[i] + 1j * x[i + d/2]."""

from __future__ import annotations

import math

import torch


def _turn(x: torch.Tensor, angles: torch.Tensor) -> torch.Tensor:
    """Multiply the pairs z_i = x[i] + 1j x[i + d/2] by exp(1j * angles) in complex128; x's dtype back."""
    half = x.shape[-1] // 2
    x64 = x.to(torch.float64)
    z = torch.complex(x64[..., :half], x64[..., half:])
    z = z * torch.polar(torch.ones_like(angles), angles)
    return torch.cat((z.real, z.imag), dim=-1).to(x.dtype)


def _freqs(dim: int, base: float, device) -> torch.Tensor:
    i = torch.arange(dim // 2, dtype=torch.float64, device=device)
    return torch.exp(-2.0 * i / dim * math.log(base))


def shift_keys(k: torch.Tensor, delta: int | torch.Tensor, *, base: float = 10000.0) -> torch.Tensor:
    """exp(1j * delta * theta_i) times every pair."""
    d = torch.as_tensor(delta, dtype=torch.float64, device=k.device)
    return _turn(k, d.unsqueeze(-1) * _freqs(k.shape[-1], base, k.device))


def evict_middle(
    k: torch.Tensor, v: torch.Tensor, n_sink: int, n_recent: int, *, base: float = 10000.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """StreamingLLM: sinks, then the recent window turned back by the number of evicted tokens."""
    if n_sink < 0 or n_recent < 0:
        raise ValueError("negative n_sink or n_recent")
    if k.shape != v.shape:
        raise ValueError("k and v shapes differ")
    P = k.size(-2)
    if P - n_sink - n_recent <= 0:
        return k, v
    sinks_k, middle_k, recent_k = k.split([n_sink, P - n_sink - n_recent, n_recent], dim=-2)
    sinks_v, _, recent_v = v.split([n_sink, P - n_sink - n_recent, n_recent], dim=-2)
    recent_k = shift_keys(recent_k, -middle_k.size(-2), base=base)
    return torch.cat([sinks_k, recent_k], -2), torch.cat([sinks_v, recent_v], -2)


def dynamic_ntk_base(base: float, dim: int, seq_len: int, max_position_embeddings: int, factor: float) -> float:
    """exp(ln base + d/(d-2) ln(factor s / L - factor + 1)), s = max(seq_len, L)."""
    if dim % 2 != 0 or dim < 4:
        raise ValueError("dim must be even and at least 4")
    if factor < 1:
        raise ValueError("factor must be at least 1")
    if max_position_embeddings < 1:
        raise ValueError("max_position_embeddings must be at least 1")
    if seq_len <= max_position_embeddings:
        return float(base)
    r = factor * seq_len / max_position_embeddings - factor + 1
    return math.exp(math.log(base) + dim / (dim - 2) * math.log(r))


def rerotate_keys(k: torch.Tensor, positions: torch.Tensor, old_base: float, new_base: float) -> torch.Tensor:
    """Multiply by exp(-1j m theta_old) then by exp(1j m theta_new), complex128."""
    m = torch.as_tensor(positions, dtype=torch.float64, device=k.device).unsqueeze(-1)
    d = k.shape[-1]
    half = d // 2
    x64 = k.to(torch.float64)
    z = torch.complex(x64[..., :half], x64[..., half:])  # complex128 throughout, one cast at the end
    for angles in (-m * _freqs(d, old_base, k.device), m * _freqs(d, new_base, k.device)):
        z = z * torch.polar(torch.ones_like(angles), angles)
    return torch.cat((z.real, z.imag), dim=-1).to(k.dtype)
