# corpus: valid
# mistake: none: omega as base ** (-2i/d) in float64, sin and cos stacked on a new last axis and reshaped to interleave them; also rejects d_model <= 0 (stricter than asked)
# evidence: passes all 10 contract checks of _verify.py; length 2048, d_model 64: max |PE - float64 formula| = 3.0e-8 (float32 rounding), row 0 = [0, 1, 0, 1, ...], all ValueErrors
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
    if d_model <= 0 or d_model % 2 == 1:
        raise ValueError(f"d_model must be a positive even integer, got {d_model}")
    if length < 1:
        raise ValueError(f"length must be a positive integer, got {length}")
    i = torch.arange(d_model // 2, dtype=torch.float64)
    omega = torch.tensor(float(base), dtype=torch.float64) ** (-2.0 * i / d_model)  # [d/2], decreasing
    angles = torch.outer(torch.arange(length, dtype=torch.float64), omega)  # [length, d/2]
    return torch.stack((angles.sin(), angles.cos()), dim=-1).reshape(length, d_model).float()
