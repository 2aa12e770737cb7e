"""Verify the derive_rope corpus: every wrong case differs from an independent definition (or raises,
or fails to raise, or returns the wrong type / dtype / shape, or modifies its inputs) on the input its
`# mistake:` line is about; every valid case meets every check below.

Run from the repository root: python tests/corpus/derive_rope/_verify.py

The definition is written here from the exercise's docstrings only, with Python complex numbers and
cmath, element by element: the score Re(q conj(k)); the gap |g(m, n) - g(m + s, n + s)|; the modulus
|f(z, m)| and the phase arg f(z, m) - arg z wrapped into [-pi, pi] (x - 2 pi ceil((x - pi) / 2 pi);
-pi is taken as pi, as torch.angle may give it);
the increments arg f(z, m + 1) - arg f(z, m), wrapped, for m = 0 .. n - 2 on a new last axis
(ValueError for n < 2); z exp(1j m theta) broadcast; [[cos, -sin], [sin, cos]] of m theta.

Each candidate encoding exists twice: as the torch function handed to the case, and as a scalar
Python function the definition calls, so the definition never runs torch code on the inputs.
"""

from __future__ import annotations

import cmath
import math
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests" / "corpus"))
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from _load import cases, load_case  # noqa: E402

torch.set_num_threads(1)
EXERCISE = "derive_rope"
PI = math.pi


# ------------------------------------------------------------------ candidate encodings (torch, scalar)
def _t_phase_abs(z, m):
    r = z.abs()
    return z * torch.polar(torch.ones_like(r), m * r)


CANDIDATES = {
    "rotation": (lambda z, m: z * cmath.exp(1j * m * 0.3), lambda z, m: z * cmath.exp(1j * m * 0.3)),
    "fast_rotation": (lambda z, m: z * cmath.exp(2.5j * m), lambda z, m: z * cmath.exp(2.5j * m)),
    "added_vector": (
        lambda z, m: z + 0.5 * (cmath.exp(1j * m) - 1),
        lambda z, m: z + 0.5 * (cmath.exp(1j * m) - 1),
    ),
    "phase_m2": (lambda z, m: z * cmath.exp(0.1j * m * m), lambda z, m: z * cmath.exp(0.1j * m * m)),
    "modulus": (lambda z, m: z * (1 + 0.2 * m), lambda z, m: z * (1 + 0.2 * m)),
    "phase_abs": (_t_phase_abs, lambda z, m: z * cmath.exp(1j * m * abs(z))),
}
# a reflection at odd positions: phases of exactly pi, used only on axis-aligned z (exact arithmetic)
FLIP = (lambda z, m: -z if m % 2 else z, lambda z, m: -z if m % 2 else z)


# ------------------------------------------------------------------ independent definitions (docstrings)
def wrap(x, exact_ok=False):
    """x in (-pi, pi]. The test inputs keep clear of the boundary unless the value is exactly +-pi."""
    y = x - 2 * PI * math.ceil((x - PI) / (2 * PI))
    if not exact_ok:
        assert abs(abs(y) - PI) > 1e-7, f"test input too close to the branch cut: {x}"
    return y


def elems(t):
    return [complex(v) for v in np.asarray(t).reshape(-1)]


def ref_score(q, k):
    qb, kb = np.broadcast_arrays(q, k)
    return np.array([(a * b.conjugate()).real for a, b in zip(elems(qb), elems(kb))]).reshape(qb.shape)


def ref_gap(f, q, k, m, n, s):
    qb, kb = np.broadcast_arrays(q, k)
    out = []
    for a, b in zip(elems(qb), elems(kb)):
        g0 = (f(a, m) * f(b, n).conjugate()).real
        g1 = (f(a, m + s) * f(b, n + s).conjugate()).real
        out.append(abs(g0 - g1))
    return np.array(out).reshape(qb.shape)


def ref_polar(f, z, m, exact=False):
    mods, phases = [], []
    for a in elems(z):
        w = f(a, m)
        mods.append(abs(w))
        phases.append(wrap(cmath.phase(w) - cmath.phase(a), exact))
    return np.array(mods).reshape(z.shape), np.array(phases).reshape(z.shape)


