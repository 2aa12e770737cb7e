"""Verify the rope_cache corpus: every wrong case breaks the docstring's contract in the functions its one
mistake reaches (and only there) and shows the very mistake its `# mistake:` line names; every valid case
meets the whole contract.

Run from the repository root: python tests/corpus/rope_cache/_verify.py

The contract is checked against an independent float64 definition written below in numpy from the
docstrings (pre-RoPE keys k0 made here, the cache is RoPE(k0, m) by the half-split formula, pairs
(i, i + d/2), theta_i = base ** (-2i / d)), never against the exercise's reference solution. The reference
`apply_rope` of the sibling exercise is used once, as a black box, to confirm the definition's convention.
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
EXERCISE = "rope_cache"


# ------------------------------------------------------------------ independent definitions (docstrings)
def theta(d, base):
    return base ** (-2.0 * np.arange(d // 2) / d)


def rotate_def(x, angles):
    """Rotate the half-split pairs (i, i + d/2) of x [..., d] by angles [..., d/2] (broadcast), float64."""
    x = np.asarray(x, dtype=np.float64)
    h = x.shape[-1] // 2
    x1, x2 = x[..., :h], x[..., h:]
    c, s = np.cos(angles), np.sin(angles)
    return np.concatenate(np.broadcast_arrays(x1 * c - x2 * s, x2 * c + x1 * s), axis=-1)


def rope_def(x, pos, base=10000.0):
    """R(pos) x: pair i turned by pos * theta_i."""
    return rotate_def(x, np.asarray(pos, dtype=np.float64)[..., None] * theta(np.shape(x)[-1], base))


def ntk_def(base, dim, seq_len, L, factor):
    s = max(seq_len, L)
    return base * (factor * s / L - (factor - 1)) ** (dim / (dim - 2))


def rnd(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def T(a, dtype=torch.float64):
    return torch.from_numpy(np.ascontiguousarray(a)).to(dtype)


def n64(t):
    return t.detach().to(torch.float64).numpy()


def err(got, exp):
    got = n64(got) if isinstance(got, torch.Tensor) else np.asarray(got)
    if got.shape != np.shape(exp):
        return float("inf")
    return float(np.abs(got - exp).max()) if got.size else 0.0


# tolerances: float64 and float32 are tight; bf16 loose where apply_rope in bf16 is what the docstring asks
# (shift_keys, evict_middle), one bf16 ulp where the rotation must be computed in float32 or better
TOL = {torch.float64: 1e-10, torch.float32: 2e-5, torch.bfloat16: 0.05}


def within_one_bf16_ulp(got, exp):
    """Largest |got - exp| in units of one bf16 ulp of exp (what a float32 rotation cast once can reach)."""
    ulp = 2.0 ** (np.floor(np.log2(np.maximum(np.abs(exp), 1e-30))) - 7)
    return float((np.abs(n64(got) - exp) / (ulp + 1e-6)).max())


def raises_value_error(fn, *args, **kw):
    try:
        fn(*args, **kw)
    except ValueError:
        return True
    except Exception:  # noqa: BLE001 - another exception is not the documented one
        return False
    return False


# ------------------------------------------------------------------ fixtures
M5 = np.array([3, 7, 100, 0, 42])
M_B1P = np.array([[[5, 9, 12, 30, 31]], [[1000, 2, 64, 7, 8]]])  # [B=2, 1, P=5]
D_B1P = np.array([[[1, -2, 3, 0, 9]], [[-900, 5, 6, -7, 2]]])  # per-token deltas [B=2, 1, P=5]

# (label, shape of k0, positions m of the cache, delta, base, dtype, delta given as tensor)
SHIFT_CASES = [
    ("[5,8] int +5", (5, 8), M5, 5, 10000.0, torch.float64, False),
    ("[5,8] int -3", (5, 8), M5, -3, 10000.0, torch.float64, False),
    ("[5,8] int 0", (5, 8), M5, 0, 10000.0, torch.float64, False),
    ("[5,8] per-token [P] deltas, base 5e5", (5, 8), M5, np.array([4, -3, 0, 17, -42]), 5e5, torch.float64, True),
    ("[B,H,P,d]=[2,2,5,8] m and delta [B,1,P]", (2, 2, 5, 8), M_B1P, D_B1P, 10000.0, torch.float64, True),
    ("[2,2,5,8] delta [B,H,P]", (2, 2, 5, 8), M5, np.arange(20).reshape(2, 2, 5) - 10, 10000.0, torch.float64, True),
    ("[2,3,5,8] float32, 0-d tensor delta 7", (2, 3, 5, 8), M5, 7, 10000.0, torch.float32, True),
    ("[1,2,6,16] bf16 at m ~ 60000, delta 1000", (1, 2, 6, 16), np.arange(60000, 60006), 1000, 10000.0, torch.bfloat16, False),
    ("[3,6] base 100, delta 2", (3, 6), np.array([0, 1, 2]), 2, 100.0, torch.float64, False),
]

# (label, shape, n_sink, n_recent, base, dtype); the cache's positions are its indices 0 .. P - 1
EVICT_CASES = [
    ("[2,3,10,8] sinks 2, recent 3", (2, 3, 10, 8), 2, 3, 10000.0, torch.float64),
    ("[2,3,10,8] n_sink 0, recent 4", (2, 3, 10, 8), 0, 4, 10000.0, torch.float64),
    ("[2,3,10,8] sinks 3, n_recent 0", (2, 3, 10, 8), 3, 0, 10000.0, torch.float64),
    ("[2,3,10,8] sinks 0, recent 0 (all evicted)", (2, 3, 10, 8), 0, 0, 10000.0, torch.float64),
    ("[2,3,10,8] exact fit 4 + 6 (nothing to evict)", (2, 3, 10, 8), 4, 6, 10000.0, torch.float64),
    ("[2,3,10,8] 4 + 8 > P (nothing to evict)", (2, 3, 10, 8), 4, 8, 10000.0, torch.float64),
    ("[10,8] sinks 1, recent 1, base 5e5", (10, 8), 1, 1, 5e5, torch.float64),
    ("[2,3,10,8] float32 sinks 2, recent 5", (2, 3, 10, 8), 2, 5, 10000.0, torch.float32),
    ("[1,2,10,16] bf16 sinks 2, recent 3", (1, 2, 10, 16), 2, 3, 10000.0, torch.bfloat16),
]

NTK_CASES = [
    (1e4, 128, 8192, 4096, 2.0), (1e4, 128, 4096, 4096, 2.0), (1e4, 128, 100, 4096, 2.0),
    (5e5, 64, 20000, 8192, 4.0), (1e4, 4, 10, 5, 1.0), (100.0, 6, 3, 2, 1.5), (1e4, 128, 3000, 4096, 8.0),
    (1e6, 96, 131072, 32768, 1.0), (10000, 64, 5000, 2048, 2), (1e4, 128, 4097, 4096, 2.0),
]
NTK_ERRORS = [(1e4, 7, 8192, 4096, 2.0), (1e4, 3, 8192, 4096, 2.0), (1e4, 2, 8192, 4096, 2.0), (1e4, 0, 8192, 4096, 2.0),
              (1e4, 64, 8192, 4096, 0.5), (1e4, 64, 8192, 4096, 0.999), (1e4, 64, 8192, 4096, 0.0),
              (1e4, 64, 8192, 0, 2.0), (1e4, 64, 8192, -1, 2.0)]

# (label, shape, positions, old_base, new_base, dtype)
REROT_CASES = [
    ("[5,8] m [3,7,100,0,42], 1e4 -> 3.3e4", (5, 8), M5, 1e4, 3.3e4, torch.float64),
    ("[2,2,5,8] m [B,1,P], 5e5 -> 1e4", (2, 2, 5, 8), M_B1P, 5e5, 1e4, torch.float64),
    ("[2,3,5,16] float32 m to 8000, 1e4 -> 2.7e4", (2, 3, 5, 16), np.array([0, 1, 500, 4000, 8000]), 1e4, 2.7e4, torch.float32),
    ("[5,8] old == new", (5, 8), M5, 3e4, 3e4, torch.float64),
    ("[2,2,5,8] 0-d positions 7", (2, 2, 5, 8), np.array(7), 1e4, 2e4, torch.float64),
    ("[5,8] m = cache index", (5, 8), np.arange(5), 1e4, 5e4, torch.float64),
]
REROT_BF16 = ("[1,2,6,16] bf16 m to 30000, 1e4 -> 4e4", (1, 2, 6, 16), np.array([0, 3, 100, 2000, 17000, 30000]), 1e4, 4e4)


def shift_inputs(shape, m, delta, base, dtype, as_tensor, seed=1):
    k0 = rnd(*shape, seed=seed)
    cache = T(rope_def(k0, m, base), dtype)
    if dtype == torch.float64:  # the docstring's words: the keys RoPE gives the pre-RoPE keys at m + delta
        exp = rope_def(k0, np.asarray(m) + np.asarray(delta), base)
    else:  # the cache as stored, moved: R(delta) of its float64 value
        exp = rope_def(n64(cache), delta, base)
    arg = torch.as_tensor(delta) if as_tensor else delta
    return k0, cache, arg, exp


def evict_inputs(shape, n_sink, n_recent, base, dtype, seed=2):
    P = shape[-2]
    k0, v0 = rnd(*shape, seed=seed), rnd(*shape, seed=seed + 1)
    cache, v = T(rope_def(k0, np.arange(P), base), dtype), T(v0, dtype)
    if P <= n_sink + n_recent:
        return k0, cache, v, None, None, []
    keep = list(range(n_sink)) + list(range(P - n_recent, P))
    if dtype == torch.float64:
        exp_k = rope_def(k0[..., keep, :], np.arange(len(keep)), base)
    else:
        exp_k = np.concatenate((n64(cache[..., :n_sink, :]),
                                rope_def(n64(cache[..., P - n_recent:, :]), -(P - n_sink - n_recent), base)), axis=-2)
    return k0, cache, v, exp_k, n64(v)[..., keep, :], keep


def rerot_inputs(shape, m, old, new, dtype, seed=3):
    k0 = rnd(*shape, seed=seed)
    cache = T(rope_def(k0, m, old), dtype)
    if dtype == torch.float64:
        exp = rope_def(k0, m, new)  # R_new(m) k: the keys as if rotated under new_base
    else:
        exp = rope_def(rope_def(n64(cache), -np.asarray(m), old), m, new)
    return k0, cache, torch.as_tensor(m), exp


def call(fn, *args, **kw):
    try:
        return fn(*args, **kw), None
    except Exception as exc:  # noqa: BLE001
        return None, f"raised {type(exc).__name__}: {str(exc)[:80]}"


# ------------------------------------------------------------------ the contract
def contract_failures(mod) -> dict[str, list[str]]:
    fails: dict[str, list[str]] = {}

    def bad(fn, msg):
        fails.setdefault(fn, []).append(msg)

    # shift_keys
    f = "shift_keys"
    for label, shape, m, delta, base, dtype, as_tensor in SHIFT_CASES:
        _, cache, arg, exp = shift_inputs(shape, m, delta, base, dtype, as_tensor)
        before = cache.clone()
        out, e = call(mod.shift_keys, cache, arg) if base == 10000.0 else call(mod.shift_keys, cache, arg, base=base)
        if e:
            bad(f, f"{label}: {e}")
            continue
        if not isinstance(out, torch.Tensor) or tuple(out.shape) != shape or out.dtype != dtype:
            bad(f, f"{label}: shape/dtype {tuple(getattr(out, 'shape', ()))}/{getattr(out, 'dtype', type(out))} "
                   f"instead of {shape}/{dtype}")
        elif err(out, exp) > TOL[dtype]:
            bad(f, f"{label}: differs from R(delta) k_m by {err(out, exp):.3g}")
        if not torch.equal(cache, before):
            bad(f, f"{label}: the input k was modified")

    # evict_middle
    f = "evict_middle"
    for label, shape, ns, nr, base, dtype in EVICT_CASES:
        _, cache, v, exp_k, exp_v, keep = evict_inputs(shape, ns, nr, base, dtype)
        kb, vb = cache.clone(), v.clone()
        res, e = call(mod.evict_middle, cache, v, ns, nr) if base == 10000.0 else call(mod.evict_middle, cache, v, ns, nr, base=base)
        if e:
            bad(f, f"{label}: {e}")
            continue
        k2, v2 = res
        if exp_k is None:  # nothing to evict: (k, v) as they are
            if not (tuple(k2.shape) == shape and tuple(v2.shape) == shape and torch.equal(k2, kb) and torch.equal(v2, vb)
                    and k2.dtype == dtype and v2.dtype == dtype):
                bad(f, f"{label}: (k, v) not returned as they are (shapes {tuple(k2.shape)}, {tuple(v2.shape)})")
            continue
        want = shape[:-2] + (len(keep), shape[-1])
        if tuple(k2.shape) != want or tuple(v2.shape) != want:
            bad(f, f"{label}: shapes {tuple(k2.shape)}, {tuple(v2.shape)} instead of {want}")
            continue
        if k2.dtype != dtype or v2.dtype != dtype:
            bad(f, f"{label}: dtypes {k2.dtype}, {v2.dtype} instead of {dtype}")
        if not torch.equal(k2[..., :ns, :], kb[..., :ns, :]):
            bad(f, f"{label}: the sink keys changed (by {err(k2[..., :ns, :], n64(kb[..., :ns, :])):.3g})")
        if err(k2, exp_k) > TOL[dtype]:
            bad(f, f"{label}: keys differ from RoPE(k0 kept, 0 .. {len(keep) - 1}) by {err(k2, exp_k):.3g}")
        if not np.array_equal(n64(v2), exp_v):
            bad(f, f"{label}: values differ from v[kept] by {err(v2, exp_v):.3g}")
    k, v = T(rnd(2, 3, 10, 8)), T(rnd(2, 3, 10, 8, seed=5))
    for label, args in [("n_sink -1", (k, v, -1, 3)), ("n_recent -1", (k, v, 2, -1)),
                        ("v [2,3,10,6]", (k, T(rnd(2, 3, 10, 6)), 2, 3)), ("v [2,3,12,8]", (k, T(rnd(2, 3, 12, 8)), 2, 3)),
                        ("v [3,10,8]", (k, T(rnd(3, 10, 8)), 2, 3))]:
        if not raises_value_error(mod.evict_middle, *args):
            bad(f, f"no ValueError for {label}")

    # dynamic_ntk_base
    f = "dynamic_ntk_base"
    for args in NTK_CASES:
        out, e = call(mod.dynamic_ntk_base, *args)
        if e:
            bad(f, f"{args}: {e}")
            continue
        want = ntk_def(*args)
        if type(out) is not float:
            bad(f, f"{args}: returns {type(out).__name__}, not a Python float")
        try:
            value = float(out)
        except Exception:  # noqa: BLE001
            value = float("nan")
        if not abs(value - want) <= 1e-12 * abs(want):
            bad(f, f"{args}: {value!r} instead of {want!r}")
    for args in NTK_ERRORS:
        if not raises_value_error(mod.dynamic_ntk_base, *args):
            bad(f, f"no ValueError for {args}")

    # rerotate_keys
    f = "rerotate_keys"
    for label, shape, m, old, new, dtype in REROT_CASES + [REROT_BF16 + (torch.bfloat16,)]:
        _, cache, pos, exp = rerot_inputs(shape, m, old, new, dtype)
        before = cache.clone()
        out, e = call(mod.rerotate_keys, cache, pos, old, new)
        if e:
            bad(f, f"{label}: {e}")
            continue
        if not isinstance(out, torch.Tensor) or tuple(out.shape) != shape or out.dtype != dtype:
            bad(f, f"{label}: shape/dtype {tuple(getattr(out, 'shape', ()))}/{getattr(out, 'dtype', type(out))} "
                   f"instead of {shape}/{dtype}")
        elif dtype == torch.bfloat16:
            ulps = within_one_bf16_ulp(out, exp)
            if ulps > 1.0:
                bad(f, f"{label}: {ulps:.1f} bf16 ulps from the exact re-rotation (a float32 rotation cast once: <= 1)")
        elif err(out, exp) > TOL[dtype]:
            bad(f, f"{label}: differs from R_new(m) k by {err(out, exp):.3g}")
        if not torch.equal(cache, before):
            bad(f, f"{label}: the input k was modified")
    return fails


# ------------------------------------------------------------------ which functions each wrong case breaks
S, E, N, R = "shift_keys", "evict_middle", "dynamic_ntk_base", "rerotate_keys"
EXPECTED = {
    # evict_middle moves its recent keys with the case's own shift_keys: a wrong shift reaches it too
    "wrong_shift_direction_reversed": {S, E}, "wrong_shift_absolute_positions": {S, E},
    "wrong_shift_delta_squeezed": {S}, "wrong_shift_base_ignored": {S, E}, "wrong_shift_in_place": {S},
    "wrong_shift_dtype_float32": {S, E},
    "wrong_evict_sinks_shifted": {E}, "wrong_evict_values_rotated": {E}, "wrong_evict_recent_off_by_one": {E},
    "wrong_evict_shift_by_recent_start": {E}, "wrong_evict_no_early_return": {E}, "wrong_evict_zero_recent_slice": {E},
    "wrong_evict_shape_not_checked": {E},
    "wrong_ntk_no_clamp": {N}, "wrong_ntk_static": {N}, "wrong_ntk_missing_offset": {N}, "wrong_ntk_exponent_inverted": {N},
    "wrong_ntk_returns_tensor": {N}, "wrong_ntk_small_factor_accepted": {N},
    "wrong_rerotate_no_undo": {R}, "wrong_rerotate_bases_swapped": {R}, "wrong_rerotate_bf16": {R},
    "wrong_rerotate_cache_index_positions": {R},
}


# ------------------------------------------------------------------ each wrong case shows its own mistake
def close(a, b, tol=1e-10):
    return err(a, b) <= tol


def signature(name, mod) -> tuple[bool, str]:
    """Whether the case's output is what its named mistake predicts (from the definition), and the numbers."""
    k0, cache, _, exp = shift_inputs((5, 8), M5, 5, 10000.0, torch.float64, False)
    if name == "wrong_shift_direction_reversed":
        out = mod.shift_keys(cache, 5)
        return close(out, rope_def(k0, M5 - 5)), f"[5,8] delta +5: err vs m + 5 {err(out, exp):.3g}, vs m - 5 {err(out, rope_def(k0, M5 - 5)):.1g}"
    if name == "wrong_shift_absolute_positions":
        out = mod.shift_keys(cache, 5)
        alt = rope_def(k0, M5 + np.arange(5) + 5)
        return close(out, alt), f"[5,8] delta +5: err vs m + 5 {err(out, exp):.3g}, vs m + j + 5 (j the cache index) {err(out, alt):.1g}"
    if name == "wrong_shift_delta_squeezed":
        k0, cache, arg, exp = shift_inputs((2, 2, 5, 8), M_B1P, D_B1P, 10000.0, torch.float64, True)
        out = mod.shift_keys(cache, arg)
        alt = np.stack([np.stack([rope_def(k0[b, h], M_B1P[b, 0] + D_B1P[h, 0]) for h in range(2)]) for b in range(2)])
        k1, c1, a1, e1 = shift_inputs((1, 2, 5, 8), M_B1P[:1], D_B1P[:1], 10000.0, torch.float64, True)
        ok1 = close(mod.shift_keys(c1, a1), e1)
        return close(out, alt) and ok1, (f"[2,2,5,8] delta [2,1,5]: err {err(out, exp):.3g}, vs delta of batch h on head h "
                                         f"{err(out, alt):.1g}; B=1 exact: {ok1}")
    if name == "wrong_shift_base_ignored":
        _, c, _, e5 = shift_inputs((5, 8), M5, 5, 5e5, torch.float64, False)
        out = mod.shift_keys(c, 5, base=5e5)
        alt = rope_def(n64(c), 5, 10000.0)
        return close(out, alt) and close(mod.shift_keys(cache, 5), exp), f"base 5e5, delta 5: err {err(out, e5):.3g}, vs R(5) under base 1e4 {err(out, alt):.1g}"
    if name == "wrong_shift_in_place":
        c = cache.clone()
        out = mod.shift_keys(c, 5)
        return close(out, exp) and torch.equal(c, out) and not torch.equal(c, cache), \
            f"output right (err {err(out, exp):.1g}), the input now holds it: {torch.equal(c, out)}, same storage: {c.data_ptr() == out.data_ptr()}"
    if name == "wrong_shift_dtype_float32":
        out = mod.shift_keys(cache, 5)
        _, cb, _, eb = shift_inputs((1, 2, 6, 16), np.arange(60000, 60006), 1000, 10000.0, torch.bfloat16, False)
        ob = mod.shift_keys(cb, 1000)
        return out.dtype == torch.float32 and ob.dtype == torch.float32 and close(out, exp, 1e-6), \
            f"float64 k -> {out.dtype} (err {err(out, exp):.2g}), bf16 k -> {ob.dtype}"
    if name.startswith("wrong_evict"):
        k0e, c, v, exp_k, exp_v, keep = evict_inputs((2, 3, 10, 8), 2, 3, 10000.0, torch.float64)
        if name == "wrong_evict_sinks_shifted":
            k2, v2 = mod.evict_middle(c, v, 2, 3)
            alt = rope_def(n64(c[..., :2, :]), -5)
            return close(k2[..., :2, :], alt) and close(k2[..., 2:, :], exp_k[..., 2:, :]), \
                f"P 10, sinks 2, recent 3: sinks differ by {err(k2[..., :2, :], n64(c[..., :2, :])):.3g}, equal R(-5) sinks to {err(k2[..., :2, :], alt):.1g}"
        if name == "wrong_evict_values_rotated":
            k2, v2 = mod.evict_middle(c, v, 2, 3)
            alt = rope_def(n64(v[..., 7:, :]), -5)
            return close(k2, exp_k) and close(v2[..., 2:, :], alt) and np.array_equal(n64(v2[..., :2, :]), exp_v[..., :2, :]), \
                f"P 10, sinks 2, recent 3: keys right ({err(k2, exp_k):.1g}), recent values differ by {err(v2, exp_v):.3g}, equal R(-5) v to {err(v2[..., 2:, :], alt):.1g}"
        if name == "wrong_evict_recent_off_by_one":
            k2, v2 = mod.evict_middle(c, v, 2, 3)
            alt_k = np.concatenate((n64(c[..., :2, :]), rope_def(n64(c[..., 6:9, :]), -5)), axis=-2)
            alt_v = n64(v)[..., [0, 1, 6, 7, 8], :]
            return close(k2, alt_k) and np.array_equal(n64(v2), alt_v), \
                f"P 10, sinks 2, recent 3: keeps indices 6..8 (the newest, 9, dropped): keys err {err(k2, exp_k):.3g}, values err {err(v2, exp_v):.3g}"
        if name == "wrong_evict_shift_by_recent_start":
            k2, v2 = mod.evict_middle(c, v, 2, 3)
            alt = rope_def(n64(c[..., 7:, :]), -7)
            _, c0, v0, ek0, _, _ = evict_inputs((2, 3, 10, 8), 0, 4, 10000.0, torch.float64)
            ok0 = close(mod.evict_middle(c0, v0, 0, 4)[0], ek0)
            return close(k2[..., 2:, :], alt) and ok0, \
                f"P 10, sinks 2, recent 3: recent keys err {err(k2, exp_k):.3g}, equal R(-7) (positions 0..2, on the sinks) to {err(k2[..., 2:, :], alt):.1g}; n_sink 0 right: {ok0}"
        if name == "wrong_evict_no_early_return":
            _, c2, v2_, _, _, _ = evict_inputs((2, 3, 10, 8), 4, 8, 10000.0, torch.float64)
            k2, v2 = mod.evict_middle(c2, v2_, 4, 8)
            _, c3, v3, _, _, _ = evict_inputs((2, 3, 10, 8), 4, 6, 10000.0, torch.float64)
            k3, _ = mod.evict_middle(c3, v3, 4, 6)
            return tuple(k2.shape) == (2, 3, 12, 8) and torch.equal(k3, c3), \
                f"P 10, sinks 4, recent 8: shape {tuple(k2.shape)} instead of (k, v) [2,3,10,8]; exact fit 4 + 6 unchanged: {torch.equal(k3, c3)}"
        if name == "wrong_evict_zero_recent_slice":
            _, c2, v2_, _, _, _ = evict_inputs((2, 3, 10, 8), 3, 0, 10000.0, torch.float64)
            k2, v2 = mod.evict_middle(c2, v2_, 3, 0)
            return tuple(k2.shape) == (2, 3, 13, 8), f"P 10, sinks 3, n_recent 0: k' has {k2.shape[-2]} tokens instead of 3 (k[..., -0:] is all 10)"
        if name == "wrong_evict_shape_not_checked":
            res, e = call(mod.evict_middle, c, T(rnd(2, 3, 10, 6)), 2, 3)
            res2, e2 = call(mod.evict_middle, c, T(rnd(2, 3, 12, 8)), 2, 3)
            return e is None and e2 is None and raises_value_error(mod.evict_middle, c, v, -1, 3), \
                f"v [2,3,10,6] -> v' {tuple(res[1].shape)}, v [2,3,12,8] -> v' {tuple(res2[1].shape)}, no ValueError; n_sink -1 still raises"
    if name == "wrong_ntk_no_clamp":
        out = mod.dynamic_ntk_base(1e4, 128, 3000, 4096, 2.0)
        alt = 1e4 * (2 * 3000 / 4096 - 1) ** (128 / 126)
        return abs(out - alt) < 1e-9 * alt, f"seq_len 3000 < L 4096, factor 2: {out:.1f} instead of 10000 (unclamped formula {alt:.1f})"
    if name == "wrong_ntk_static":
        out = mod.dynamic_ntk_base(1e4, 128, 8192, 4096, 2.0)
        out2 = mod.dynamic_ntk_base(1e4, 128, 16384, 4096, 2.0)
        alt = 1e4 * 2 ** (128 / 126)
        return abs(out - alt) < 1e-9 * alt and out2 == out, \
            f"seq_len 8192, L 4096, factor 2: {out:.1f} instead of {ntk_def(1e4, 128, 8192, 4096, 2.0):.1f}; seq_len 16384 gives {out2:.1f} too (def {ntk_def(1e4, 128, 16384, 4096, 2.0):.1f})"
    if name == "wrong_ntk_missing_offset":
        out = mod.dynamic_ntk_base(1e4, 128, 4096, 4096, 2.0)
        alt = 1e4 * 2 ** (128 / 126)
        out2 = mod.dynamic_ntk_base(1e4, 128, 8192, 4096, 2.0)
        return abs(out - alt) < 1e-9 * alt, f"seq_len = L = 4096, factor 2: {out:.1f} instead of 10000; seq_len 8192: {out2:.1f} instead of {ntk_def(1e4, 128, 8192, 4096, 2.0):.1f}"
    if name == "wrong_ntk_exponent_inverted":
        out = mod.dynamic_ntk_base(1e4, 4, 10, 5, 1.0)
        alt = 1e4 * 2 ** (2 / 4)
        return abs(out - alt) < 1e-9 * alt, f"dim 4, s/L 2, factor 1: {out:.1f} instead of {ntk_def(1e4, 4, 10, 5, 1.0):.1f} (exponent 1/2, not 2)"
    if name == "wrong_ntk_returns_tensor":
        out = mod.dynamic_ntk_base(1e4, 128, 8192, 4096, 2.0)
        return isinstance(out, torch.Tensor) and abs(float(out) - ntk_def(1e4, 128, 8192, 4096, 2.0)) < 1e-8, \
            f"returns {type(out).__name__} {out.dtype} shape {tuple(out.shape)}, value {float(out):.4f} right"
    if name == "wrong_ntk_small_factor_accepted":
        out = mod.dynamic_ntk_base(1e4, 64, 8192, 4096, 0.5)
        return isinstance(out, float) and raises_value_error(mod.dynamic_ntk_base, 1e4, 64, 8192, 4096, 0.0), \
            f"factor 0.5 -> {out:.1f} returned instead of ValueError, factor 0 still raises"
    if name.startswith("wrong_rerotate"):
        k0r, c, pos, exp = rerot_inputs((5, 8), M5, 1e4, 3.3e4, torch.float64)
        out = mod.rerotate_keys(c, pos, 1e4, 3.3e4)
        if name == "wrong_rerotate_no_undo":
            alt = rope_def(n64(c), M5, 3.3e4)
            return close(out, alt), f"[5,8], 1e4 -> 3.3e4: err {err(out, exp):.3g}, equals R_new(m) R_old(m) k to {err(out, alt):.1g}"
        if name == "wrong_rerotate_bases_swapped":
            alt = rope_def(rope_def(n64(c), -M5, 3.3e4), M5, 1e4)
            return close(out, alt), f"[5,8], 1e4 -> 3.3e4: err {err(out, exp):.3g}, equals R_old(m) R_new(-m) k_m to {err(out, alt):.1g}"
        if name == "wrong_rerotate_cache_index_positions":
            j = np.arange(5)
            alt = rope_def(rope_def(n64(c), -j, 1e4), j, 3.3e4)
            return close(out, alt), f"[5,8] m [3,7,100,0,42]: err {err(out, exp):.3g}, equals the re-rotation at cache indices 0..4 to {err(out, alt):.1g}"
        if name == "wrong_rerotate_bf16":
            label, shape, m, old, new = REROT_BF16
            _, cb, pb, eb = rerot_inputs(shape, m, old, new, torch.bfloat16)
            ob = mod.rerotate_keys(cb, pb, old, new)
            f32 = T(rope_def(rope_def(n64(cb), -m, old), m, new)).to(torch.float32).to(torch.bfloat16)  # float32-or-better, cast once
            _, c3, p3, e3 = rerot_inputs((2, 3, 5, 16), np.array([0, 1, 500, 4000, 8000]), 1e4, 2.7e4, torch.float32)
            ok32 = close(mod.rerotate_keys(c3, p3, 1e4, 2.7e4), e3, 2e-5)
            n_off = int((np.abs(n64(ob) - eb) > np.abs(n64(f32) - eb) + 1e-12).sum())
            return ob.dtype == torch.bfloat16 and within_one_bf16_ulp(ob, eb) > 1.0 and ok32, \
                (f"{label}: {within_one_bf16_ulp(ob, eb):.0f} bf16 ulps from the exact value (a float32 rotation cast once: "
                 f"{within_one_bf16_ulp(f32, eb):.1f}), max err {err(ob, eb):.3g} vs {err(f32, eb):.3g}, {n_off} of {ob.numel()} "
                 f"entries farther than the float32 result; float32 keys right: {ok32}")
    return False, "no signature written"


