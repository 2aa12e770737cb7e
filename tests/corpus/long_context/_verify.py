"""Verify the long_context corpus: every wrong case breaks the docstring's contract in the one function it
names (and only there), every valid case meets the whole contract.

Run from the repository root: python tests/corpus/long_context/_verify.py
Expected values come from the docstring's formulas written here in numpy (float64), cross-checked against
the reference solution used as a black box.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests" / "corpus"))
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from _load import cases, load_case, load_reference  # noqa: E402

torch.manual_seed(0)


# ------------------------------------------------------------------ independent definitions (docstring)
def theta_np(dim, base):
    return base ** (-2.0 * np.arange(dim // 2) / dim)


def yarn_def(dim, base, scale, L, beta_fast=32.0, beta_slow=1.0):
    cd = lambda R: dim * math.log(L / (2 * math.pi * R)) / (2 * math.log(base))  # noqa: E731
    low = min(max(math.floor(cd(beta_fast)), 0), dim - 1)
    high = min(max(math.ceil(cd(beta_slow)), 0), dim - 1)
    if low == high:
        high += 0.001
    i = np.arange(dim // 2)
    ramp = np.clip((i - low) / (high - low), 0, 1)
    th = theta_np(dim, base)
    return th / scale * ramp + th * (1 - ramp), (0.1 * math.log(scale) + 1 if scale > 1 else 1.0)


def llama3_def(dim, base, factor, L, low_ff=1.0, high_ff=4.0):
    out = []
    for th in theta_np(dim, base):
        w = 2 * math.pi / th
        if w < L / high_ff:
            out.append(th)
        elif w > L / low_ff:
            out.append(th / factor)
        else:
            s = (L / w - low_ff) / (high_ff - low_ff)
            out.append((1 - s) * th / factor + s * th)
    return np.array(out)


def decay_def(dim, max_distance, base=10000.0):
    th = theta_np(dim, base)
    r = np.arange(max_distance + 1)[:, None]
    S = np.cumsum(np.exp(1j * r * th), axis=1)  # S_1 .. S_(d/2)
    return np.abs(S).mean(axis=1)


def close(a, b, tol=1e-12):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= tol * (1 + np.abs(b))))


def raises_value_error(fn, *args, **kw):
    try:
        fn(*args, **kw)
    except ValueError:
        return True
    except Exception:  # noqa: BLE001 - another exception is not the documented one
        return False
    return False


YARN_SETTINGS = [(128, 1e4, 4.0, 4096), (64, 5e5, 8.0, 8192), (128, 1e4, 4.0, 64), (32, 100.0, 2.5, 100000),
                 (128, 1e4, 0.5, 4096), (96, 1e4, 16.0, 2048, 16.0, 2.0)]
LLAMA_SETTINGS = [((128, 5e5, 8.0, 8192), {}), ((64, 1e4, 4.0, 2048), {}), ((128, 1e4, 8.0, 8192), {}),
                  ((64, 1e4, 4.0, 2048), {"low_freq_factor": 2.0, "high_freq_factor": 8.0}),
                  ((32, 1e4, 2.0, 512), {"low_freq_factor": 0.5, "high_freq_factor": 3.0})]
DECAY_SETTINGS = [((128, 4000), {}), ((16, 50), {"base": 100.0}), ((64, 300), {"base": 5e5}), ((2, 10), {})]


def contract_failures(mod) -> dict[str, list[str]]:
    """Failures per function of the module against the docstring's contract."""
    fails: dict[str, list[str]] = {}

    def bad(fn, msg):
        fails.setdefault(fn, []).append(msg)

    # interpolate_positions
    f = "interpolate_positions"
    for pos, s in [(torch.tensor([0, 1, 4095]), 4.0), (torch.arange(100001), 3.0),
                   (torch.tensor([[0.5, 7.0], [3.0, 9.25]], dtype=torch.float32), 2.5),
                   (torch.tensor([0, 3, 8], dtype=torch.int32), 0.5), (torch.tensor([10.0, 20.0], dtype=torch.bfloat16), 4.0)]:
        out = mod.interpolate_positions(pos, s)
        if out.dtype != torch.float64 or out.shape != pos.shape:
            bad(f, f"dtype/shape {out.dtype}/{tuple(out.shape)} for {pos.dtype} {tuple(pos.shape)}")
        elif not close(out, pos.double().numpy() / s, 1e-15):
            bad(f, f"values differ from positions / {s} by {np.abs(out.numpy() - pos.double().numpy() / s).max():.3g}")
    for s in (0.0, -2.0, -0.5):
        if not raises_value_error(mod.interpolate_positions, torch.tensor([0, 1, 2]), s):
            bad(f, f"no ValueError for scale {s}")

    # ntk_scaled_base
    f = "ntk_scaled_base"
    for base, s, dim in [(1e4, 4.0, 128), (1e4, 2.0, 64), (5e5, 8.0, 128), (100.0, 1.5, 4), (1e4, 0.5, 32)]:
        out = mod.ntk_scaled_base(base, s, dim)
        if type(out) is not float:
            bad(f, f"returns {type(out).__name__}, not a Python float")
        if not close(out, base * s ** (dim / (dim - 2))):
            bad(f, f"value {float(out)} instead of {base * s ** (dim / (dim - 2))} (base {base}, scale {s}, dim {dim})")
        else:  # the documented property: slowest pair divided by exactly the scale
            slow_old = base ** (-(dim - 2) / dim)
            slow_new = float(out) ** (-(dim - 2) / dim)
            if abs(slow_old / slow_new - s) > 1e-9 * s:
                bad(f, "slowest pair not divided by the scale")
    for base, s, dim in [(1e4, 2.0, 7), (1e4, 2.0, 3), (1e4, 2.0, 2), (1e4, 2.0, 0), (1e4, 0.0, 64), (1e4, -1.0, 64)]:
        if not raises_value_error(mod.ntk_scaled_base, base, s, dim):
            bad(f, f"no ValueError for dim {dim}, scale {s}")

    # yarn_inv_freq
    f = "yarn_inv_freq"
    for st in YARN_SETTINGS:
        dim, base, s, L = st[:4]
        kw = {"beta_fast": st[4], "beta_slow": st[5]} if len(st) > 4 else {}
        inv, fac = mod.yarn_inv_freq(dim, base, s, L, **kw)
        exp_inv, exp_fac = yarn_def(dim, base, s, L, **kw)
        if not isinstance(inv, torch.Tensor) or inv.dtype != torch.float64 or tuple(inv.shape) != (dim // 2,):
            bad(f, f"inv_freq not a float64 [{dim // 2}] tensor for {st}")
        elif not close(inv, exp_inv):
            rel = np.max(np.abs(inv.numpy() - exp_inv) / exp_inv)
            bad(f, f"inv_freq differs by up to {rel:.3g} relative for {st}")
        if not close(fac, exp_fac):
            bad(f, f"attention_factor {float(fac):.6f} instead of {exp_fac:.6f} for {st}")

    for dim, s in [(7, 4.0), (5, 2.0), (128, 0.0), (128, -2.0)]:
        if not raises_value_error(mod.yarn_inv_freq, dim, 1e4, s, 4096):
            bad(f, f"no ValueError for dim {dim}, scale {s}")

    # llama3_inv_freq
    f = "llama3_inv_freq"
    for args, kw in LLAMA_SETTINGS:
        out = mod.llama3_inv_freq(*args, **kw)
        exp = llama3_def(*args, kw.get("low_freq_factor", 1.0), kw.get("high_freq_factor", 4.0))
        if not isinstance(out, torch.Tensor) or out.dtype != torch.float64:
            bad(f, f"not a float64 tensor for {args} {kw}")
        elif not close(out, exp):
            n = int(np.sum(np.abs(out.numpy() - exp) > 1e-12 * exp))
            bad(f, f"{n} pairs differ (max rel {np.max(np.abs(out.numpy() - exp) / exp):.3g}) for {args} {kw}")
    for args, kw in [((7, 1e4, 8.0, 8192), {}), ((64, 1e4, 8.0, 8192), {"low_freq_factor": 2.0, "high_freq_factor": 2.0}),
                     ((64, 1e4, 8.0, 8192), {"low_freq_factor": 2.0, "high_freq_factor": 1.0})]:
        if not raises_value_error(mod.llama3_inv_freq, *args, **kw):
            bad(f, f"no ValueError for {args} {kw}")

    # long_term_decay_bound
    f = "long_term_decay_bound"
    for args, kw in DECAY_SETTINGS:
        out = mod.long_term_decay_bound(*args, **kw)
        exp = decay_def(*args, **kw)
        if out.dtype != torch.float64:
            bad(f, f"dtype {out.dtype} for {args}")
        if not close(out.double(), exp, 1e-10):
            bad(f, f"differs by up to {np.max(np.abs(out.double().numpy() - exp)):.3g} for {args} {kw}"
                   if out.shape == exp.shape else f"shape {tuple(out.shape)} for {args}")
        if abs(float(out[0]) - (args[0] / 2 + 1) / 2) > 1e-9:
            bad(f, f"bound(0) = {float(out[0])} instead of {(args[0] / 2 + 1) / 2}")
    for args in [(7, 10), (64, -1), (64, -5)]:
        if not raises_value_error(mod.long_term_decay_bound, *args):
            bad(f, f"no ValueError for dim {args[0]}, max_distance {args[1]}")
    return fails


# which function each wrong case breaks
EXPECTED = {
    "wrong_pi_multiplies": "interpolate_positions", "wrong_pi_float32": "interpolate_positions",
    "wrong_pi_negative_scale_accepted": "interpolate_positions",
    "wrong_ntk_exponent_inverted": "ntk_scaled_base", "wrong_ntk_no_small_dim_check": "ntk_scaled_base",
    "wrong_ntk_zero_scale_accepted": "ntk_scaled_base",
    "wrong_yarn_ramp_reversed": "yarn_inv_freq", "wrong_yarn_factor_below_one": "yarn_inv_freq",
    "wrong_yarn_factor_squared": "yarn_inv_freq", "wrong_yarn_no_rounding": "yarn_inv_freq",
    "wrong_yarn_cd_missing_half": "yarn_inv_freq", "wrong_yarn_no_clamp": "yarn_inv_freq",
    "wrong_yarn_ramp_feature_index": "yarn_inv_freq", "wrong_yarn_scale_not_checked": "yarn_inv_freq",
    "wrong_yarn_odd_dim_accepted": "yarn_inv_freq",
    "wrong_llama3_blend_reversed": "llama3_inv_freq", "wrong_llama3_wavelength_no_2pi": "llama3_inv_freq",
    "wrong_llama3_equal_factors_accepted": "llama3_inv_freq", "wrong_llama3_hardcoded_factors": "llama3_inv_freq",
    "wrong_decay_exclusive_cumsum": "long_term_decay_bound", "wrong_decay_sum_not_mean": "long_term_decay_bound",
    "wrong_decay_float32": "long_term_decay_bound", "wrong_decay_negative_distance_accepted": "long_term_decay_bound",
    "wrong_decay_abs_of_mean": "long_term_decay_bound",
}


def specific_evidence(name, mod):
    """The numbers quoted in each wrong case's evidence line."""
    if name == "wrong_pi_multiplies":
        return f"[0,1,4095]/4 -> {mod.interpolate_positions(torch.tensor([0, 1, 4095]), 4.0).tolist()}"
    if name == "wrong_pi_float32":
        out = mod.interpolate_positions(torch.arange(100001), 3.0)
        return f"dtype {out.dtype}, max err {np.max(np.abs(out.double().numpy() - np.arange(100001) / 3.0)):.2g}"
    if name == "wrong_pi_negative_scale_accepted":
        return f"scale -2 -> {mod.interpolate_positions(torch.tensor([0, 1, 2]), -2.0).tolist()}"
    if name == "wrong_ntk_exponent_inverted":
        b = mod.ntk_scaled_base(1e4, 4.0, 128)
        return f"{b:.1f}, slowest ratio {1e4 ** (-126 / 128) / b ** (-126 / 128):.3f}"
    if name == "wrong_ntk_no_small_dim_check":
        try:
            mod.ntk_scaled_base(1e4, 2.0, 2)
            e = "no error"
        except Exception as exc:  # noqa: BLE001
            e = type(exc).__name__
        return f"dim 0 -> {mod.ntk_scaled_base(1e4, 2.0, 0)}, dim 2 -> {e}"
    if name == "wrong_ntk_zero_scale_accepted":
        return f"scale 0 -> {mod.ntk_scaled_base(1e4, 0.0, 64)}"
    if name == "wrong_yarn_scale_not_checked":
        inv0 = mod.yarn_inv_freq(128, 1e4, 0.0, 4096)[0]
        invn = mod.yarn_inv_freq(128, 1e4, -2.0, 4096)[0]
        return f"scale 0 -> {int(torch.isinf(inv0).sum())} inf entries, scale -2 -> {int((invn < 0).sum())} negative entries"
    if name == "wrong_yarn_odd_dim_accepted":
        return f"dim 7 -> shape {tuple(mod.yarn_inv_freq(7, 1e4, 4.0, 4096)[0].shape)}"
    if name.startswith("wrong_yarn"):
        st = (128, 1e4, 4.0, 64) if name == "wrong_yarn_no_clamp" else (128, 1e4, 4.0, 4096)
        inv, fac = mod.yarn_inv_freq(*st)
        if name == "wrong_yarn_factor_below_one":
            fac = mod.yarn_inv_freq(128, 1e4, 0.5, 4096)[1]
        exp, _ = yarn_def(*st)
        rel = np.abs(inv.numpy() - exp) / exp
        return f"{st}: inv[0] {inv[0].item():.4g}, inv[30] {inv[30].item():.4g} (def {exp[30]:.4g}), inv[63]/theta63 {inv[63].item() / theta_np(128, 1e4)[63]:.3g}, max rel {rel.max():.3g}, factor {fac:.6f}"
    if name.startswith("wrong_llama3"):
        if name == "wrong_llama3_equal_factors_accepted":
            out = mod.llama3_inv_freq(64, 1e4, 8.0, 8192, low_freq_factor=2.0, high_freq_factor=2.0)
            return f"equal factors -> tensor of shape {tuple(out.shape)}"
        args, kw = ((64, 1e4, 4.0, 2048), {"low_freq_factor": 2.0, "high_freq_factor": 8.0}) if "hardcoded" in name else ((128, 5e5, 8.0, 8192), {})
        out = mod.llama3_inv_freq(*args, **kw).numpy()
        exp = llama3_def(*args, kw.get("low_freq_factor", 1.0), kw.get("high_freq_factor", 4.0))
        diff = np.abs(out - exp)
        return f"{args} {kw}: {int(np.sum(diff > 1e-12 * exp))} pairs differ, max abs {diff.max():.3g}, max rel {np.max(diff / exp):.3g}, pair {int(np.argmax(diff / exp))}: {out[np.argmax(diff / exp)]:.4g} vs {exp[np.argmax(diff / exp)]:.4g}, first/last differing pair {np.flatnonzero(diff > 1e-12 * exp)[[0, -1]].tolist()}"
    if name == "wrong_decay_negative_distance_accepted":
        return f"max_distance -1 -> shape {tuple(mod.long_term_decay_bound(64, -1).shape)}"
    if name.startswith("wrong_decay"):
        out = mod.long_term_decay_bound(128, 4000)
        exp = decay_def(128, 4000)
        return f"bound(0) {out[0].item():.4g}, bound(10) {out[10].item():.3g} (def {exp[10]:.3g}), dtype {out.dtype}, max err {np.max(np.abs(out.double().numpy() - exp)):.2g}"
    return ""


def main() -> int:
    ref = load_reference("long_context")
    # the independent definitions agree with the reference (black box) and the docstring's example
    ref_fails = contract_failures(ref)
    assert not ref_fails, ref_fails
    inv, fac = yarn_def(128, 1e4, 4.0, 4096)
    assert abs(fac - 1.138629) < 1e-6 and inv[19] == theta_np(128, 1e4)[19] and abs(inv[46] - theta_np(128, 1e4)[46] / 4) < 1e-18

    failed = 0
    for path in cases("long_context"):
        name = path.stem
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
                print(f"OK {path.name} meets every contract check (5 functions, {len(YARN_SETTINGS)} YaRN, {len(LLAMA_SETTINGS)} Llama 3.1, {len(DECAY_SETTINGS)} decay settings, all ValueErrors)")
            continue
        target = EXPECTED.get(name)
        if target is None:
            print(f"FAIL {path.name} has no expected target")
            failed += 1
        elif set(fails) != {target}:
            print(f"FAIL {path.name} expected failures only in {target}, got {fails}")
            failed += 1
        else:
            print(f"OK {path.name} {target}: {fails[target][0]} | {specific_evidence(name, mod)}")
    print(f"{len(cases('long_context', 'wrong'))} wrong, {len(cases('long_context', 'valid'))} valid, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
