# corpus: valid
# mistake: none: builds the table in numpy float64 with np.outer and a column mask (sin where the column index is even) and converts it to a float32 tensor at the end
# evidence: passes all 10 contract checks of _verify.py; length 2048, d_model 64: max |PE - float64 formula| = 3.0e-8 (float32 rounding), a float32 torch.Tensor, all ValueErrors
"""Sinusoidal positional encoding (Vaswani et al. 2017, "Attention Is All You Need", section 3.5).

Each position p gets a d_model-dimensional vector. Feature pair (2i, 2i+1) oscillates at the angular
frequency omega_i = base ** (-2i / d_model):

    PE[p, 2i]     = sin(p * omega_i) = sin(p / base ** (2i / d_model))
    PE[p, 2i + 1] = cos(p * omega_i) = cos(p / base ** (2i / d_model))

The wavelengths 2*pi / omega_i form a geometric progression from 2*pi to 2*pi * base. The encoding is
added to the token embeddings, so q.k scores see absolute positions (compare RoPE in rope.py).
"""

from __future__ import annotations

import numpy as np
import torch


def sinusoidal_encoding(length: int, d_model: int, base: float = 10000.0) -> torch.Tensor:
    """Return the sinusoidal position table, shape [length, d_model], float32.

    Features are interleaved: even columns hold sines, odd columns cosines of the same frequency.
    Raises ValueError for an odd d_model or a length < 1.
    """
    if int(d_model) != d_model or d_model % 2 != 0:
        raise ValueError(f"d_model must be an even integer, got {d_model}")
    if length < 1:
        raise ValueError(f"length must be >= 1, got {length}")
    cols = np.arange(d_model)
    freq = float(base) ** (-(cols - cols % 2) / d_model)  # column j uses pair j // 2: exponent 2(j//2)/d
    angles = np.outer(np.arange(length, dtype=np.float64), freq)  # [length, d_model]
    table = np.where(cols % 2 == 0, np.sin(angles), np.cos(angles))
    return torch.from_numpy(table.astype(np.float32))
