"""Verify the rope corpus: every wrong case breaks the docstring's contract, every valid case keeps it.

Run from the repository root: python tests/corpus/rope/_verify.py

The contract is checked against an independent float64 definition written below (one Python loop over
the pairs, positions broadcast with numpy), never against the reference solution's code. Each check of
the battery returns None (kept) or a message with the number that shows the break. A wrong case must
fail its primary check and may fail only the checks its one mistake can reach; a valid case must pass
all of them.
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

torch.manual_seed(0)


# ----------------------------------------------------------------------------- the definition
def ref_rope(x, pos, base=10000.0, interleaved=False, r=None):
    """RoPE from the docstring: pair i of features rotated by pos * base ** (-2i / r), float64."""
    x = np.asarray(x, dtype=np.float64)
    d = x.shape[-1]
    r = d if r is None else r
    pos = np.broadcast_to(np.asarray(pos, dtype=np.float64), x.shape[:-1])
    out = x.copy()
    for i in range(r // 2):
        a, b = (2 * i, 2 * i + 1) if interleaved else (i, i + r // 2)
        ang = pos * base ** (-2.0 * i / r)
        out[..., a] = x[..., a] * np.cos(ang) - x[..., b] * np.sin(ang)
        out[..., b] = x[..., b] * np.cos(ang) + x[..., a] * np.sin(ang)
    return out


def ref_table(pos, dim, base=10000.0):
    """cos, sin tables cat(freqs, freqs) from the docstring, float64."""
    pos = np.asarray(pos, dtype=np.float64)
    j = np.arange(dim) % (dim // 2)
    ang = pos[..., None] * base ** (-2.0 * j / dim)
    return np.cos(ang), np.sin(ang)


def g(*shape, dtype=torch.float64, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=gen, dtype=torch.float64).to(dtype)


def err(got, exp):
    got = got.detach().to(torch.float64).numpy() if isinstance(got, torch.Tensor) else np.asarray(got)
    if got.shape != np.shape(exp):
        return float("inf")
    return float(np.abs(got - exp).max())


# ----------------------------------------------------------------------------- the battery
def chk_values(fn, x, pos, tol, label, dtype=None, **kw):
    """fn(x, pos, **kw) has x's shape and dtype and matches the definition within tol."""
    rk = {"base": kw.get("base", 10000.0), "interleaved": kw.get("interleaved", False), "r": kw.get("rotary_dim")}
    expected = ref_rope(x.to(torch.float64).numpy(), pos.numpy(), **rk)  # before the call can touch x
    try:
        y = fn(x, pos, **kw)
    except Exception as e:  # noqa: BLE001
        return f"{label}: raised {type(e).__name__}: {str(e)[:80]}"
    if tuple(y.shape) != tuple(x.shape):
        return f"{label}: shape {tuple(y.shape)} != x's {tuple(x.shape)}"
    if y.dtype != (dtype or x.dtype):
        return f"{label}: dtype {y.dtype} != x's {x.dtype}"
    e = err(y, expected)
    if e > tol:
        return f"{label}: max |out - definition| = {e:.3g} (tol {tol:g})"
    return None


def expect_value_error(fn, label):
    try:
        fn()
    except ValueError:
        return None
    except Exception as e:  # noqa: BLE001
        return f"{label}: raised {type(e).__name__} ({str(e)[:60]}), not ValueError"
    return f"{label}: no error raised"


def cs_layout(m):
    pos = torch.tensor([[0, 1, 2], [5, 6, 60]])
    try:
        c, s = m.rope_cos_sin(pos, 8)
    except Exception as e:  # noqa: BLE001
        return f"positions [[0,1,2],[5,6,60]]: raised {type(e).__name__}"
    if tuple(c.shape) != (2, 3, 8) or tuple(s.shape) != (2, 3, 8):
        return f"positions [2, 3], dim 8: shape {tuple(c.shape)} instead of (2, 3, 8)"
    if c.dtype != torch.float32 or s.dtype != torch.float32:
        return f"default dtype: got {c.dtype}, expected torch.float32"
    ec, es = ref_table(pos.numpy(), 8)
    e = max(err(c, ec), err(s, es))
    return None if e < 1e-6 else f"positions [[0,1,2],[5,6,60]], dim 8: max |table - cat(freqs, freqs)| = {e:.3g}"


