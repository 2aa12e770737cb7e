"""Verify the rope_precision corpus: every wrong case differs from an independent definition (or
raises, or fails to raise, or returns the wrong type / dtype / shape, or modifies its inputs) on the
input its `# mistake:` line is about; every valid case meets every check below.

Run from the repository root: python tests/corpus/rope_precision/_verify.py

The definition is written here from the exercise's docstrings only, in Python floats element by
element (numpy for the long scans): theta_i = base ** (-2i / dim); the low-precision angle as
R(R(m) * R(theta_i)), where R rounds a float64 to p significant bits (round half to even, with the
dtype's smallest normal exponent) and the product of two p-bit numbers is exact in float64; the
error |low - m theta_i|; max_exact_integer = 2 ** p from the table of significand widths; B(m) as a
sum of math.cos; the first m with B(m) < 0 by a linear scan; the smallest good candidate by
checking all of them. The sanity check confirms that R agrees with torch's .to(dtype) on every
value the tests round (torch casts bfloat16 through float32, which only matters for values the
tests avoid).
"""

from __future__ import annotations

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
EXERCISE = "rope_precision"

# significant bits p (stored mantissa + the implicit one) and frexp exponent of the smallest normal
SIG = {
    torch.float64: (53, -1021),
    torch.float32: (24, -125),
    torch.bfloat16: (8, -125),
    torch.float16: (11, -13),
    torch.float8_e4m3fn: (4, -5),
    torch.float8_e5m2: (3, -13),
}


# ------------------------------------------------------------------ independent definitions (docstrings)
def R(x, dtype):
    """x rounded to the dtype's p significant bits, ties to even (no overflow in the tests)."""
    p, emin = SIG[dtype]
    if x == 0 or p == 53:
        return x
    _, e = math.frexp(x)
    q = math.ldexp(1.0, max(e, emin) - p)
    return round(x / q) * q


