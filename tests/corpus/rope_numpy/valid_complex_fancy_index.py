# corpus: valid
# mistake: none: theta via exp(-2i/d * log(base)); rotation_matrix filled by fancy indexing on the even/odd index arrays; apply_rope multiplies complex numbers x[2i] + 1j x[2i+1] by exp(1j m theta_i)
# evidence: passes all 13 contract checks of _verify.py; x [2,3,5,8] at positions [0,1,7,100,4096]: max |out - R(p_t) x_t| = 1.9e-13, rotation_matrix(7, 8) equals the block definition to 2.2e-16
"""RoPE on the whiteboard: numpy only, adjacent pairs (2i, 2i+1), as in the RoFormer paper.

RoFormer (Su et al. 2021, arXiv 2104.09864, eq. 13-15) rotates pair i = features (2i, 2i+1) of a
vector at position m by the angle m * theta_i, with

    theta_i = base ** (-2i / d),   i = 0 .. d/2 - 1.

As a matrix, R(m) is block diagonal with one 2x2 rotation per pair:

    R(m) = diag(B_0, ..., B_{d/2-1}),   B_i = [[cos(m theta_i), -sin(m theta_i)],
                                               [sin(m theta_i),  cos(m theta_i)]]

R(m) is orthogonal with determinant +1 (a rotation) and R(m)^T R(n) = R(n - m), so the score
<R(m) q, R(n) k> = q^T R(n - m) k depends only on the offset n - m.

Nobody multiplies by R(m) in practice: it is d x d and almost all zeros. Per pair (x1, x2) = (x[2i], x[2i+1]):

    x1' = x1 cos(m theta_i) - x2 sin(m theta_i)
    x2' = x1 sin(m theta_i) + x2 cos(m theta_i)

which is O(T * d) work instead of O(T * d^2). The dimension must be even: RoPE rotates pairs.
"""

from __future__ import annotations

import math

import numpy as np


def rope_frequencies(dim: int, base: float = 10000.0) -> np.ndarray:
    """theta_i = base ** (-2i / dim) for i = 0 .. dim/2 - 1: shape [dim // 2], float64, decreasing.

    Raises ValueError for an odd dim (RoPE rotates pairs of features).
    """
    if dim % 2:
        raise ValueError(f"dim must be even, got {dim}")
    return np.exp(-2.0 * np.arange(dim // 2) / dim * math.log(base))


def rotation_matrix(position: float, dim: int, base: float = 10000.0) -> np.ndarray:
    """R(position): the [dim, dim] block-diagonal rotation of RoPE, float64.

    Block i acts on features (2i, 2i+1) as [[cos, -sin], [sin, cos]] of the angle position * theta_i.
    Raises ValueError for an odd dim.
    """
    theta = rope_frequencies(dim, base)
    c, s = np.cos(position * theta), np.sin(position * theta)
    ev = np.arange(0, dim, 2)
    od = ev + 1
    R = np.zeros((dim, dim))
    R[ev, ev] = c
    R[ev, od] = -s
    R[od, ev] = s
    R[od, od] = c
    return R


def apply_rope(x: np.ndarray, positions: np.ndarray, base: float = 10000.0) -> np.ndarray:
    """Rotate every row x[..., t, :] by R(positions[t]) without building any rotation matrix.

    x: [..., T, dim] (dim even); positions: [T]. Returns a new float array of x's shape;
    equal to (rotation_matrix(positions[t], dim, base) @ x[..., t, :]) for every t.
    """
    x = np.asarray(x, dtype=np.float64)
    theta = rope_frequencies(x.shape[-1], base)
    angles = np.outer(np.asarray(positions, dtype=np.float64), theta)  # [T, dim/2]
    z = (x[..., 0::2] + 1j * x[..., 1::2]) * np.exp(1j * angles)  # [..., T, dim/2] complex
    return np.stack([z.real, z.imag], axis=-1).reshape(x.shape)
