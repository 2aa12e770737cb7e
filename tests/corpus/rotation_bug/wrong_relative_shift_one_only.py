# corpus: wrong
# mistake: is_relative checks only the shift s = 1 ('the others follow by induction', which fails on the finite range 0..5), so a matrix_at that turns differently from position 7 on passes
# evidence: _verify.py, on an input whose answer the docstring fixes: is_relative(R(m) up to 6, R(2m) from 7 on) = True, the docstring's answer is False
"""Spot the bug: the source document's "rotation matrix" softmax(theta * pos_i) is not a rotation.

Source document 001 ("algorithm steps", sections 3-5) builds its "RoPE rotation matrix" as

    pos_i = [i, i^2, ..., i^d]                          (its "position vector" of position i)
    R_ij  = softmax_j(theta * pos_i[j]) = exp(theta i^j) / sum_k exp(theta i^k),   i, j = 1 .. d

with theta = 0.1 called "the rotation angle", and a worked example with d = 3. Every entry of R is
positive and each row sums to 1: R averages, it does not rotate. A rotation matrix R must be

- square and orthogonal, R^T R = I (so it keeps every length: |R x| = |x|), and
- of determinant +1 (orthogonal with determinant -1 is a mirror).

What RoPE needs on top is *relativity*: R(m)^T R(n) depends only on n - m, so that the score
(R(m) q) . (R(n) k) = q^T R(m)^T R(n) k depends only on the offset. The true RoPE matrix R(m) (RoFormer,
Su et al. 2021, eq. 15) is block diagonal with 2x2 blocks [[cos, -sin], [sin, cos]] of angle
m * theta_i on features (2i, 2i+1), theta_i = base ** (-2i/d); it needs an even d.

The first three functions below are the document's construction (given, not an exercise). You write
the tests that expose it (is_rotation, preserves_norms, is_relative) and the fix (fixed_matrix_at).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# is_relative compares R(m)^T R(n) with R(m + s)^T R(n + s) for these m, n and shifts s
POSITIONS = range(6)  # m, n = 0 .. 5
SHIFTS = (1, 3, 10, 100)


def document_position_vector(position: int, dim: int) -> np.ndarray:
    """The document's "position vector" pos_i = [i, i^2, ..., i^dim], float64 [dim] (given)."""
    return float(position) ** np.arange(1, dim + 1)


def document_matrix(dim: int, theta: float = 0.1) -> np.ndarray:
    """The document's "rotation matrix", its eq. (4.2): row i = softmax(theta * pos_i), i = 1..dim (given).

    Shape [dim, dim]; every entry is positive and every row sums to 1.
    """
    scores = theta * np.stack([document_position_vector(i, dim) for i in range(1, dim + 1)])  # [d, d]
    e = np.exp(scores - scores.max(axis=1, keepdims=True))  # softmax of each row, stably
    return e / e.sum(axis=1, keepdims=True)


def document_matrix_at(position: int, dim: int, theta: float = 0.1) -> np.ndarray:
    """The document's matrix used where RoPE uses R(m) (given).

    The document calls theta "the rotation angle"; RoPE turns position m by m times its angle, so the
    document's matrix for a token at position m is document_matrix(dim, theta=m * theta).
    """
    return document_matrix(dim, theta=position * theta)


def is_rotation(m: np.ndarray, tol: float = 1e-8) -> bool:
    """True if m is a rotation matrix: 2-D and square, m^T m = I and det(m) = +1, each within tol.

    Returns False (never raises) for anything else: a non-square or 1-D array, NaN entries, a mirror
    (orthogonal with det -1), a scaled rotation, a shear (det 1 but not orthogonal), softmax(...).
    """
    m = np.asarray(m)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        return False
    if not np.all(np.isfinite(m)):
        return False
    orth_err = np.abs(m.T @ m - np.eye(m.shape[0])).max()  # 0 for an orthogonal matrix
    det_err = abs(np.linalg.det(m) - 1.0)  # 0 for det +1 (a mirror has 2)
    return bool(orth_err <= tol and det_err <= tol)


def preserves_norms(m: np.ndarray, tol: float = 1e-8, seed: int = 0) -> bool:
    """True if |m x| = |x| (within tol, relatively) for random vectors x: is m an isometry?

    m: [d, d]. Draw a few x [d] with np.random.default_rng(seed). Mirrors preserve norms too (they are
    orthogonal); scaled rotations, shears and the document's matrix do not. False for a non-square m.
    """
    m = np.asarray(m, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        return False
    xs = np.random.default_rng(seed).standard_normal((8, m.shape[1]))  # [n, d]
    n_x = np.linalg.norm(xs, axis=1)  # [n]
    n_mx = np.linalg.norm(xs @ m.T, axis=1)  # [n]: |m x| for each x
    return bool(np.all(np.abs(n_mx - n_x) <= tol * n_x))


def is_relative(matrix_at: Callable[[int], np.ndarray], tol: float = 1e-8) -> bool:
    """True if R(m)^T R(n) depends only on n - m, where R = matrix_at (a function position -> [d, d]).

    Compare R(m)^T R(n) with R(m + s)^T R(n + s) for all m, n in POSITIONS (0..5) and shifts s in
    SHIFTS (1, 3, 10, 100), within tol (relative to the size of the entries). Then every score
    q^T R(m)^T R(n) k depends only on the offset. Note: 2 * R(m) is relative too, although it is not
    a rotation.
    """
    for m in POSITIONS:
        for n in POSITIONS:
            A = matrix_at(m).T @ matrix_at(n)
            B = matrix_at(m + 1).T @ matrix_at(n + 1)  # one shift: every other shift follows by induction
            if not np.all(np.abs(A - B) <= tol * (1 + np.abs(A).max())):
                return False
    return True


def fixed_matrix_at(position: int, dim: int, base: float = 10000.0) -> np.ndarray:
    """The fix: RoPE's R(position), [dim, dim] float64, block diagonal on pairs (2i, 2i+1).

    Block i is [[cos a, -sin a], [sin a, cos a]] with a = position * base ** (-2i / dim).
    Raises ValueError (saying dim must be even) for an odd dim, such as the document's d = 3.
    """
    if dim % 2 != 0:
        raise ValueError(f"dim must be even: RoPE rotates pairs of features, got dim={dim}")
    theta = base ** (-2.0 * np.arange(dim // 2) / dim)  # [dim/2]
    angles = position * theta
    R = np.zeros((dim, dim), dtype=np.float64)
    for i, a in enumerate(angles):
        c, s = np.cos(a), np.sin(a)
        R[2 * i : 2 * i + 2, 2 * i : 2 * i + 2] = [[c, -s], [s, c]]
    return R