HEADER = re.compile(r"# corpus: (wrong|valid)\n# mistake: (.+)\n# evidence: (.+)\n")


def main() -> int:
    # the definition's convention is the sibling exercise's: RoPE(x, m) equals the reference apply_rope
    # (a black box) in float64, and rotations by angles that add compose, R(a) R(b) = R(a + b)
    apply_rope = load_reference("rope").apply_rope
    x = rnd(2, 3, 5, 8, seed=9)
    assert close(apply_rope(T(x), torch.as_tensor(M_B1P)), rope_def(x, M_B1P), 1e-12)
    assert close(rope_def(rope_def(x, M5, 5e5), -M5 + 4, 5e5), rope_def(x, 4, 5e5), 1e-12)
    assert ntk_def(1e4, 128, 4096, 4096, 2.0) == 1e4 and ntk_def(1e4, 128, 17, 4096, 8.0) == 1e4
    assert abs(ntk_def(1e4, 4, 10, 5, 1.0) - 4e4) < 1e-8  # dim 4: exponent 2; factor 1: (s / L) ** 2

    failed = 0
    for path in cases(EXERCISE):
        name = path.stem
        head = HEADER.match(path.read_text())
        if not head or head.group(1) != name.split("_")[0] or "@@" in head.group(0):
            print(f"FAIL {path.name}: header lines missing or unfilled")
            failed += 1
            continue
        try:
            mod = load_case(path)
            fails = contract_failures(mod)
        except Exception as exc:  # noqa: BLE001
            print(f"FAIL {path.name} crashed: {type(exc).__name__}: {exc}")
            failed += 1
            continue
        if name.startswith("valid_"):
            if fails:
                print(f"FAIL {path.name} valid case breaks the contract: {fails}")
                failed += 1
            else:
                print(f"OK {path.name} meets every contract check ({len(SHIFT_CASES)} shift, {len(EVICT_CASES)} evict, "
                      f"{len(NTK_CASES)} NTK, {len(REROT_CASES) + 1} re-rotation inputs, all ValueErrors)")
            continue
        target = EXPECTED.get(name)
        try:
            ok, evidence = signature(name, mod)
        except Exception as exc:  # noqa: BLE001
            ok, evidence = False, f"signature crashed: {type(exc).__name__}: {exc}"
        if target is None:
            print(f"FAIL {path.name} has no expected target")
            failed += 1
        elif set(fails) != target:
            print(f"FAIL {path.name} expected failures in {sorted(target)}, got {fails}")
            failed += 1
        elif not ok:
            print(f"FAIL {path.name} does not show its named mistake: {evidence}")
            failed += 1
        else:
            first = min(target, key=[S, E, N, R].index)
            print(f"OK {path.name} {'+'.join(sorted(target, key=[S, E, N, R].index))}: {fails[first][0]} | {evidence}")
    print(f"{len(cases(EXERCISE, 'wrong'))} wrong, {len(cases(EXERCISE, 'valid'))} valid, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
