# corpus: valid
# mistake: none: frequencies as 1 / base ** (arange(0, dim, 2) / dim); rotation_matrix places 2x2 blocks with slicing; apply_rope reshapes x to [..., T, dim/2, 2] and applies per-pair 2x2 blocks [T, dim/2, 2, 2] with einsum (never a dim x dim matrix)
# evidence: passes all 13 contract checks of _verify.py; x [2,3,5,8] at positions [0,1,7,100,4096]: max |out - R(p_t) x_t| = 4.4e-16, rotation_matrix(7, 8) equals the block definition exactly
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


def _blocks(angles: np.ndarray) -> np.ndarray:
    """[..., 2, 2] rotations [[cos, -sin], [sin, cos]] of the given angles."""
    c, s = np.cos(angles), np.sin(angles)
    return np.stack([np.stack([c, -s], axis=-1), np.stack([s, c], axis=-1)], axis=-2)


def rope_frequencies(dim: int, base: float = 10000.0) -> np.ndarray:
    """theta_i = base ** (-2i / dim) for i = 0 .. dim/2 - 1: shape [dim // 2], float64, decreasing.

    Raises ValueError for an odd dim (RoPE rotates pairs of features).
    """
    if dim % 2 != 0:
        raise ValueError(f"RoPE rotates pairs of features: dim must be even, got {dim}")
    return 1.0 / np.power(float(base), np.arange(0, dim, 2, dtype=np.float64) / dim)


def rotation_matrix(position: float, dim: int, base: float = 10000.0) -> np.ndarray:
    """R(position): the [dim, dim] block-diagonal rotation of RoPE, float64.

    Block i acts on features (2i, 2i+1) as [[cos, -sin], [sin, cos]] of the angle position * theta_i.
    Raises ValueError for an odd dim.
    """
    blocks = _blocks(position * rope_frequencies(dim, base))  # [dim/2, 2, 2]
    R = np.zeros((dim, dim), dtype=np.float64)
    for i, B in enumerate(blocks):
        R[2 * i : 2 * i + 2, 2 * i : 2 * i + 2] = B
    return R


def apply_rope(x: np.ndarray, positions: np.ndarray, base: float = 10000.0) -> np.ndarray:
    """Rotate every row x[..., t, :] by R(positions[t]) without building any rotation matrix.

    x: [..., T, dim] (dim even); positions: [T]. Returns a new float array of x's shape;
    equal to (rotation_matrix(positions[t], dim, base) @ x[..., t, :]) for every t.
    """
    x = np.asarray(x)
    dim = x.shape[-1]
    blocks = _blocks(np.asarray(positions, dtype=np.float64)[:, None] * rope_frequencies(dim, base))  # [T, dim/2, 2, 2]
    pairs = x.reshape(*x.shape[:-1], dim // 2, 2).astype(np.float64)  # [..., T, dim/2, 2]
    return np.einsum("tpij,...tpj->...tpi", blocks, pairs).reshape(x.shape)
