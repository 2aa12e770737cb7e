"""Hidden checks for exercises/rope_numpy.py: rope_frequencies, rotation_matrix, apply_rope (numpy).

The matrices are measured (rotation_matrix directly; apply_rope by feeding it the basis vectors) and
compared with RoPE's definition by grader/checks/_rotations.py, which names the likely mistake.
"""

from __future__ import annotations

import tracemalloc

import numpy as np

from ..checking import call, call_function, check, expect_raises, fail, inside, type_name
from ..i18n import tr
from ._rotations import expect_rope, theta

ADJACENT = True  # the whiteboard version pairs features (2i, 2i+1): _rotations' interleaved layout


def _array(value, what: str) -> np.ndarray:
    if not isinstance(value, np.ndarray):
        fail(
            "{what} should return a numpy ndarray (this is the numpy version), got {type_name}",
            what=what,
            type_name=type_name(value),
        )
    if not np.isfinite(value).all():
        fail("{what} contains NaN or inf", what=what)
    return value


def _matrices(impl, positions, dim, base=None) -> np.ndarray:
    """The learner's rotation_matrix at each position, stacked: [T, dim, dim]."""
    kwargs = {} if base is None else {"base": base}
    mats = []
    for p in positions:
        what = tr(
            "rotation_matrix({p}, {dim}{value})",
            p=p,
            dim=dim,
            value="" if base is None else f", base={base:g}",
        )
        m = _array(call(impl, "rotation_matrix", p, dim, **kwargs), what)
        if m.shape != (dim, dim):
            fail(
                "{what} has shape {m_shape}; expected [dim, dim] = ({dim}, {dim})",
                what=what,
                m_shape=m.shape,
                dim=dim,
            )
        mats.append(m.astype(np.float64))
    return np.stack(mats)


def _measure_apply(impl, positions, dim, base=None) -> np.ndarray:
    """M[t] with apply_rope(x)[t] = M[t] @ x[t], measured by feeding the basis vectors: [T, dim, dim]."""
    kwargs = {} if base is None else {"base": base}
    T = len(positions)
    basis = np.repeat(np.eye(dim)[:, None, :], T, axis=1)  # [dim, T, dim]: e_j at every t
    what = tr(
        "apply_rope(x of shape {basis_shape}, positions {positions})",
        basis_shape=basis.shape,
        positions=list(positions),
    )
    out = _array(call(impl, "apply_rope", basis, np.asarray(positions), **kwargs), what)
    if out.shape != basis.shape:
        fail("{what} gave shape {out_shape}; the output must have x's shape", what=what, out_shape=out.shape)
    return out.astype(np.float64).transpose(1, 2, 0)  # M[t, a, j] = out[j, t, a]


