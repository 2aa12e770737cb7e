"""Hidden checks for exercises/derive_rope.py: the steps from RoPE's requirement to the rotation.

The candidate encodings handed to the learner's functions live here, in the judge (a learner's
function calls them back on plain data). Some satisfy the requirement (the rotation), some do not (an
added position vector, a phase that grows as m ** 2, a growing modulus, a phase that depends on the
vector), so each measuring function is checked on both kinds. Expected values are the docstrings'
formulas in float64 / complex128, computed here with numpy. A message names a slip only when
recomputing the slip reproduces the learner's result.
"""

from __future__ import annotations

import numpy as np
import torch

from ..checking import call_unchanged, check, expect_raises, fail, float64_result, tensor_result
from ..i18n import tr

THETA = 0.7


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _complex(shape, seed: int) -> np.ndarray:
    rng = _rng(seed)
    return rng.normal(size=shape) + 1j * rng.normal(size=shape)


class Encoding:
    """A candidate f(z, m) on complex128 tensors; m may be an integer or a tensor (broadcast with z)."""

    def __init__(self, name: str, phase, modulus=None, offset=None) -> None:
        self.name, self.phase, self.modulus, self.offset = name, phase, modulus, offset
        self.positions: list[float] = []

    def numpy(self, z: np.ndarray, m) -> np.ndarray:
        m = np.asarray(m, dtype=np.float64)
        out = z * np.exp(1j * self.phase(z, m))
        if self.modulus is not None:
            out = out * self.modulus(m)
        if self.offset is not None:
            out = out + self.offset(m)
        return out

    def __call__(self, z, m):
        z = torch.as_tensor(z).to(torch.complex128).numpy()
        m = torch.as_tensor(m).to(torch.float64).numpy()
        self.positions.extend(np.unique(m).tolist())
        return torch.from_numpy(np.asarray(self.numpy(z, m), dtype=np.complex128))


def _rope(theta: float = THETA) -> Encoding:
    return Encoding(tr("the rotation z * exp(1j * m * {theta})", theta=theta), lambda z, m: m * theta)


def _absolute() -> Encoding:
    return Encoding(
        tr("z + p(m) (an added position vector)"), lambda z, m: 0 * m, offset=lambda m: 0.5 * np.exp(1j * m)
    )


def _quadratic() -> Encoding:
    return Encoding("z * exp(1j * 0.3 * m ** 2)", lambda z, m: 0.3 * m**2)


def _growing() -> Encoding:
    return Encoding(
        "z * (1 + 0.2 m) * exp(1j * 0.7 m)", lambda z, m: THETA * m, modulus=lambda m: 1 + 0.2 * m
    )


def _vector_phase() -> Encoding:
    return Encoding("z * exp(1j * m * |z|)", lambda z, m: m * np.abs(z))


def _wrap(angle: np.ndarray) -> np.ndarray:
    """Into [-pi, pi]."""
    return np.angle(np.exp(1j * angle))


def _float64(value, what: str, shape: tuple) -> np.ndarray:
    out = tensor_result(value, what)
    if out.is_complex():
        fail("{what} is {out_dtype}; return the real float64 values", what=what, out_dtype=out.dtype)
    return float64_result(value, what, shape)


def _close(got: np.ndarray, expected: np.ndarray) -> bool:
    return got.shape == np.shape(expected) and np.allclose(got, expected, rtol=1e-9, atol=1e-9)


def _name_slip(what: str, got: np.ndarray, expected: np.ndarray, slips, rule: str) -> None:
    if _close(got, expected):
        return
    for value, why in slips:
        if _close(got, np.asarray(value)):
            fail("{what}: {why}", what=what, why=why)
    if got.shape == np.shape(expected) and np.allclose(got, expected, rtol=1e-4, atol=1e-4):
        worst = float(np.abs(got - expected).max())
        fail(
            "{what}: right only to about float32 precision (off by up to {worst:.2g}); compute "
            "every step in float64",
            what=what,
            worst=worst,
        )
    where = tuple(int(i) for i in np.argwhere(~np.isclose(got, expected, rtol=1e-9, atol=1e-9))[0])
    mine, right = float(got[where]), float(expected[where])
    fail(
        "{what}: yours {mine:.10g} at index {where}, expected {right:.10g} (off by {value:.2g}; {rule})",
        what=what,
        mine=mine,
        where=where,
        right=right,
        value=abs(mine - right),
        rule=rule,
    )


def _score(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * np.conj(b)).real


# ------------------------------------------------------------------------------------ the score


