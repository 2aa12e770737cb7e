"""Verify the attention corpus: every wrong case breaks the docstring's contract, every valid case keeps it.

Run from the repository root: python tests/corpus/attention/_verify.py
Independent definitions only (float64 softmax(q k^T / sqrt(d)) v, the permutation property by hand).
"""

from __future__ import annotations

import math
import sys
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests" / "corpus"))
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from _load import cases, load_case  # noqa: E402

torch.set_num_threads(1)
NAN = float("nan")


def gen(seed):
    return torch.Generator().manual_seed(seed)


def randn(*shape, seed=0, dtype=torch.float64):
    return torch.randn(*shape, generator=gen(seed), dtype=torch.float64).to(dtype)


# ----------------------------------------------------------------------------- definitions
def definition(q, k, v, mask=None):
    q, k, v = q.double(), k.double(), v.double()
    d = q.shape[-1]
    scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(d)
    if mask is not None:
        scores = torch.where(mask, scores, torch.tensor(-math.inf, dtype=torch.float64))
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights


def equivariant(layer, x, perm, atol):
    a = layer(x[..., perm, :])
    b = layer(x)[..., perm, :]
    return bool(torch.allclose(a, b, rtol=0.0, atol=atol))


def causal(T):
    return torch.ones(T, T, dtype=torch.bool).tril()


D = 8
M6 = randn(6, 6, seed=14)
W = [randn(D, D, seed=s) / D**0.5 for s in (11, 12, 13)]


def self_attn(x, mask=None):
    q, k, v = x @ W[0], x @ W[1], x @ W[2]
    return definition(q, k, v, mask)[0]


def sinus(T, d):
    pos = torch.arange(T, dtype=torch.float64)[:, None]
    i = torch.arange(0, d, 2, dtype=torch.float64)
    ang = pos / 10000 ** (i / d)
    return torch.stack([ang.sin(), ang.cos()], -1).reshape(T, d)


def with_pe(x):
    return self_attn(x + sinus(x.shape[-2], x.shape[-1]))


def pos_index(x):
    return torch.arange(x.shape[-2], dtype=x.dtype)[:, None].expand(x.shape[-2], x.shape[-1])


def roll_mix(x):  # circular: equivariant under cyclic shifts only
    return x + 0.5 * x.roll(1, dims=-2) - 0.25 * x.roll(-2, dims=-2)


def nan_token0(x):
    y = x.clone()
    y[..., 0, :] = NAN
    return y


# (description, layer, x, perm, atol, truth)
def perm_suite():
    p7 = torch.randperm(7, generator=gen(1))
    p6 = torch.tensor([1, 2, 3, 4, 5, 0])
    p5 = torch.tensor([1, 2, 3, 4, 0])
    rows = [
        ("attention 3-D", self_attn, randn(2, 7, D, seed=2), p7, 1e-6),
        ("attention + PE", with_pe, randn(2, 7, D, seed=2), p7, 1e-6),
        ("causal attention", lambda x: self_attn(x, causal(x.shape[-2])), randn(2, 7, D, seed=2), p7, 1e-6),
        ("causal, identity perm", lambda x: self_attn(x, causal(x.shape[-2])), randn(2, 7, D, seed=2), torch.arange(7), 1e-6),
        ("flip tokens", lambda x: x.flip(-2), randn(2, 6, 4, seed=3), p6, 1e-6),
        ("attention 2-D", self_attn, randn(6, D, seed=4), p6, 1e-6),
        ("per-token MLP 2-D square", lambda x: torch.tanh(x @ M6), randn(6, 6, seed=4), p6, 1e-6),
        ("attention 4-D", self_attn, randn(2, 6, 6, D, seed=5), p6, 1e-6),
        ("attention + PE 4-D", with_pe, randn(2, 6, 6, D, seed=5), p6, 1e-6),
        ("attention + PE, B = T", with_pe, randn(6, 6, D, seed=6), p6, 1e-6),
        ("3-cycle", self_attn, randn(2, 6, D, seed=7), torch.tensor([1, 2, 0, 3, 4, 5]), 1e-6),
        ("1e7 + x + positions", lambda x: 1e7 + x + pos_index(x), randn(2, 6, 4, seed=8), p6, 1e-6),
        ("1e-9 x + 1e-9 positions", lambda x: 1e-9 * x + 1e-9 * pos_index(x), randn(2, 6, 4, seed=8), p6, 1e-6),
        ("NaN at token 0", nan_token0, randn(2, 5, 4, seed=9), p5, 1e-6),
        ("x + 1e-3 positions, atol 0.1", lambda x: x + 1e-3 * pos_index(x), randn(2, 5, 4, seed=9), p5, 0.1),
        ("roll-mix, roll perm", roll_mix, randn(2, 8, 4, seed=10), torch.arange(8).roll(1), 1e-6),
    ]
    return [(name, layer, x, perm, atol, equivariant(layer, x, perm, atol)) for name, layer, x, perm, atol in rows]


