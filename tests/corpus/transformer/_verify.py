"""Verify the transformer corpus: every wrong case differs from the contract, every valid case agrees.

Run from the repository root:  python tests/corpus/transformer/_verify.py
The reference solution is used only as a black box (same weights loaded into both models, outputs
compared), plus a few direct property checks (ValueErrors, state_dict keys, dropout behaviour).
"""

from __future__ import annotations

import math
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests" / "corpus"))
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from _load import cases, load_case, load_reference  # noqa: E402

torch.set_num_threads(4)
R = load_reference("transformer")
SIN = load_reference("sinusoidal")

BASE = dict(vocab_size=40, d_model=32, n_heads=4, n_layers=2, max_len=48, rope_base=500.0, mlp_ratio=3)
_g = torch.Generator().manual_seed(0)
IDX = torch.randint(0, 40, (3, 10), generator=_g)  # B = 3 != H = 4
IDX4 = torch.randint(0, 40, (4, 6), generator=_g)  # B = 4 == H
GAPS = torch.arange(6) * 3 + 1  # [T] with gaps, inside max_len
SHIFT = torch.arange(6) + 20  # uniform shift, inside max_len
PER_ROW = torch.tensor([[0, 1, 2, 3, 4, 5], [7, 9, 11, 13, 15, 17], [30, 31, 32, 33, 34, 35]])
REVERSED = torch.tensor([[5, 4, 3, 2, 1, 0], [9, 2, 7, 0, 11, 4], [40, 35, 30, 25, 20, 15]])
PER_ROW4 = torch.stack([torch.arange(6) * (r + 1) for r in range(4)])


class LoadFailed(Exception):
    pass


def cfg_kw(**kw):
    d = dict(BASE)
    d.update(kw)
    return d