def ref_increments(f, z, n, exact=False):
    rows = []
    for a in elems(z):
        rows.append([wrap(cmath.phase(f(a, m + 1)) - cmath.phase(f(a, m)), exact) for m in range(n - 1)])
    return np.array(rows).reshape(*z.shape, n - 1)


def ref_rope2d(z, pos, theta):
    zb, pb = np.broadcast_arrays(z, pos)
    vals = [a * cmath.exp(1j * (float(int(p)) * theta)) for a, p in zip(elems(zb), np.asarray(pb).reshape(-1))]
    return np.array(vals, dtype=np.complex128).reshape(zb.shape)


def ref_rotation(m, theta):
    a = float(m) * theta
    return np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])


# ------------------------------------------------------------------ inputs
def cplx(shape, seed):
    g = np.random.default_rng(seed)
    return g.standard_normal(shape) + 1j * g.standard_normal(shape)


# elements near the negative real axis (both sides), near the positive one, small and large moduli
Z_EDGE = np.array([-1 + 0.01j, -1 - 0.01j, -2 + 1e-3j, 0.5 - 0.02j, 0.3 + 2j, -0.7 - 1.1j, 3 + 0j, 0.05 + 0.01j])
Z_AXIS = np.array([1 + 0j, 2 + 0j, -3 + 0j, 1j, -2j, 0.5 + 0j])


def T_(a):
    """A fresh complex128 tensor (a copy: a case that writes into its inputs cannot touch the definition's)."""
    return torch.from_numpy(np.array(a, dtype=np.complex128, copy=True))


TOL = 1e-12
WORST = [0.0]


def compare(got, want, dt, what, tol=TOL):
    """None, or a message about a wrong type, shape, dtype or value (relative to max(1, |want|))."""
    if not isinstance(got, torch.Tensor):
        return f"{what}: returned a {type(got).__name__}, not a tensor"
    if tuple(got.shape) != want.shape:
        return f"{what}: shape {tuple(got.shape)} instead of {want.shape}"
    if got.dtype != dt:
        return f"{what}: dtype {got.dtype} instead of {dt}"
    g = got.detach().resolve_conj().numpy()
    if not np.all(np.isfinite(g)):
        return f"{what}: non-finite values"
    err = float((np.abs(g - want) / np.maximum(1.0, np.abs(want))).max()) if want.size else 0.0
    WORST[0] = max(WORST[0], err / tol * TOL)
    if err > tol:
        k = np.unravel_index(np.argmax(np.abs(g - want)), want.shape)
        return (f"{what}: differs from the definition by {err:.3g} "
                f"(at {tuple(int(i) for i in k)}: {g[k]:.6g} instead of {want[k]:.6g})")
    return None


def call(fn, *args, **kw):
    try:
        return fn(*args, **kw), None
    except Exception as exc:  # noqa: BLE001
        return None, f"raised {type(exc).__name__}: {str(exc)[:80]}"


def unchanged(inputs, before, what):
    for t, b in zip(inputs, before):
        if not torch.equal(t, b):
            return f"{what}: an input was modified in place"
    return None


# ------------------------------------------------------------------ checks
SCORE = [((5,), (5,)), ((3, 1), (4,)), ((), (2, 3)), ((2, 3), (2, 3)), ((), ())]


def check_score(mod):
    for i, (sq, sk) in enumerate(SCORE):
        q, k = cplx(sq, 10 + i), cplx(sk, 20 + i)
        tq, tk = T_(q), T_(k)
        what = f"complex_score(q {sq}, k {sk})"
        got, err = call(mod.complex_score, tq, tk)
        msg = (f"{what}: {err}" if err else unchanged((tq, tk), (T_(q), T_(k)), what)
               or compare(got, ref_score(q, k), torch.float64, what))
        if msg:
            return msg
    return None