def cs_base(m):
    pos = torch.arange(5)
    c, s = m.rope_cos_sin(pos, 6, 500.0, dtype=torch.float64)
    ec, es = ref_table(pos.numpy(), 6, 500.0)
    e = max(err(c, ec), err(s, es))
    return None if e < 1e-12 else f"base=500, positions 0..4, dim 6: max |table - definition| = {e:.3g}"


def cs_float64(m):
    pos = torch.tensor([0, 7, 1000, 60000])
    c, s = m.rope_cos_sin(pos, 16, dtype=torch.float64)
    if c.dtype != torch.float64:
        return f"dtype=float64 asked, got {c.dtype}"
    ec, es = ref_table(pos.numpy(), 16)
    e = max(err(c, ec), err(s, es))
    return None if e < 1e-9 else f"dtype=float64, positions up to 60000: max |table - definition| = {e:.3g}"


def cs_bf16(m):
    pos = torch.tensor([60000, 65535, 70001])
    c, s = m.rope_cos_sin(pos, 128, dtype=torch.bfloat16)
    if c.dtype != torch.bfloat16 or s.dtype != torch.bfloat16:
        return f"dtype=bf16 asked, got {c.dtype}"
    ec, es = ref_table(pos.numpy(), 128)
    e = max(err(c, ec), err(s, es))
    return None if e <= 2**-8 else f"dtype=bf16, positions 60000..70001, dim 128: max |table - float64 definition| = {e:.3g} (bf16 rounding is <= 0.0039)"


def cs_odd(m):
    return expect_value_error(lambda: m.rope_cos_sin(torch.arange(3), 7), "rope_cos_sin(dim=7)")


def ar_basic(m):
    return chk_values(m.apply_rope, g(4, 8), torch.arange(4), 1e-12, "x [4, 8] float64, positions 0..3")


def ar_offset(m):
    return chk_values(m.apply_rope, g(2, 3, 8, seed=1), torch.tensor([10, 11, 12]), 1e-12, "positions [10, 11, 12]")


def ar_gapped(m):
    return chk_values(m.apply_rope, g(3, 8, seed=2), torch.tensor([0, 5, 2]), 1e-12, "gapped positions [0, 5, 2]")


def ar_base(m):
    return chk_values(m.apply_rope, g(3, 8, seed=3), torch.tensor([1, 2, 3]), 1e-12, "base=100", base=100.0)


def ar_interleaved(m):
    return chk_values(
        m.apply_rope, g(2, 4, 8, seed=4), torch.tensor([1, 4, 9, 16]), 1e-12, "interleaved=True", interleaved=True
    )


def ar_interleaved_base(m):
    return chk_values(
        m.apply_rope, g(3, 6, seed=5), torch.tensor([2, 3, 4]), 1e-12, "interleaved, base=300", interleaved=True, base=300.0
    )


def ar_rotary_half(m):
    return chk_values(
        m.apply_rope, g(3, 12, seed=6), torch.tensor([3, 4, 50]), 1e-12, "dim 12, rotary_dim=8, half-split", rotary_dim=8
    )


def ar_rotary_inter(m):
    return chk_values(
        m.apply_rope, g(3, 12, seed=7), torch.tensor([3, 4, 50]), 1e-12, "dim 12, rotary_dim=8, interleaved",
        rotary_dim=8, interleaved=True,
    )


def ar_pos_BT(m):
    p = torch.tensor([[0, 1, 2], [5, 6, 9]])
    for inter in (False, True):
        r = chk_values(m.apply_rope, g(2, 3, 8, seed=8), p, 1e-12, f"x [2,3,8], positions [[0,1,2],[5,6,9]], interleaved={inter}", interleaved=inter)
        if r:
            return r
    return None


