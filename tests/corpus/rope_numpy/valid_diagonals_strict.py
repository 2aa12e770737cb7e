# corpus: valid
# mistake: none: rotation_matrix assembled from its main, super- and sub-diagonals with np.diag; apply_rope validates more than asked (odd dim, positions not of length T raise ValueError), accepts lists, and keeps float32 inputs float32
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


def rope_frequencies(dim: int, base: float = 10000.0) -> np.ndarray:
    """theta_i = base ** (-2i / dim) for i = 0 .. dim/2 - 1: shape [dim // 2], float64, decreasing.

    Raises ValueError for an odd dim (RoPE rotates pairs of features).
    """
    if dim % 2 == 1:
        raise ValueError(f"dim={dim} is odd; RoPE needs pairs of features")
    exponents = np.arange(0, dim, 2) / dim  # 2i / dim
    return np.power(np.float64(base), -exponents)


def rotation_matrix(position: float, dim: int, base: float = 10000.0) -> np.ndarray:
    """R(position): the [dim, dim] block-diagonal rotation of RoPE, float64.

    Block i acts on features (2i, 2i+1) as [[cos, -sin], [sin, cos]] of the angle position * theta_i.
    Raises ValueError for an odd dim.
    """
    theta = rope_frequencies(dim, base)
    c = np.repeat(np.cos(position * theta), 2)  # [dim]: cos_0, cos_0, cos_1, cos_1, ...
    s = np.zeros(dim - 1)
    s[0::2] = np.sin(position * theta)  # between features 2i and 2i+1 only
    return np.diag(c) + np.diag(-s, k=1) + np.diag(s, k=-1)


def apply_rope(x: np.ndarray, positions: np.ndarray, base: float = 10000.0) -> np.ndarray:
    """Rotate every row x[..., t, :] by R(positions[t]) without building any rotation matrix.

    x: [..., T, dim] (dim even); positions: [T]. Returns a new float array of x's shape;
    equal to (rotation_matrix(positions[t], dim, base) @ x[..., t, :]) for every t.
    """
    x = np.asarray(x)
    positions = np.asarray(positions, dtype=np.float64)
    if x.ndim < 2 or x.shape[-1] % 2:
        raise ValueError(f"x must be [..., T, dim] with an even dim, got shape {x.shape}")
    if positions.shape != (x.shape[-2],):
        raise ValueError(f"positions must have shape [T] = [{x.shape[-2]}], got {positions.shape}")
    dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64
    theta = rope_frequencies(x.shape[-1], base)
    ang = positions[:, None] * theta
    xf = x.astype(np.float64)
    even = xf[..., ::2] * np.cos(ang) - xf[..., 1::2] * np.sin(ang)
    odd = xf[..., ::2] * np.sin(ang) + xf[..., 1::2] * np.cos(ang)
    out = np.empty(x.shape, dtype=dtype)
    out[..., ::2], out[..., 1::2] = even, odd
    return out
