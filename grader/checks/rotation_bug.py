"""Hidden checks for exercises/rotation_bug.py: is_rotation, preserves_norms, is_relative, fixed_matrix_at.

The learner's tests are run on matrices whose answer is known by construction: rotations (built here
from angles or by QR), mirrors, scaled rotations, shears, non-square arrays and the source document's
softmax matrix (rebuilt here from its eq. 4.2), so a test that always says "rotation" fails.
"""

from __future__ import annotations

import numpy as np

from ..checking import Mistake, call, check, describe_exception, fail, type_name, unfinished
from ..i18n import tr
from ._rotations import expect_rope, rotate


def _doc_matrix(dim: int, theta: float = 0.1) -> np.ndarray:
    """Source document 001, eq. (4.2): row i = softmax_j(theta * i**j), i, j = 1 .. dim."""
    i = np.arange(1, dim + 1, dtype=np.float64)[:, None]
    scores = theta * i ** np.arange(1, dim + 1)
    e = np.exp(scores - scores.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def _rope_matrix(position: int, dim: int, base: float = 10000.0) -> np.ndarray:
    """RoPE's R(position) with adjacent pairs, from _rotations.rotate applied to the basis vectors."""
    return rotate(np.eye(dim), np.array([position]), base, interleaved=True).T  # row j = R e_j


def _random_rotation(dim: int, seed: int) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((dim, dim)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def _plane(angle: float) -> np.ndarray:
    return np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])


def _verdict(impl, name: str, *args, what: str) -> bool:
    value = call(impl, name, *args)
    if not isinstance(value, (bool, np.bool_)):
        fail(
            "{name}({what}) must return a bool (True or False), got {type_name}",
            name=name,
            what=what,
            type_name=type_name(value),
        )
    return bool(value)


@check(2, "is_rotation: True for rotations (any size, with rounding noise)")
def test_accepts_rotations(impl):
    noisy = _rope_matrix(60000, 8) + 1e-13 * np.random.default_rng(0).standard_normal((8, 8))
    cases = [
        (np.eye(3), tr("the 3x3 identity")),
        (_plane(0.7), tr("a 2x2 rotation by 0.7 rad")),
        (_plane(np.pi), tr("a 2x2 rotation by pi")),
        (_random_rotation(5, seed=1), tr("a random 5x5 rotation")),
        (np.roll(np.eye(3), 1, axis=0), tr("a cyclic permutation of 3 axes (det +1)")),
        (noisy, tr("RoPE's 8x8 matrix at position 60000 with rounding noise of 1e-13")),
    ]
    for m, what in cases:
        if not _verdict(impl, "is_rotation", m, what=what):
            fail(
                "{what} is a rotation, but is_rotation says it is not: test m^T m = I and det = +1 "
                "within the tolerance (floats are never exactly equal)",
                what=what,
            )


@check(3, "is_rotation: False for mirrors, scaled rotations, shears, non-square and softmax matrices")
def test_rejects_non_rotations(impl):
    shear = np.array([[1.0, 0.5], [0.0, 1.0]])
    cases = [
        (
            np.diag([1.0, -1.0]),
            tr("the mirror diag(1, -1) is orthogonal with det -1: check that det(m) = +1"),
        ),
        (
            np.eye(4) - 2 * np.outer([0.5, 0.5, 0.5, 0.5], [0.5, 0.5, 0.5, 0.5]),
            tr("a Householder reflection (det -1) is orthogonal but not a rotation: check det(m) = +1"),
        ),
        (1.001 * _plane(0.3), tr("1.001 * a rotation changes lengths: check m^T m = I")),
        (shear, tr("the shear [[1, 0.5], [0, 1]] has det 1 but is not orthogonal: det alone is not enough")),
        (_doc_matrix(4), tr("the document's softmax matrix (d = 4) is not orthogonal")),
        (_doc_matrix(3), tr("the document's softmax matrix (d = 3, its worked example) is not orthogonal")),
        (np.full((4, 3), 1 / 3), tr("a 4x3 array is not square: return False (do not raise)")),
        (np.array([1.0, 0.0]), tr("a 1-D array is not a matrix: return False (do not raise)")),
        (np.full((2, 2), np.nan), tr("a matrix of NaN is not a rotation")),
    ]
    for m, message in cases:
        try:
            said = _verdict(impl, "is_rotation", m, what=tr("an array of shape {m_shape}", m_shape=m.shape))
        except Mistake as exc:
            if unfinished(exc):
                raise
            fail(
                "on an array of shape {m_shape}, {exc}: {message_}",
                m_shape=m.shape,
                exc=exc,
                message_=message,
            )
        if said:
            fail("is_rotation said True: {message_}", message_=message)


