"""Verify the mla_rope corpus: every wrong case differs from an independent definition (or raises, or
returns the wrong type, or modifies its inputs) on the input its `# mistake:` line is about; every valid
case meets every check below.

Run from the repository root: python tests/corpus/mla_rope/_verify.py

The definition is written here from the exercise's docstrings only, in numpy float64 with plain loops
over batch, head, query and key: RoPE from its definition (half-split pairs (i, i + d/2), theta_i =
base ** (-2i / d)); head i owns rows i * d_h .. (i + 1) * d_h - 1 (i * d_r .. for w_qr); A[i] =
W_UQ,i^T W_UK,i; the gap as max over heads of |RoPE(q_C,i, m) . RoPE(k_C,i, n) - c_q A[i] c_kv|;
score of head i (q_C,i . k_C,i + q_R,i . k_R) / sqrt(d_h + d_r), keys 0 .. P + t for new token t,
default positions P .. P + T - 1, the cache past + new with k_R rotated; the cache sizes (2 H d_h,
d_c + d_r). The reference `apply_rope` of solutions/rope.py is used once, as a black box, to confirm
the RoPE convention.
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
EXERCISE = "mla_rope"


# ------------------------------------------------------------------ independent definitions (docstrings)
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


def ref_absorb(w_uq, w_uk, H):
    d_h = w_uq.shape[0] // H
    return np.stack([w_uq[i * d_h:(i + 1) * d_h].T @ w_uk[i * d_h:(i + 1) * d_h] for i in range(H)])


def ref_gap(c_q, c_kv, w_uq, w_uk, H, m, n, base):
    d_h = w_uq.shape[0] // H
    A = ref_absorb(w_uq, w_uk, H)
    gaps = []
    for i in range(H):
        q = w_uq[i * d_h:(i + 1) * d_h] @ c_q
        k = w_uk[i * d_h:(i + 1) * d_h] @ c_kv
        exact = rope_vec(q, m, base) @ rope_vec(k, n, base)
        gaps.append(abs(exact - c_q @ A[i] @ c_kv))
    return max(gaps)


def position(pos, P, b, t):
    if pos is None:
        return P + t
    p = np.asarray(pos)
    return int(p[t]) if p.ndim == 1 else int(p[b, t])


def ref_project(hidden, w, H, pos, base, P=0):
    """(c_q [B,T,d_q], q_c [B,H,T,d_h], q_r [B,H,T,d_r], c_kv [B,T,d_c], k_rope [B,T,d_r])."""
    B, T, _ = hidden.shape
    d_h = w["w_uq"].shape[0] // H
    d_r = w["w_qr"].shape[0] // H
    c_q = np.zeros((B, T, w["w_dq"].shape[0]))
    c_kv = np.zeros((B, T, w["w_dkv"].shape[0]))
    k_rope = np.zeros((B, T, d_r))
    q_c = np.zeros((B, H, T, d_h))
    q_r = np.zeros((B, H, T, d_r))
    for b in range(B):
        for t in range(T):
            m = position(pos, P, b, t)
            x = hidden[b, t]
            c_q[b, t] = w["w_dq"] @ x
            c_kv[b, t] = w["w_dkv"] @ x
            k_rope[b, t] = rope_vec(w["w_kr"] @ x, m, base)
            for i in range(H):
                q_c[b, i, t] = w["w_uq"][i * d_h:(i + 1) * d_h] @ c_q[b, t]
                q_r[b, i, t] = rope_vec(w["w_qr"][i * d_r:(i + 1) * d_r] @ c_q[b, t], m, base)
    return c_q, q_c, q_r, c_kv, k_rope


def ref_attention(hidden, w, H, pos, past, base):
    """(out [B,T,D], c_kv cache [B,P+T,d_c], k_rope cache [B,P+T,d_r])."""
    B, T, D = hidden.shape
    P = 0 if past is None else past[0].shape[1]
    d_h = w["w_uq"].shape[0] // H
    d_r = w["w_qr"].shape[0] // H
    _, q_c, q_r, c_new, kr_new = ref_project(hidden, w, H, pos, base, P)
    c_kv = c_new if past is None else np.concatenate([past[0], c_new], 1)
    k_rope = kr_new if past is None else np.concatenate([past[1], kr_new], 1)
    heads = np.zeros((B, T, H * d_h))
    for b in range(B):
        for i in range(H):
            Wk = w["w_uk"][i * d_h:(i + 1) * d_h]
            Wv = w["w_uv"][i * d_h:(i + 1) * d_h]
            for t in range(T):
                keys = range(P + t + 1)
                s = np.array([(q_c[b, i, t] @ (Wk @ c_kv[b, j]) + q_r[b, i, t] @ k_rope[b, j]) / math.sqrt(d_h + d_r)
                              for j in keys])
                p = np.exp(s - s.max())
                p /= p.sum()
                heads[b, t, i * d_h:(i + 1) * d_h] = sum(pj * (Wv @ c_kv[b, j]) for pj, j in zip(p, keys))
    return heads @ w["w_o"].T, c_kv, k_rope


# ------------------------------------------------------------------ fixtures
def rnd(*shape, seed=0, scale=1.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale


def T_(a, dtype=torch.float64):
    """A fresh tensor (a copy: a case that writes into its inputs cannot touch the definition's arrays)."""
    return torch.from_numpy(np.array(a, dtype=np.float64, copy=True)).to(dtype)


def n64(t):
    return t.detach().to(torch.float64).numpy()


def make_weights(D, H, d_h, d_q, d_c, d_r, seed):
    shapes = {"w_dq": (d_q, D), "w_uq": (H * d_h, d_q), "w_qr": (H * d_r, d_q), "w_dkv": (d_c, D),
              "w_uk": (H * d_h, d_c), "w_uv": (H * d_h, d_c), "w_kr": (d_r, D), "w_o": (D, H * d_h)}
    return {k: rnd(*s, seed=seed + n, scale=1.0 / math.sqrt(s[1])) for n, (k, s) in enumerate(shapes.items())}


DIMS = dict(B=2, D=16, H=3, d_h=4, d_q=6, d_c=8, d_r=4)
ROWS4 = np.array([[3, 4, 5, 6], [20, 9, 17, 2]])
# name: dict(T, P, pos, base, dtype, other dims)
ATT = {
    "prefill": dict(T=5),
    "decode1": dict(T=1, P=6),
    "decode3": dict(T=3, P=4),
    "rows_base": dict(T=4, pos=ROWS4, base=500.0, d_r=6),
    "rows_cache": dict(T=2, P=3, pos=np.array([[3, 4], [10, 11]])),
    "pos_1d_cache": dict(T=3, P=2, pos=np.array([7, 8, 9])),
    "square": dict(T=3, P=2, d_q=6, d_c=6, H=2, d_h=6),
    "float32": dict(T=2, P=3, dtype=torch.float32),
    "float32_rows": dict(T=3, P=2, pos=np.array([[2, 3, 4], [30, 31, 32]]), base=1000.0, dtype=torch.float32),
}
PROJ = {
    "prefill_1d": dict(T=5, pos=np.arange(5)),
    "rows_base": dict(T=4, pos=ROWS4, base=500.0, d_r=6),
    "float32_rows": dict(T=3, pos=np.array([[2, 3, 4], [30, 31, 32]]), base=1000.0, dtype=torch.float32),
}
TOL = {torch.float64: 1e-9, torch.float32: 1e-4}
WORST = {torch.float64: 0.0, torch.float32: 0.0}  # largest error seen by compare and check_gap, per dtype


def config(spec):
    return dict(P=0, pos=None, base=10000.0, dtype=torch.float64) | DIMS | spec


def round_to(a, dt):
    """The float64 values a tensor of dtype dt holds (the reference sees what the submission sees)."""
    return a if dt == torch.float64 else n64(T_(a, dt))


def layer_inputs(c, seed=11):
    dt = c["dtype"]
    w = {k: round_to(v, dt) for k, v in make_weights(c["D"], c["H"], c["d_h"], c["d_q"], c["d_c"], c["d_r"], seed).items()}
    hidden = round_to(rnd(c["B"], c["T"], c["D"], seed=seed + 20), dt)
    past = None
    if c["P"]:
        past = (round_to(rnd(c["B"], c["P"], c["d_c"], seed=seed + 21), dt),
                round_to(rnd(c["B"], c["P"], c["d_r"], seed=seed + 22), dt))
    return w, hidden, past


_CACHE: dict = {}


def snapshot(obj):
    if isinstance(obj, torch.Tensor):
        return obj.clone()
    if isinstance(obj, dict):
        return {k: snapshot(v) for k, v in obj.items()}
    if isinstance(obj, (tuple, list)):
        return type(obj)(snapshot(v) for v in obj)
    return obj


def same(a, b):
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.shape == b.shape and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, dict):
        return all(same(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)):
        return all(same(x, y) for x, y in zip(a, b))
    return a == b


