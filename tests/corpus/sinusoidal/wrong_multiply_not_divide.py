# corpus: wrong
# mistake: the angle multiplies the position by base ** (2i / d_model) instead of dividing by it, so the frequencies grow instead of shrinking
# evidence: _verify.py, float64 formula: length 50, d_model 16: PE[12, 15] = -0.9994, the formula gives 1.0000 (max |diff| 2)
"""Sinusoidal positional encoding (Vaswani et al. 2017, "Attention Is All You Need", section 3.5).

Each position p gets a d_model-dimensional vector. Feature pair (2i, 2i+1) oscillates at the angular
frequency omega_i = base ** (-2i / d_model):

    PE[p, 2i]     = sin(p * omega_i) = sin(p / base ** (2i / d_model))
    PE[p, 2i + 1] = cos(p * omega_i) = cos(p / base ** (2i / d_model))

The wavelengths 2*pi / omega_i form a geometric progression from 2*pi to 2*pi * base. The encoding is
added to the token embeddings, so q.k scores see absolute positions (compare RoPE in rope.py).
"""

from __future__ import annotations

import torch


def sinusoidal_encoding(length: int, d_model: int, base: float = 10000.0) -> torch.Tensor:
    """Return the sinusoidal position table, shape [length, d_model], float32.

    Features are interleaved: even columns hold sines, odd columns cosines of the same frequency.
    Raises ValueError for an odd d_model or a length < 1.
    """
    if d_model % 2 != 0:
        raise ValueError(f"d_model must be even (sin and cos come in pairs), got {d_model}")
    if length < 1:
        raise ValueError(f"length must be at least 1, got {length}")
    p = torch.arange(length, dtype=torch.float64)[:, None]  # [length, 1]
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64)  # [d_model/2]: 0, 2, 4, ...
    angles = p * base ** (two_i / d_model)  # [length, d_model/2]
    pe = torch.empty(length, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(angles)
    pe[:, 1::2] = torch.cos(angles)
    return pe.to(torch.float32)