def thetas(dim, base):
    return [base ** (-2 * i / dim) for i in range(dim // 2)]


def ref_angle_error(pos, dim, base, dtype):
    th = thetas(dim, base)
    out = np.zeros(pos.shape + (dim // 2,))
    for idx in np.ndindex(pos.shape):
        m = float(int(pos[idx]))
        for i, t in enumerate(th):
            low = R(R(m, dtype) * R(t, dtype), dtype)
            out[idx + (i,)] = abs(low - m * t)
    return out


def ref_mei(dtype):
    return 2 ** SIG[dtype][0]


def ref_margin(dist, dim, base):
    th = thetas(dim, base)
    out = np.zeros(dist.shape)
    for idx in np.ndindex(dist.shape):
        m = float(int(dist[idx]))
        out[idx] = sum(math.cos(m * t) for t in th)
    return out


def margin_np(max_distance, dim, base):
    return np.cos(np.outer(np.arange(max_distance + 1, dtype=np.float64), np.array(thetas(dim, base)))).sum(1)


def ref_ctx(dim, base, max_distance):
    b = margin_np(max_distance, dim, base)
    neg = np.flatnonzero(b < 0)
    first = int(neg[0]) if neg.size else max_distance + 1
    # robustness of the definition: no B(m) up to the answer is so close to 0 that its sign is rounding
    assert np.abs(b[: first + 1]).min() > 1e-9, (dim, base, max_distance)
    return first


def ref_bound(L, dim, bases):
    good = [float(b) for b in bases if ref_ctx(dim, float(b), L - 1) >= L]
    return min(good) if good else None


# ------------------------------------------------------------------ helpers
def compare(got, want, dt, what, tol=1e-12):
    """None, or a message about a wrong type, shape, dtype or value (relative to max(1, |want|))."""
    if not isinstance(got, torch.Tensor):
        return f"{what}: returned a {type(got).__name__}, not a tensor"
    if tuple(got.shape) != want.shape:
        return f"{what}: shape {tuple(got.shape)} instead of {want.shape}"
    if got.dtype != dt:
        return f"{what}: dtype {got.dtype} instead of {dt}"
    g = got.detach().numpy()
    if not np.all(np.isfinite(g)):
        return f"{what}: non-finite values"
    err = float((np.abs(g - want) / np.maximum(1.0, np.abs(want))).max()) if want.size else 0.0
    WORST[0] = max(WORST[0], err)
    if err > tol:
        k = np.unravel_index(np.argmax(np.abs(g - want)), want.shape)
        return (f"{what}: differs from the definition by {err:.3g} "
                f"(at {tuple(int(i) for i in k)}: {g[k]:.6g} instead of {want[k]:.6g})")
    return None


WORST = [0.0]


def call(fn, *args, **kw):
    try:
        return fn(*args, **kw), None
    except Exception as exc:  # noqa: BLE001
        return None, f"raised {type(exc).__name__}: {str(exc)[:80]}"


def expect_value_error(fn, *args, what, **kw):
    try:
        got = fn(*args, **kw)
    except ValueError:
        return None
    except Exception as exc:  # noqa: BLE001
        return f"{what}: raised {type(exc).__name__} instead of ValueError"
    shape = tuple(got.shape) if isinstance(got, torch.Tensor) else repr(got)
    return f"{what}: no ValueError (returned {shape})"


def exact_type(got, typ, what):
    if type(got) is not typ:
        return f"{what}: returned {type(got).__name__} {got!r}, not a Python {typ.__name__}"
    return None


# ------------------------------------------------------------------ checks
# name: positions, positions dtype, dim, base (None: default), dtype (None: default)
AE = {
    "float32_default": (np.array([0, 1, 257, 1000, 100_000, 1_000_000, 10_000_000]), torch.int64, 128, None, None),
    "float32_2d_base": (np.array([[0, 5], [1024, 999_999]]), torch.int64, 32, 500_000.0, torch.float32),
    "float32_0d": (np.array(123_457), torch.int64, 8, None, torch.float32),
    "bfloat16": (np.array([0, 1, 255, 256, 257, 1001, 4097, 65_535]), torch.int64, 64, 10_000.0, torch.bfloat16),
    "bfloat16_2d_int32": (np.array([[3, 300, 3000], [30_000, 123_456, 7]]), torch.int32, 16, 500_000.0, torch.bfloat16),
    "float16": (np.array([0, 1, 2047, 2049, 4095, 60_000]), torch.int64, 16, 10_000.0, torch.float16),
    "float64": (np.array([3, 10**9]), torch.int64, 8, None, torch.float64),
}


def ae_kwargs(base, dtype):
    kw = {} if base is None else {"base": base}
    return kw | ({} if dtype is None else {"dtype": dtype})


def check_ae(mod, name):
    pos, pdt, dim, base, dtype = AE[name]
    kw = ae_kwargs(base, dtype)
    p = torch.as_tensor(pos, dtype=pdt)
    before = p.clone()
    what = f"angle_error({name}: positions {pos.shape}, {dim}, {kw})"
    got, err = call(mod.angle_error, p, dim, **kw)
    if err:
        return f"{what}: {err}"
    if not torch.equal(p, before):
        return f"{what}: positions modified in place"
    # theta_i from numpy's pow or torch's may differ in the last bit, which the position multiplies
    tol = max(1e-12, 8 * np.finfo(np.float64).eps * float(np.abs(np.asarray(pos, dtype=np.float64)).max()))
    want = ref_angle_error(pos, dim, base or 10_000.0, dtype or torch.float32)
    return compare(got, want, torch.float64, what, tol=tol)


def check_ae_errors(mod):
    for dim in (7, 1, 129):
        msg = expect_value_error(mod.angle_error, torch.arange(5), dim, what=f"angle_error(arange(5), {dim})")
        if msg:
            return msg
    return None


def check_mei(mod):
    for dt in SIG:
        what = f"max_exact_integer({dt})"
        got, err = call(mod.max_exact_integer, dt)
        if err:
            return f"{what}: {err}"
        msg = exact_type(got, int, what)
        if msg:
            return msg
        if got != ref_mei(dt):
            return f"{what}: {got} instead of {ref_mei(dt)}"
    return None


# name: distances, dim, base (None: default)
MARGIN = {
    "range": (np.arange(0, 3000, 7), 128, None),
    "2d_base": (np.array([[0, 1, 2], [1707, 18_438, 100_000]]), 128, 500_000.0),
    "0d": (np.array(1707), 64, 10_000.0),
    "negative": (np.array([-5, 5, -1000, 1000]), 8, 100.0),
    "dim2": (np.arange(10), 2, None),
    "far": (np.array([99_991, 250_000, 1_234_567]), 32, 10_000.0),
}


def check_margin(mod, name):
    dist, dim, base = MARGIN[name]
    kw = {} if base is None else {"base": base}
    d = torch.as_tensor(dist, dtype=torch.int64)
    before = d.clone()
    what = f"similar_token_margin({name}: distances {dist.shape}, {dim}, {kw})"
    got, err = call(mod.similar_token_margin, d, dim, **kw)
    if err:
        return f"{what}: {err}"
    if not torch.equal(d, before):
        return f"{what}: distances modified in place"
    # a float64 angle m * theta_i is only as good as theta_i's last bit times m: allow that much
    tol = max(1e-12, 1e-15 * float(np.abs(dist).max(initial=0)) * dim / 2)
    return compare(got, ref_margin(dist, dim, base or 10_000.0), torch.float64, what, tol)


def check_margin_errors(mod):
    for dim in (7, 3):
        msg = expect_value_error(mod.similar_token_margin, torch.arange(4), dim, what=f"similar_token_margin(arange(4), {dim})")
        if msg:
            return msg
    return None


# dim, base, max_distance
CTX = {
    "first_negative": (128, 10_000.0, 5000),
    "none": (128, 10_000.0, 1000),
    "at_max_distance": (128, 10_000.0, 1707),
    "dim2": (2, 10_000.0, 10),
    "dim4": (4, 100.0, 60),
    "dim16": (16, 10_000.0, 300),
    "base_500k": (128, 500_000.0, 20_000),
    "zero": (64, 10_000.0, 0),
}


def check_ctx(mod, name):
    dim, base, md = CTX[name]
    what = f"supported_context({dim}, {base}, {md})"
    got, err = call(mod.supported_context, dim, base, md)
    if err:
        return f"{what}: {err}"
    want = ref_ctx(dim, base, md)
    msg = exact_type(got, int, what)
    if msg:
        return msg
    return None if got == want else f"{what}: {got} instead of {want}"


GRID = [float(b) for b in np.linspace(3000.0, 8000.0, 51)]
# name: context_length, dim, bases (as handed over)
BOUND = {
    "grid": (1024, 128, GRID),
    "grid_descending": (1024, 128, tuple(reversed(GRID))),
    "tensor_shuffled": (1024, 128, torch.tensor([GRID[i] for i in np.random.default_rng(0).permutation(len(GRID))], dtype=torch.float64)),
    "edge_at_L_minus_1": (1708, 128, [20_000.0, 10_000.0, 12_500.0]),
    "not_float32": (1024, 128, [9876.5432, 4321.123, 30_000.7]),
    "ints": (1708, 128, [20_000, 10_000, 50_000]),
    "small_dim": (50, 16, [7.0, 100.0, 33.0, 1000.0]),
}


def check_bound(mod, name):
    L, dim, bases = BOUND[name]
    before = bases.clone() if isinstance(bases, torch.Tensor) else list(bases)
    what = f"base_lower_bound({L}, {dim}, {name})"
    got, err = call(mod.base_lower_bound, L, dim, bases)
    if err:
        return f"{what}: {err}"
    if (isinstance(bases, torch.Tensor) and not torch.equal(bases, before)) or (
            not isinstance(bases, torch.Tensor) and list(bases) != before):
        return f"{what}: the candidates were modified"
    want = ref_bound(L, dim, [float(b) for b in before])
    msg = exact_type(got, float, what)
    if msg:
        return msg
    return None if got == want else f"{what}: {got!r} instead of {want!r}"


def check_bound_errors(mod):
    for L, dim, bases in ((5000, 128, [1000.0, 5000.0, 10_000.0]), (1708, 128, torch.tensor([10_000.0], dtype=torch.float64))):
        assert ref_bound(L, dim, [float(b) for b in bases]) is None
        msg = expect_value_error(mod.base_lower_bound, L, dim, bases, what=f"base_lower_bound({L}, {dim}, {bases})")
        if msg:
            return msg
    return None


CHECKS = {f"angle_error:{n}": (lambda mod, n=n: check_ae(mod, n)) for n in AE}
CHECKS |= {"angle_error:errors": check_ae_errors, "max_exact_integer": check_mei}
CHECKS |= {f"margin:{n}": (lambda mod, n=n: check_margin(mod, n)) for n in MARGIN}
CHECKS |= {"margin:errors": check_margin_errors}
CHECKS |= {f"ctx:{n}": (lambda mod, n=n: check_ctx(mod, n)) for n in CTX}
CHECKS |= {f"bound:{n}": (lambda mod, n=n: check_bound(mod, n)) for n in BOUND}
CHECKS |= {"bound:errors": check_bound_errors}

# the input on which each wrong case must be shown wrong
TARGET = {
    "wrong_ae_theta_in_dtype": "angle_error:bfloat16",
    "wrong_ae_product_in_float64": "angle_error:float32_default",
    "wrong_ae_round_final_only": "angle_error:float32_default",
    "wrong_ae_ignores_dtype": "angle_error:bfloat16",
    "wrong_ae_no_value_error": "angle_error:errors",
    "wrong_ae_flattens_positions": "angle_error:float32_2d_base",
    "wrong_mei_no_implicit_bit": "max_exact_integer",
    "wrong_mei_minus_one": "max_exact_integer",
    "wrong_mei_returns_float": "max_exact_integer",
    "wrong_mei_lookup_table": "max_exact_integer",
    "wrong_margin_i_over_d": "margin:range",
    "wrong_margin_float32_angles": "margin:far",
    "wrong_margin_outer": "margin:2d_base",
    "wrong_ctx_argmax_none": "ctx:none",
    "wrong_ctx_exclusive_end": "ctx:at_max_distance",
    "wrong_ctx_default_base": "ctx:base_500k",
    "wrong_ctx_bisection": "ctx:dim2",
    "wrong_ctx_returns_tensor": "ctx:first_negative",
    "wrong_bound_assumes_sorted": "bound:grid_descending",
    "wrong_bound_bisection": "bound:grid",
    "wrong_bound_off_by_one": "bound:edge_at_L_minus_1",
    "wrong_bound_float32_bases": "bound:not_float32",
    "wrong_bound_inf_when_none": "bound:errors",
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
    """R is torch's rounding on every value the tests round; the docstrings' and notebook's numbers hold."""
    for pos, _, dim, base, dtype in AE.values():
        dtype = dtype or torch.float32
        th = thetas(dim, base or 10_000.0)
        ms = [float(int(v)) for v in np.asarray(pos).reshape(-1)]
        tm = torch.tensor(ms, dtype=torch.float64).to(dtype)
        assert [R(m, dtype) for m in ms] == tm.to(torch.float64).tolist(), dtype
        tt = torch.tensor(th, dtype=torch.float64).to(dtype)
        assert [R(t, dtype) for t in th] == tt.to(torch.float64).tolist(), dtype
        prod = (tm[:, None] * tt[None, :]).to(torch.float64).tolist()
        assert [[R(R(m, dtype) * R(t, dtype), dtype) for t in th] for m in ms] == prod, dtype
        # integer positions convert as their float64 values do (no double rounding at these sizes)
        assert torch.equal(torch.as_tensor(pos).to(dtype), torch.as_tensor(pos).to(torch.float64).to(dtype))
    # the docstrings' examples: float32 spacing near 1e6 is 2**-4; 257 rounds to 256 in bfloat16
    assert R(1_000_001.0 + 2**-5 + 2**-7, torch.float32) == 1_000_001.0 + 2**-4
    assert R(257.0, torch.bfloat16) == 256.0 and ref_mei(torch.float32) == 2**24 and ref_mei(torch.bfloat16) == 256
    for dt in SIG:  # 2 ** p exists, 2 ** p + 1 does not, every integer below does
        n = ref_mei(dt)
        assert R(float(n), dt) == n and R(float(n + 1), dt) != n + 1 and R(float(n - 1), dt) == n - 1
    assert 2 / torch.finfo(torch.float8_e5m2).eps == ref_mei(torch.float8_e5m2)
    # the notebook's numbers: base 1e4, d = 128 turns negative at 1707; base 5e5 at 18438
    assert ref_ctx(128, 10_000.0, 5000) == 1707 and ref_ctx(128, 500_000.0, 20_000) == 18_438
    assert ref_ctx(128, 4300.0, 1023) == 1024 and ref_ctx(128, 4500.0, 1023) < 1024
    # the off-by-one case really sits at the edge; the grid has good bases below bad ones
    assert ref_ctx(128, 10_000.0, 1707) == 1707
    ok = [ref_ctx(128, b, 1023) >= 1024 for b in GRID]
    assert any(a and not b for a, b in zip(ok, ok[1:])), "the grid's good bases form an interval"


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