def ar_pos_B1T_neqH(m):
    p = torch.tensor([[[0, 1, 2, 3]], [[7, 9, 11, 13]]])
    return chk_values(m.apply_rope, g(2, 3, 4, 8, seed=9), p, 1e-12, "x [B=2,H=3,T=4,8], positions [B,1,T] per row")


def ar_pos_B1T_eqH(m):
    p = torch.tensor([[[0, 1, 2, 3]], [[7, 9, 11, 13]]])
    return chk_values(m.apply_rope, g(2, 2, 4, 8, seed=10), p, 1e-12, "x [B=2,H=2,T=4,8], positions [B,1,T] per row")


def ar_pos_HT(m):
    p = torch.tensor([[0, 1, 2, 3], [7, 9, 11, 13]])
    return chk_values(m.apply_rope, g(2, 2, 4, 8, seed=11), p, 1e-12, "x [2,2,4,8], positions [2,4] (broadcast over heads)")


def ar_pos_T_4d(m):
    return chk_values(m.apply_rope, g(2, 3, 4, 8, seed=12), torch.tensor([3, 1, 4, 1]), 1e-12, "x [2,3,4,8], positions [4]")


def ar_pos_scalar(m):
    return chk_values(m.apply_rope, g(2, 1, 8, seed=13), torch.tensor(7), 1e-12, "x [2,1,8], 0-d positions 7")


def ar_int32(m):
    return chk_values(m.apply_rope, g(3, 8, seed=14), torch.tensor([2, 9, 40], dtype=torch.int32), 1e-12, "int32 positions")


def ar_float32(m):
    return chk_values(m.apply_rope, g(2, 5, 16, dtype=torch.float32, seed=15), torch.arange(5) * 3, 1e-5, "x float32")


def ar_bf16(m):
    p = torch.tensor([60000, 60001, 65000, 70000])
    return chk_values(m.apply_rope, g(2, 4, 16, dtype=torch.bfloat16, seed=16), p, 0.1, "x bf16, positions 60000..70000")


def ar_grad(m):
    pos = torch.tensor([0, 3, 7])
    for kw in ({}, {"interleaved": True}, {"rotary_dim": 6}):
        x = g(2, 3, 8, seed=17).requires_grad_(True)
        go = g(2, 3, 8, seed=18)
        try:
            y = m.apply_rope(x, pos, **kw)
            (y * go).sum().backward()
        except Exception as e:  # noqa: BLE001
            return f"backward through apply_rope({kw}): {type(e).__name__}: {str(e)[:70]}"
        if x.grad is None:
            return f"apply_rope({kw}): x.grad is None after backward"
        rk = {"interleaved": kw.get("interleaved", False), "r": kw.get("rotary_dim")}
        e = err(x.grad, ref_rope(go.numpy(), -pos.numpy(), **rk))
        if e > 1e-10:
            return f"apply_rope({kw}): |x.grad - R(-m) grad_out| = {e:.3g}"
    return None


def ar_no_inplace(m):
    for kw in ({}, {"interleaved": True}, {"rotary_dim": 6}):
        x = g(2, 3, 8, seed=19)
        x0 = x.clone()
        y = m.apply_rope(x, torch.tensor([1, 2, 3]), **kw)
        d = float((x - x0).abs().max())
        if d > 0:
            return f"apply_rope({kw}) changed its input x by up to {d:.3g}"
        if y.data_ptr() == x.data_ptr():
            return f"apply_rope({kw}) returned x itself"
    return None


def ar_err_odd_dim(m):
    return expect_value_error(lambda: m.apply_rope(g(3, 7), torch.arange(3)), "apply_rope(x with dim 7)")


def ar_err_odd_rotary(m):
    return expect_value_error(lambda: m.apply_rope(g(3, 8), torch.arange(3), rotary_dim=5), "apply_rope(rotary_dim=5)")


def ar_err_rotary_gt(m):
    return expect_value_error(lambda: m.apply_rope(g(3, 8), torch.arange(3), rotary_dim=10), "apply_rope(dim 8, rotary_dim=10)")