def compare(names, got, want, dt):
    """None, or a message about the first output (by name) with a wrong type, shape, dtype or value."""
    tol = TOL[dt]
    for name, g, r in zip(names, got, want):
        if not isinstance(g, torch.Tensor):
            return f"{name} is a {type(g).__name__}, not a tensor"
        if tuple(g.shape) != r.shape:
            return f"{name} shape {tuple(g.shape)} instead of {r.shape}"
        if g.dtype != dt:
            return f"{name} dtype {g.dtype} instead of {dt}"
    errs = {name: float(np.abs(n64(g) - r).max()) for name, g, r in zip(names, got, want)}
    WORST[dt] = max(WORST[dt], *errs.values())
    if max(errs.values()) > tol:
        return "differs from the definition: " + ", ".join(f"{k} {v:.3g}" for k, v in errs.items())
    return None


def check_attention(mod, fn, name):
    key = ("att", name)
    if key not in _CACHE:
        c = config(ATT[name])
        w, hidden, past = layer_inputs(c)
        _CACHE[key] = c, w, hidden, past, ref_attention(hidden, w, c["H"], c["pos"], past, c["base"])
    c, w, hidden, past, ref = _CACHE[key]
    dt = c["dtype"]
    args = [T_(hidden, dt), {k: T_(v, dt) for k, v in w.items()}, c["H"]]
    kw = {}
    if c["pos"] is not None:
        kw["positions"] = torch.as_tensor(c["pos"], dtype=torch.int64)
    if past is not None:
        kw["past"] = tuple(T_(p, dt) for p in past)
    if c["base"] != 10000.0:
        kw["base"] = c["base"]
    before = snapshot((args, kw))
    try:
        out, cache = getattr(mod, fn)(*args, **kw)
        c_kv, k_rope = cache
    except Exception as exc:  # noqa: BLE001
        return f"raised {type(exc).__name__}: {str(exc)[:80]}"
    if not same(before, (args, kw)):
        changed = [k for k, a, b in zip(("hidden", "weights"), before[0], args) if not same(a, b)]
        changed += [k for k in kw if not same(before[1][k], kw[k])]
        return f"inputs modified in place: {changed}"
    return compare(("out", "c_kv", "k_rope"), (out, c_kv, k_rope), ref, dt)