@check(1, "complex_score: Re(q * conj(k)) is the dot product q0 * k0 + q1 * k1")
def test_complex_score(impl):
    q, k = _complex((3, 4), 0), _complex((3, 4), 1)
    for qq, kk, label in ((q, k, "[3, 4] and [3, 4]"), (q[:, :1], k[:1, :], "[3, 1] and [1, 4]")):
        what = tr("complex_score(q, k) for q, k of shapes {label}", label=label)
        shape = np.broadcast_shapes(qq.shape, kk.shape)
        got = _float64(
            call_unchanged(
                impl,
                "complex_score",
                torch.from_numpy(qq.copy()),
                torch.from_numpy(kk.copy()),
                what=what,
                names=("q", "k"),
            ),
            what,
            shape,
        )
        slips = [
            (
                (qq * kk).real,
                tr("that is Re(q * k) = q0 k0 - q1 k1; the dot product conjugates k: Re(q * conj(k))"),
            ),
            (
                (qq * np.conj(kk)).imag,
                tr("that is the imaginary part (q1 k0 - q0 k1, a cross product); take the real part"),
            ),
            (
                np.abs(qq * np.conj(kk)),
                tr("that is |q| |k|, the modulus; the dot product is the real part of q * conj(k)"),
            ),
        ]
        _name_slip(what, got, _score(qq, kk), slips, "q0 * k0 + q1 * k1")


# ------------------------------------------------------------------------------------ step 1


@check(2, "requirement_gap: |g(m, n) - g(m + shift, n + shift)|, 0 for the rotation only")
def test_requirement_gap(impl):
    q, k = _complex((5,), 2), _complex((5,), 3)
    for f, m, n, shift in (
        (_rope(), 3, 1, 4),
        (_absolute(), 3, 1, 4),
        (_quadratic(), 2, 5, 3),
        (_rope(2.0), 0, 6, 9),
    ):
        what = tr(
            "requirement_gap(f, q, k, m={m}, n={n}, shift={shift}) with f = {name}",
            m=m,
            n=n,
            shift=shift,
            name=f.name,
        )
        got = _float64(
            call_unchanged(
                impl,
                "requirement_gap",
                f,
                torch.from_numpy(q.copy()),
                torch.from_numpy(k.copy()),
                m,
                n,
                shift,
                what=what,
                names=("f", "q", "k"),
            ),
            what,
            q.shape,
        )
        calls = sorted(set(f.positions))

        def g(a, b, f=f):
            return _score(f.numpy(q, a), f.numpy(k, b))

        expected = np.abs(g(m, n) - g(m + shift, n + shift))
        slips = [
            (g(m, n) - g(m + shift, n + shift), tr("take the absolute value of the difference")),
            (
                np.abs(g(m, n) - g(m + shift, n)),
                tr("only the query moved; shift both positions: g(m + shift, n + shift)"),
            ),
            (
                np.abs(
                    f.numpy(q, m) * np.conj(f.numpy(k, n))
                    - f.numpy(q, m + shift) * np.conj(f.numpy(k, n + shift))
                ),
                tr(
                    "that is the change of the complex product f(q, m) conj(f(k, n)); the score is "
                    "its real part"
                ),
            ),
            (
                np.abs(
                    _score(f.numpy(q, n), f.numpy(k, m))
                    - _score(f.numpy(q, n + shift), f.numpy(k, m + shift))
                ),
                tr(
                    "the positions are swapped: the query is encoded at m, f(q, m), and the key at n, f(k, n)"
                ),
            ),
            (
                np.abs(
                    (f.numpy(q, m) * f.numpy(k, n)).real
                    - (f.numpy(q, m + shift) * f.numpy(k, n + shift)).real
                ),
                tr("the score is Re(f(q, m) * conj(f(k, n))): the key's encoding is conjugated"),
            ),
        ]
        rule = tr("|g(m, n) - g(m + shift, n + shift)|, g = Re(f(q, m) conj(f(k, n)))")
        if not _close(got, expected) and not any(_close(got, value) for value, _ in slips):
            if not {m, n, m + shift, n + shift} <= set(calls):
                fail(
                    "{what}: f was called at positions {calls}; the gap needs f(q, {m}), f(k, "
                    "{n}), f(q, {value}) and f(k, {value2})",
                    what=what,
                    calls=calls,
                    m=m,
                    n=n,
                    value=m + shift,
                    value2=n + shift,
                )
        _name_slip(what, got, expected, slips, rule)