SUITE = perm_suite()
TRUTH = {name: truth for name, _, _, _, _, truth in SUITE}
assert TRUTH["attention 3-D"] and not TRUTH["attention + PE"] and not TRUTH["flip tokens"]
assert not TRUTH["1e7 + x + positions"] and TRUTH["1e-9 x + 1e-9 positions"] and not TRUTH["NaN at token 0"]
assert TRUTH["x + 1e-3 positions, atol 0.1"] and TRUTH["roll-mix, roll perm"] and TRUTH["per-token MLP 2-D square"]


def run_perm(mod, name):
    for row in SUITE:
        if row[0] == name:
            _, layer, x, perm, atol, truth = row
            torch.manual_seed(0)
            return mod.is_permutation_equivariant(layer, x.clone(), perm.clone(), atol)
    raise KeyError(name)


def perm_disagreements(mod):
    bad = []
    for name, layer, x, perm, atol, truth in SUITE:
        try:
            torch.manual_seed(0)
            got = mod.is_permutation_equivariant(layer, x.clone(), perm.clone(), atol)
        except Exception as exc:  # noqa: BLE001
            bad.append(f"{name}: raised {type(exc).__name__}")
            continue
        if type(got) is not bool or got != truth:
            bad.append(f"{name}: got {got!r}, definition {truth}")
    return bad


def sdpa_inputs():
    B, H = 2, 3
    out = []
    out.append(("2-D", randn(5, 16, seed=20), randn(6, 16, seed=21), randn(6, 4, seed=22), None))
    out.append(("3-D causal", randn(2, 5, 8, seed=23), randn(2, 5, 8, seed=24), randn(2, 5, 8, seed=25), causal(5)))
    pad = torch.ones(B, 1, 1, 6, dtype=torch.bool)
    pad[1, ..., 4:] = False
    out.append(("4-D padding mask", randn(B, H, 5, 8, seed=26), randn(B, H, 6, 8, seed=27), randn(B, H, 6, 3, seed=28), pad))
    out.append(("4-D k,v shared over heads", randn(B, H, 5, 8, seed=29), randn(B, 1, 6, 8, seed=30), randn(B, 1, 6, 8, seed=31), None))
    out.append(("3-D float32 big scores", randn(2, 5, 16, seed=32, dtype=torch.float32) * 100, randn(2, 5, 16, seed=33, dtype=torch.float32),
                randn(2, 5, 16, seed=34, dtype=torch.float32), causal(5)))
    return out


def sdpa_error(mod):
    """Largest error against the definition over the suite; raises if anything else is off."""
    worst = 0.0
    for name, q, k, v, mask in sdpa_inputs():
        copies = [t.clone() for t in (q, k, v)]
        out, w = mod.scaled_dot_product_attention(q, k, v, mask)
        ref_out, ref_w = definition(q, k, v, mask)
        if out.dtype != q.dtype or w.dtype != q.dtype:
            raise AssertionError(f"{name}: dtype {out.dtype}, {w.dtype} for {q.dtype} inputs")
        if out.shape != ref_out.shape or w.shape != ref_w.shape:
            raise AssertionError(f"{name}: shapes {tuple(out.shape)}, {tuple(w.shape)}")
        if any(not torch.equal(a, b) for a, b in zip(copies, (q, k, v))):
            raise AssertionError(f"{name}: inputs modified")
        err = max((out.double() - ref_out).abs().max().item(), (w.double() - ref_w).abs().max().item())
        if not math.isfinite(err):
            raise AssertionError(f"{name}: non-finite result")
        tol = 1e-5 if q.dtype == torch.float32 else 1e-10
        if err > tol:
            raise AssertionError(f"{name}: error {err:.3g}")
        worst = max(worst, err if q.dtype == torch.float64 else 0.0)
    return worst


# ----------------------------------------------------------------------------- targeted checks
def q3(seed=40, d=16, dv=None, dtype=torch.float64, shape=(2, 5)):
    q = randn(*shape, d, seed=seed, dtype=dtype)
    k = randn(*shape, d, seed=seed + 1, dtype=dtype)
    v = randn(*shape, dv or d, seed=seed + 2, dtype=dtype)
    return q, k, v


