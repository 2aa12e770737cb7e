"""Verify the sinusoidal corpus: wrong cases break the docstring's contract, valid cases keep it.

Run from the repository root: python tests/corpus/sinusoidal/_verify.py

The contract is checked against an independent float64 definition written below,
PE[p, 2i] = sin(p / base ** (2i / d)), PE[p, 2i + 1] = cos(p / base ** (2i / d)), plus the documented
shape, dtype and ValueErrors. A float32 table cannot be more exact than float32 rounding of the
angle, so the tolerance grows with the position: 1e-6 + 4 * 2**-24 * p.
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
import torch  # noqa: E402
from _load import cases, load_case, load_reference  # noqa: E402


def definition(length, d, base=10000.0):
    pe = np.zeros((length, d))
    p = np.arange(length, dtype=np.float64)
    for i in range(d // 2):
        pe[:, 2 * i] = np.sin(p / base ** (2 * i / d))
        pe[:, 2 * i + 1] = np.cos(p / base ** (2 * i / d))
    return pe


def compare(m, length, d, base=None, label=""):
    kw = {} if base is None else {"base": base}
    try:
        t = m.sinusoidal_encoding(length, d, **kw)
    except Exception as e:  # noqa: BLE001
        return f"{label}: raised {type(e).__name__}: {str(e)[:60]}"
    if not isinstance(t, torch.Tensor) or tuple(t.shape) != (length, d):
        return f"{label}: shape {tuple(getattr(t, 'shape', ()))} instead of ({length}, {d})"
    exp = definition(length, d, 10000.0 if base is None else base)
    got = t.to(torch.float64).numpy()
    tol = 1e-6 + 4 * 2.0**-24 * np.arange(length)[:, None]
    bad = np.abs(got - exp) - tol
    if (bad > 0).any():
        p, j = np.unravel_index(np.argmax(bad), bad.shape)
        return f"{label}: PE[{p}, {j}] = {got[p, j]:.4f}, the formula gives {exp[p, j]:.4f} (max |diff| {np.abs(got - exp).max():.3g})"
    return None


def shape_dtype(m):
    t = m.sinusoidal_encoding(5, 8)
    if not isinstance(t, torch.Tensor) or tuple(t.shape) != (5, 8) or t.dtype != torch.float32:
        return f"sinusoidal_encoding(5, 8): {type(t).__name__} {tuple(getattr(t, 'shape', ()))} {getattr(t, 'dtype', None)}, expected float32 (5, 8)"
    return None


def row0(m):
    t = m.sinusoidal_encoding(3, 10)
    r = t[0].to(torch.float64).numpy() if t.dim() == 2 else t.reshape(-1, 10)[0].to(torch.float64).numpy()
    exp = np.tile([0.0, 1.0], 5)
    e = float(np.abs(r - exp).max()) if r.shape == exp.shape else float("inf")
    return None if e < 1e-7 else f"row 0 of sinusoidal_encoding(3, 10) is {np.round(r[:4], 3).tolist()}..., not [0, 1, 0, 1, ...] (max |diff| {e:.3g})"


def values(m):
    return compare(m, 50, 16, label="length 50, d_model 16")


def large(m):
    return compare(m, 2048, 64, label="length 2048, d_model 64")


def base(m):
    return compare(m, 20, 8, base=100.0, label="base=100, length 20, d_model 8")


def d2(m):
    return compare(m, 3, 2, label="d_model 2, length 3")


def length1(m):
    return compare(m, 1, 6, label="length 1, d_model 6")


def raises(f, label):
    try:
        f()
    except ValueError:
        return None
    except Exception as e:  # noqa: BLE001
        return f"{label}: raised {type(e).__name__}, not ValueError"
    return f"{label}: no ValueError"


def err_odd(m):
    return raises(lambda: m.sinusoidal_encoding(4, 7), "sinusoidal_encoding(4, 7)")


def err_len0(m):
    return raises(lambda: m.sinusoidal_encoding(0, 8), "sinusoidal_encoding(0, 8)")


def err_len_neg(m):
    return raises(lambda: m.sinusoidal_encoding(-3, 8), "sinusoidal_encoding(-3, 8)")


BATTERY = {
    f.__name__: f for f in (shape_dtype, row0, values, large, base, d2, length1, err_odd, err_len0, err_len_neg)
}
VALUES = ["row0", "values", "large", "base", "d2", "length1"]
EXPECT = {
    "wrong_multiply_not_divide": ("values", VALUES),
    "wrong_exponent_i_over_d": ("values", VALUES),
    "wrong_concat_sin_cos": ("values", VALUES),
    "wrong_sin_cos_swapped": ("row0", VALUES),
    "wrong_ignores_base": ("base", []),
    "wrong_no_odd_check": ("err_odd", []),
    "wrong_length_zero_allowed": ("err_len0", []),
    "wrong_returns_float64": ("shape_dtype", []),
    "wrong_batch_dim": ("shape_dtype", VALUES),
    "wrong_positions_from_one": ("row0", VALUES),
    "wrong_per_column_frequency": ("values", VALUES),
    "wrong_integer_division_exponent": ("values", VALUES),
    "wrong_source_doc_exponents": ("values", VALUES + ["shape_dtype"]),
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
    ref = load_reference("sinusoidal")
    assert not run_battery(ref), run_battery(ref)
    failures, evidence = 0, {}
    for path in cases("sinusoidal"):
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
                print(f"OK {path.name} passes all {len(BATTERY)} contract checks (float64 formula up to length 2048, base, shape, float32, ValueErrors)")
            continue
        primary, allowed = EXPECT.get(path.stem, (None, []))
        extra = [k for k in bad if k != primary and not any(fnmatch.fnmatch(k, a) for a in allowed)]
        if primary is None or primary not in bad or extra:
            print(f"FAIL {path.name} primary {primary} failed: {primary in bad}; unexpected: {extra} {bad}")
            failures += 1
        else:
            evidence["sinusoidal/" + path.name] = bad[primary]
            print(f"OK {path.name} {bad[primary]}  [{len(bad)}/{len(BATTERY)} checks broken]")
    if os.environ.get("CORPUS_EVIDENCE_OUT"):
        Path(os.environ["CORPUS_EVIDENCE_OUT"]).write_text(json.dumps(evidence, indent=1))
    n = len(cases("sinusoidal"))
    print(f"{n - failures}/{n} cases verified ({len(cases('sinusoidal', 'wrong'))} wrong, {len(cases('sinusoidal', 'valid'))} valid)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