# ------------------------------------------------------------------------------------ steps 2 and 3


def _polar(impl, f: Encoding, z: np.ndarray, m: int, what: str) -> tuple[np.ndarray, np.ndarray]:
    out = call_unchanged(impl, "polar_parts", f, torch.from_numpy(z.copy()), m, what=what, names=("f", "z"))
    if not isinstance(out, tuple | list) or len(out) != 2:
        fail("{what} should return a pair (modulus, phase), got {name}", what=what, name=type(out).__name__)
    return _float64(out[0], f"{what}[0] (the modulus)", z.shape), _float64(
        out[1], f"{what}[1] (the phase)", z.shape
    )


def _near_pi(seed: int) -> np.ndarray:
    """Vectors whose angles sit near +-pi, where an unwrapped phase difference leaves [-pi, pi]."""
    angles = np.array([3.0, -3.0, 2.9, -2.8, 0.4, -1.2])
    return (0.5 + _rng(seed).random(6)) * np.exp(1j * angles)


@check(1, "polar_parts: the modulus |f(z, m)| (the rotation keeps |z|)")
def test_polar_modulus(impl):
    z = _near_pi(4)
    for f, m in ((_rope(), 5), (_growing(), 3), (_absolute(), 2)):
        what = tr("polar_parts(f, z, m={m}) with f = {name}", m=m, name=f.name)
        modulus, _ = _polar(impl, f, z, m, what)
        w = f.numpy(z, m)
        slips = [
            (np.abs(w) / np.abs(z), tr("that is |f(z, m)| / |z|; return the modulus |f(z, m)| itself")),
            (np.abs(w) ** 2, tr("that is |f(z, m)| ** 2; the modulus is |f(z, m)|")),
        ]
        _name_slip(f"{what}[0]", modulus, np.abs(w), slips, "|f(z, m)|")


@check(2, "polar_parts: the phase arg f(z, m) - arg z, wrapped into [-pi, pi]")
def test_polar_phase(impl):
    z = _near_pi(5)
    for f, m in ((_rope(), 1), (_rope(), 4), (_vector_phase(), 2), (_absolute(), 3)):
        what = tr("polar_parts(f, z, m={m}) with f = {name}", m=m, name=f.name)
        _, phase = _polar(impl, f, z, m, what)
        w = f.numpy(z, m)
        raw = np.angle(w) - np.angle(z)
        slips = [
            (
                raw,
                tr(
                    "the difference arg f(z, m) - arg z must be wrapped into [-pi, pi] (the angle "
                    "of f(z, m) * conj(z))"
                ),
            ),
            (
                np.angle(w),
                tr("that is arg f(z, m) itself; the phase is measured from z: arg f(z, m) - arg z"),
            ),
            (-_wrap(raw), tr("the sign is flipped: the phase is arg f(z, m) - arg z")),
            (_wrap(raw) % (2 * np.pi), tr("that is in [0, 2 pi); wrap into [-pi, pi]")),
        ]
        _name_slip(f"{what}[1]", phase, _wrap(raw), slips, tr("arg f(z, m) - arg z, wrapped into [-pi, pi]"))


# ------------------------------------------------------------------------------------ step 4


@check(2, "phase_increments: phi(m + 1) - phi(m), wrapped, on a new last axis")
def test_phase_increments(impl):
    z = _near_pi(6)[:4].reshape(2, 2)
    for f, n in ((_rope(), 5), (_rope(4.0), 4), (_quadratic(), 6), (_quadratic(), 2)):
        what = tr("phase_increments(f, z of shape [2, 2], n_positions={n}) with f = {name}", n=n, name=f.name)
        got = call_unchanged(
            impl, "phase_increments", f, torch.from_numpy(z.copy()), n, what=what, names=("f", "z")
        )
        out = tensor_result(got, what)
        if tuple(out.shape) == (n - 1, 2, 2):
            fail(
                "{what} has shape {out_shape}: put the increments on a new last axis, [2, 2, {value}]",
                what=what,
                out_shape=tuple(out.shape),
                value=n - 1,
            )
        got = _float64(got, what, (2, 2, n - 1))
        phi = np.stack([np.angle(f.numpy(z, m) * np.conj(z)) for m in range(n + 1)], axis=-1)  # wrapped
        raw = phi[..., 1:n] - phi[..., : n - 1]
        this_w = np.stack([f.numpy(z, m) for m in range(n - 1)], axis=-1)
        next_w = np.stack([f.numpy(z, m + 1) for m in range(n - 1)], axis=-1)
        slips = [
            (
                raw,
                tr(
                    "each increment must be wrapped into [-pi, pi] (the angle of f(z, m + 1) * conj(f(z, m)))"
                ),
            ),
            (
                np.angle(next_w) - np.angle(this_w),
                tr(
                    "each increment must be wrapped into [-pi, pi] (the angle of f(z, m + 1) * conj(f(z, m)))"
                ),
            ),
            (-_wrap(raw), tr("the sign is flipped: the increment is phi(m + 1) - phi(m)")),
            (
                _wrap(phi[..., 2 : n + 1] - phi[..., 1:n]),
                tr("the increments start at m = 1; start at m = 0: phi(1) - phi(0)"),
            ),
            (
                phi[..., 1:n],
                tr("those are the phases phi(1) .. phi(n - 1); return their increments phi(m + 1) - phi(m)"),
            ),
        ]
        _name_slip(what, got, _wrap(raw), slips, "wrap(phi(m + 1) - phi(m)), m = 0 .. n_positions - 2")
    expect_raises(ValueError, impl, "phase_increments", _rope(), torch.from_numpy(z), 1, why="n_positions=1")