GAP = [((4,), (4,), 3, 1, 5), ((3, 1), (4,), 0, 2, -3), ((), (2, 2), 7, 7, 2), ((6,), (6,), -2, 4, 1), ((2, 3), (2, 3), 5, 0, 0)]


def check_gap(mod, name):
    tf, sf = CANDIDATES[name]
    for i, (sq, sk, m, n, s) in enumerate(GAP):
        q, k = cplx(sq, 30 + i), cplx(sk, 40 + i)
        tq, tk = T_(q), T_(k)
        what = f"requirement_gap({name}, q {sq}, k {sk}, m={m}, n={n}, shift={s})"
        got, err = call(mod.requirement_gap, tf, tq, tk, m, n, s)
        msg = (f"{what}: {err}" if err else unchanged((tq, tk), (T_(q), T_(k)), what)
               or compare(got, ref_gap(sf, q, k, m, n, s), torch.float64, what))
        if msg:
            return msg
    return None


POLAR_Z = {"edge": Z_EDGE, "grid": cplx((2, 3), 50), "scalar": np.array(-0.8 + 0.3j)}


def check_polar_one(mod, tf, sf, z, m, what, exact=False):
    tz = T_(z)
    got, err = call(mod.polar_parts, tf, tz, m)
    if err:
        return f"{what}: {err}"
    msg = unchanged((tz,), (T_(z),), what)
    if msg:
        return msg
    if not isinstance(got, tuple) or len(got) != 2:
        return f"{what}: returned a {type(got).__name__} of length {len(got) if hasattr(got, '__len__') else '?'}, not a 2-tuple"
    want_mod, want_phase = ref_polar(sf, z, m, exact)
    return compare(got[0], want_mod, torch.float64, what + " modulus") or compare(
        same_pi(got[1]) if exact else got[1], want_phase, torch.float64, what + " phase")


def same_pi(t):
    """torch.angle's principal value may be -pi where the definition says pi: the docstring allows both."""
    if isinstance(t, torch.Tensor) and t.dtype == torch.float64:
        return torch.where(t == -PI, torch.full_like(t, PI), t)
    return t


def check_polar(mod, name):
    tf, sf = CANDIDATES[name]
    for zname, z in POLAR_Z.items():
        for m in (0, 1, 4, 7):
            msg = check_polar_one(mod, tf, sf, z, m, f"polar_parts({name}, z {zname} {z.shape}, m={m})")
            if msg:
                return msg
    return None


def check_polar_flip(mod):
    for m in (0, 1, 2, 3):
        msg = check_polar_one(mod, *FLIP, Z_AXIS, m, f"polar_parts(-z at odd m, z on the axes, m={m})", exact=True)
        if msg:
            return msg
    return None


def check_inc_one(mod, tf, sf, z, n, what, exact=False):
    tz = T_(z)
    got, err = call(mod.phase_increments, tf, tz, n)
    if err:
        return f"{what}: {err}"
    got = same_pi(got) if exact else got
    return unchanged((tz,), (T_(z),), what) or compare(got, ref_increments(sf, z, n, exact), torch.float64, what)


def check_inc(mod, name):
    tf, sf = CANDIDATES[name]
    for zname, z in POLAR_Z.items():
        for n in (2, 3, 6):
            msg = check_inc_one(mod, tf, sf, z, n, f"phase_increments({name}, z {zname} {z.shape}, n_positions={n})")
            if msg:
                return msg
    return None


def check_inc_flip(mod):
    return check_inc_one(mod, *FLIP, Z_AXIS, 5, "phase_increments(-z at odd m, z on the axes, 5)", exact=True)


def check_inc_errors(mod):
    f = CANDIDATES["rotation"][0]
    for n in (1, 0, -2):
        what = f"phase_increments(rotation, z (8,), n_positions={n})"
        try:
            got = mod.phase_increments(f, T_(Z_EDGE), n)
        except ValueError:
            continue
        except Exception as exc:  # noqa: BLE001
            return f"{what}: raised {type(exc).__name__} instead of ValueError"
        shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
        return f"{what}: no ValueError (returned {shape})"
    return None


