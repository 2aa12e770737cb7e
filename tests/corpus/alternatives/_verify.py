"""Verify the alternatives corpus: every wrong case differs from an independent definition (or raises,
or fails to raise, or returns the wrong type / dtype / shape, or modifies its inputs) on the input its
`# mistake:` line is about; every valid case meets every check below.

Run from the repository root: python tests/corpus/alternatives/_verify.py

The definition is written here from the exercise's docstrings only, in numpy / Python float64 with
plain loops: ALiBi slopes m_h = 2 ** (-8 (h + 1) / H) for H a power of two, otherwise the slopes of
p = the largest power of two <= H followed by slopes 0, 2, 4, ... of 2p (n_heads - p of them); the
bias -m_h |i' - j| with i' = k_len - q_len + i; xPos zeta_i = (2i / d + gamma) / (1 + gamma) raised
to m / scale_base (keys: -n / scale_base), applied to both features i and i + d/2 of RoPE's output,
RoPE written out from its definition (half-split pairs (i, i + d/2), theta_i = base ** (-2i / d));
NoPE as a per-token softmax of equal scores over the keys 0 .. t, times v = (1, 0, ..., 0). The
reference `apply_rope` of solutions/rope.py is used once, as a black box, to confirm the RoPE
convention.
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
from _load import cases, load_case, load_reference  # noqa: E402

torch.set_num_threads(1)
EXERCISE = "alternatives"


# ------------------------------------------------------------------ independent definitions (docstrings)
def ref_slopes(H):
    def pow2(n):
        return [2.0 ** (-8.0 * (h + 1) / n) for h in range(n)]

    p = 1
    while 2 * p <= H:
        p *= 2
    if p == H:
        return np.array(pow2(H))
    return np.array(pow2(p) + pow2(2 * p)[0::2][: H - p])


def ref_bias(H, q_len, k_len):
    m = ref_slopes(H)
    out = np.zeros((H, q_len, k_len))
    for h in range(H):
        for i in range(q_len):
            ip = k_len - q_len + i
            for j in range(k_len):
                out[h, i, j] = -m[h] * abs(ip - j)
    return out


def zeta(i, d, gamma):
    return (2.0 * i / d + gamma) / (1.0 + gamma)


def ref_xpos_scale(d, pos, gamma, scale_base):
    pos = np.asarray(pos)
    out = np.zeros(pos.shape + (d // 2,))
    for idx in np.ndindex(pos.shape):
        for i in range(d // 2):
            out[idx + (i,)] = zeta(i, d, gamma) ** (float(pos[idx]) / scale_base)
    return out


def rope_vec(x, m, base):
    """One vector x [d] of a token at position m: pair (i, i + d/2) turned by m * base ** (-2i / d)."""
    d = len(x)
    h = d // 2
    out = np.empty(d)
    for i in range(h):
        a = m * base ** (-2.0 * i / d)
        out[i] = x[i] * math.cos(a) - x[i + h] * math.sin(a)
        out[i + h] = x[i + h] * math.cos(a) + x[i] * math.sin(a)
    return out


def ref_xpos(x, pos, key, base, gamma, scale_base):
    d = x.shape[-1]
    h = d // 2
    pos = np.broadcast_to(np.asarray(pos), x.shape[:-1])
    out = np.zeros(x.shape)
    for idx in np.ndindex(x.shape[:-1]):
        m = int(pos[idx])
        r = rope_vec(x[idx], m, base)
        e = (-m if key else m) / scale_base
        for i in range(h):
            f = zeta(i, d, gamma) ** e
            out[idx + (i,)] = r[i] * f
            out[idx + (i + h,)] = r[i + h] * f
    return out


def ref_nope(T):
    out = np.zeros(T)
    for t in range(T):
        scores = [0.0 if j <= t else -math.inf for j in range(T)]
        w = [math.exp(s) for s in scores]
        total = sum(w)
        out[t] = sum(wj / total * (1.0 if j == 0 else 0.0) for j, wj in enumerate(w))
    return out


# ------------------------------------------------------------------ helpers
def rnd(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def T_(a, dtype=torch.float64):
    """A fresh tensor (a copy: a case that writes into its inputs cannot touch the definition's arrays)."""
    return torch.from_numpy(np.array(a, dtype=np.float64, copy=True)).to(dtype)


def n64(t):
    return t.detach().to(torch.float64).numpy()


TOL = {torch.float64: 1e-12, torch.float32: 2e-6}
WORST = {torch.float64: 0.0, torch.float32: 0.0}


def compare(got, want, dt, what):
    """None, or a message about a wrong type, shape, dtype or value (relative to max(1, |want|))."""
    if not isinstance(got, torch.Tensor):
        return f"{what}: returned a {type(got).__name__}, not a tensor"
    if tuple(got.shape) != want.shape:
        return f"{what}: shape {tuple(got.shape)} instead of {want.shape}"
    if got.dtype != dt:
        return f"{what}: dtype {got.dtype} instead of {dt}"
    g = n64(got)
    if not np.all(np.isfinite(g)):
        return f"{what}: non-finite values"
    err = float((np.abs(g - want) / np.maximum(1.0, np.abs(want))).max()) if want.size else 0.0
    WORST[dt] = max(WORST[dt], err)
    if err > TOL[dt]:
        k = np.unravel_index(np.argmax(np.abs(g - want)), want.shape)
        return f"{what}: differs from the definition by {err:.3g} (at {tuple(int(i) for i in k)}: {g[k]:.6g} instead of {want[k]:.6g})"
    return None


def expect_value_error(fn, *args, what):
    try:
        got = fn(*args)
    except ValueError:
        return None
    except Exception as exc:  # noqa: BLE001
        return f"{what}: raised {type(exc).__name__} instead of ValueError"
    shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
    return f"{what}: no ValueError (returned {shape})"


def call(fn, *args, **kw):
    try:
        return fn(*args, **kw), None
    except Exception as exc:  # noqa: BLE001
        return None, f"raised {type(exc).__name__}: {str(exc)[:80]}"


# ------------------------------------------------------------------ checks
SLOPE_HEADS = [1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20]


def check_slopes(mod):
    for H in SLOPE_HEADS:
        got, err = call(mod.alibi_slopes, H)
        msg = err or compare(got, ref_slopes(H), torch.float64, f"alibi_slopes({H})")
        if msg:
            return msg if not err else f"alibi_slopes({H}): {err}"
    return None


def check_slopes_errors(mod):
    for H in (0, -3):
        msg = expect_value_error(mod.alibi_slopes, H, what=f"alibi_slopes({H})")
        if msg:
            return msg
    return None


BIAS = [(1, 4, 4), (2, 3, 3), (3, 2, 5), (6, 1, 7), (8, 5, 5), (12, 3, 6), (16, 4, 4), (20, 2, 3)]


def check_bias(mod):
    for H, q, k in BIAS:
        what = f"alibi_bias({H}, {q}, {k})"
        got, err = call(mod.alibi_bias, H, q, k)
        msg = f"{what}: {err}" if err else compare(got, ref_bias(H, q, k), torch.float64, what)
        if msg:
            return msg
    return None


def check_bias_errors(mod):
    for H, q, k in ((2, 5, 3), (1, 2, 1)):
        msg = expect_value_error(mod.alibi_bias, H, q, k, what=f"alibi_bias({H}, {q}, {k})")
        if msg:
            return msg
    return None


# dim, positions, gamma, scale_base (None: the defaults)
SCALE = [
    (8, np.array([0, 1, 5, 100, 511, 2048]), None, None),
    (6, np.array([[0, 3, 40], [-7, 12, 1000]]), 0.2, 64.0),
    (16, np.array([3, 900]), 0.9, 16.0),
    (2, np.array([[[5]], [[70]]]), None, 100.0),
]


def check_xpos_scale(mod):
    for d, pos, gamma, sb in SCALE:
        kw = {} if gamma is None else {"gamma": gamma}
        kw |= {} if sb is None else {"scale_base": sb}
        what = f"xpos_scale({d}, positions {pos.shape}, {kw})"
        p = torch.as_tensor(pos, dtype=torch.int64)
        before = p.clone()
        got, err = call(mod.xpos_scale, d, p, **kw)
        if err:
            return f"{what}: {err}"
        if not torch.equal(p, before):
            return f"{what}: positions modified in place"
        msg = compare(got, ref_xpos_scale(d, pos, gamma or 0.4, sb or 512.0), torch.float64, what)
        if msg:
            return msg
    return None


def check_xpos_scale_errors(mod):
    for d in (7, 1):
        msg = expect_value_error(mod.xpos_scale, d, torch.arange(4), what=f"xpos_scale({d}, ...)")
        if msg:
            return msg
    return None


# name: x shape, positions, key, base, gamma, scale_base, dtype
XPOS = {
    "queries": ((2, 3, 5, 8), np.array([0, 1, 2, 30, 400]), False, 10000.0, 0.4, 512.0, torch.float64),
    "keys": ((2, 3, 5, 8), np.array([0, 1, 2, 30, 400]), True, 10000.0, 0.4, 512.0, torch.float64),
    "rows_base": ((2, 2, 4, 6), np.array([[[3, 9, 17, 60]], [[1000, 2, 64, 7]]]), False, 500.0, 0.2, 64.0, torch.float64),
    "rows_keys": ((2, 2, 4, 6), np.array([[[3, 9, 17, 60]], [[1000, 2, 64, 7]]]), True, 500.0, 0.2, 64.0, torch.float64),
    "d16_3d": ((3, 4, 16), np.array([[5, 6, 7, 8], [100, 0, 33, 250], [1, 2, 3, 4]]), True, 10000.0, 0.7, 128.0, torch.float64),
    "float32": ((2, 3, 6, 8), np.array([0, 2, 5, 50, 300, 700]), False, 10000.0, 0.4, 512.0, torch.float32),
    "float32_keys": ((1, 2, 5, 12), np.array([[[4, 9, 16, 100, 800]]]), True, 1000.0, 0.5, 256.0, torch.float32),
}


def check_xpos(mod, name):
    shape, pos, key, base, gamma, sb, dt = XPOS[name]
    x0 = rnd(*shape, seed=len(name))
    x0 = n64(T_(x0, dt))  # the values a tensor of dtype dt holds
    x = T_(x0, dt)
    p = torch.as_tensor(pos, dtype=torch.int64)
    before = (x.clone(), p.clone())
    kw = {"key": key}
    kw |= {} if base == 10000.0 else {"base": base}
    kw |= {} if gamma == 0.4 else {"gamma": gamma}
    kw |= {} if sb == 512.0 else {"scale_base": sb}
    what = f"apply_xpos({name}: x {shape} {str(dt)[6:]}, positions {pos.shape}, {kw})"
    got, err = call(mod.apply_xpos, x, p, **kw)
    if err:
        return f"{what}: {err}"
    if not (torch.equal(x, before[0]) and torch.equal(p, before[1])):
        return f"{what}: x modified in place (largest change {float((x - before[0]).abs().max()):.3g})"
    if isinstance(got, torch.Tensor) and got.data_ptr() == x.data_ptr():
        return f"{what}: returned x itself, not a new tensor"
    return compare(got, ref_xpos(x0, pos, key, base, gamma, sb), dt, what)


def check_nope(mod):
    for T in (1, 2, 6, 50):
        got, err = call(mod.nope_position_signal, T)
        msg = f"nope_position_signal({T}): {err}" if err else compare(got, ref_nope(T), torch.float64, f"nope_position_signal({T})")
        if msg:
            return msg
    return None


def check_nope_errors(mod):
    for T in (0, -1):
        msg = expect_value_error(mod.nope_position_signal, T, what=f"nope_position_signal({T})")
        if msg:
            return msg
    return None


CHECKS = {
    "slopes": check_slopes,
    "slopes:errors": check_slopes_errors,
    "bias": check_bias,
    "bias:errors": check_bias_errors,
    "xpos_scale": check_xpos_scale,
    "xpos_scale:errors": check_xpos_scale_errors,
    "nope": check_nope,
    "nope:errors": check_nope_errors,
}
CHECKS |= {f"xpos:{n}": (lambda mod, n=n: check_xpos(mod, n)) for n in XPOS}

# the input on which each wrong case must be shown wrong
TARGET = {
    "wrong_slopes_start_at_one": "slopes",
    "wrong_slopes_reversed": "slopes",
    "wrong_slopes_ratio_half": "slopes",
    "wrong_slopes_power_formula_any_h": "slopes",
    "wrong_slopes_fill_first": "slopes",
    "wrong_slopes_fill_odd": "slopes",
    "wrong_slopes_float32": "slopes",
    "wrong_bias_positive_sign": "bias",
    "wrong_bias_left_aligned": "bias",
    "wrong_bias_signed_distance": "bias",
    "wrong_bias_head_order": "bias",
    "wrong_bias_no_value_error": "bias:errors",
    "wrong_xpos_zeta_i_over_d": "xpos_scale",
    "wrong_xpos_no_gamma_normalization": "xpos_scale",
    "wrong_xpos_no_scale_base": "xpos_scale",
    "wrong_xpos_keys_not_inverted": "xpos:keys",
    "wrong_xpos_repeat_interleave": "xpos:queries",
    "wrong_xpos_no_rotation": "xpos:queries",
    "wrong_xpos_in_place": "xpos:queries",
    "wrong_xpos_returns_float64": "xpos:float32",
    "wrong_nope_no_mask": "nope",
    "wrong_nope_value_on_last": "nope",
    "wrong_nope_mask_off_by_one": "nope",
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
    """The definition itself: its RoPE is apply_rope's; the slopes the docstrings spell out; NoPE is 1/(t+1)."""
    apply_rope = load_reference("rope").apply_rope
    x = rnd(2, 3, 5, 8, seed=9)
    pos = np.array([[[5, 9, 12, 30, 31]], [[1000, 2, 64, 7, 8]]])
    want = np.array([[[rope_vec(x[b, h, t], pos[b, 0, t], 500.0) for t in range(5)] for h in range(3)] for b in range(2)])
    assert np.abs(n64(apply_rope(T_(x), torch.as_tensor(pos), base=500.0)) - want).max() < 1e-12
    assert np.allclose(ref_slopes(8), [1 / 2 ** k for k in range(1, 9)], rtol=0, atol=1e-15)
    s16 = ref_slopes(16)
    assert np.allclose(ref_slopes(12), list(ref_slopes(8)) + [s16[0], s16[2], s16[4], s16[6]], rtol=0, atol=1e-15)
    assert np.allclose(ref_slopes(12)[8:], [2 ** -0.5, 2 ** -1.5, 2 ** -2.5, 2 ** -3.5], rtol=0, atol=1e-15)
    assert np.allclose(ref_slopes(1), [2 ** -8]) and np.allclose(ref_slopes(3), [2 ** -4, 2 ** -8, 2 ** -2])
    assert np.allclose(ref_nope(6), 1.0 / np.arange(1, 7), rtol=0, atol=1e-15)
    b = ref_bias(2, 2, 4)  # queries at key indices 2 and 3
    assert b[0, 0].tolist() == [-2 * 2 ** -4, -1 * 2 ** -4, 0.0, -1 * 2 ** -4]
    # the xPos score factor: q at m, k at n gain zeta_i ** ((m - n) / scale_base) on the pair-i score
    q, k = rnd(8, seed=1), rnd(8, seed=2)
    sq = ref_xpos(q[None], [40], False, 10000.0, 0.4, 512.0)[0]
    sk = ref_xpos(k[None], [15], True, 10000.0, 0.4, 512.0)[0]
    rq, rk = rope_vec(q, 40, 10000.0), rope_vec(k, 15, 10000.0)
    for i in range(4):
        pair = sq[i] * sk[i] + sq[i + 4] * sk[i + 4]
        assert abs(pair - (rq[i] * rk[i] + rq[i + 4] * rk[i + 4]) * zeta(i, 8, 0.4) ** (25 / 512)) < 1e-12


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
            WORST.update({k: 0.0 for k in WORST})
            fails = run_all(mod)
            if fails:
                print(f"FAIL {path.name} valid case breaks the contract: {fails}")
                failed += 1
            else:
                print(f"OK {path.name} agrees on all {len(CHECKS)} checks (largest relative error "
                      f"{WORST[torch.float64]:.2g} float64, {WORST[torch.float32]:.2g} float32)")
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
