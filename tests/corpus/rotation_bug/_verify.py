"""Verify the rotation_bug corpus: wrong cases break the docstring's contract, valid cases keep it.

Run from the repository root: python tests/corpus/rotation_bug/_verify.py

The property tests are fed matrices whose answer the docstring fixes: true rotations (RoPE blocks
built here, a random QR rotation with det +1), mirrors, shears, scaled rotations, rotations off by
1 + 1e-6 (wrong at tol 1e-8), non-square and 1-D arrays, NaN entries, a matrix that keeps one vector
and doubles its orthogonal complement, and matrix_at functions that are (1e6 * R, R @ S, 2 * R) or are
not (R(m^2), a change of speed at position 7, the document's softmax) relative.
"""

from __future__ import annotations

import fnmatch
import json
import os
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests" / "corpus"))
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from _load import cases, load_case, load_reference  # noqa: E402


def def_R(m, d, base=10000.0):
    R = np.zeros((d, d))
    for i in range(d // 2):
        a = m * base ** (-2.0 * i / d)
        R[2 * i, 2 * i], R[2 * i, 2 * i + 1] = np.cos(a), -np.sin(a)
        R[2 * i + 1, 2 * i], R[2 * i + 1, 2 * i + 1] = np.sin(a), np.cos(a)
    return R


def qr_rotation(d, seed):
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def householder(d, seed):
    v = np.random.default_rng(seed).standard_normal(d)
    return np.eye(d) - 2 * np.outer(v, v) / (v @ v)


def keeps_one_vector(d, seed=0):
    """Fixes x (the first vector default_rng(seed) draws) and doubles everything orthogonal to it."""
    x = np.random.default_rng(seed).standard_normal(d)
    P = np.outer(x, x) / (x @ x)
    return P + 2 * (np.eye(d) - P)


def with_nan(M):
    M = M.copy()
    M[0, 1] = np.nan
    return M


def expect(fn, cases_, label):
    """Each (name, arg, kwargs, answer): fn(arg, **kwargs) must return answer (a bool) without raising."""
    for name, arg, kw, answer in cases_:
        try:
            got = fn(arg, **kw)
        except Exception as e:  # noqa: BLE001
            return f"{label}({name}) raised {type(e).__name__}: {str(e)[:60]}"
        if got is not answer and not (isinstance(got, (bool, np.bool_)) and bool(got) == answer):
            return f"{label}({name}) = {got}, the docstring's answer is {answer}"
    return None


def rot_true(m):
    return expect(m.is_rotation, [("RoPE R(3), d=8", def_R(3, 8), {}, True), ("QR rotation 5x5", qr_rotation(5, 1), {}, True),
                                  ("I_4", np.eye(4), {}, True)], "is_rotation")


def rot_mirror(m):
    return expect(m.is_rotation, [("diag(1, -1)", np.diag([1.0, -1.0]), {}, False),
                                  ("Householder 4x4 (det -1)", householder(4, 2), {}, False)], "is_rotation")


def rot_shear(m):
    return expect(m.is_rotation, [("shear [[1,1],[0,1]] (det 1)", np.array([[1.0, 1.0], [0.0, 1.0]]), {}, False)], "is_rotation")


def rot_scaled(m):
    R = def_R(3, 4)
    return expect(m.is_rotation, [("2 R(3)", 2 * R, {}, False), ("(1 + 1e-6) R(3), tol 1e-8", (1 + 1e-6) * R, {}, False),
                                  ("(1 + 1e-6) R(3), tol 1e-3", (1 + 1e-6) * R, {"tol": 1e-3}, True),
                                  ("(1 + 1e-10) R(3), tol 1e-12", (1 + 1e-10) * R, {"tol": 1e-12}, False)], "is_rotation")


def rot_nonsquare(m):
    return expect(m.is_rotation, [("ones(3, 2)", np.ones((3, 2)), {}, False), ("1-D ones(3)", np.ones(3), {}, False),
                                  ("3-D eye(3)[None]", np.eye(3)[None], {}, False)], "is_rotation")


def rot_nan(m):
    return expect(m.is_rotation, [("R(3) with one NaN", with_nan(def_R(3, 4)), {}, False),
                                  ("all-NaN 2x2", np.full((2, 2), np.nan), {}, False),
                                  ("I with an inf", np.diag([np.inf, 1.0]), {}, False)], "is_rotation")


def rot_document(m):
    return expect(m.is_rotation, [("document_matrix(4)", m.document_matrix(4), {}, False)], "is_rotation")


def norms_true(m):
    return expect(m.preserves_norms, [("R(5), d=8", def_R(5, 8), {}, True), ("mirror diag(1,-1,1)", np.diag([1.0, -1.0, 1.0]), {}, True),
                                      ("QR rotation 6x6", qr_rotation(6, 3), {}, True)], "preserves_norms")


def norms_false(m):
    R = def_R(3, 6)
    return expect(m.preserves_norms, [("2 R(3)", 2 * R, {}, False), ("shear", np.array([[1.0, 1.0], [0.0, 1.0]]), {}, False),
                                      ("document_matrix(4)", m.document_matrix(4), {}, False),
                                      ("(1 + 1e-7) R(3), tol 1e-8", (1 + 1e-7) * R, {}, False),
                                      ("(1 + 1e-7) R(3), tol 1e-5", (1 + 1e-7) * R, {"tol": 1e-5}, True)], "preserves_norms")


def norms_one_vector(m):
    return expect(m.preserves_norms, [("keeps the first drawn x, doubles its complement (d=5)", keeps_one_vector(5), {}, False)],
                  "preserves_norms")


def norms_nonsquare(m):
    Q = np.linalg.qr(np.random.default_rng(4).standard_normal((3, 2)))[0]
    return expect(m.preserves_norms, [("3x2 with orthonormal columns", Q, {}, False)], "preserves_norms")


def norms_nan(m):
    return expect(m.preserves_norms, [("R(3) with one NaN", with_nan(def_R(3, 4)), {}, False),
                                      ("all-NaN 3x3", np.full((3, 3), np.nan), {}, False)], "preserves_norms")


def piecewise(p):
    return def_R(p, 4) if p <= 6 else def_R(2 * p, 4)


def rel_true(m):
    S = np.diag([2.0, 1.0, 1.0, 1.0])
    return expect(m.is_relative, [("RoPE R(m), d=4", lambda p: def_R(p, 4), {}, True), ("2 R(m)", lambda p: 2 * def_R(p, 6), {}, True),
                                  ("1e6 R(m)", lambda p: 1e6 * def_R(p, 8), {}, True),
                                  ("R(m) @ diag(2,1,1,1)", lambda p: def_R(p, 4) @ S, {}, True)], "is_relative")


def rel_false(m):
    return expect(m.is_relative, [("document_matrix_at(m, 4)", lambda p: m.document_matrix_at(p, 4), {}, False),
                                  ("R(m^2) (orthogonal at every m)", lambda p: def_R(p * p, 4), {}, False),
                                  ("R(m) up to 6, R(2m) from 7 on", piecewise, {}, False)], "is_relative")


def fix_values(m):
    for args in ((3, 6), (0, 4), (2.0, 4, 10.0), (100, 8)):
        got = m.fixed_matrix_at(*args)
        exp = def_R(*args)
        e = float("inf") if np.shape(got) != exp.shape else float(np.abs(got - exp).max())
        if e > 1e-13:
            return f"fixed_matrix_at{args}: max |R - RoFormer block definition| = {e:.3g}"
    return None


def fix_odd(m):
    try:
        m.fixed_matrix_at(1, 3)
    except ValueError as e:
        return None if "even" in str(e) else f"fixed_matrix_at(1, 3): ValueError without 'even': {e}"
    except BaseException as e:  # noqa: BLE001
        return f"fixed_matrix_at(1, 3) raised {type(e).__name__}, not ValueError"
    return "fixed_matrix_at(1, 3): no ValueError for the document's d = 3"


BATTERY = {n: f for n, f in globals().items() if n.startswith(("rot_", "norms_", "rel_", "fix_")) and callable(f)}
EXPECT = {
    "wrong_rotation_mirror_accepted": ("rot_mirror", []),
    "wrong_rotation_det_only": ("rot_shear", []),
    "wrong_rotation_raises_on_1d": ("rot_nonsquare", []),
    "wrong_rotation_nan_passes": ("rot_nan", []),
    "wrong_rotation_allclose_default": ("rot_scaled", []),
    "wrong_rotation_relative_tol_only": ("rot_true", ["rot_scaled"]),
    "wrong_norms_one_vector": ("norms_one_vector", []),
    "wrong_norms_allclose_default": ("norms_false", []),
    "wrong_norms_non_square_accepted": ("norms_nonsquare", []),
    "wrong_norms_nan_passes": ("norms_nan", []),
    "wrong_relative_diagonal_only": ("rel_false", []),
    "wrong_relative_shift_one_only": ("rel_false", []),
    "wrong_relative_absolute_tol": ("rel_true", []),
    "wrong_relative_wrong_transpose": ("rel_true", []),
    "wrong_fixed_transposed_blocks": ("fix_values", []),
    "wrong_fixed_odd_dim_padded": ("fix_odd", []),
    "wrong_fixed_assert_not_valueerror": ("fix_odd", []),
    "wrong_fixed_exponent_i_over_d": ("fix_values", []),
}


def run_battery(m):
    out = {}
    for name, f in BATTERY.items():
        try:
            out[name] = f(m)
        except Exception as e:  # noqa: BLE001
            out[name] = f"{name}: raised {type(e).__name__}: {str(e)[:60]}"
    return {k: v for k, v in out.items() if v}


def main() -> int:
    warnings.simplefilter("ignore", RuntimeWarning)  # det and norms of the NaN inputs
    ref = load_reference("rotation_bug")
    assert not run_battery(ref), run_battery(ref)
    failures, evidence = 0, {}
    for path in cases("rotation_bug"):
        try:
            bad = run_battery(load_case(path))
        except Exception as e:  # noqa: BLE001
            print(f"FAIL {path.name} could not run: {type(e).__name__}: {e}")
            failures += 1
            continue
        if path.stem.startswith("valid_"):
            if bad:
                print(f"FAIL {path.name} breaks the contract: {bad}")
                failures += 1
            else:
                print(f"OK {path.name} passes all {len(BATTERY)} contract checks (rotations, mirrors, shears, scaled, non-square, NaN, relative or not, the fix)")
            continue
        primary, allowed = EXPECT.get(path.stem, (None, []))
        extra = [k for k in bad if k != primary and not any(fnmatch.fnmatch(k, a) for a in allowed)]
        if primary is None or primary not in bad or extra:
            print(f"FAIL {path.name} primary {primary} failed: {primary in bad}; unexpected: {extra} {bad}")
            failures += 1
        else:
            evidence["rotation_bug/" + path.name] = bad[primary]
            print(f"OK {path.name} {bad[primary]}  [{len(bad)}/{len(BATTERY)} checks broken]")
    if os.environ.get("CORPUS_EVIDENCE_OUT"):
        Path(os.environ["CORPUS_EVIDENCE_OUT"]).write_text(json.dumps(evidence, indent=1))
    n = len(cases("rotation_bug"))
    print(f"{n - failures}/{n} cases verified ({len(cases('rotation_bug', 'wrong'))} wrong, {len(cases('rotation_bug', 'valid'))} valid)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