def weight_diff(mod, q, k, v, mask=None):
    _, w = mod.scaled_dot_product_attention(q, k, v, mask)
    return (w.double() - definition(q, k, v, mask)[1]).abs().max().item()


def forbidden_weight(mod):
    q, k, v = q3(seed=50, d=8)
    _, w = mod.scaled_dot_product_attention(q, k, v, causal(5))
    return w.double().masked_select(~causal(5).expand_as(w)).abs().max().item()


def row_sum_gap(mod, mask=None):
    q, k, v = q3(seed=51, d=8)
    _, w = mod.scaled_dot_product_attention(q, k, v, mask)
    return (w.double().sum(-1) - 1).abs().max().item()


def t_bmm(mod):
    q, k, v = randn(2, 3, 5, 8, seed=60), randn(2, 1, 6, 8, seed=61), randn(2, 1, 6, 8, seed=62)
    try:
        out, _ = mod.scaled_dot_product_attention(q, k, v)
    except Exception as exc:  # noqa: BLE001
        return True, f"raises {type(exc).__name__}"
    err = (out - definition(q, k, v)[0]).abs().max().item()
    return err > 1e-6, f"error {err:.3g}"


def t_float32(mod):
    q, k, v = q3(seed=63)
    out, w = mod.scaled_dot_product_attention(q, k, v)
    err = (out.double() - definition(q, k, v)[0]).abs().max().item()
    return out.dtype != torch.float64, f"{out.dtype} (error {err:.1e} against the float64 definition)"


def t_naive(mod):
    q = randn(2, 5, 16, seed=64, dtype=torch.float32) * 100
    k, v = randn(2, 5, 16, seed=65, dtype=torch.float32), randn(2, 5, 16, seed=66, dtype=torch.float32)
    out, w = mod.scaled_dot_product_attention(q, k, v)
    n_bad = int((~torch.isfinite(w)).sum())
    return n_bad > 0, f"{n_bad} of {w.numel()} weights are NaN or inf (the definition has none)"


def t_inplace(mod):
    q, k, v = q3(seed=67)
    q0 = q.clone()
    mod.scaled_dot_product_attention(q, k, v)
    diff = (q - q0).abs().max().item()
    return diff > 0, f"{diff:.3g}"


def t_d_axis2(mod):
    q, k, v = randn(2, 3, 9, 4, seed=68), randn(2, 3, 9, 4, seed=69), randn(2, 3, 9, 4, seed=70)
    e = weight_diff(mod, q, k, v)
    return e > 1e-6, f"{e:.3g}"


def flag(value, cond, fmt="{:.3g}"):
    return cond, fmt.format(value)


TARGETED = {
    "wrong_scale_by_d": lambda m: flag(e := weight_diff(m, *q3()), e > 1e-3),
    "wrong_no_scale": lambda m: flag(e := weight_diff(m, *q3()), e > 1e-3),
    "wrong_softmax_query_axis": lambda m: flag(e := row_sum_gap(m), e > 1e-3),
    "wrong_mask_inverted": lambda m: flag(e := forbidden_weight(m), not (e == 0)),
    "wrong_mask_after_softmax": lambda m: flag(e := row_sum_gap(m, causal(5)), e > 1e-3),
    "wrong_mask_added_as_float": lambda m: flag(e := forbidden_weight(m), e > 0),
    "wrong_mask_fill_zero": lambda m: flag(e := forbidden_weight(m), e > 0),
    "wrong_bmm_flatten": t_bmm,
    "wrong_float32_compute": t_float32,
    "wrong_scale_by_dv": lambda m: flag(e := weight_diff(m, *q3(d=16, dv=4)), e > 1e-3),
    "wrong_d_from_axis_2": t_d_axis2,
    "wrong_naive_softmax": t_naive,
    "wrong_inplace_scale": t_inplace,
    "wrong_returns_scores": lambda m: flag(e := row_sum_gap(m), e > 1e-3),
    "wrong_perm_batch_axis": lambda m: ((r := run_perm(m, "attention + PE, B = T")) is not TRUTH["attention + PE, B = T"], repr(r)),
    "wrong_perm_invariance": lambda m: ((r := run_perm(m, "attention 3-D")) is not True, repr(r)),
    "wrong_perm_allclose_rtol": lambda m: ((r := run_perm(m, "1e7 + x + positions")) is not False, repr(r)),
    "wrong_perm_relative_error": lambda m: (
        (r0 := run_perm(m, "1e-9 x + 1e-9 positions")) is not True or (r1 := run_perm(m, "1e7 + x + positions")) is not False,
        f"{r0!r} / {run_perm(m, '1e7 + x + positions')!r}",
    ),
    "wrong_perm_nan_passes": lambda m: ((r := run_perm(m, "NaN at token 0")) is not False, repr(r)),
    "wrong_perm_returns_tensor": lambda m: (type(r := run_perm(m, "attention 3-D")) is not bool, type(r).__name__),
    "wrong_perm_sums_only": lambda m: ((r := run_perm(m, "flip tokens")) is not False, repr(r)),
    "wrong_perm_inverse": lambda m: ((r := run_perm(m, "3-cycle")) is not True, repr(r)),
    "wrong_perm_axis_1": lambda m: (
        run_perm(m, "per-token MLP 2-D square") is not True or run_perm(m, "attention + PE 4-D") is not False,
        f"{run_perm(m, 'per-token MLP 2-D square')!r} / {run_perm(m, 'attention + PE 4-D')!r}",
    ),
    "wrong_perm_atol_ignored": lambda m: ((r := run_perm(m, "x + 1e-3 positions, atol 0.1")) is not True, repr(r)),
    "wrong_perm_own_randperm": lambda m: ((r := run_perm(m, "roll-mix, roll perm")) is not True, repr(r)),
}


