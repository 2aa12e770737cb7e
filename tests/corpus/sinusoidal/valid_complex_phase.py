# corpus: valid
# mistake: none: each (sin, cos) pair is read off one complex number exp(1j * (pi/2 - angle)) = sin(angle) + 1j * cos(angle), with view_as_real doing the interleaving
# evidence: passes all 10 contract checks of _verify.py; length 2048, d_model 64: max |PE - float64 formula| = 3.0e-8 (float32 rounding), base=100 and all ValueErrors correct
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
    if d_model % 2:
        raise ValueError(f"d_model={d_model} is odd; sin and cos need pairs of columns")
    if length < 1:
        raise ValueError(f"length={length} must be at least 1")
    exponent = torch.arange(0, d_model, 2, dtype=torch.float64) / d_model  # 2i/d
    angles = torch.arange(length, dtype=torch.float64)[:, None] / torch.pow(float(base), exponent)  # [length, d/2]
    z = torch.polar(torch.ones_like(angles), math.pi / 2 - angles)  # cos(pi/2 - a) = sin a, sin(pi/2 - a) = cos a
    return torch.view_as_real(z).reshape(length, d_model).to(torch.float32)