def cx_check(m, x, pos, tol, label, **kw):
    try:
        y = m.apply_rope_complex(x, pos, **kw)
    except Exception as e:  # noqa: BLE001
        return f"{label}: raised {type(e).__name__}: {str(e)[:70]}"
    if tuple(y.shape) != tuple(x.shape) or y.dtype != x.dtype:
        return f"{label}: got {tuple(y.shape)} {y.dtype}, expected {tuple(x.shape)} {x.dtype}"
    e = err(y, ref_rope(x.to(torch.float64).numpy(), pos.numpy(), base=kw.get("base", 10000.0), interleaved=True))
    return None if e <= tol else f"{label}: max |out - interleaved definition| = {e:.3g}"


def cx_basic(m):
    return cx_check(m, g(2, 3, 8, seed=20), torch.tensor([0, 2, 7]), 1e-12, "complex, x float64, positions [0,2,7]")


def cx_float32(m):
    return cx_check(m, g(2, 3, 8, dtype=torch.float32, seed=21), torch.tensor([0, 2, 7]), 1e-5, "complex, x float32")


def cx_bf16(m):
    return cx_check(m, g(2, 3, 8, dtype=torch.bfloat16, seed=22), torch.tensor([0, 100, 1000]), 0.1, "complex, x bf16")


def cx_BT(m):
    return cx_check(m, g(2, 3, 8, seed=23), torch.tensor([[0, 1, 2], [4, 8, 16]]), 1e-12, "complex, positions [[0,1,2],[4,8,16]]")


def cx_base(m):
    return cx_check(m, g(3, 8, seed=24), torch.tensor([1, 2, 3]), 1e-12, "complex, base=50", base=50.0)


def cx_odd(m):
    return expect_value_error(lambda: m.apply_rope_complex(g(3, 7), torch.arange(3)), "apply_rope_complex(dim 7)")


BATTERY = {name: f for name, f in globals().items() if name.startswith(("cs_", "ar_", "cx_")) and callable(f) and name != "cx_check"}

# wrong case -> (primary check, patterns of the checks its one mistake may also break)
EXPECT = {
    "wrong_cos_sin_repeat_interleave": ("cs_layout", ["cs_*"]),
    "wrong_cos_sin_ignores_base": ("cs_base", []),
    "wrong_cos_sin_angles_in_dtype": ("cs_bf16", []),
    "wrong_cos_sin_no_odd_check": ("cs_odd", []),
    "wrong_cos_sin_flattens_positions": ("cs_layout", []),
    "wrong_cos_sin_no_cast": ("cs_layout", ["cs_bf16"]),
    "wrong_rotate_half_sign": ("ar_basic", ["ar_*"]),
    "wrong_exponent_i_over_d": ("ar_basic", ["ar_*"]),
    "wrong_interleaved_ignored": ("ar_interleaved", ["ar_interleaved_base", "ar_rotary_inter", "ar_pos_BT", "ar_grad"]),
    "wrong_interleaved_cat_table": ("ar_interleaved", ["ar_interleaved_base", "ar_rotary_inter", "ar_pos_BT", "ar_grad"]),
    "wrong_rotary_dim_freqs_use_dim": ("ar_rotary_half", ["ar_rotary_inter", "ar_grad"]),
    "wrong_rotary_dim_pairs_span_dim": ("ar_rotary_half", ["ar_grad"]),
    "wrong_rotary_dim_tail_zeroed": ("ar_rotary_half", ["ar_rotary_inter", "ar_grad"]),
    "wrong_positions_first_row": ("ar_pos_BT", ["ar_pos_*"]),
    "wrong_positions_squeezed": ("ar_pos_B1T_eqH", ["ar_pos_B1T_neqH"]),
    "wrong_positions_hf_unsqueeze": ("ar_pos_BT", ["ar_pos_HT"]),
    "wrong_positions_contiguous_offset": ("ar_gapped", ["ar_*"]),
    "wrong_positions_ignored": ("ar_offset", ["ar_*"]),
    "wrong_theta_cast_to_positions_dtype": ("ar_basic", ["ar_*"]),
    "wrong_bf16_promoted_to_float32": ("ar_bf16", []),
    "wrong_angles_in_x_dtype": ("ar_bf16", []),
    "wrong_out_default_dtype": ("ar_basic", ["ar_*"]),
    "wrong_out_kwarg_not_differentiable": ("ar_grad", []),
    "wrong_no_grad": ("ar_grad", []),
    "wrong_writes_into_x": ("ar_no_inplace", ["ar_grad"]),
    "wrong_no_odd_rotary_dim_check": ("ar_err_odd_rotary", []),
    "wrong_odd_dim_partial": ("ar_err_odd_dim", []),
    "wrong_rotary_dim_over_dim": ("ar_err_rotary_gt", []),
    "wrong_complex_conjugate": ("cx_basic", ["cx_float32", "cx_bf16", "cx_BT", "cx_base"]),
    "wrong_complex_half_split_pairs": ("cx_basic", ["cx_float32", "cx_bf16", "cx_BT", "cx_base"]),
    "wrong_complex_bf16_no_upcast": ("cx_bf16", []),
    "wrong_complex_no_cast_back": ("cx_bf16", []),
    "wrong_complex_outer_positions": ("cx_BT", []),
    "wrong_complex_no_odd_check": ("cx_odd", []),
    "wrong_complex_ignores_base": ("cx_base", []),
}