# ------------------------------------------------------------------------------------ the solution


@check(2, "rope_2d: f(z, m) = z * exp(1j * m * theta), complex128")
def test_rope_2d(impl):
    z = _complex((4,), 7)
    for positions, theta in (
        (np.array([0, 1, 5, 40]), 0.3),
        (np.array(3), 1.1),
        (np.array([[2], [9]]), 0.05),
    ):
        shape = np.broadcast_shapes(z.shape, positions.shape)
        what = tr(
            "rope_2d(z of shape [4], positions of shape {positions_shape}, theta={theta})",
            positions_shape=list(positions.shape),
            theta=theta,
        )
        out = tensor_result(
            call_unchanged(
                impl,
                "rope_2d",
                torch.from_numpy(z.copy()),
                torch.from_numpy(positions.copy()),
                theta,
                what=what,
                names=("z", "positions"),
            ),
            what,
        )
        if tuple(out.shape) != shape:
            fail(
                "{what} has shape {out_shape}, expected {shape} (z and positions broadcast)",
                what=what,
                out_shape=tuple(out.shape),
                shape=shape,
            )
        if out.dtype != torch.complex128:
            fail("{what} is {out_dtype}; return complex128", what=what, out_dtype=out.dtype)
        got = out.numpy()
        expected = z * np.exp(1j * positions * theta)
        slips = [
            (
                z * np.exp(-1j * positions * theta),
                tr("the rotation goes the wrong way: exp(+1j * m * theta)"),
            ),
            (z * np.exp(1j * theta) * np.ones(shape), tr("the angle is m * theta: the position is missing")),
            (np.broadcast_to(z, shape), tr("z was returned unrotated")),
        ]
        if not np.allclose(got, expected, rtol=1e-9, atol=1e-9):
            for value, why in slips:
                if np.allclose(got, value, rtol=1e-9, atol=1e-9):
                    fail("{what}: {why}", what=what, why=why)
            if np.allclose(got, expected, rtol=1e-5, atol=1e-5):
                fail(
                    "{what}: right only to about float32 precision (off by up to {value_max:.2g}); "
                    "compute the angles m * theta in float64",
                    what=what,
                    value_max=np.abs(got - expected).max(),
                )
            fail(
                "{what}: differs from z * exp(1j * m * theta) (largest difference {value_max:.3g})",
                what=what,
                value_max=np.abs(got - expected).max(),
            )


@check(1, "rotation_matrix: [[cos, -sin], [sin, cos]] of m * theta, the same map as rope_2d")
def test_rotation_matrix(impl):
    for m, theta in ((3, 0.4), (0, 1.3), (17, 0.01)):
        what = tr("rotation_matrix({m}, {theta})", m=m, theta=theta)
        got = _float64(call_unchanged(impl, "rotation_matrix", m, theta, what=what), what, (2, 2))
        c, s = np.cos(m * theta), np.sin(m * theta)
        slips = [
            (
                np.array([[c, s], [-s, c]]),
                tr("that is the transpose, a rotation by -m * theta; the first row is (cos, -sin)"),
            ),
            (
                np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]]),
                tr("the angle is m * theta"),
            ),
        ]
        _name_slip(
            what,
            got,
            np.array([[c, -s], [s, c]]),
            slips,
            "[[cos(m theta), -sin(m theta)], [sin(m theta), cos(m theta)]]",
        )