def check_project(mod, name):
    key = ("proj", name)
    if key not in _CACHE:
        c = config(PROJ[name])
        w, hidden, _ = layer_inputs(c, seed=31)
        _CACHE[key] = c, w, hidden, ref_project(hidden, w, c["H"], c["pos"], c["base"])
    c, w, hidden, ref = _CACHE[key]
    dt = c["dtype"]
    args = [T_(hidden, dt), {k: T_(v, dt) for k, v in w.items()}, c["H"], torch.as_tensor(c["pos"], dtype=torch.int64)]
    kw = {} if c["base"] == 10000.0 else {"base": c["base"]}
    before = snapshot(args)
    try:
        got = mod.mla_project(*args, **kw)
    except Exception as exc:  # noqa: BLE001
        return f"raised {type(exc).__name__}: {str(exc)[:80]}"
    if not same(before, args):
        return "inputs modified in place"
    if len(got) != 5:
        return f"{len(got)} results instead of 5"
    return compare(("c_q", "q_c", "q_r", "c_kv", "k_rope"), got, ref, dt)


ABSORB = [dict(H=3, d_h=4, d_q=6, d_c=8), dict(H=2, d_h=5, d_q=3, d_c=7), dict(H=4, d_h=2, d_q=5, d_c=5, dtype=torch.float32)]