# z shape, positions, theta
ROPE = [
    ("same_shape", cplx((5,), 60), np.array([0, 1, 2, 7, -3]), 0.3),
    ("one_position", cplx((2, 3), 61), np.array(4), 0.7),
    ("broadcast", cplx((3, 1), 62), np.array([0, 5, 9, 100]), 1.1),
    ("scalar_z", np.array(0.6 - 0.8j), np.array([1, 2, 3, 4]), 0.25),
    ("large_positions", cplx((4,), 63), np.array([12345, 987654, -50001, 3000001]), 0.7),
    ("slow_pair", cplx((2, 2), 64), np.array([[10, 2000], [65536, 1]]), 1e-4),
]


def check_rope2d(mod, case):
    name, z, pos, theta = next(c for c in ROPE if c[0] == case)
    tz, tp = T_(z), torch.as_tensor(pos, dtype=torch.int64)
    before = (tz.clone(), tp.clone())
    what = f"rope_2d({name}: z {z.shape}, positions {pos.shape}, theta={theta})"
    got, err = call(mod.rope_2d, tz, tp, theta)
    if err:
        return f"{what}: {err}"
    msg = unchanged((tz, tp), before, what)
    if msg:
        return msg
    # the float64 angle m * theta itself carries a rounding error of about |m theta| * 1e-16
    tol = TOL * max(1.0, float(np.abs(pos).max()) * theta)
    return compare(got, ref_rope2d(z, pos, theta), torch.complex128, what, tol)


ROT = [(0, 0.3), (1, 0.3), (2, 0.5), (-3, 0.7), (5, 2.0), (1000, 1e-3), (12345, 0.01)]


def check_rotation(mod):
    for m, theta in ROT:
        what = f"rotation_matrix({m}, {theta})"
        got, err = call(mod.rotation_matrix, m, theta)
        msg = f"{what}: {err}" if err else compare(got, ref_rotation(m, theta), torch.float64, what, TOL * max(1.0, abs(m * theta)))
        if msg:
            return msg
    return None


CHECKS = {"score": check_score}
CHECKS |= {f"gap:{n}": (lambda mod, n=n: check_gap(mod, n)) for n in CANDIDATES}
CHECKS |= {f"polar:{n}": (lambda mod, n=n: check_polar(mod, n)) for n in CANDIDATES}
CHECKS |= {"polar:flip": check_polar_flip}
CHECKS |= {f"inc:{n}": (lambda mod, n=n: check_inc(mod, n)) for n in CANDIDATES}
CHECKS |= {"inc:flip": check_inc_flip, "inc:errors": check_inc_errors}
CHECKS |= {f"rope_2d:{c[0]}": (lambda mod, c=c[0]: check_rope2d(mod, c)) for c in ROPE}
CHECKS |= {"rotation": check_rotation}

# the input on which each wrong case must be shown wrong
TARGET = {
    "wrong_score_no_conj": "score",
    "wrong_score_complex_dtype": "score",
    "wrong_score_sums_elements": "score",
    "wrong_gap_signed": "gap:phase_m2",
    "wrong_gap_shift_backwards": "gap:phase_m2",
    "wrong_gap_complex_product": "gap:phase_m2",
    "wrong_gap_positions_swapped": "gap:phase_m2",
    "wrong_polar_relative_modulus": "polar:modulus",
    "wrong_polar_no_wrap": "polar:rotation",
    "wrong_polar_conj_order": "polar:rotation",
    "wrong_polar_absolute_phase": "polar:rotation",
    "wrong_inc_one_too_many": "inc:rotation",
    "wrong_inc_first_axis": "inc:phase_m2",
    "wrong_inc_unwrapped_diff": "inc:fast_rotation",
    "wrong_inc_accepts_one_position": "inc:errors",
    "wrong_inc_starts_at_one": "inc:phase_m2",
    "wrong_rope2d_clockwise": "rope_2d:same_shape",
    "wrong_rope2d_float32_angle": "rope_2d:large_positions",
    "wrong_rope2d_in_place": "rope_2d:same_shape",
    "wrong_rotation_transposed": "rotation",
    "wrong_rotation_float32": "rotation",
}