def run_battery(m):
    out = {}
    for name, f in BATTERY.items():
        try:
            out[name] = f(m)
        except Exception as e:  # noqa: BLE001
            out[name] = f"{name}: raised {type(e).__name__}: {str(e)[:70]}"
    return {k: v for k, v in out.items() if v}


def main() -> int:
    # the definition itself agrees with the reference solution (used as a black box)
    ref = load_reference("rope")
    x = g(2, 2, 3, 12, seed=99)
    p = torch.tensor([[[0, 5, 60000]], [[3, 2, 1]]])
    for kw in ({}, {"interleaved": True}, {"rotary_dim": 8}, {"base": 77.0, "interleaved": True, "rotary_dim": 6}):
        rk = {"base": kw.get("base", 10000.0), "interleaved": kw.get("interleaved", False), "r": kw.get("rotary_dim")}
        assert err(ref.apply_rope(x, p, **kw), ref_rope(x.numpy(), p.numpy(), **rk)) < 1e-9, kw
    assert not run_battery(ref), run_battery(ref)

    failures, evidence = 0, {}
    for path in cases("rope"):
        try:
            m = load_case(path)
            bad = run_battery(m)
        except Exception as e:  # noqa: BLE001
            print(f"FAIL {path.name} could not run: {type(e).__name__}: {e}")
            failures += 1
            continue
        stem = path.stem
        if stem.startswith("valid_"):
            if bad:
                print(f"FAIL {path.name} breaks the contract: {bad}")
                failures += 1
            else:
                print(f"OK {path.name} passes all {len(BATTERY)} contract checks (values vs float64 definition, shapes, dtypes, grads, errors)")
            continue
        if stem not in EXPECT:
            print(f"FAIL {path.name} has no expectation")
            failures += 1
            continue
        primary, allowed = EXPECT[stem]
        extra = [k for k in bad if k != primary and not any(fnmatch.fnmatch(k, pat) for pat in allowed)]
        if primary not in bad or extra:
            print(f"FAIL {path.name} primary {primary} failed: {primary in bad}; unexpected failures: {extra} {bad}")
            failures += 1
        else:
            evidence[path.parent.name + "/" + path.name] = bad[primary]
            print(f"OK {path.name} {bad[primary]}  [{len(bad)}/{len(BATTERY)} checks broken]")
    if os.environ.get("CORPUS_EVIDENCE_OUT"):
        Path(os.environ["CORPUS_EVIDENCE_OUT"]).write_text(json.dumps(evidence, indent=1))
    n = len(cases("rope"))
    print(f"{n - failures}/{n} cases verified ({len(cases('rope', 'wrong'))} wrong, {len(cases('rope', 'valid'))} valid)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