@check(1, "is_rotation: the tol argument is used")
def test_tolerance(impl):
    m = _plane(0.4) + 1e-6 * np.array([[1.0, -2.0], [0.5, 1.5]])
    if not _verdict(impl, "is_rotation", m, 1e-4, what=tr("m, tol=1e-4")):
        fail("a rotation off by 1e-6 must pass with tol=1e-4: compare the errors with `tol`")
    if _verdict(impl, "is_rotation", m, 1e-9, what=tr("m, tol=1e-9")):
        fail(
            "a rotation off by 1e-6 must fail with tol=1e-9: compare the errors with `tol`, not a fixed value"
        )
    if not _verdict(impl, "is_rotation", np.eye(4), 0.0, what=tr("the 4x4 identity, tol=0")):
        fail(
            "the identity is exactly a rotation (m^T m = I, det = 1, no rounding), so it passes even with "
            "tol=0: 'within tol' means error <= tol, not < tol"
        )


def _keeps_first_draw(dim: int) -> np.ndarray:
    """2 I - x x^T / |x|^2 for the first x that default_rng(0) draws: |m x| = |x|, and every vector
    orthogonal to x doubles, so a test on that one vector is fooled."""
    x = np.random.default_rng(0).standard_normal(dim)
    return 2 * np.eye(dim) - np.outer(x, x) / (x @ x)


@check(2, "preserves_norms: True for isometries (mirrors too), False otherwise")
def test_preserves_norms(impl):
    cases = [
        (_random_rotation(6, seed=2), True, tr("a random 6x6 rotation")),
        (
            np.diag([1.0, -1.0, 1.0]),
            True,
            tr("the mirror diag(1, -1, 1) (lengths kept, though not a rotation)"),
        ),
        (_rope_matrix(123, 8), True, tr("RoPE's 8x8 matrix at position 123")),
        (1.001 * _plane(0.3), False, tr("1.001 * a rotation")),
        (np.array([[1.0, 0.5], [0.0, 1.0]]), False, tr("the shear [[1, 0.5], [0, 1]]")),
        (_doc_matrix(4), False, tr("the document's softmax matrix (d = 4)")),
        (np.full((4, 3), 1 / 3), False, tr("a 4x3 array")),
        (
            np.where(np.eye(4) == 1, np.nan, 0.0) + np.eye(4),
            False,
            tr("the identity with NaN on its diagonal"),
        ),
        (_keeps_first_draw(5), False, tr("a 5x5 matrix keeping the first random x drawn, doubling the rest")),
    ]
    for m, expected, what in cases:
        said = _verdict(impl, "preserves_norms", m, what=what)
        if said and not expected:
            fail(
                "preserves_norms said True for {what}, which changes the length of some x{nan}",
                what=what,
                nan=tr(" (a NaN length is not kept)") if np.isnan(m).any() else "",
            )
        if expected and not said:
            fail(
                "preserves_norms said False for {what}, which keeps every length: measure |m x| "
                "against |x| (a relative tolerance), do not test det or symmetry",
                what=what,
            )
    if _verdict(impl, "preserves_norms", np.eye(4, 3), what=tr("the 4x3 matrix eye(4, 3)")):
        fail(
            "preserves_norms said True for the 4x3 matrix eye(4, 3): it keeps the length of every x in "
            "R^3, but a non-square m is not an isometry of one space: return False for a non-square m"
        )
    stretched = (1.0 + 5e-4) * _random_rotation(16, seed=3)  # every length grows by 0.05 %
    cases = [
        (np.eye(5), 0.0, True, tr("the identity with tol=0 (exactly norm-preserving: error <= tol, not <)")),
        (stretched, 1e-3, True, tr("(1 + 5e-4) * a 16x16 rotation with tol=1e-3 (|m x| - |x| <= tol |x|)")),
        (stretched, 1e-4, False, tr("(1 + 5e-4) * a 16x16 rotation with tol=1e-4")),
    ]
    for m, tol, expected, what in cases:
        if _verdict(impl, "preserves_norms", m, tol, what=what) != expected:
            fail(
                "preserves_norms said {value} for {what}: the test is | |m x| - |x| | <= tol * |x| "
                "for each x, with the `tol` argument",
                value=not expected,
                what=what,
            )


