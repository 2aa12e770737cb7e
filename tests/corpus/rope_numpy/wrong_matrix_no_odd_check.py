# corpus: wrong
# mistake: rotation_matrix computes its own frequencies with arange(0, dim, 2) and never validates dim, so dim=3 returns a 3x3 matrix with a zero last row instead of raising ValueError
# evidence: _verify.py: rotation_matrix(1, dim=3): no ValueError
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

import numpy as np


def rope_frequencies(dim: int, base: float = 10000.0) -> np.ndarray:
    """theta_i = base ** (-2i / dim) for i = 0 .. dim/2 - 1: shape [dim // 2], float64, decreasing.

    Raises ValueError for an odd dim (RoPE rotates pairs of features).
    """
    if dim % 2 != 0:
        raise ValueError(f"dim must be even (RoPE rotates pairs of features), got {dim}")
    i = np.arange(dim // 2, dtype=np.float64)  # pair index
    return base ** (-2.0 * i / dim)  # [dim/2]


def rotation_matrix(position: float, dim: int, base: float = 10000.0) -> np.ndarray:
    """R(position): the [dim, dim] block-diagonal rotation of RoPE, float64.

    Block i acts on features (2i, 2i+1) as [[cos, -sin], [sin, cos]] of the angle position * theta_i.
    Raises ValueError for an odd dim.
    """
    angles = position * base ** (-np.arange(0, dim, 2) / dim)  # [ceil(dim/2)]
    cos, sin = np.cos(angles), np.sin(angles)
    R = np.zeros((dim, dim), dtype=np.float64)
    for i in range(dim // 2):
        a, b = 2 * i, 2 * i + 1
        R[a, a], R[a, b] = cos[i], -sin[i]
        R[b, a], R[b, b] = sin[i], cos[i]
    return R


def apply_rope(x: np.ndarray, positions: np.ndarray, base: float = 10000.0) -> np.ndarray:
    """Rotate every row x[..., t, :] by R(positions[t]) without building any rotation matrix.

    x: [..., T, dim] (dim even); positions: [T]. Returns a new float array of x's shape;
    equal to (rotation_matrix(positions[t], dim, base) @ x[..., t, :]) for every t.
    """
    x = np.asarray(x)
    dim = x.shape[-1]
    theta = rope_frequencies(dim, base)  # [dim/2]
    angles = np.asarray(positions, dtype=np.float64)[:, None] * theta  # [T, dim/2]
    cos, sin = np.cos(angles), np.sin(angles)
    x1, x2 = x[..., 0::2], x[..., 1::2]  # [..., T, dim/2] each
    out = np.empty(x.shape, dtype=np.result_type(x.dtype, np.float64))
    out[..., 0::2] = x1 * cos - x2 * sin
    out[..., 1::2] = x1 * sin + x2 * cos
    return out
