"""Verify the llama_attention corpus: every wrong case differs from an independent definition (or raises
where it must not / does not raise where it must) on the input its `# mistake:` line is about; every valid
case meets every check below.

Run from the repository root: python tests/corpus/llama_attention/_verify.py

The definition is written here from the exercise's docstrings only, in numpy float64 with plain loops over
batch, head, query and key: RoPE from its definition (half-split pairs (i, i + d/2), theta_i =
base ** (-2i / d)), the mask on cache indices (i - W < j <= i, padding keys never seen, a 4-D bool mask
used as it is), softmax over the keys, heads concatenated, o_proj. The reference `apply_rope` of
solutions/rope.py is used once, as a black box, to confirm the RoPE convention.
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
EXERCISE = "llama_attention"


# ------------------------------------------------------------------ independent definitions (docstrings)
def rope_vec(x, m, base):
    """One head vector x [d] of a token at position m: pair (i, i + d/2) turned by m * base ** (-2i / d)."""
    d = len(x)
    h = d // 2
    out = np.empty(d)
    for i in range(h):
        a = m * base ** (-2.0 * i / d)
        out[i] = x[i] * math.cos(a) - x[i + h] * math.sin(a)
        out[i + h] = x[i + h] * math.cos(a) + x[i] * math.sin(a)
    return out


def ref_attention(hidden, w, H, Hkv, pos=None, mask=None, past=None, window=None, base=10000.0):
    """(out [B,T,D], k_cache, v_cache [B,Hkv,P+T,d], rows [B,T] bool: query rows whose output is defined)."""
    hidden = np.asarray(hidden, np.float64)
    Wq, Wk, Wv, Wo = (np.asarray(w[n], np.float64) for n in ("q_proj", "k_proj", "v_proj", "o_proj"))
    B, T, D = hidden.shape
    d = Wq.shape[0] // H
    P = 0 if past is None else past[0].shape[2]
    S = P + T
    rep = H // Hkv

    def position(b, t):
        if pos is None:
            return P + t
        p = np.asarray(pos)
        return int(p[t]) if p.ndim == 1 else int(p[b, t])

    q = np.zeros((B, H, T, d))
    kc = np.zeros((B, Hkv, S, d))
    vc = np.zeros((B, Hkv, S, d))
    if past is not None:
        kc[:, :, :P] = past[0]
        vc[:, :, :P] = past[1]
    for b in range(B):
        for t in range(T):
            m = position(b, t)
            for h in range(H):
                q[b, h, t] = rope_vec(Wq[h * d:(h + 1) * d] @ hidden[b, t], m, base)
            for g in range(Hkv):
                kc[b, g, P + t] = rope_vec(Wk[g * d:(g + 1) * d] @ hidden[b, t], m, base)
                vc[b, g, P + t] = Wv[g * d:(g + 1) * d] @ hidden[b, t]

    def allowed(b, t, j):
        if mask is not None and np.ndim(mask) == 4:
            return bool(mask[b if mask.shape[0] > 1 else 0, 0, t, j])
        i = P + t
        ok = j <= i and (window is None or j > i - window)
        return ok and (mask is None or mask[b, j] != 0)

    heads = np.zeros((B, T, H * d))
    rows = np.zeros((B, T), bool)
    for b in range(B):
        for t in range(T):
            keys = [j for j in range(S) if allowed(b, t, j)]
            rows[b, t] = bool(keys) and not (mask is not None and np.ndim(mask) == 2 and mask[b, P + t] == 0)
            if not keys:
                continue
            for h in range(H):
                g = h // rep
                s = np.array([q[b, h, t] @ kc[b, g, j] / math.sqrt(d) for j in keys])
                p = np.exp(s - s.max())
                p /= p.sum()
                heads[b, t, h * d:(h + 1) * d] = sum(pj * vc[b, g, j] for pj, j in zip(p, keys))
    out = heads @ Wo.T
    return out, kc, vc, rows


def ref_left_positions(mask):
    """Number of real tokens before each token (values at padding entries unused)."""
    mask = np.asarray(mask)
    out = np.zeros(mask.shape, np.int64)
    for b in range(mask.shape[0]):
        seen = 0
        for s in range(mask.shape[1]):
            out[b, s] = seen
            seen += int(mask[b, s] != 0)
    return out


def ref_packed_positions(lengths):
    return np.array([p for n in lengths for p in range(n)], np.int64)


def ref_packed_mask(lengths):
    doc = [k for k, n in enumerate(lengths) for _ in range(n)]
    n = len(doc)
    return np.array([[doc[i] == doc[j] and j <= i for j in range(n)] for i in range(n)])


# ------------------------------------------------------------------ fixtures
def rnd(*shape, seed=0, scale=1.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale


def T_(a, dtype=torch.float64):
    return torch.from_numpy(np.ascontiguousarray(a)).to(dtype)


def n64(t):
    return t.detach().to(torch.float64).numpy()


def make_weights(D, H, Hkv, d, seed):
    s = 1.0 / math.sqrt(D)
    return {"q_proj": rnd(H * d, D, seed=seed, scale=s), "k_proj": rnd(Hkv * d, D, seed=seed + 1, scale=s),
            "v_proj": rnd(Hkv * d, D, seed=seed + 2, scale=s), "o_proj": rnd(D, H * d, seed=seed + 3, scale=1 / math.sqrt(H * d))}


PAD6 = np.array([[0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 1, 1]])
PAD7 = np.array([[0, 0, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 1, 1, 1]])
DOCS = [3, 2, 4]
PREFIX = np.ones((2, 1, 5, 5), bool)  # a 4-D mask that is not causal: row 0 bidirectional, row 1 a prefix of 3
PREFIX[1, 0] = np.tril(np.ones((5, 5), bool))
PREFIX[1, 0, :, :3] = True


# name: dict(B, T, D, H, Hkv, d, P, pos, mask, window, base, dtype, scale of hidden)
ATT = {
    "gqa": dict(B=2, T=5, D=16, H=4, Hkv=2, d=4),
    "mha": dict(B=1, T=4, D=8, H=2, Hkv=2, d=4),
    "decode": dict(B=2, T=1, D=16, H=4, Hkv=2, d=4, P=6),
    "chunk_mqa": dict(B=2, T=3, D=16, H=4, Hkv=1, d=4, P=4),
    "left_pad": dict(B=3, T=6, D=16, H=4, Hkv=2, d=4, mask=PAD6, pos=ref_left_positions(PAD6)),
    "left_pad_decode": dict(B=3, T=2, D=16, H=4, Hkv=2, d=4, P=5, mask=PAD7, pos=ref_left_positions(PAD7)[:, 5:]),
    "window": dict(B=2, T=7, D=16, H=4, Hkv=2, d=4, window=3),
    "window_cache": dict(B=2, T=3, D=16, H=4, Hkv=2, d=4, P=5, window=4),
    "window_pad": dict(B=3, T=6, D=16, H=4, Hkv=2, d=4, mask=PAD6, pos=ref_left_positions(PAD6), window=3),
    "packed_4d": dict(B=2, T=9, D=16, H=4, Hkv=2, d=4, mask=ref_packed_mask(DOCS)[None, None], pos=ref_packed_positions(DOCS)),
    "mask4d_prefix": dict(B=2, T=5, D=16, H=4, Hkv=2, d=4, mask=PREFIX),
    "base_rows": dict(B=2, T=5, D=16, H=4, Hkv=2, d=8, base=500.0, pos=np.array([[3, 4, 5, 6, 7], [20, 17, 9, 40, 2]])),
    "pos_1d_cache": dict(B=2, T=3, D=16, H=4, Hkv=2, d=4, P=3, pos=np.array([10, 11, 12])),
    "head_dim": dict(B=2, T=4, D=12, H=2, Hkv=1, d=8, P=2),
    "float32": dict(B=2, T=4, D=16, H=4, Hkv=2, d=4, P=3, dtype=torch.float32),
    "float32_pad_window": dict(B=3, T=2, D=16, H=4, Hkv=2, d=4, P=5, mask=PAD7, pos=ref_left_positions(PAD7)[:, 5:],
                               window=3, dtype=torch.float32),
}
TOL = {torch.float64: 1e-9, torch.float32: 1e-4}


def att_inputs(name, seed=11):
    c = dict(P=0, pos=None, mask=None, window=None, base=10000.0, dtype=torch.float64) | ATT[name]
    w = make_weights(c["D"], c["H"], c["Hkv"], c["d"], seed)
    hidden = rnd(c["B"], c["T"], c["D"], seed=seed + 7)
    past = None
    if c["P"]:
        past = (rnd(c["B"], c["Hkv"], c["P"], c["d"], seed=seed + 8), rnd(c["B"], c["Hkv"], c["P"], c["d"], seed=seed + 9))
    dt = c["dtype"]
    if dt != torch.float64:  # the reference sees exactly the values the submission sees
        hidden = n64(T_(hidden, dt))
        w = {k: n64(T_(v, dt)) for k, v in w.items()}
        past = None if past is None else tuple(n64(T_(p, dt)) for p in past)
    ref = ref_attention(hidden, w, c["H"], c["Hkv"], c["pos"], c["mask"], past, c["window"], c["base"])
    args = (T_(hidden, dt), {k: T_(v, dt) for k, v in w.items()}, c["H"], c["Hkv"])
    kw = {}
    if c["pos"] is not None:
        kw["position_ids"] = torch.as_tensor(c["pos"], dtype=torch.int64)
    if c["mask"] is not None:
        m = c["mask"]
        kw["attention_mask"] = torch.as_tensor(m, dtype=torch.bool) if m.ndim == 4 else torch.as_tensor(m, dtype=torch.int64)
    if past is not None:
        kw["past_kv"] = tuple(T_(p, dt) for p in past)
    if c["window"] is not None:
        kw["sliding_window"] = c["window"]
    if c["base"] != 10000.0:
        kw["base"] = c["base"]
    return c, args, kw, ref


_REF_CACHE: dict = {}


def snapshot(obj):
    if isinstance(obj, torch.Tensor):
        return obj.clone()
    if isinstance(obj, dict):
        return {k: snapshot(v) for k, v in obj.items()}
    if isinstance(obj, tuple):
        return tuple(snapshot(v) for v in obj)
    return obj


def same(a, b):
    if isinstance(a, torch.Tensor):
        return a.shape == b.shape and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, dict):
        return all(same(a[k], b[k]) for k in a)
    if isinstance(a, tuple):
        return all(same(x, y) for x, y in zip(a, b))
    return a == b


def check_attention(mod, name):
    """None when right, else a message."""
    if name not in _REF_CACHE:
        _REF_CACHE[name] = att_inputs(name)
    c, args0, kw0, (out_r, kc_r, vc_r, rows) = _REF_CACHE[name]
    args, kw = snapshot((args0, kw0))  # fresh copies: a case that writes into its inputs cannot touch the next one
    before = snapshot((args, kw))
    try:
        out, (kc, vc) = mod.llama_attention(*args, **kw)
    except Exception as exc:  # noqa: BLE001
        return f"raised {type(exc).__name__}: {str(exc)[:70]}"
    if not same(before, (args, kw)):
        changed = [k for k in ("hidden", "weights") if not same(before[0][("hidden", "weights").index(k)], args[("hidden", "weights").index(k)])]
        changed += [k for k in kw if not same(before[1][k], kw[k])]
        return f"inputs modified in place: {changed}"
    tol = TOL[c["dtype"]]
    if tuple(out.shape) != out_r.shape:
        return f"out shape {tuple(out.shape)} instead of {out_r.shape}"
    if out.dtype != c["dtype"]:
        return f"out dtype {out.dtype} instead of {c['dtype']}"
    if tuple(kc.shape) != kc_r.shape or tuple(vc.shape) != vc_r.shape:
        return f"cache shapes {tuple(kc.shape)}, {tuple(vc.shape)} instead of {kc_r.shape}"
    e_out = float(np.abs(n64(out) - out_r)[rows].max())
    e_k, e_v = float(np.abs(n64(kc) - kc_r).max()), float(np.abs(n64(vc) - vc_r).max())
    if max(e_out, e_k, e_v) > tol:
        return f"differs from the definition: out {e_out:.3g}, k_cache {e_k:.3g}, v_cache {e_v:.3g}"
    return None


def raises_value_error(fn, *args, **kw):
    try:
        fn(*args, **kw)
    except ValueError:
        return True, "ValueError"
    except Exception as exc:  # noqa: BLE001
        return False, f"{type(exc).__name__} instead of ValueError"
    return False, "no exception"


def check_repeat_kv(mod):
    x = T_(rnd(2, 3, 4, 5, seed=3))
    for n in (1, 2, 3):
        try:
            y = mod.repeat_kv(x, n)
        except Exception as exc:  # noqa: BLE001
            return f"n_rep {n}: raised {type(exc).__name__}"
        exp = np.stack([n64(x)[:, h // n] for h in range(3 * n)], axis=1)
        if tuple(y.shape) != exp.shape or not np.array_equal(n64(y), exp):
            bad = [h for h in range(min(y.shape[1], 3 * n)) if not np.array_equal(n64(y[:, h]), exp[:, h])]
            return f"x [2,3,4,5], n_rep {n}: shape {tuple(y.shape)}, heads {bad} differ from x[:, h // n_rep]"
    for n in (0, -1):
        ok, how = raises_value_error(mod.repeat_kv, x, n)
        if not ok:
            return f"n_rep {n}: {how}"
    return None


LEFT_MASKS = [np.array([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1], [0, 0, 0, 0, 1]]), PAD7]


def check_left_padding(mod):
    for m in LEFT_MASKS:
        for dt in (torch.int64, torch.bool):
            try:
                got = mod.left_padding_position_ids(torch.as_tensor(m).to(dt))
            except Exception as exc:  # noqa: BLE001
                return f"raised {type(exc).__name__}"
            exp = ref_left_positions(m)
            if tuple(got.shape) != m.shape or got.dtype != torch.int64:
                return f"shape/dtype {tuple(got.shape)}/{got.dtype}"
            real = m != 0
            if not np.array_equal(got.numpy()[real], exp[real]):
                return f"mask {m.tolist()[0]} ({dt}): real tokens at {got.numpy()[0][real[0]].tolist()}, not {exp[0][real[0]].tolist()}"
    return None


PACKS = [[3], [2, 1, 4], [1, 1], [3, 2, 4]]
BAD_PACKS = [[], [3, 0], [2, -1]]


def check_packed_positions(mod):
    for lens in PACKS:
        try:
            got = mod.packed_position_ids(lens)
        except Exception as exc:  # noqa: BLE001
            return f"{lens}: raised {type(exc).__name__}"
        exp = ref_packed_positions(lens)
        if got.dtype != torch.int64 or not np.array_equal(got.numpy(), exp):
            return f"{lens}: {got.tolist()} ({got.dtype}) instead of {exp.tolist()}"
    for lens in BAD_PACKS:
        ok, how = raises_value_error(mod.packed_position_ids, lens)
        if not ok:
            return f"{lens}: {how}"
    return None


def check_packed_mask(mod):
    for lens in PACKS:
        try:
            got = mod.packed_causal_mask(lens)
        except Exception as exc:  # noqa: BLE001
            return f"{lens}: raised {type(exc).__name__}"
        exp = ref_packed_mask(lens)
        if got.dtype != torch.bool or tuple(got.shape) != exp.shape or not np.array_equal(got.numpy(), exp):
            wrong = int((got.numpy() != exp).sum()) if tuple(got.shape) == exp.shape else "all"
            return f"{lens}: {got.dtype} {tuple(got.shape)}, {wrong} entries differ from same-document-and-j<=i"
    for lens in BAD_PACKS:
        ok, how = raises_value_error(mod.packed_causal_mask, lens)
        if not ok:
            return f"{lens}: {how}"
    return None


def check_gqa_error(mod):
    for H, Hkv in ((3, 2), (4, 3)):
        w = {k: T_(v) for k, v in make_weights(8, H, Hkv, 4, 5).items()}
        ok, how = raises_value_error(mod.llama_attention, T_(rnd(1, 3, 8, seed=6)), w, H, Hkv)
        if not ok:
            return f"n_heads {H}, n_kv_heads {Hkv}: {how}"
    return None


CHECKS = {"repeat_kv": check_repeat_kv, "left_padding_position_ids": check_left_padding,
          "packed_position_ids": check_packed_positions, "packed_causal_mask": check_packed_mask,
          "gqa_valueerror": check_gqa_error}
CHECKS |= {f"attention:{n}": (lambda mod, n=n: check_attention(mod, n)) for n in ATT}

# the input on which each wrong case must be shown wrong
TARGET = {
    "wrong_repeat_kv_tiled": "repeat_kv",
    "wrong_rope_after_repeat_cache_h_heads": "attention:gqa",
    "wrong_cache_pre_rope_keys": "attention:gqa",
    "wrong_values_rotated": "attention:gqa",
    "wrong_default_positions_ignore_cache": "attention:decode",
    "wrong_causal_mask_left_aligned": "attention:decode",
    "wrong_window_w_plus_one": "attention:window",
    "wrong_window_w_minus_one": "attention:window",
    "wrong_window_ignored_with_padding_mask": "attention:window_pad",
    "wrong_padding_mask_on_queries": "attention:left_pad",
    "wrong_padding_mask_ignored": "attention:left_pad",
    "wrong_mask4d_ignored": "attention:packed_4d",
    "wrong_mask4d_causal_added": "attention:mask4d_prefix",
    "wrong_position_ids_first_row_only": "attention:base_rows",
    "wrong_head_dim_from_hidden_size": "attention:head_dim",
    "wrong_scale_one_over_d": "attention:gqa",
    "wrong_scale_sqrt_hidden_size": "attention:gqa",
    "wrong_softmax_over_queries": "attention:gqa",
    "wrong_merge_heads_no_transpose": "attention:gqa",
    "wrong_left_padding_counts_padding": "left_padding_position_ids",
    "wrong_left_padding_off_by_one": "left_padding_position_ids",
    "wrong_packed_positions_no_restart": "packed_position_ids",
    "wrong_packed_positions_start_at_one": "packed_position_ids",
    "wrong_packed_mask_no_causal": "packed_causal_mask",
    "wrong_packed_mask_no_blocks": "packed_causal_mask",
    "wrong_packed_mask_transposed": "packed_causal_mask",
    "wrong_base_ignored": "attention:base_rows",
    "wrong_hidden_modified_in_place": "attention:left_pad",
    "wrong_float32_returns_float64": "attention:float32",
    "wrong_missing_gqa_valueerror": "gqa_valueerror",
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


def main() -> int:
    # the definition's RoPE is the sibling exercise's apply_rope (a black box) in float64
    apply_rope = load_reference("rope").apply_rope
    x = rnd(2, 3, 5, 8, seed=9)
    pos = np.array([[[5, 9, 12, 30, 31]], [[1000, 2, 64, 7, 8]]])
    want = np.array([[[[rope_vec(x[b, h, t], pos[b, 0, t], 500.0) for t in range(5)] for h in range(3)] for b in range(2)]])[0]
    assert np.abs(n64(apply_rope(T_(x), torch.as_tensor(pos), base=500.0)) - want).max() < 1e-12
    # sanity of the definition: a packed row equals each document run alone
    c, args, kw, (out_r, _, _, _) = att_inputs("packed_4d")
    start = 0
    for n in DOCS:
        alone = ref_attention(n64(args[0])[:, start:start + n], {k: n64(v) for k, v in args[1].items()}, 4, 2)[0]
        assert np.abs(alone - out_r[:, start:start + n]).max() < 1e-12
        start += n

    extra = [Path(a) for a in sys.argv[1:]]  # optional: more case files to check as valid (e.g. a draft)
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
            fails = run_all(mod)
            if fails:
                print(f"FAIL {path.name} valid case breaks the contract: {fails}")
                failed += 1
            else:
                print(f"OK {path.name} agrees on all {len(CHECKS)} checks ({len(ATT)} attention inputs)")
            continue
        target = TARGET.get(name)
        if target is None:
            print(f"FAIL {path.name} has no target input")
            failed += 1
            continue
        msg = CHECKS[target](mod)
        if msg is None:
            print(f"FAIL {path.name} agrees with the definition on {target}")
            failed += 1
        else:
            print(f"OK {path.name} {target}: {msg}")
    print(f"{len(cases(EXERCISE, 'wrong'))} wrong, {len(cases(EXERCISE, 'valid'))} valid, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