def perturb(model, seed=0):
    """Non-trivial norms and biases (defaults make norm1 == norm2 etc.), sharper attention."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name or name.endswith("bias"):
                p.add_(0.3 * torch.randn(p.shape, generator=g))
            if name.endswith("q_proj.weight") or name.endswith("k_proj.weight"):
                p.mul_(2.0)


def pair(mod, cls="Transformer", dtype=torch.float64, seed=0, **kw):
    kw = cfg_kw(**kw)
    torch.manual_seed(seed)
    ref = getattr(R, cls)(R.TransformerConfig(**kw))
    perturb(ref, seed)
    case = getattr(mod, cls)(mod.TransformerConfig(**kw))
    try:
        case.load_state_dict(ref.state_dict())
    except Exception as e:  # noqa: BLE001
        raise LoadFailed(str(e).splitlines()[0] + " ...") from e
    ref.eval().to(dtype)
    case.eval().to(dtype)
    return ref, case


def flat(o):
    if isinstance(o, torch.Tensor):
        return [o]
    out = []
    for x in o:
        out += flat(x)
    return out


def maxdiff(a, b):
    a, b = flat(a), flat(b)
    if len(a) != len(b):
        return math.inf, f"{len(b)} tensors instead of {len(a)}"
    worst = 0.0
    for x, y in zip(a, b):
        if x.shape != y.shape:
            return math.inf, f"shape {list(y.shape)} instead of {list(x.shape)}"
        d = (x.double() - y.double()).abs()
        if torch.isnan(d).any():
            return math.inf, "NaN in output"
        worst = max(worst, d.max().item() if d.numel() else 0.0)
    return worst, f"max |diff| {worst:.3g}"


# ---- scenarios: functions of a model returning a nested tuple of tensors ----
def plain(m, idx=IDX[:, :6], positions=None):
    return m(idx, positions)


def with_pos(positions, idx=None):
    def f(m):
        i = idx if idx is not None else IDX[:, :6]
        if positions.dim() == 2:
            i = i[: positions.shape[0]] if i.shape[0] >= positions.shape[0] else IDX4
        return m(i, positions)

    return f


def decode(chunks=(4, 3, 1, 1), start=None, idx=IDX):
    """Prompt, then further chunks with the cache; optional explicit positions starting at `start`."""

    def f(m):
        outs, cache, t = [], None, 0
        for n in chunks:
            pos = None if start is None else torch.arange(start + t, start + t + n)
            logits, cache, w = m(idx[:, t : t + n], pos, cache)
            outs.append((logits, cache, w))
            t += n
        return outs

    return f


def attn_decode(chunks=(4, 3, 1), positions_start=None, d=32, B=3):
    g = torch.Generator().manual_seed(5)
    x = torch.randn(B, sum(chunks), d, generator=g, dtype=torch.float64)

    def f(m):
        outs, cache, t = [], None, 0
        for n in chunks:
            pos = None if positions_start is None else torch.arange(positions_start + t, positions_start + t + n)
            o, w, cache = m(x[:, t : t + n].to(next(m.parameters()).dtype), pos, cache)
            outs.append((o, w, cache))
            t += n
        return outs

    return f


def block_plain(m):
    g = torch.Generator().manual_seed(6)
    x = 2.0 * torch.randn(3, 6, 32, generator=g, dtype=torch.float64) + 0.5
    return m(x.to(next(m.parameters()).dtype))


def compare(mod, scenario, cls="Transformer", dtype=torch.float64, **kw):
    """(diff, description) between reference and case on one scenario; case exceptions reported."""
    ref, case = pair(mod, cls, dtype, **kw)
    with torch.no_grad():
        a = scenario(ref)
        try:
            b = scenario(case)
        except Exception as e:  # noqa: BLE001
            return math.inf, f"raises {type(e).__name__}: {str(e).splitlines()[0][:90]}"
    return maxdiff(a, b)


def differs(mod, scenario, what, cls="Transformer", tol=1e-8, **kw):
    try:
        d, msg = compare(mod, scenario, cls, **kw)
    except LoadFailed as e:
        return True, f"{what}: reference weights do not load ({e})"
    return d > tol, f"{what}: {msg}"


def outcome(fn):
    try:
        fn()
        return "ok"
    except Exception as e:  # noqa: BLE001
        return type(e).__name__


def build(mod, **kw):
    return lambda: mod.Transformer(mod.TransformerConfig(**cfg_kw(**kw)))


def run_pos(mod, positions, **kw):
    def f():
        torch.manual_seed(0)
        m = mod.Transformer(mod.TransformerConfig(**cfg_kw(**kw))).eval()
        idx = IDX[: positions.shape[0], : positions.shape[-1]] if positions.dim() == 2 else IDX[:, : positions.shape[0]]
        with torch.no_grad():
            m(idx, positions)

    return f


def error_expect(mod, fn_case, fn_ref, what):
    a, b = outcome(fn_ref), outcome(fn_case)
    return a != b, f"{what}: reference -> {a}, case -> {b}"


def both(*results):
    ok = all(r[0] for r in results)
    return ok, "; ".join(r[1] for r in results)


# ---- wrong-case checks -------------------------------------------------------------------
def chk_dropout_residual(mod):
    """Zero sublayers in train mode: x + dropout(0) == x exactly; dropout(x + 0) zeroes entries of x."""
    torch.manual_seed(0)
    blk = mod.Block(mod.TransformerConfig(**cfg_kw(dropout=0.5))).train()
    with torch.no_grad():
        for p in list(blk.attn.parameters()) + list(blk.mlp.parameters()):
            p.zero_()
        x = torch.randn(2, 5, 32) + 3.0
        y, _, _ = blk(x)
    d = (y - x).abs().max().item()
    return d > 1e-6, f"train mode, zeroed sublayers: output should equal input, max |diff| {d:.3g}, {int((y == 0).sum())} zeroed entries"


def chk_dropout_ignored(mod):
    torch.manual_seed(0)
    m = mod.Transformer(mod.TransformerConfig(**cfg_kw(dropout=0.5))).train()
    with torch.no_grad():
        a = m(IDX[:, :6])[0]
        b = m(IDX[:, :6])[0]
    return torch.equal(a, b), f"dropout=0.5 in train mode: two forward passes identical = {torch.equal(a, b)}"


def chk_plain_attr(mod):
    torch.manual_seed(0)
    m = mod.Transformer(mod.TransformerConfig(**cfg_kw(pos_scheme="sinusoidal"))).eval()
    registered = "pos_table" in dict(m.named_buffers())
    m = m.to(torch.bfloat16)
    res = outcome(lambda: m(IDX[:, :6]))
    return (not registered) and res != "ok", f"pos_table registered buffer = {registered}; bf16 model forward -> {res}"


def chk_half_table(mod):
    torch.manual_seed(0)
    m = mod.Transformer(mod.TransformerConfig(**cfg_kw(pos_scheme="sinusoidal")))
    d = (m.pos_table - SIN.sinusoidal_encoding(48, 32)).abs().max().item()
    r = differs(mod, plain, "sinusoidal logits", pos_scheme="sinusoidal")
    return d > 1e-3 and r[0], f"pos_table vs sinusoidal_encoding max |diff| {d:.3g}; {r[1]}"


def chk_tied(mod):
    torch.manual_seed(0)
    m = mod.Transformer(mod.TransformerConfig(**cfg_kw()))
    tied = m.lm_head.weight.data_ptr() == m.tok_emb.weight.data_ptr()
    r = differs(mod, plain, "logits with stored (untied) weights")
    return tied and r[0], f"lm_head.weight shares storage with tok_emb.weight = {tied}; {r[1]}"


def chk_persistent(mod):
    torch.manual_seed(0)
    m = mod.Transformer(mod.TransformerConfig(**cfg_kw(pos_scheme="sinusoidal")))
    in_sd = "pos_table" in m.state_dict()
    r = differs(mod, plain, "loading a reference checkpoint", pos_scheme="sinusoidal")
    return in_sd and r[0], f"pos_table in state_dict = {in_sd}; {r[1]}"


def chk_rope_not_passed(mod):
    r1 = differs(mod, with_pos(GAPS), "rope, positions with gaps 1,4,7,..")
    d2, m2 = compare(mod, lambda m: with_pos(SHIFT)(m)[0])
    return r1[0], f"{r1[1]} (uniform shift by 20 hides it in the logits: {m2})"


def chk_unsqueeze0(mod):
    r1 = differs(mod, with_pos(PER_ROW), "rope, per-row positions, B=3, H=4")
    r2 = differs(mod, with_pos(PER_ROW4), "B=4=H")
    return both(r1, r2)


def chk_mask_values(mod):
    r1 = differs(mod, with_pos(REVERSED), "causal rope, non-increasing per-row positions")
    d2, m2 = compare(mod, with_pos(PER_ROW))
    return r1[0], f"{r1[1]} (increasing positions agree: {m2})"


def chk_base(mod):
    r1 = differs(mod, plain, "rope_base=500")
    d2, m2 = compare(mod, plain, rope_base=10000.0)
    return r1[0], f"{r1[1]} (rope_base=10000 agrees: {m2})"


def chk_restart_attn(mod):
    r1 = differs(mod, attn_decode(), "MultiHeadSelfAttention decode 4+3+1, default positions", cls="MultiHeadSelfAttention")
    d2, m2 = compare(mod, decode())
    return r1[0], f"{r1[1]} (Transformer passes positions itself: {m2})"


def chk_table_restart(mod):
    r1 = differs(mod, decode(), "learned decode 4+3+1+1", pos_scheme="learned")
    d2, m2 = compare(mod, plain, pos_scheme="learned")
    return r1[0], f"{r1[1]} (without cache: {m2})"


def chk_concat_order(mod):
    r1 = differs(mod, decode((4, 3)), "rope decode prompt 4 then chunk 3")
    return r1


def chk_returns_only_new(mod):
    r1 = differs(mod, decode((4, 1, 1)), "decode 4+1+1")
    return r1


def chk_unrotated(mod):
    ref, case = pair(mod)
    with torch.no_grad():
        _, ca, _ = ref(IDX[:, :4])
        _, cb, _ = case(IDX[:, :4])
    dk = (ca[0][0] - cb[0][0]).abs().max().item()
    r2 = differs(mod, decode(start=10), "decode with explicit positions from 10")
    return dk > 1e-6 and r2[0], f"cached keys (positions 0..3) differ by {dk:.3g}; {r2[1]}"


def chk_dropout_eval(mod):
    return differs(mod, plain, "dropout=0.5, eval mode", dropout=0.5)


D = dict
WRONG = {
    "no_divisibility_check": lambda m: error_expect(m, build(m, d_model=10, n_heads=4, pos_scheme="none"), build(R, d_model=10, n_heads=4, pos_scheme="none"), "d_model=10, n_heads=4"),
    "even_check_on_d_model": lambda m: error_expect(m, build(m, d_model=24, n_heads=8), build(R, d_model=24, n_heads=8), "rope, d_model=24, n_heads=8 (head_dim 3)"),
    "even_check_all_schemes": lambda m: error_expect(m, build(m, d_model=12, n_heads=4, pos_scheme="none"), build(R, d_model=12, n_heads=4, pos_scheme="none"), "scheme none, head_dim 3"),
    "unknown_scheme_fallback": lambda m: error_expect(m, build(m, pos_scheme="alibi"), build(R, pos_scheme="alibi"), "pos_scheme='alibi'"),
    "pos_check_upper_only": lambda m: error_expect(m, run_pos(m, torch.tensor([-1, 0, 1]), pos_scheme="sinusoidal"), run_pos(R, torch.tensor([-1, 0, 1]), pos_scheme="sinusoidal"), "sinusoidal, positions [-1, 0, 1]"),
    "pos_check_off_by_one": lambda m: error_expect(m, run_pos(m, torch.tensor([46, 47, 48]), pos_scheme="learned"), run_pos(R, torch.tensor([46, 47, 48]), pos_scheme="learned"), "learned, max_len 48, positions [46, 47, 48]"),
    "pos_check_learned_only": lambda m: error_expect(m, run_pos(m, torch.tensor([46, 47, 48]), pos_scheme="sinusoidal"), run_pos(R, torch.tensor([46, 47, 48]), pos_scheme="sinusoidal"), "sinusoidal, max_len 48, positions [46, 47, 48]"),
    "pos_check_rope_too": lambda m: error_expect(m, run_pos(m, torch.arange(6) + 100), run_pos(R, torch.arange(6) + 100), "rope, max_len 48, positions 100..105"),
    "emb_scaled_sqrt_d": lambda m: differs(m, plain, "scheme none logits", pos_scheme="none"),
    "sinusoidal_persistent": chk_persistent,
    "sinusoidal_plain_attribute": chk_plain_attr,
    "sinusoidal_half_split_table": chk_half_table,
    "table_ignores_explicit_positions": lambda m: differs(m, with_pos(SHIFT), "learned, explicit positions 20..25", pos_scheme="learned"),
    "table_restarts_after_cache": chk_table_restart,
    "rope_rotates_all_schemes": lambda m: differs(m, plain, "learned logits", pos_scheme="learned"),
    "pos_emb_sized_vocab": lambda m: differs(m, plain, "learned (vocab 40, max_len 48)", pos_scheme="learned"),
    "rope_positions_not_passed": chk_rope_not_passed,
    "positions_first_row": lambda m: differs(m, with_pos(PER_ROW), "rope, per-row positions [B=3, T]"),
    "positions_unsqueeze0": chk_unsqueeze0,
    "explicit_positions_offset_by_cache": lambda m: differs(m, decode(), "rope decode 4+3+1+1"),
    "head_split_no_transpose": lambda m: differs(m, plain, "rope logits"),
    "head_merge_no_transpose": lambda m: differs(m, plain, "rope logits"),
    "head_split_strided": lambda m: differs(m, plain, "rope logits with stored weights"),
    "weights_head_averaged": lambda m: differs(m, plain, "attention weights"),
    "scale_by_head_dim": lambda m: differs(m, plain, "rope logits"),
    "scale_by_d_model": lambda m: differs(m, plain, "rope logits"),
    "softmax_over_queries": lambda m: differs(m, plain, "rope logits / weights"),
    "out_proj_skipped": lambda m: differs(m, plain, "logits"),
    "rope_on_values": lambda m: differs(m, plain, "rope logits"),
    "rope_before_head_split": lambda m: differs(m, plain, "rope logits"),
    "rope_interleaved": lambda m: differs(m, plain, "rope logits"),
    "rope_base_ignored": chk_base,
    "causal_flag_ignored": lambda m: differs(m, plain, "causal=False logits", causal=False),
    "causal_mask_ignores_cache": lambda m: differs(m, decode(), "decode 4+3+1+1"),
    "causal_mask_from_position_values": chk_mask_values,
    "mask_after_softmax": lambda m: differs(m, plain, "causal logits / weights"),
    "mask_diagonal_excluded": lambda m: differs(m, plain, "causal logits"),
    "cache_not_used_for_attention": lambda m: differs(m, decode(), "decode 4+3+1+1"),
    "cache_returns_only_new": chk_returns_only_new,
    "cache_unrotated_keys": chk_unrotated,
    "cache_positions_restart": chk_restart_attn,
    "cache_len_from_list": lambda m: differs(m, decode(), "decode 4+3+1+1, n_layers 2"),
    "cache_shared_across_layers": lambda m: differs(m, decode(), "decode 4+3+1+1, n_layers 2"),
    "cache_concat_order": chk_concat_order,
    "dropout_in_eval": chk_dropout_eval,
    "dropout_ignored": chk_dropout_ignored,
    "block_post_norm": lambda m: differs(m, block_plain, "Block output", cls="Block"),
    "block_residual_from_normed": lambda m: differs(m, block_plain, "Block output", cls="Block"),
    "block_norm1_reused": lambda m: differs(m, block_plain, "Block output (norm1 != norm2)", cls="Block"),
    "block_parallel": lambda m: differs(m, block_plain, "Block output", cls="Block"),
    "mlp_tanh_gelu": lambda m: differs(m, block_plain, "Block output (float64)", cls="Block"),
    "mlp_ratio_ignored": lambda m: differs(m, plain, "mlp_ratio=3"),
    "rmsnorm": lambda m: differs(m, plain, "logits"),
    "final_norm_missing": lambda m: differs(m, plain, "logits"),
    "lm_head_tied": chk_tied,
    "lm_head_bias": lambda m: differs(m, plain, "logits"),
}


# ---- valid-case battery ------------------------------------------------------------------
def valid_battery(mod):
    notes = []
    worst64 = worst32 = 0.0
    for scheme in ("rope", "sinusoidal", "learned", "none"):
        for causal in (True, False):
            kw = dict(pos_scheme=scheme, causal=causal)
            scen = [plain, with_pos(GAPS), with_pos(SHIFT), with_pos(PER_ROW), with_pos(REVERSED),
                    with_pos(PER_ROW4), decode(), decode((4, 1, 1, 2)), decode(start=10)]
            ref, case = pair(mod, **kw)
            for s in scen:
                with torch.no_grad():
                    d, msg = maxdiff(s(ref), s(case))
                if d > 1e-10:
                    return False, f"{scheme} causal={causal}: float64 {msg}"
                worst64 = max(worst64, d)
            d, msg = compare(mod, decode(), dtype=torch.float32, **kw)
            if d > 1e-4:
                return False, f"{scheme} causal={causal}: float32 decode {msg}"
            worst32 = max(worst32, d)
    for causal in (True, False):
        for s in (attn_decode(), attn_decode(positions_start=7)):
            d, msg = compare(mod, s, cls="MultiHeadSelfAttention", causal=causal)
            if d > 1e-10:
                return False, f"MultiHeadSelfAttention causal={causal}: {msg}"
    d, msg = compare(mod, block_plain, cls="Block")
    if d > 1e-10:
        return False, f"Block: {msg}"
    notes.append(f"4 schemes x causal on/off x 9 scenarios (gaps, shift, per-row, reversed, B=H, decode) float64 max |diff| {worst64:.1e}, float32 decode {worst32:.1e}")
    # bf16: runs, keeps dtype, close to the reference
    ref, case = pair(mod, dtype=torch.bfloat16)
    with torch.no_grad():
        a, b = ref(IDX[:, :6])[0], case(IDX[:, :6])[0]
    if b.dtype != torch.bfloat16 or (a.float() - b.float()).abs().max().item() > 0.15:
        return False, f"bf16: dtype {b.dtype}, diff {(a.float() - b.float()).abs().max().item():.3g}"
    notes.append(f"bf16 logits dtype kept, diff {(a.float() - b.float()).abs().max().item():.2g}")
    # dropout: eval equals the reference, train mode is stochastic, zeroed sublayers leave x unchanged
    d, msg = compare(mod, plain, dropout=0.5)
    if d > 1e-10:
        return False, f"dropout=0.5 eval: {msg}"
    if chk_dropout_ignored(mod)[0]:
        return False, "dropout=0.5 train mode is deterministic"
    if chk_dropout_residual(mod)[0]:
        return False, "dropout touches the residual stream"
    notes.append("dropout ok")
    # documented errors and non-errors
    expect = [
        (build(mod, d_model=10, n_heads=4, pos_scheme="none"), "ValueError"),
        (build(mod, d_model=24, n_heads=8), "ValueError"),
        (build(mod, d_model=12, n_heads=4, pos_scheme="none"), "ok"),
        (build(mod, pos_scheme="alibi"), "ValueError"),
        (run_pos(mod, torch.tensor([-1, 0, 1]), pos_scheme="sinusoidal"), "ValueError"),
        (run_pos(mod, torch.tensor([46, 47, 48]), pos_scheme="learned"), "ValueError"),
        (run_pos(mod, torch.tensor([46, 47, 48]), pos_scheme="sinusoidal"), "ValueError"),
        (run_pos(mod, torch.tensor([[0, 1, 2], [1, 2, 48]]), pos_scheme="learned"), "ValueError"),
        (run_pos(mod, torch.arange(6) + 100), "ok"),
        (run_pos(mod, torch.tensor([46, 47, 48]), pos_scheme="none"), "ok"),
    ]
    for i, (fn, want) in enumerate(expect):
        got = outcome(fn)
        if got != want:
            return False, f"error expectation {i}: want {want}, got {got}"
    notes.append(f"{len(expect)} error expectations")
    for scheme in ("rope", "sinusoidal", "learned", "none"):
        torch.manual_seed(0)
        r = R.Transformer(R.TransformerConfig(**cfg_kw(pos_scheme=scheme)))
        c = mod.Transformer(mod.TransformerConfig(**cfg_kw(pos_scheme=scheme)))
        if set(r.state_dict()) != set(c.state_dict()) or ("pos_table" in dict(c.named_buffers())) != (scheme == "sinusoidal"):
            return False, f"{scheme}: state_dict keys / buffers differ"
        if c.lm_head.weight.data_ptr() == c.tok_emb.weight.data_ptr():
            return False, "lm_head tied"
    notes.append("state_dict keys match")
    return True, "; ".join(notes)


def main() -> int:
    t0 = time.perf_counter()
    failed = 0
    files = cases("transformer")
    seen = set()
    for path in files:
        kind, slug = path.stem.split("_", 1)
        try:
            mod = load_case(path, "transformer")
            if kind == "wrong":
                seen.add(slug)
                if slug not in WRONG:
                    ok, msg = False, "no check registered"
                else:
                    ok, msg = WRONG[slug](mod)
                    if ok and kind == "wrong":
                        # a wrong case must otherwise be correct enough to run the basic rope forward
                        pass
            else:
                ok, msg = valid_battery(mod)
        except Exception as e:  # noqa: BLE001
            ok, msg = False, f"verification crashed: {type(e).__name__}: {e}\n{traceback.format_exc()}"
        print(f"{'OK' if ok else 'FAIL'} {path.name} {msg}")
        failed += not ok
    missing = set(WRONG) - seen
    for slug in sorted(missing):
        print(f"FAIL wrong_{slug}.py registered but missing")
        failed += 1
    n_w = sum(p.name.startswith("wrong_") for p in files)
    n_v = sum(p.name.startswith("valid_") for p in files)
    print(f"{n_w} wrong, {n_v} valid, {failed} failed, {time.perf_counter() - t0:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