@check(3, "is_relative: R(m)^T R(n) depends only on n - m (RoPE yes; the document's matrix no)")
def test_is_relative(impl):
    cases = [
        (lambda p: _rope_matrix(p, 8), True, tr("RoPE's R(m) (d = 8)")),
        (
            lambda p: 2.0 * _rope_matrix(p, 4, base=100.0),
            True,
            tr("2 * RoPE's R(m) (relative, not a rotation)"),
        ),
        (lambda p: _rope_matrix(p * p, 4), False, tr("a rotation by m^2 * theta_i")),
        (lambda p: (1.0 + p / 10.0) * _rope_matrix(p, 4), False, tr("(1 + m/10) * RoPE's R(m)")),
        (lambda p: _doc_matrix(4, theta=0.1 * p), False, tr("the document's matrix at position m (d = 4)")),
        (lambda p: _doc_matrix(3, theta=0.1 * p), False, tr("the document's matrix at position m (d = 3)")),
        (
            lambda p: 1000.0 * _rope_matrix(p, 8),
            True,
            tr("1000 * RoPE's R(m) (entries of R(m)^T R(n) ~ 1e6)"),
        ),
        (lambda p: 1e6 * _rope_matrix(p, 4), True, tr("1e6 * RoPE's R(m) (entries of R(m)^T R(n) ~ 1e12)")),
        (
            lambda p: _rope_matrix(p, 4) @ np.diag([2.0, 1.0, 1.0, 1.0]),
            True,
            tr("R(m) S with a fixed S = diag(2, 1, 1, 1) ((R(m) S)^T R(n) S = S^T R(n - m) S)"),
        ),
        (
            lambda p: _rope_matrix(p if p < 7 else 2 * p, 4),
            False,
            tr("RoPE's R(m) up to position 6, then R(2m) (relative for shifts of 1 near 0 only)"),
        ),
    ]
    cyclic = np.roll(np.eye(5), 1, axis=0)  # P^m shifts the axes by m: (P^m)^T P^n = P^(n-m), exactly
    cases = [(matrix_at, expected, what, 1e-8) for matrix_at, expected, what in cases]
    cases.append(
        (
            lambda p: np.linalg.matrix_power(cyclic, p),
            True,
            tr("the cyclic shift P^m (integer entries, exactly relative) with tol=0"),
            0.0,
        )
    )
    for matrix_at, expected, what, tol in cases:
        said = _verdict(impl, "is_relative", matrix_at, tol, what=what)
        if said and not expected:
            fail(
                "is_relative said True for {what}, whose R(m)^T R(n) changes when m and n shift "
                "together (compare R(m)^T R(n) with R(m+s)^T R(n+s) for every m, n and s given)",
                what=what,
            )
        if expected and not said:
            fail(
                "is_relative said False for {what}: compare R(m)^T R(n) with R(m+s)^T R(n+s) (not "
                "with R(n-m), and not R(m) with R(n)), with a tolerance relative to the entries, "
                "tol * (1 + max |A|) (a difference equal to the tolerance passes)",
                what=what,
            )


@check(3, "fixed_matrix_at: RoPE's block-diagonal rotation on pairs (2i, 2i+1)")
def test_fixed(impl):
    for dim, positions, base in ((8, [0, 1, 2, 30], 10000.0), (4, [0, 5], 100.0), (2, [3], 10000.0)):
        mats = []
        for p in positions:
            m = call(impl, "fixed_matrix_at", p, dim, base)
            m = np.asarray(m, dtype=np.float64) if isinstance(m, np.ndarray) else None
            if m is None or m.shape != (dim, dim):
                fail(
                    "fixed_matrix_at({p}, {dim}) must return a numpy array of shape ({dim}, {dim})",
                    p=p,
                    dim=dim,
                )
            mats.append(m)
        expect_rope(np.stack(mats), positions, base, True, f"fixed_matrix_at (dim {dim}, base {base:g})")


@check(1, "fixed_matrix_at: ValueError saying dim must be even (the worked example's d = 3)")
def test_odd_dim(impl):
    func = getattr(impl, "fixed_matrix_at", None)
    if not callable(func):
        fail("`fixed_matrix_at` is missing")
    try:
        func(1, 3)
    except NotImplementedError:
        fail("`fixed_matrix_at` is not implemented yet (it raises NotImplementedError)")
    except ValueError as exc:
        if "even" not in str(exc).lower() and "odd" not in str(exc).lower():
            fail(
                "the ValueError for d = 3 should say why: dim must be even (yours: {exc!r})",
                exc=str(exc)[:100],
            )
        return
    except Exception as exc:  # noqa: BLE001
        fail(
            "fixed_matrix_at(1, 3) raised {describe_exception}; raise a ValueError saying dim is even",
            describe_exception=describe_exception(exc),
        )
    fail("fixed_matrix_at(1, 3) returned a matrix: RoPE rotates pairs, so an odd dim must raise ValueError")