HEADER = re.compile(r"# corpus: (?:wrong|valid)\n# mistake: (.+)\n# evidence: (.+)\n")


def run_all(mod):
    fails = {}
    for label, fn in CHECKS.items():
        try:
            msg = fn(mod)
        except Exception as exc:  # noqa: BLE001
            msg = f"check crashed: {type(exc).__name__}: {exc}"
        if msg:
            fails[label] = msg
    return fails


def sanity():
    """The definition itself: RoPE passes every step; each other candidate fails the step it is built to fail."""
    q, k = cplx((6,), 1), cplx((6,), 2)
    for name, (_, sf) in CANDIDATES.items():
        gap = ref_gap(sf, q, k, 3, 1, 5).max()
        mods, _ = ref_polar(sf, Z_EDGE, 4)
        inc = ref_increments(sf, Z_EDGE, 6)
        if name in ("rotation", "fast_rotation"):
            th = 0.3 if name == "rotation" else 2.5
            assert gap < 1e-12 and np.allclose(mods, np.abs(Z_EDGE), rtol=0, atol=1e-14)
            assert np.allclose(inc, wrap(th), rtol=0, atol=1e-12)
        else:
            assert gap > 1e-3, name
    assert np.allclose(ref_polar(FLIP[1], Z_AXIS, 1, True)[1], PI, rtol=0, atol=0)
    assert np.allclose(ref_increments(FLIP[1], Z_AXIS, 4, True), PI, rtol=0, atol=0)
    # the matrix acts on (x0, x1) as rope_2d on x0 + 1j x1
    x = np.array([0.3, -1.2])
    r = ref_rotation(4, 0.45) @ x
    c = ref_rope2d(np.array(0.3 - 1.2j), np.array(4), 0.45)
    assert abs(complex(r[0], r[1]) - complex(c)) < 1e-14
    # torch and scalar forms of each candidate agree
    z = cplx((5,), 3)
    for name, (tf, sf) in CANDIDATES.items():
        for m in (0, 3):
            assert np.allclose(tf(T_(z), m).numpy(), [sf(complex(a), m) for a in z], rtol=0, atol=1e-13), name


def main() -> int:
    sanity()
    extra = [Path(a).resolve() for a in sys.argv[1:]]  # optional: more case files to check as valid (e.g. a draft)
    failed = 0
    for path in cases(EXERCISE) + extra:
        name = path.stem
        is_valid = name.startswith("valid_") or path in extra
        if path not in extra and not HEADER.match(path.read_text()):
            print(f"FAIL {path.name}: header lines missing")
            failed += 1
            continue
        try:
            mod = load_case(path, EXERCISE)
        except Exception as exc:  # noqa: BLE001
            print(f"FAIL {path.name}: import crashed: {type(exc).__name__}: {exc}")
            failed += 1
            continue
        if is_valid:
            WORST[0] = 0.0
            fails = run_all(mod)
            if fails:
                print(f"FAIL {path.name} valid case breaks the contract: {fails}")
                failed += 1
            else:
                print(f"OK {path.name} agrees on all {len(CHECKS)} checks (largest relative error {WORST[0]:.2g})")
            continue
        target = TARGET.get(name)
        if target is None:
            print(f"FAIL {path.name} has no target input")
            failed += 1
            continue
        try:
            msg = CHECKS[target](mod)
        except Exception as exc:  # noqa: BLE001
            print(f"FAIL {path.name} check crashed: {type(exc).__name__}: {exc}")
            failed += 1
            continue
        if msg is None:
            print(f"FAIL {path.name} agrees with the definition on {target}")
            failed += 1
        else:
            print(f"OK {path.name} {target}: {msg}")
    print(f"{len(cases(EXERCISE, 'wrong'))} wrong, {len(cases(EXERCISE, 'valid'))} valid, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