def check_absorb(mod):
    for k, c in enumerate(ABSORB):
        dt = c.get("dtype", torch.float64)
        w = make_weights(8, c["H"], c["d_h"], c["d_q"], c["d_c"], 2, seed=40 + k)
        w_uq, w_uk = round_to(w["w_uq"], dt), round_to(w["w_uk"], dt)
        args = (T_(w_uq, dt), T_(w_uk, dt), c["H"])
        before = snapshot(args)
        try:
            A = mod.absorb_key_up_projection(*args)
        except Exception as exc:  # noqa: BLE001
            return f"{c}: raised {type(exc).__name__}: {str(exc)[:80]}"
        if not same(before, args):
            return f"{c}: inputs modified in place"
        msg = compare(("A",), (A,), (ref_absorb(w_uq, w_uk, c["H"]),), dt)
        if msg:
            return f"H {c['H']}, d_h {c['d_h']}, d_q {c['d_q']}, d_c {c['d_c']}: {msg}"
    return None


# dims, (m, n) pairs, base, dtype
GAP = [
    (dict(H=3, d_h=4, d_q=6, d_c=8), [(0, 0), (5, 5), (2, 7), (9, 3), (100, 1), (0, 1)], 10000.0, torch.float64),
    (dict(H=4, d_h=6, d_q=5, d_c=7), [(3, 3), (1, 4), (40, 12)], 500.0, torch.float64),
    (dict(H=2, d_h=8, d_q=6, d_c=6), [(7, 7), (0, 9), (12, 2)], 10000.0, torch.float32),
]


def check_gap(mod):
    for k, (c, pairs, base, dt) in enumerate(GAP):
        w = make_weights(8, c["H"], c["d_h"], c["d_q"], c["d_c"], 2, seed=50 + k)
        w_uq, w_uk = round_to(w["w_uq"], dt), round_to(w["w_uk"], dt)
        c_q, c_kv = round_to(rnd(c["d_q"], seed=60 + k), dt), round_to(rnd(c["d_c"], seed=70 + k), dt)
        for m, n in pairs:
            args = (T_(c_q, dt), T_(c_kv, dt), T_(w_uq, dt), T_(w_uk, dt), c["H"], m, n)
            kw = {} if base == 10000.0 else {"base": base}
            before = snapshot(args)
            try:
                g = mod.rope_absorption_gap(*args, **kw)
            except Exception as exc:  # noqa: BLE001
                return f"m {m}, n {n}: raised {type(exc).__name__}: {str(exc)[:80]}"
            if not same(before, args):
                return f"m {m}, n {n}: inputs modified in place"
            if type(g) is not float:
                return f"m {m}, n {n}: returned a {type(g).__name__}, not a Python float"
            r = ref_gap(c_q, c_kv, w_uq, w_uk, c["H"], m, n, base)
            WORST[dt] = max(WORST[dt], abs(g - r) / max(1.0, abs(r)))
            if abs(g - r) > TOL[dt] * max(1.0, abs(r)):
                return f"H {c['H']}, base {base}, {dt}, m {m}, n {n}: {g:.6g} instead of {r:.6g}"
    return None


KV = [(128, 128, 512, 64), (4, 8, 16, 2), (3, 5, 7, 6), (1, 2, 3, 4)]


def check_kv(mod):
    for H, d_h, d_c, d_r in KV:
        try:
            got = mod.kv_cache_per_token(H, d_h, d_c, d_r)
        except Exception as exc:  # noqa: BLE001
            return f"raised {type(exc).__name__}"
        want = (2 * H * d_h, d_c + d_r)
        if not isinstance(got, tuple) or len(got) != 2 or any(type(x) is not int for x in got) or got != want:
            return f"H {H}, d_h {d_h}, d_c {d_c}, d_r {d_r}: {got!r} instead of {want}"
    return None


CHECKS = {"absorb": check_absorb, "gap": check_gap, "kv_cache": check_kv}
CHECKS |= {f"project:{n}": (lambda mod, n=n: check_project(mod, n)) for n in PROJ}
for fn, short in (("mla_attention", "attention"), ("mla_attention_absorbed", "absorbed")):
    CHECKS |= {f"{short}:{n}": (lambda mod, n=n, fn=fn: check_attention(mod, fn, n)) for n in ATT}