@check(2, "rope_frequencies: theta_i = base**(-2i/dim), shape [dim/2]")
def test_frequencies(impl):
    for dim, base in ((8, 10000.0), (64, 10000.0), (2, 10000.0), (16, 500.0)):
        what = tr("rope_frequencies({dim}, base={base:g})", dim=dim, base=base)
        got = _array(call(impl, "rope_frequencies", dim, base), what)
        if got.shape != (dim // 2,):
            fail(
                "{what} has shape {got_shape}; expected [dim // 2] = ({value},)",
                what=what,
                got_shape=got.shape,
                value=dim // 2,
            )
        if np.allclose(got, theta(dim, base), rtol=1e-10, atol=0):
            continue
        if np.allclose(got, theta(dim, base, exponent=1.0), rtol=1e-10, atol=0):
            fail(
                "{what}: frequencies use base**(-i/dim); the exponent is -2i/dim (i counts pairs)", what=what
            )
        if np.allclose(got, theta(dim, base, exponent=-2.0), rtol=1e-10, atol=0):
            fail("{what}: the frequencies grow; theta_i = base**(-2i/dim) has a minus sign", what=what)
        if base != 10000.0 and np.allclose(got, theta(dim, 10000.0), rtol=1e-10, atol=0):
            fail("{what}: the `base` argument is ignored", what=what)
        fail("{what}: values differ from base**(-2i/dim), i = 0 .. dim/2 - 1", what=what)


@check(3, "rotation_matrix: block i rotates features (2i, 2i+1) by position * theta_i")
def test_rotation_matrix(impl):
    for dim, positions in ((8, [0, 1, 2, 5, 100]), (2, [0, 1, 3]), (64, [0, 1, 7, 300])):
        expect_rope(
            _matrices(impl, positions, dim), positions, 10000.0, ADJACENT, f"rotation_matrix, dim {dim}"
        )
    positions = [0, 1, 4]
    expect_rope(
        _matrices(impl, positions, 8, base=100.0), positions, 100.0, ADJACENT, "rotation_matrix, base=100"
    )


@check(2, "rotation_matrix is a rotation: R^T R = I, det R = +1, R(0) = I")
def test_is_rotation(impl):
    R = _matrices(impl, [0, 3, 60000], 16)
    for position, m in zip((0, 3, 60000), R, strict=True):
        if not np.allclose(m.T @ m, np.eye(16), atol=1e-10):
            fail(
                "rotation_matrix({position}, 16) is not orthogonal (R^T R != I): every 2x2 block "
                "must be [[cos, -sin], [sin, cos]] of one angle",
                position=position,
            )
        if not np.isclose(np.linalg.det(m), 1.0, atol=1e-8):
            fail(
                "rotation_matrix({position}, 16) has determinant {det:.3g}: a mirror, not a "
                "rotation; the block is [[cos, -sin], [sin, cos]]",
                position=position,
                det=np.linalg.det(m),
            )
    if not np.allclose(R[0], np.eye(16), atol=1e-12):
        fail("rotation_matrix(0, 16) must be the identity (every angle is 0)")


@check(2, "R(m)^T R(n) = R(n - m): the score depends only on the offset")
def test_relative(impl):
    dim = 16
    for m, n in ((3, 10), (100, 107), (7, 2), (5000, 5000)):
        Rm, Rn, Rd = _matrices(impl, [m, n, n - m], dim)
        if not np.allclose(Rm.T @ Rn, Rd, atol=1e-9):
            fail(
                "R({m})^T R({n}) differs from R({value}): the product of two of your matrices must "
                "be the matrix of the offset (use one angle formula, position * theta_i, in every "
                "block)",
                m=m,
                n=n,
                value=n - m,
            )


@check(3, "apply_rope equals multiplying each row by rotation_matrix")
def test_apply_matches_definition(impl):
    for dim, positions in ((16, [0, 1, 2, 9, 50]), (2, [0, 5]), (64, [3, 4, 1000])):
        M = _measure_apply(impl, positions, dim)
        expect_rope(M, positions, 10000.0, ADJACENT, f"apply_rope, dim {dim}")
    positions = [0, 2, 7]
    expect_rope(
        _measure_apply(impl, positions, 8, base=500.0), positions, 500.0, ADJACENT, "apply_rope(base=500)"
    )
    own = _matrices(impl, positions, 8, base=500.0)
    if not np.allclose(_measure_apply(impl, positions, 8, base=500.0), own, atol=1e-10):
        fail("apply_rope(x, positions) must equal rotation_matrix(positions[t]) @ x[t] for every row t")


@check(2, "apply_rope: batch and head axes, positions as given, x unchanged")
def test_apply_batched(impl):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 5, 8))  # [B, H, T, d]
    before = x.copy()
    positions = np.array([4, 0, 9, 100, 33])  # not sorted, with gaps
    out = _array(call(impl, "apply_rope", x, positions), "apply_rope(x [2, 3, 5, 8], positions [5])")
    if not np.array_equal(x, before):
        fail("apply_rope changed its input x; write the result into a new array")
    if out.shape != x.shape:
        fail(
            "x of shape {x_shape} gave shape {out_shape}; the output keeps x's shape",
            x_shape=x.shape,
            out_shape=out.shape,
        )
    first, second = x[..., 0::2], x[..., 1::2]
    z = (first + 1j * second) * np.exp(1j * positions[:, None] * theta(8, 10000.0))  # [B, H, T, 4]
    expected = np.empty_like(x)
    expected[..., 0::2], expected[..., 1::2] = z.real, z.imag
    if not np.allclose(out, expected, atol=1e-9):
        fail(
            "for x [B, H, T, d] and positions [T], row t of every batch and head is rotated by "
            "positions[t] (broadcast the [T, d/2] angles over the leading axes)"
        )
    ints = np.arange(12).reshape(3, 4)  # integer x: the result is a float array
    got = _array(call(impl, "apply_rope", ints, np.arange(3)), "apply_rope(integer x [3, 4], positions [3])")
    z = (ints[:, 0::2] + 1j * ints[:, 1::2]) * np.exp(1j * np.arange(3)[:, None] * theta(4, 10000.0))
    want = np.stack([z.real, z.imag], -1).reshape(3, 4)
    if got.shape != ints.shape or not np.issubdtype(got.dtype, np.floating) or not np.allclose(got, want):
        fail(
            "integer x [3, 4] gave a {got_dtype} array of shape {got_shape}, row 1 {value}; "
            "expected a new float array, row 1 {want_tolist}",
            got_dtype=got.dtype,
            got_shape=got.shape,
            value=np.round(got, 3).tolist()[1] if got.shape == ints.shape else "?",
            want_tolist=np.round(want, 3).tolist()[1],
        )