def check_valid(mod, name):
    err = sdpa_error(mod)
    bad = perm_disagreements(mod)
    if bad:
        raise AssertionError("; ".join(bad))
    extra = ""
    if name == "valid_lowprec_upcast":
        q, k, v = (t.to(torch.bfloat16) for t in q3(seed=80))
        out, w = mod.scaled_dot_product_attention(q, k, v, causal(5))
        ref = definition(q, k, v, causal(5))[0]
        e = (out.double() - ref).abs().max().item()
        if out.dtype != torch.bfloat16 or e > 2e-2:
            raise AssertionError(f"bf16: {out.dtype}, error {e}")
        extra = f"; bf16 error {e:.1e}"
    if name == "valid_strict_validation":
        q, k, v = q3(seed=81, d=8)
        for bad_call in (
            lambda: mod.scaled_dot_product_attention(q, k, v, causal(5).int()),
            lambda: mod.is_permutation_equivariant(self_attn, randn(2, 3, D, seed=1), torch.tensor([0, 0, 1])),
        ):
            try:
                bad_call()
            except ValueError:
                continue
            raise AssertionError("no ValueError for a documented precondition")
        extra = "; ValueError for int mask and non-permutation"
    return f"matches the definition on {len(sdpa_inputs())} sdpa inputs (max float64 diff {err:.1e}) and all {len(SUITE)} permutation verdicts{extra}"


def main():
    failures = 0
    evidence = []
    for path in cases("attention"):
        name = path.stem
        try:
            mod = load_case(path)
            if name.startswith("valid_"):
                msg = check_valid(mod, name)
                print(f"OK {path.name} {msg}")
                evidence.append((name, {"e": f"{sdpa_error(mod):.1e}"}))
                continue
            if name not in TARGETED:
                raise AssertionError("no targeted check")
            broken, value = TARGETED[name](mod)
            suite_bad = []
            try:
                sdpa_error(mod)
            except Exception as exc:  # noqa: BLE001
                suite_bad.append(f"sdpa: {exc}")
            suite_bad += perm_disagreements(mod)
            if broken:
                print(f"OK {path.name} differs from the contract: {value} (suite: {len(suite_bad)} disagreement(s))")
            else:
                failures += 1
                print(f"FAIL {path.name} targeted check did not show the mistake ({value}); suite: {suite_bad[:2]}")
            if "/" in value:
                a, b = value.split(" / ")
                evidence.append((name, {"e0": a, "e1": b}))
            else:
                evidence.append((name, {"e": value}))
        except Exception as exc:  # noqa: BLE001
            failures += 1
            print(f"FAIL {path.name} {type(exc).__name__}: {exc}")
            traceback.print_exc(limit=2)
    if "--evidence" in sys.argv:
        Path(sys.argv[sys.argv.index("--evidence") + 1]).write_text("".join(f"{n}\t{v!r}\n" for n, v in evidence))
    n = len(cases("attention"))
    print(f"{n - failures}/{n} cases verified")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
