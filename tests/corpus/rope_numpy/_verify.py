"""Verify the rope_numpy corpus: wrong cases break the docstring's contract, valid cases keep it.

Run from the repository root: python tests/corpus/rope_numpy/_verify.py

Independent definition: theta_i = base ** (-2i / d); R(m) built entry by entry from the RoFormer
block [[cos, -sin], [sin, cos]] on features (2i, 2i+1); apply_rope(x, positions)[..., t, :] must equal
R(positions[t]) @ x[..., t, :] with that R (never the case's own rotation_matrix).
"""

from __future__ import annotations

import fnmatch
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests" / "corpus"))
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from _load import cases, load_case, load_reference  # noqa: E402

RNG = np.random.default_rng(0)


def def_theta(d, base=10000.0):
    return np.array([base ** (-2.0 * i / d) for i in range(d // 2)])


def def_R(m, d, base=10000.0):
    R = np.zeros((d, d))
    for i, th in enumerate(def_theta(d, base)):
        a = m * th
        R[2 * i, 2 * i], R[2 * i, 2 * i + 1] = np.cos(a), -np.sin(a)
        R[2 * i + 1, 2 * i], R[2 * i + 1, 2 * i + 1] = np.sin(a), np.cos(a)
    return R


def def_apply(x, pos, base=10000.0):
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    for t, m in enumerate(pos):
        out[..., t, :] = x[..., t, :] @ def_R(m, x.shape[-1], base).T
    return out


def maxdiff(a, b):
    a = np.asarray(a)
    return float("inf") if a.shape != np.shape(b) else float(np.abs(a - b).max())


def raises(f, label):
    try:
        f()
    except ValueError:
        return None
    except Exception as e:  # noqa: BLE001
        return f"{label}: raised {type(e).__name__}, not ValueError"
    return f"{label}: no ValueError"


def freq_values(m):
    th = m.rope_frequencies(8)
    if th.shape != (4,) or th.dtype != np.float64:
        return f"rope_frequencies(8): shape {th.shape} {th.dtype}, expected (4,) float64"
    e = maxdiff(th, def_theta(8))
    if e > 1e-14:
        return f"rope_frequencies(8) = {np.round(th, 4).tolist()}, definition {np.round(def_theta(8), 4).tolist()}"
    return None if np.all(np.diff(th) < 0) else "rope_frequencies(8) is not decreasing"


def freq_base(m):
    th = m.rope_frequencies(6, 100.0)
    e = maxdiff(th, def_theta(6, 100.0))
    return None if e < 1e-14 else f"rope_frequencies(6, base=100) = {np.round(th, 4).tolist()}, definition {np.round(def_theta(6, 100.0), 4).tolist()}"


def freq_odd(m):
    return raises(lambda: m.rope_frequencies(7), "rope_frequencies(7)")


def mat_values(m):
    R = m.rotation_matrix(3, 6)
    e = maxdiff(R, def_R(3, 6))
    return None if e < 1e-14 else f"rotation_matrix(3, 6): max |R - RoFormer block definition| = {e:.3g}"


def mat_float_position(m):
    R = m.rotation_matrix(2.5, 8)
    e = maxdiff(R, def_R(2.5, 8))
    return None if e < 1e-14 else f"rotation_matrix(2.5, 8): max |R - definition| = {e:.3g}"


def mat_base(m):
    R = m.rotation_matrix(5, 4, 10.0)
    e = maxdiff(R, def_R(5, 4, 10.0))
    return None if e < 1e-14 else f"rotation_matrix(5, 4, base=10): max |R - definition| = {e:.3g}"


def mat_odd(m):
    return raises(lambda: m.rotation_matrix(1, 3), "rotation_matrix(1, dim=3)")


def ap_values(m):
    x = RNG.standard_normal((5, 8))
    pos = np.array([0, 1, 7, 100, 4096])
    exp = def_apply(x, pos)  # before the call can touch x
    e = maxdiff(m.apply_rope(x, pos), exp)
    return None if e < 1e-12 else f"x [5, 8], positions [0,1,7,100,4096]: max |out - R(p_t) x_t| = {e:.3g}"


def ap_batched(m):
    x = RNG.standard_normal((2, 3, 4, 8))
    pos = np.array([3, 1, 4, 15])
    exp = def_apply(x, pos)
    try:
        y = m.apply_rope(x, pos)
    except Exception as e:  # noqa: BLE001
        return f"x [2, 3, 4, 8]: raised {type(e).__name__}: {str(e)[:60]}"
    e = maxdiff(y, exp)
    return None if e < 1e-12 else f"x [2, 3, 4, 8], positions [3,1,4,15]: max |out - R(p_t) x_t| = {e:.3g}"


def ap_base(m):
    x = RNG.standard_normal((3, 6))
    pos = np.array([2, 5, 9])
    exp = def_apply(x, pos, 50.0)
    e = maxdiff(m.apply_rope(x, pos, 50.0), exp)
    return None if e < 1e-12 else f"base=50: max |out - R(p_t) x_t| = {e:.3g}"


def ap_int_input(m):
    x = np.array([[1, 2, 3, 4], [5, 6, 7, 8], [-1, 0, 2, -3]])
    pos = np.array([1, 2, 3])
    exp = def_apply(x, pos)
    y = m.apply_rope(x, pos)
    if not np.issubdtype(np.asarray(y).dtype, np.floating):
        return f"integer x: result dtype {np.asarray(y).dtype}, not float (e.g. out[0] = {np.asarray(y)[0].tolist()}, R(1) x_0 = {np.round(exp[0], 3).tolist()})"
    e = maxdiff(y, exp)
    return None if e < 1e-12 else f"integer x: max |out - R(p_t) x_t| = {e:.3g}"


def ap_float32(m):
    x = RNG.standard_normal((4, 8)).astype(np.float32)
    pos = np.arange(4)
    exp = def_apply(x, pos)
    y = np.asarray(m.apply_rope(x, pos))
    if not np.issubdtype(y.dtype, np.floating):
        return f"float32 x: result dtype {y.dtype}"
    e = maxdiff(y, exp)
    return None if e < 1e-5 else f"float32 x: max |out - R(p_t) x_t| = {e:.3g}"


def ap_no_inplace(m):
    x = RNG.standard_normal((2, 3, 8))
    x0 = x.copy()
    y = m.apply_rope(x, np.array([4, 5, 6]))
    d = float(np.abs(x - x0).max())
    if d > 0:
        return f"apply_rope changed its input x by up to {d:.3g}"
    if np.shares_memory(y, x):
        return "apply_rope returned x's own memory"
    return None


BATTERY = {n: f for n, f in globals().items() if n.startswith(("freq_", "mat_", "ap_")) and callable(f)}
AP = ["ap_*"]
EXPECT = {
    "wrong_freq_exponent_i_over_d": ("freq_values", ["freq_*", "mat_*", "ap_*"]),
    "wrong_freq_no_odd_check": ("freq_odd", ["mat_odd"]),
    "wrong_freq_increasing": ("freq_values", ["freq_*", "mat_*", "ap_*"]),
    "wrong_freq_ignores_base": ("freq_base", ["mat_base", "ap_base"]),
    "wrong_matrix_transposed_blocks": ("mat_values", ["mat_*"]),
    "wrong_matrix_half_split": ("mat_values", ["mat_*"]),
    "wrong_matrix_ignores_base": ("mat_base", []),
    "wrong_matrix_no_odd_check": ("mat_odd", []),
    "wrong_apply_writes_into_x": ("ap_no_inplace", ["ap_int_input"]),
    "wrong_apply_empty_like": ("ap_int_input", []),
    "wrong_apply_positions_ignored": ("ap_values", AP),
    "wrong_apply_inverse_rotation": ("ap_values", AP),
    "wrong_apply_half_split": ("ap_values", AP),
    "wrong_apply_2d_slicing": ("ap_batched", ["ap_no_inplace"]),
    "wrong_apply_ignores_base": ("ap_base", []),
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
    global RNG
    ref = load_reference("rope_numpy")
    assert not run_battery(ref), run_battery(ref)
    failures, evidence = 0, {}
    for path in cases("rope_numpy"):
        RNG = np.random.default_rng(0)
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
                print(f"OK {path.name} passes all {len(BATTERY)} contract checks (theta, R(m) entrywise, R(p_t) x_t for batched/int/float32 x, no in-place, ValueErrors)")
            continue
        primary, allowed = EXPECT.get(path.stem, (None, []))
        extra = [k for k in bad if k != primary and not any(fnmatch.fnmatch(k, a) for a in allowed)]
        if primary is None or primary not in bad or extra:
            print(f"FAIL {path.name} primary {primary} failed: {primary in bad}; unexpected: {extra} {bad}")
            failures += 1
        else:
            evidence["rope_numpy/" + path.name] = bad[primary]
            print(f"OK {path.name} {bad[primary]}  [{len(bad)}/{len(BATTERY)} checks broken]")
    if os.environ.get("CORPUS_EVIDENCE_OUT"):
        Path(os.environ["CORPUS_EVIDENCE_OUT"]).write_text(json.dumps(evidence, indent=1))
    n = len(cases("rope_numpy"))
    print(f"{n - failures}/{n} cases verified ({len(cases('rope_numpy', 'wrong'))} wrong, {len(cases('rope_numpy', 'valid'))} valid)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