def _matrix_probe(module, x, positions):
    """In the learner's process: call module.apply_rope(x, positions) with rotation_matrix spied on and
    memory traced; (calls of rotation_matrix, peak bytes allocated)."""
    calls = []
    original = getattr(module, "rotation_matrix", None)
    patched = False
    if callable(original):

        def spy(*args, **kwargs):
            calls.append(args)
            return original(*args, **kwargs)

        try:
            module.rotation_matrix = spy  # apply_rope looks the name up when it runs
            patched = True
        except (AttributeError, TypeError):
            pass
    tracemalloc.start()
    try:
        module.apply_rope(x, positions)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        if patched:
            module.rotation_matrix = original
    return len(calls), peak


@check(2, "apply_rope never builds a rotation matrix")
def test_no_matrix(impl):
    T, dim = 8, 256
    x = np.random.default_rng(1).standard_normal((T, dim))
    if not callable(getattr(impl, "apply_rope", None)):
        fail("`apply_rope` is missing: define it with the signature given in the exercise")
    calls, peak = call_function("`apply_rope`", inside, _matrix_probe, impl, x, np.arange(T))
    if calls:
        fail(
            "apply_rope calls rotation_matrix: multiplying by a d x d matrix costs O(T d^2) work and "
            "memory for what is O(T d) element-wise: rotate the pairs (x[0::2], x[1::2]) with cos and sin"
        )
    matrix_bytes = dim * dim * 8
    if peak >= matrix_bytes // 2:
        fail(
            "apply_rope allocated {value:.0f} KiB for x of {value2:.0f} KiB (T={t}, dim={dim}): a "
            "d x d rotation matrix is {value3:.0f} KiB; rotate the pairs element-wise instead of "
            "building it",
            value=peak / 1024,
            value2=x.nbytes / 1024,
            t=T,
            dim=dim,
            value3=matrix_bytes / 1024,
        )


@check(1, "ValueError for an odd dim (the source's worked example uses d = 3)")
def test_odd_dim(impl):
    expect_raises(ValueError, impl, "rotation_matrix", 2, 3, why=tr("rotation_matrix(2, 3): odd dim 3"))
    expect_raises(
        ValueError,
        impl,
        "apply_rope",
        np.ones((4, 3)),
        np.arange(4),
        why=tr("apply_rope on x [4, 3]: odd dim 3"),
    )
    expect_raises(ValueError, impl, "rope_frequencies", 7, why=tr("rope_frequencies(7): odd dim 7"))


@check(1, "numpy only: returns numpy arrays, does not import torch")
def test_numpy_only(impl):
    out = call(impl, "apply_rope", np.ones((3, 4)), np.arange(3))
    _array(out, "apply_rope")
    if type_name(getattr(impl, "torch", None)) == "module":
        fail("rope_numpy is the whiteboard version: use numpy only (the module imports torch)")