# the input on which each wrong case must be shown wrong
TARGET = {
    "wrong_absorb_transposed_order": "absorb",
    "wrong_absorb_strided_heads": "absorb",
    "wrong_heads_strided_rows": "project:prefill_1d",
    "wrong_gap_signed": "gap",
    "wrong_gap_mean_over_heads": "gap",
    "wrong_gap_returns_tensor": "gap",
    "wrong_rope_on_q_c": "project:prefill_1d",
    "wrong_c_kv_rotated": "project:prefill_1d",
    "wrong_q_r_not_rotated": "project:prefill_1d",
    "wrong_k_rope_per_head": "project:prefill_1d",
    "wrong_positions_first_row_only": "project:rows_base",
    "wrong_base_ignored": "project:rows_base",
    "wrong_scale_sqrt_d_h": "attention:prefill",
    "wrong_rotary_score_missing": "attention:prefill",
    "wrong_mask_left_aligned": "attention:decode3",
    "wrong_default_positions_restart": "attention:decode1",
    "wrong_cache_only_new": "attention:decode1",
    "wrong_cache_k_rope_pre_rope": "attention:prefill",
    "wrong_absorbed_w_uv_view_not_transpose": "absorbed:prefill",
    "wrong_absorbed_no_rotary": "absorbed:prefill",
    "wrong_absorbed_a_transposed": "absorbed:square",
    "wrong_kv_cache_no_factor_2": "kv_cache",
    "wrong_kv_cache_h_times_d_r": "kv_cache",
    "wrong_weights_scaled_in_place": "attention:prefill",
    "wrong_float32_returns_float64": "attention:float32",
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
    """The definition itself: its RoPE is apply_rope's; absorption is exact without RoPE; the gap is 0 at m == n."""
    apply_rope = load_reference("rope").apply_rope
    x = rnd(2, 3, 5, 8, seed=9)
    pos = np.array([[[5, 9, 12, 30, 31]], [[1000, 2, 64, 7, 8]]])
    want = np.array([[[rope_vec(x[b, h, t], pos[b, 0, t], 500.0) for t in range(5)] for h in range(3)] for b in range(2)])
    assert np.abs(n64(apply_rope(T_(x), torch.as_tensor(pos), base=500.0)) - want).max() < 1e-12
    w = make_weights(8, 3, 4, 6, 8, 2, seed=1)
    c_q, c_kv = rnd(6, seed=2), rnd(8, seed=3)
    A = ref_absorb(w["w_uq"], w["w_uk"], 3)
    for i in range(3):
        exact = (w["w_uq"][4 * i:4 * i + 4] @ c_q) @ (w["w_uk"][4 * i:4 * i + 4] @ c_kv)
        assert abs(exact - c_q @ A[i] @ c_kv) < 1e-12
    assert ref_gap(c_q, c_kv, w["w_uq"], w["w_uk"], 3, 7, 7, 10000.0) < 1e-12
    assert ref_gap(c_q, c_kv, w["w_uq"], w["w_uk"], 3, 2, 7, 10000.0) > 1e-3
    # a decode step equals the last rows of a prefill of the whole sequence
    c = config(dict(T=6))
    w, hidden, _ = layer_inputs(c)
    full, ckv, kr = ref_attention(hidden, w, 3, None, None, 10000.0)
    step, _, _ = ref_attention(hidden[:, 4:], w, 3, None, (ckv[:, :4], kr[:, :4]), 10000.0)
    assert np.abs(step - full[:, 4:]).max() < 1e-12


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
                print(f"OK {path.name} agrees on all {len(CHECKS)} checks (largest error {WORST[torch.float64]:.2g} "
                      f"float64, {WORST[torch.float32]:.2g} float32)")
            continue
        target = TARGET.get(name)
        if target is None:
            print(f"FAIL {path.name} has no target input")
            failed += 1
            continue
        try:
            msg = CHECKS[target](mod)
        except Exception as exc:  # noqa: BLE001
            msg = None
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
