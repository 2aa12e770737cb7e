"""Hidden checks for exercises/long_context.py: PI, NTK-aware base, YaRN, Llama 3.1, long-term decay.

Expected values come from properties (scale 1 is the identity, which frequencies are kept or divided),
from the YaRN ramp bounds stored below (the first set is KIT_SPEC's check values; the others were
worked out by hand from cd(R) = d ln(L / (2 pi R)) / (2 ln base)), and for the decay bound from a
plain-Python loop over the definition.
"""

from __future__ import annotations

import cmath
import math

import torch

from ..checking import Mistake, call, check, expect_raises, fail, tensor_result, type_name, unfinished
from ..i18n import tr


def _theta(dim: int, base: float) -> torch.Tensor:
    """RoPE's frequencies theta_i = base ** (-2i / dim), i = 0 .. dim/2 - 1, float64."""
    return base ** (-torch.arange(0, dim, 2, dtype=torch.float64) / dim)


def _freqs(value, what: str, dim: int) -> torch.Tensor:
    out = tensor_result(value, what)
    if tuple(out.shape) != (dim // 2,):
        fail(
            "{what} must have shape [dim/2] = ({value},), got {out_shape}",
            what=what,
            value=dim // 2,
            out_shape=tuple(out.shape),
        )
    out = out.to(torch.float64)
    if not torch.isfinite(out).all():
        fail("{what} contains NaN or inf", what=what)
    return out


def _close(a: torch.Tensor, b: torch.Tensor, rtol: float = 1e-6) -> bool:
    return bool(torch.allclose(a, b, rtol=rtol, atol=0.0))


def _yarn(impl, dim, base, scale, L, **kw) -> tuple[torch.Tensor, float]:
    what = tr("yarn_inv_freq({dim}, {base:g}, {scale:g}, {l})", dim=dim, base=base, scale=scale, l=L)
    result = call(impl, "yarn_inv_freq", dim, base, scale, L, **kw)
    if not isinstance(result, tuple) or len(result) != 2:
        fail("{what} must return a tuple (inv_freq, attention_factor)", what=what)
    inv_freq = _freqs(result[0], f"{what}[0] (inv_freq)", dim)
    try:
        factor = float(result[1])
    except (TypeError, ValueError, RuntimeError):
        fail(
            "{what}[1] (attention_factor) must be a number, got {type_name}",
            what=what,
            type_name=type_name(result[1]),
        )
    return inv_freq, factor


# ---------------------------------------------------------------- Position Interpolation


@check(2, "interpolate_positions: positions / scale")
def test_pi_formula(impl):
    positions = torch.tensor([[0, 1, 2, 7], [100, 4095, 8191, 16383]])
    for scale in (4.0, 2.5, 1.0):
        out = tensor_result(call(impl, "interpolate_positions", positions, scale), "interpolate_positions")
        if tuple(out.shape) != tuple(positions.shape):
            fail(
                "positions of shape {positions_shape} gave shape {out_shape}",
                positions_shape=tuple(positions.shape),
                out_shape=tuple(out.shape),
            )
        if out.dtype != torch.float64:
            fail(
                "interpolate_positions returned {out_dtype}; it returns float64 (positions / scale "
                "are fractional, and float32 rounds positions in the tens of thousands)",
                out_dtype=out.dtype,
            )
        out = out.to(torch.float64)
        p = positions.to(torch.float64)
        if scale != 1 and _close(out, p * scale):
            fail(
                "positions were multiplied by the scale: PI squeezes the long context into the trained "
                "range, so it divides positions by the scale"
            )
        if _close(out, p) and scale != 1:
            fail("positions come back unchanged: the scale is ignored")
        if not _close(out, p / scale, rtol=1e-6):
            fail(
                "with scale {scale:g} your positions are not positions / scale (integer division, rounding?)",
                scale=scale,
            )


@check(1, "interpolate_positions: angles at the extended length stay in the trained range")
def test_pi_range(impl):
    L, scale = 2048, 4.0
    positions = torch.arange(int(L * scale))  # the extended context, 4x the trained length
    out = tensor_result(call(impl, "interpolate_positions", positions, scale), "interpolate_positions")
    out = out.to(torch.float64)
    if tuple(out.shape) != tuple(positions.shape):
        fail(
            "positions of shape {positions_shape} gave shape {out_shape}",
            positions_shape=tuple(positions.shape),
            out_shape=tuple(out.shape),
        )
    if float(out.max()) >= L or float(out.min()) < 0:
        fail(
            "trained on length {l} and extended {scale:g}x, the interpolated positions span "
            "[{out_min:g}, {out_max:g}]; they must stay inside [0, {l}) so that every angle m * "
            "theta_i is one the model saw in training",
            l=L,
            scale=scale,
            out_min=float(out.min()),
            out_max=float(out.max()),
        )
    steps = out.diff()
    if not torch.allclose(steps, torch.full_like(steps, 1 / scale)):
        fail("consecutive positions must stay 1 / scale apart (interpolate, don't clip or round)")


# ---------------------------------------------------------------- NTK-aware


@check(3, "ntk_scaled_base: highest frequency kept, lowest divided by the scale")
def test_ntk(impl):
    for dim, base, scale in ((128, 10000.0, 4.0), (64, 500000.0, 8.0), (16, 10000.0, 2.0), (4, 100.0, 3.0)):
        new_base = call(impl, "ntk_scaled_base", base, scale, dim)
        try:
            new_base = float(new_base)
        except (TypeError, ValueError, RuntimeError):
            fail("ntk_scaled_base must return a number, got {type_name}", type_name=type_name(new_base))
        if not math.isfinite(new_base) or new_base <= 0:
            fail(
                "ntk_scaled_base({base:g}, {scale:g}, {dim}) = {new_base}: a base must be positive",
                base=base,
                scale=scale,
                dim=dim,
                new_base=new_base,
            )
        lowest_old = base ** (-(dim - 2) / dim)  # theta_(dim/2 - 1)
        lowest_new = new_base ** (-(dim - 2) / dim)
        stretch = lowest_old / lowest_new  # how much the slowest pair is slowed down
        if abs(stretch - scale) > 1e-9 * scale:
            if abs(new_base - base * scale ** (dim / (dim + 2))) < 1e-9 * new_base:
                fail(
                    "the exponent is d/(d+2); NTK-aware scaling uses base * scale ** (d / (d - 2)), "
                    "the exponent that divides the slowest frequency by exactly the scale"
                )
            if abs(new_base - base * scale) < 1e-9 * new_base:
                fail(
                    "base * scale slows the slowest pair by only scale ** ((d-2)/d); the exponent "
                    "d / (d - 2) makes it exactly the scale"
                )
            fail(
                "dim {dim}, base {base:g}, scale {scale:g}: the slowest pair theta_(d/2-1) must be "
                "divided by exactly the scale, yours by {stretch:.6g}; expected base * scale ** (d "
                "/ (d - 2))",
                dim=dim,
                base=base,
                scale=scale,
                stretch=stretch,
            )
    same = float(call(impl, "ntk_scaled_base", 10000.0, 1.0, 128))
    if abs(same - 10000.0) > 1e-6:
        fail("scale 1 must leave the base unchanged, got {same:g}", same=same)


# ---------------------------------------------------------------- YaRN

# (dim, base, L, scale, beta_fast, beta_slow) -> (low, high): floor(cd(beta_fast)), ceil(cd(beta_slow)).
YARN_RAMPS = [
    ((128, 10000.0, 4096, 4.0, 32.0, 1.0), (20, 46)),  # KIT_SPEC: cd(32) = 20.94, cd(1) = 45.03
    ((64, 500000.0, 8192, 8.0, 32.0, 1.0), (9, 18)),  # cd(32) = 9.04, cd(1) = 17.49
    ((128, 1000000.0, 32768, 4.0, 16.0, 2.0), (26, 37)),  # cd(16) = 26.81, cd(2) = 36.44
    ((16, 10000.0, 64, 2.0, 32.0, 1.0), (0, 3)),  # cd(32) = -0.99 clamped to 0, cd(1) = 2.02
    ((16, 10.0, 1000, 2.0, 32.0, 1.0), (5, 15)),  # cd(32) = 5.57, cd(1) = 17.61 clamped to dim - 1 = 15
    # cd(64) = -1.85 clamped to 0, cd(8) = -0.04 rounds up to 0: low == high, so high += 0.001 (a step)
    ((16, 10000.0, 48, 2.0, 64.0, 8.0), (0, 0.001)),
]


@check(1, "yarn_inv_freq: scale 1 is the identity")
def test_yarn_identity(impl):
    for dim, base in ((128, 10000.0), (32, 500000.0)):
        inv_freq, factor = _yarn(impl, dim, base, 1.0, 4096)
        theta = _theta(dim, base)
        if not _close(inv_freq, theta, rtol=1e-9):
            fail(
                "with scale 1, yarn_inv_freq(dim {dim}, base {base:g}) must return RoPE's own "
                "frequencies theta_i = base**(-2i/d) (check the exponent and the blend of theta "
                "and theta / scale)",
                dim=dim,
                base=base,
            )
        if abs(factor - 1.0) > 1e-12:
            fail("with scale 1 the attention factor must be 1, got {factor:.6g}", factor=factor)


@check(2, "yarn_inv_freq: highest frequency kept, lowest divided by the scale")
def test_yarn_ends(impl):
    dim, base, L, scale = 128, 10000.0, 4096, 4.0
    inv_freq, _ = _yarn(impl, dim, base, scale, L)
    theta = _theta(dim, base)
    ratio = inv_freq / theta  # 1 = kept, 1 / scale = interpolated
    if _close(ratio, torch.full_like(ratio, 1 / scale)):
        fail(
            "every frequency is divided by the scale (that is PI): YaRN keeps the fast pairs that turn "
            "more than beta_fast times in the trained length and ramps to theta / scale for the slow ones"
        )
    if abs(float(ratio[0]) - 1) > 1e-9:
        fail(
            "the highest frequency theta_0 must be kept (it turns ~{value:.0f} times in {l} "
            "tokens), yours is multiplied by {ratio:.6g}",
            value=L / (2 * math.pi),
            l=L,
            ratio=float(ratio[0]),
        )
    if abs(float(ratio[-1]) * scale - 1) > 1e-9:
        fail(
            "the lowest frequency must be divided by the scale {scale:g} (it never completes a "
            "turn in {l} tokens), yours is multiplied by {ratio:.6g}",
            scale=scale,
            l=L,
            ratio=float(ratio[-1]),
        )


@check(3, "yarn_inv_freq: linear ramp between low and high pair indices")
def test_yarn_ramp(impl):
    for (dim, base, L, scale, beta_fast, beta_slow), (low, high) in YARN_RAMPS:
        try:
            inv_freq, _ = _yarn(impl, dim, base, scale, L, beta_fast=beta_fast, beta_slow=beta_slow)
        except Mistake as exc:
            if high - low < 1 and "NaN" in str(exc):
                fail(
                    "{exc}: here low = high = {low} (both clamped), so (i - low) / (high - low) "
                    "divides by zero; like YaRN's reference code, add 0.001 to high when they are "
                    "equal",
                    exc=exc,
                    low=low,
                )
            raise
        theta = _theta(dim, base)
        ramp = (theta - inv_freq) / (theta - theta / scale)  # measured: 0 kept .. 1 interpolated
        i = torch.arange(dim // 2, dtype=torch.float64)
        expected = ((i - low) / (high - low)).clamp(0, 1)
        where = tr(
            "dim {dim}, base {base:g}, L {l}, scale {scale:g}, beta_fast {beta_fast:g}, "
            "beta_slow {beta_slow:g}",
            dim=dim,
            base=base,
            l=L,
            scale=scale,
            beta_fast=beta_fast,
            beta_slow=beta_slow,
        )
        if torch.allclose(ramp, expected, atol=1e-9):
            continue
        if torch.allclose(ramp, 1 - expected, atol=1e-9):
            fail(
                "{where}: the ramp is reversed: fast pairs (small i) must keep theta_i and slow "
                "pairs get theta_i / scale: inv_freq = (theta / scale) * ramp + theta * (1 - ramp)",
                where=where,
            )
        if torch.all((ramp.abs() < 1e-9) | ((ramp - 1).abs() < 1e-9)):
            fail(
                "{where}: your ramp jumps from 0 to 1; between the pair indices low = "
                "floor(cd(beta_fast)) and high = ceil(cd(beta_slow)) it must rise linearly: "
                "clip((i - low) / (high - low), 0, 1)",
                where=where,
            )
        kept = int((ramp.abs() < 1e-9).sum())
        full = int(((ramp - 1).abs() < 1e-9).sum())
        fail(
            "{where}: your ramp keeps {kept} pairs and fully interpolates {full}; expected the "
            "pairs i <= low kept and i >= high interpolated, with low = floor(cd(beta_fast)), high "
            "= ceil(cd(beta_slow)), cd(R) = d ln(L / (2 pi R)) / (2 ln base) (the natural log; "
            "floor for low, ceil for high; both clamped to [0, dim - 1])",
            where=where,
            kept=kept,
            full=full,
        )


@check(2, "yarn_inv_freq: attention factor 0.1 ln(s) + 1")
def test_yarn_attention_factor(impl):
    for scale in (4.0, 16.0, 1.5, 0.5):
        _, factor = _yarn(impl, 128, 10000.0, scale, 4096)
        expected = 0.1 * math.log(scale) + 1 if scale > 1 else 1.0
        if abs(factor - expected) < 1e-9:
            continue
        if abs(factor - (0.1 * math.log10(scale) + 1)) < 1e-9:
            fail("the attention factor uses log10; YaRN's temperature is 0.1 * ln(scale) + 1 (natural log)")
        if scale > 1 and abs(factor - 1 / expected) < 1e-9:
            fail(
                "the attention factor is inverted: q and k are multiplied by 0.1 ln(s) + 1 (> 1), not divided"
            )
        if scale > 1 and abs(factor - expected**2) < 1e-9:
            fail(
                "the attention factor is squared: 0.1 ln(s) + 1 multiplies q and k each (the logits get "
                "its square); return the factor itself"
            )
        if scale <= 1:
            fail(
                "scale {scale:g} <= 1 does not extend anything: the attention factor must be 1, "
                "got {factor:.6g}",
                scale=scale,
                factor=factor,
            )
        fail(
            "scale {scale:g}: attention factor {factor:.6g}; expected 0.1 * ln(scale) + 1 (natural log)",
            scale=scale,
            factor=factor,
        )


# ---------------------------------------------------------------- Llama 3.1


def _llama3(impl, dim, base, factor, L, **kw) -> torch.Tensor:
    what = tr("llama3_inv_freq({dim}, {base:g}, {factor:g}, {l})", dim=dim, base=base, factor=factor, l=L)
    return _freqs(call(impl, "llama3_inv_freq", dim, base, factor, L, **kw), what, dim)


@check(2, "llama3_inv_freq: factor 1 is the identity; highest kept, lowest divided")
def test_llama3_ends(impl):
    dim, base, L = 128, 500000.0, 8192
    theta = _theta(dim, base)
    same = _llama3(impl, dim, base, 1.0, L)
    if not _close(same, theta, rtol=1e-9):
        fail("with factor 1, llama3_inv_freq must return RoPE's frequencies theta_i = base**(-2i/d)")
    ratio = _llama3(impl, dim, base, 8.0, L) / theta
    if abs(float(ratio[0]) - 1) > 1e-9:
        fail(
            "the highest frequency (wavelength 2 pi, far below L / high_freq_factor) must be kept; "
            "yours is multiplied by {ratio:.6g}",
            ratio=float(ratio[0]),
        )
    if abs(float(ratio[-1]) * 8 - 1) > 1e-9:
        fail(
            "the lowest frequency (wavelength far above L / low_freq_factor) must be divided by "
            "the factor 8; yours is multiplied by {ratio:.6g}",
            ratio=float(ratio[-1]),
        )


@check(3, "llama3_inv_freq: wavelength bands and the smooth blend")
def test_llama3_bands(impl):
    for dim, base, factor, L, lo, hi in (
        (128, 500000.0, 8.0, 8192, 1.0, 4.0),
        (64, 10000.0, 4.0, 512, 2.0, 8.0),
    ):
        theta = _theta(dim, base)
        got = _llama3(impl, dim, base, factor, L, low_freq_factor=lo, high_freq_factor=hi)
        wavelength = 2 * math.pi / theta
        s = (got - theta / factor) / (theta - theta / factor)  # measured: 0 = divided .. 1 = kept
        short, long_ = wavelength < L / hi, wavelength > L / lo
        medium = ~short & ~long_
        where = tr(
            "dim {dim}, base {base:g}, factor {factor:g}, L {l}, low/high_freq_factor {lo:g}/{hi:g}",
            dim=dim,
            base=base,
            factor=factor,
            l=L,
            lo=lo,
            hi=hi,
        )
        if not medium.any() or not short.any() or not long_.any():
            fail("internal: {where} should have all three bands", where=where)  # pragma: no cover
        if not torch.allclose(s[short], torch.ones_like(s[short]), atol=1e-9):
            if torch.allclose(s[short], torch.zeros_like(s[short]), atol=1e-9):
                fail(
                    "{where}: short wavelengths (w < L / high_freq_factor) must keep theta_i, "
                    "yours are divided by the factor: compare the wavelength 2 pi / theta_i, not "
                    "the frequency",
                    where=where,
                )
            fail("{where}: pairs with wavelength below L / high_freq_factor must keep theta_i", where=where)
        if not torch.allclose(s[long_], torch.zeros_like(s[long_]), atol=1e-9):
            fail(
                "{where}: pairs with wavelength above L / low_freq_factor must get theta_i / factor",
                where=where,
            )
        smooth = (L / wavelength[medium] - lo) / (hi - lo)
        if torch.allclose(s[medium], smooth, atol=1e-9):
            continue
        if torch.allclose(s[medium], 1 - smooth, atol=1e-9):
            fail(
                "{where}: the blend is reversed: (1 - s) * theta / factor + s * theta with s = (L "
                "/ w - low_freq_factor) / (high_freq_factor - low_freq_factor), so s = 1 (kept) at "
                "the short-wavelength edge",
                where=where,
            )
        fail(
            "{where}: in the band L / high_freq_factor <= w <= L / low_freq_factor the frequency "
            "must blend (1 - s) * theta / factor + s * theta with s = (L / w - low_freq_factor) / "
            "(high_freq_factor - low_freq_factor)",
            where=where,
        )


# ---------------------------------------------------------------- long-term decay


def _bound_by_definition(dim: int, max_distance: int, base: float) -> list[float]:
    """RoFormer's relative bound with plain loops: mean over j = 1..dim/2 of |sum_(k<j) e^(i r theta_k)|."""
    theta = [base ** (-2 * k / dim) for k in range(dim // 2)]
    out = []
    for r in range(max_distance + 1):
        partial, total = 0j, 0.0
        for t in theta:
            partial += cmath.exp(1j * r * t)
            total += abs(partial)
        out.append(total / (dim // 2))
    return out


def _bound(impl, dim, max_distance, base=None) -> torch.Tensor:
    args = (dim, max_distance) if base is None else (dim, max_distance, base)
    out = tensor_result(call(impl, "long_term_decay_bound", *args), "long_term_decay_bound")
    if tuple(out.shape) != (max_distance + 1,):
        fail(
            "long_term_decay_bound({dim}, {max_distance}) must have shape [max_distance + 1] = "
            "({value},) (r = 0 .. max_distance), got {out_shape}",
            dim=dim,
            max_distance=max_distance,
            value=max_distance + 1,
            out_shape=tuple(out.shape),
        )
    return out.to(torch.float64)


@check(3, "long_term_decay_bound: RoFormer's relative bound, normalised")
def test_decay_bound(impl):
    for dim, base in ((16, 10000.0), (8, 100.0), (2, 10000.0)):
        got = _bound(impl, dim, 40, base)
        expected = torch.tensor(_bound_by_definition(dim, 40, base), dtype=torch.float64)
        if torch.allclose(got, expected, rtol=1e-9, atol=1e-12):
            continue
        half = dim // 2
        at_zero = float(got[0])
        if abs(at_zero - (half + 1) / 2 * half) < 1e-9:
            fail(
                "the bound is a sum over j; RoFormer's relative bound is the mean (1 / (d/2)) * sum_j |S_j|, "
                "so it does not grow with d"
            )
        if abs(at_zero - (half - 1) / 2) < 1e-9:
            fail(
                "at r = 0 your bound averages |S_0| .. |S_(d/2-1)|; j runs from 1 to d/2 "
                "(S_j sums the first j terms, k = 0 .. j-1)"
            )
        if torch.allclose(got, torch.full_like(got, at_zero)):
            fail("your bound does not change with r: take |S_j| of the complex sum, not the sum of |terms|")
        if base != 10000.0 and torch.allclose(
            got, torch.tensor(_bound_by_definition(dim, 40, 10000.0), dtype=torch.float64)
        ):
            fail(
                "the `base` argument is ignored: with base={base:g} your bound is that of base 10000",
                base=base,
            )
        r = int(torch.argmax((got - expected).abs()))
        fail(
            "dim {dim}, base {base:g}: at r = {r} your bound is {got:.6g}; expected the mean over "
            "j = 1..d/2 of |S_j|, S_j = sum over k < j of exp(1j * r * theta_k), theta_k = "
            "base**(-2k/d)",
            dim=dim,
            base=base,
            r=r,
            got=float(got[r]),
        )
    try:
        at_zero = _bound(impl, 16, 0)  # r = 0 only: a valid request, |S_j| = j and the mean is (8 + 1) / 2
    except Mistake as exc:
        if unfinished(exc):
            raise
        fail(
            "long_term_decay_bound(16, 0): {exc}; max_distance 0 is valid (r = 0 only), only < 0 is not",
            exc=exc,
        )
    if abs(float(at_zero[0]) - 4.5) > 1e-9:
        fail(
            "long_term_decay_bound(16, 0) must be [4.5] (r = 0 only: |S_j| = j, mean over j = "
            "1..8), got {at_zero:.6g}",
            at_zero=float(at_zero[0]),
        )


@check(1, "long_term_decay_bound: decreases on average with distance")
def test_decay_decreases(impl):
    got = _bound(impl, 128, 1000)
    quarters = [float(q.mean()) for q in got[1:].chunk(4)]
    if (
        not all(a > b for a, b in zip(quarters, quarters[1:], strict=False))
        or not float(got[0]) > quarters[0]
    ):
        fail(
            "averaged over windows of 250 distances, the bound must decrease as r grows (the "
            "pairs' angles drift out of phase); your window means are {join}",
            join=", ".join(f"{q:.3g}" for q in quarters),
        )


@check(1, "ValueError for every documented bad argument")
def test_value_errors(impl):
    positions = torch.arange(8)
    for scale in (0.0, -2.0):
        expect_raises(ValueError, impl, "interpolate_positions", positions, scale, why=f"scale {scale:g}")
        expect_raises(
            ValueError,
            impl,
            "ntk_scaled_base",
            10000.0,
            scale,
            128,
            why=tr("ntk scale {scale:g}", scale=scale),
        )
        expect_raises(
            ValueError,
            impl,
            "yarn_inv_freq",
            128,
            10000.0,
            scale,
            4096,
            why=tr("yarn: scale {scale:g}", scale=scale),
        )
    for dim in (7, 9):
        expect_raises(
            ValueError, impl, "ntk_scaled_base", 10000.0, 2.0, dim, why=tr("ntk: odd dim {dim}", dim=dim)
        )
        expect_raises(
            ValueError, impl, "yarn_inv_freq", dim, 10000.0, 2.0, 4096, why=tr("yarn: odd dim {dim}", dim=dim)
        )
        expect_raises(
            ValueError,
            impl,
            "llama3_inv_freq",
            dim,
            500000.0,
            8.0,
            8192,
            why=tr("llama3: odd dim {dim}", dim=dim),
        )
        expect_raises(
            ValueError, impl, "long_term_decay_bound", dim, 10, why=tr("decay bound: odd dim {dim}", dim=dim)
        )
    expect_raises(
        ValueError,
        impl,
        "ntk_scaled_base",
        10000.0,
        2.0,
        2,
        why=tr("ntk: dim 2 (< 4: d / (d - 2) is undefined)"),
    )
    for low, high in ((2.0, 2.0), (4.0, 1.0)):
        expect_raises(
            ValueError,
            impl,
            "llama3_inv_freq",
            64,
            500000.0,
            8.0,
            8192,
            low_freq_factor=low,
            high_freq_factor=high,
            why=tr("llama3: high_freq_factor {high:g} <= low_freq_factor {low:g}", high=high, low=low),
        )
    for distance in (-1, -5):
        expect_raises(
            ValueError,
            impl,
            "long_term_decay_bound",
            16,
            distance,
            why=tr("decay: max_distance {distance}", distance=distance),
        )
