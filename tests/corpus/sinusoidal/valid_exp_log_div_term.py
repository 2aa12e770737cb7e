# corpus: valid
# mistake: none: the PyTorch-tutorial form, div_term = exp(arange(0, d, 2) * -log(base) / d) computed in float32 and written into a zeros table by strided slices
# evidence: passes all 10 contract checks of _verify.py; length 2048, d_model 64: max |PE - float64 formula| = 7.2e-5, within float32 angle rounding (4 * 2**-24 * p = 4.9e-4 at p = 2047)
"""Sinusoidal positional encoding (Vaswani et al. 2017, "Attention Is All You Need", section 3.5).

Each position p gets a d_model-dimensional vector. Feature pair (2i, 2i+1) oscillates at the angular
frequency omega_i = base ** (-2i / d_model):

    PE[p, 2i]     = sin(p * omega_i) = sin(p / base ** (2i / d_model))
    PE[p, 2i + 1] = cos(p * omega_i) = cos(p / base ** (2i / d_model))

The wavelengths 2*pi / omega_i form a geometric progression from 2*pi to 2*pi * base. The encoding is
added to the token embeddings, so q.k scores see absolute positions (compare RoPE in rope.py).
"""

from __future__ import annotations

import math

import torch


def sinusoidal_encoding(length: int, d_model: int, base: float = 10000.0) -> torch.Tensor:
    """Return the sinusoidal position table, shape [length, d_model], float32.

    Features are interleaved: even columns hold sines, odd columns cosines of the same frequency.
    Raises ValueError for an odd d_model or a length < 1.
    """
    if length < 1:
        raise ValueError(f"length must be >= 1, got {length}")
    if d_model % 2:
        raise ValueError(f"d_model must be even, got {d_model}")
    position = torch.arange(length, dtype=torch.float32).unsqueeze(1)  # [length, 1]
    div_term = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(base) / d_model))  # [d/2]
    pe = torch.zeros(length, d_model)
    pe[:, 0::2] = torch.sin(position * div_term)
    pe[:, 1::2] = torch.cos(position * div_term)
    return pe
