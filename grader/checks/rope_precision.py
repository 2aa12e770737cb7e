"""Hidden checks for exercises/rope_precision.py: angles in low precision, Men et al.'s bound on the base.

Expected values are the docstrings' formulas computed here: the low-precision angle by torch in the
dtype named (one rounding of the position, one of theta_i, one of their product: IEEE multiplication
is exactly rounded, so every correct implementation gets the same bits), B(m) = sum_i cos(m theta_i) of
Men et al. 2024 (arXiv 2405.14591) in float64. A message names a slip only when recomputing the slip
reproduces the learner's result.
"""

from __future__ import annotations

import numpy as np
import torch

from ..checking import (
    call,
    call_unchanged,
    check,
    expect_raises,
    fail,
    float64_result,
    type_name,
)
from ..i18n import tr


def _theta(dim: int, base: float) -> torch.Tensor:
    return base ** (-torch.arange(0, dim, 2, dtype=torch.float64) / dim)


def _low(positions: torch.Tensor, theta: torch.Tensor, dtype) -> torch.Tensor:
    return (positions[..., None].to(dtype) * theta.to(dtype)).to(torch.float64)


def _angle_atol(exact: torch.Tensor) -> np.ndarray:
    """What two float64 ways of computing m * theta_i may differ by: theta_i = base ** (-2i / d) from
    numpy's pow or torch's can differ in the last bit, which m multiplies."""
    return 1e-12 + 8 * np.finfo(np.float64).eps * exact.abs().numpy()


def _close(got: np.ndarray, expected, rtol=1e-9, atol=1e-12) -> bool:
    expected = np.asarray(expected)
    return got.shape == expected.shape and np.allclose(got, expected, rtol=rtol, atol=atol)


def _name_slip(
    what: str, got: np.ndarray, expected, slips, rule: str, atol=1e-12, values_of_order_1=False
) -> None:
    if _close(got, expected, atol=atol):
        return
    for value, why in slips:
        if _close(got, value, atol=atol):
            fail("{what}: {why}", what=what, why=why)
    if (
        values_of_order_1
        and got.shape == np.shape(expected)
        and np.allclose(got, expected, rtol=1e-4, atol=1e-4)
    ):
        worst = float(np.abs(got - expected).max())
        fail(
            "{what}: right only to about float32 precision (off by up to {worst:.2g}); compute "
            "every step in float64",
            what=what,
            worst=worst,
        )
    where = tuple(int(i) for i in np.argwhere(~np.isclose(got, expected, rtol=1e-9, atol=atol))[0])
    fail(
        "{what}: yours {got:.10g} at index {where}, expected {asarray:.10g} (off by {value:.2g}; {rule})",
        what=what,
        got=float(got[where]),
        where=where,
        asarray=float(np.asarray(expected)[where]),
        value=abs(float(got[where] - np.asarray(expected)[where])),
        rule=rule,
    )


def _int(value, what: str) -> int:
    if isinstance(value, torch.Tensor | np.ndarray | np.integer) and np.size(value) == 1:
        if not (
            value.dtype.is_floating_point if isinstance(value, torch.Tensor) else value.dtype.kind == "f"
        ):
            value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        fail("{what} should be a Python int, got {type_name}", what=what, type_name=type_name(value))
    return value


def _float(value, what: str) -> float:
    if isinstance(value, torch.Tensor | np.ndarray | np.number) and np.size(value) == 1:
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        fail("{what} should be a Python float, got {type_name}", what=what, type_name=type_name(value))
    return float(value)


# ------------------------------------------------------------------------------------ angles


@check(3, "angle_error: float32 angles near position 10**6 are off by hundredths of a radian")
def test_angle_error_float32(impl):
    cases = (
        (torch.tensor([0, 1, 1000, 65537, 10**6, 10**6 + 1, 2**24 + 1]), 128, 10000.0),
        (torch.tensor([[3, 500_000], [999_999, 2_000_000]]), 64, 500000.0),
    )
    for positions, dim, base in cases:
        what = tr(
            "angle_error(positions of shape {positions_shape}, dim={dim}, base={base:g})",
            positions_shape=list(positions.shape),
            dim=dim,
            base=base,
        )
        kwargs = {} if base == 10000.0 else {"base": base}
        got = float64_result(
            call_unchanged(impl, "angle_error", positions, dim, what=what, names=("positions",), **kwargs),
            what,
            (*positions.shape, dim // 2),
        )
        theta = _theta(dim, base)
        exact = positions[..., None].to(torch.float64) * theta
        expected = (_low(positions, theta, torch.float32) - exact).abs().numpy()
        theta32 = base ** (-torch.arange(0, dim, 2, dtype=torch.float32) / dim)
        slips = [
            (
                (_low(positions, theta32, torch.float32) - exact).abs().numpy(),
                tr("theta_i was computed in float32; compute it in float64 and round it once to the dtype"),
            ),
            (
                (
                    _low(positions, theta, torch.float32)
                    - positions[..., None].to(torch.float64) * theta.to(torch.float32).to(torch.float64)
                )
                .abs()
                .numpy(),
                tr(
                    "the exact angle used theta_i rounded to the dtype; it is m * theta_i with "
                    "theta_i in float64 (its rounding is part of the error)"
                ),
            ),
            (
                (exact.to(torch.float32).to(torch.float64) - exact).abs().numpy(),
                tr(
                    "only the final angle was rounded; round the position and theta_i to the dtype, "
                    "then multiply them in the dtype"
                ),
            ),
            (
                (_low(positions, theta, torch.float32) - exact).numpy(),
                tr("that is the signed difference; return its absolute value"),
            ),
            (
                (positions[..., None].to(torch.float32).to(torch.float64) * theta - exact).abs().numpy(),
                tr(
                    "only the position was rounded; theta_i and the product must be computed in the dtype too"
                ),
            ),
            (
                (
                    positions[..., None].to(torch.float32).to(torch.float64)
                    * theta.to(torch.float32).to(torch.float64)
                    - exact
                )
                .abs()
                .numpy(),
                tr(
                    "the product was computed in float64; multiply the rounded position and theta_i "
                    "in the dtype"
                ),
            ),
            (
                (positions[..., None].to(torch.float64) * theta.to(torch.float32).to(torch.float64) - exact)
                .abs()
                .numpy(),
                tr("the position was not rounded to the dtype, and the product was computed in float64"),
            ),
            (
                ((_low(positions, theta, torch.float32) - exact).abs() / exact.clamp(min=1e-300)).numpy(),
                tr("that is the relative error; return the absolute error in radians"),
            ),
        ]
        _name_slip(
            what, got, expected, slips, "|m.to(dtype) * theta.to(dtype) - m * theta|", atol=_angle_atol(exact)
        )
    expect_raises(ValueError, impl, "angle_error", torch.tensor([1]), 7, why=tr("angle_error(..., dim=7)"))


@check(1, "angle_error: in bfloat16 the positions themselves collide above 256")
def test_angle_error_bfloat16(impl):
    positions = torch.tensor([255, 256, 257, 1000, 1001, 4099])
    what = tr("angle_error(positions, 16, dtype=torch.bfloat16)")
    got = float64_result(call(impl, "angle_error", positions, 16, dtype=torch.bfloat16), what, (6, 8))
    theta = _theta(16, 10000.0)
    exact = positions[..., None].to(torch.float64) * theta
    expected = (_low(positions, theta, torch.bfloat16) - exact).abs().numpy()
    slips = [
        (
            (_low(positions, theta, torch.float32) - exact).abs().numpy(),
            tr("that is the float32 error; compute in the dtype given (bfloat16)"),
        ),
        (
            (positions[..., None].to(torch.float64) * theta.to(torch.bfloat16) - exact).abs().numpy(),
            tr("the position was not rounded to bfloat16 (257 becomes 256 there)"),
        ),
    ]
    _name_slip(
        what, got, expected, slips, "|m.to(dtype) * theta.to(dtype) - m * theta|", atol=_angle_atol(exact)
    )


@check(1, "max_exact_integer: 2 ** p for p significant bits (2 ** 24 in float32, 256 in bfloat16)")
def test_max_exact_integer(impl):
    for dtype, expected in (
        (torch.float32, 2**24),
        (torch.bfloat16, 2**8),
        (torch.float16, 2**11),
        (torch.float64, 2**53),
    ):
        what = f"max_exact_integer({dtype})"
        got = _int(call(impl, "max_exact_integer", dtype), what)
        if got == expected:
            continue
        if got == expected // 2:
            fail(
                "{what} gave {got}: p counts the implicit leading bit too, so it is 2 ** {value}",
                what=what,
                got=got,
                value=expected.bit_length() - 1,
            )
        if got == expected - 1 or got == expected + 1:
            fail(
                "{what} gave {got}; 2 ** p itself is representable and 2 ** p + 1 is not: {expected}",
                what=what,
                got=got,
                expected=expected,
            )
        if got == int(torch.finfo(dtype).max):
            fail(
                "{what} gave the largest finite value; the question is the largest N with every "
                "integer up to N exact",
                what=what,
            )
        fail("{what} gave {got}, expected {expected}", what=what, got=got, expected=expected)


# ------------------------------------------------------------------------------------ the base


def _margin(distances: np.ndarray, dim: int, base: float) -> np.ndarray:
    theta = base ** (-np.arange(0, dim, 2) / dim)
    return np.cos(np.asarray(distances, dtype=np.float64)[..., None] * theta).sum(-1)


@check(2, "similar_token_margin: B(m) = sum_i cos(m theta_i) over the d/2 pairs")
def test_margin(impl):
    distances = np.array([[0, 1, 10, 100], [1000, 5000, 20000, 123457]])
    for dim, base in ((128, 10000.0), (64, 500000.0)):
        what = tr(
            "similar_token_margin(distances of shape [2, 4], dim={dim}, base={base:g})", dim=dim, base=base
        )
        kwargs = {} if base == 10000.0 else {"base": base}
        got = float64_result(
            call_unchanged(
                impl,
                "similar_token_margin",
                torch.from_numpy(distances.copy()),
                dim,
                what=what,
                names=("distances",),
                **kwargs,
            ),
            what,
            (2, 4),
        )
        j = np.arange(dim)
        m = distances[..., None].astype(np.float64)
        slips = [
            (
                2 * _margin(distances, dim, base),
                tr("each pair counted twice (sum over the d/2 pairs, not the d features)"),
            ),
            (
                _margin(distances, dim, base) / (dim // 2),
                tr("that is the mean over the pairs; B(m) is their sum"),
            ),
            (
                np.cos(m * base ** (-j / dim)).sum(-1),
                tr("theta_i = base ** (-2i / d) for the d/2 pairs i = 0 .. d/2 - 1"),
            ),
            (
                np.cos(m * base ** (-(np.arange(dim // 2) + 1) * 2 / dim)).sum(-1),
                tr("the pairs are numbered from 0: theta_0 = 1"),
            ),
            (
                np.sin(m * base ** (-np.arange(0, dim, 2) / dim)).sum(-1),
                tr("B(m) sums cos(m theta_i), not sin"),
            ),
            (
                np.cos(m * base ** (-np.arange(dim // 2) / dim)).sum(-1),
                tr("the exponent is 2i / d, not i / d: theta_i = base ** (-2i / d)"),
            ),
        ]
        _name_slip(
            what,
            got,
            _margin(distances, dim, base),
            slips,
            "sum_i cos(m theta_i)",
            atol=1e-9,
            values_of_order_1=True,
        )
    expect_raises(
        ValueError,
        impl,
        "similar_token_margin",
        torch.tensor([1]),
        9,
        why=tr("similar_token_margin(..., dim=9)"),
    )


def _supported(dim: int, base: float, max_distance: int) -> int:
    negative = np.nonzero(_margin(np.arange(max_distance + 1), dim, base) < 0)[0]
    return int(negative[0]) if len(negative) else max_distance + 1


@check(2, "supported_context: the first distance with B(m) < 0")
def test_supported_context(impl):
    for dim, base, max_distance in (
        (128, 10000.0, 6000),
        (128, 10000.0, 1707),
        (16, 100.0, 500),
        (128, 500000.0, 40000),
        (32, 1e6, 300),
    ):
        what = tr(
            "supported_context({dim}, {base:g}, {max_distance})",
            dim=dim,
            base=base,
            max_distance=max_distance,
        )
        got = _int(call(impl, "supported_context", dim, base, max_distance), what)
        expected = _supported(dim, base, max_distance)
        if got == expected:
            continue
        margin = _margin(np.arange(max_distance + 1), dim, base)
        if expected <= max_distance and got == expected - 1:
            fail(
                "{what} gave {got}, the last distance with B >= 0; return the first with B < 0, {expected}",
                what=what,
                got=got,
                expected=expected,
            )
        if got == int((margin >= 0).sum()):
            fail(
                "{what} gave {got}, the number of distances with B >= 0; return the first distance "
                "with B < 0",
                what=what,
                got=got,
            )
        if expected == max_distance + 1 and got in (max_distance, -1, 0):
            fail(
                "{what} gave {got}; B(m) >= 0 at every distance up to {max_distance}: return "
                "max_distance + 1",
                what=what,
                got=got,
                max_distance=max_distance,
            )
        shown = f" (B({expected}) = {margin[expected]:.4g})" if expected <= max_distance else ""
        fail(
            "{what} gave {got}, expected {expected}{shown}",
            what=what,
            got=got,
            expected=expected,
            shown=shown,
        )


def _bisection(candidates, context_length: int, dim: int) -> float | None:
    """What a bisection over the sorted candidates finds (right only if the good bases were an interval)."""
    ordered = sorted(candidates)
    lo, hi = 0, len(ordered) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if _supported(dim, ordered[mid], context_length - 1) >= context_length:
            hi = mid
        else:
            lo = mid + 1
    return ordered[lo]


@check(2, "base_lower_bound: the smallest candidate base with B(m) >= 0 for m < context_length")
def test_base_lower_bound(impl):
    grid = np.round(np.geomspace(1e3, 1e5, 41), 1)
    shuffled = grid[np.random.default_rng(0).permutation(len(grid))]
    fine = np.round(np.geomspace(3000, 8000, 120), 1)  # around 1 024 tokens' island of good bases
    cases = (
        (1024, 128, torch.from_numpy(shuffled), grid, tr("41 bases from 1e3 to 1e5 in shuffled order")),
        (2048, 128, torch.from_numpy(shuffled), grid, tr("41 bases from 1e3 to 1e5 in shuffled order")),
        (300, 32, torch.from_numpy(shuffled), grid, tr("41 bases from 1e3 to 1e5 in shuffled order")),
        (1024, 128, torch.from_numpy(fine), fine, tr("120 bases from 3e3 to 8e3")),
        (
            1708,
            128,
            [5000.1, 8000.3, 10000.0, 12345.6, 20000.9],
            None,
            "[5000.1, 8000.3, 10000.0, 12345.6, 20000.9]",
        ),
    )
    for context_length, dim, bases, values, label in cases:
        what = tr(
            "base_lower_bound({context_length}, {dim}, {label})",
            context_length=context_length,
            dim=dim,
            label=label,
        )
        values = np.asarray(bases if values is None else values, dtype=np.float64)
        got = _float(call_unchanged(impl, "base_lower_bound", context_length, dim, bases, what=what), what)
        fits = [b for b in sorted(values) if _supported(dim, b, context_length - 1) >= context_length]
        expected = fits[0]
        if got == expected:
            continue
        in_order = [b for b in np.asarray(bases) if _supported(dim, b, context_length - 1) >= context_length]
        if got == in_order[0]:
            fail(
                "{what} gave {got:g}, the first fitting candidate in the order given; return the "
                "smallest, {expected:g}",
                what=what,
                got=got,
                expected=expected,
            )
        if got == fits[-1]:
            fail(
                "{what} gave {got:g}, the largest fitting candidate; return the smallest, {expected:g}",
                what=what,
                got=got,
                expected=expected,
            )
        if got == float(np.float32(expected)):
            fail(
                "{what} gave {got!r}: the candidate {expected!r} rounded to float32; return it as given",
                what=what,
                got=got,
                expected=float(expected),
            )
        if got == _bisection(values, context_length, dim):
            fail(
                "{what} gave {got:g}, where a bisection lands; the good bases are not an interval "
                "(here {expected:g} works and some larger candidates do not): scan from the "
                "smallest",
                what=what,
                got=got,
                expected=expected,
            )
        if _supported(dim, got, context_length - 1) == context_length - 1:
            fail(
                "{what} gave {got:g}, whose B(m) turns negative at m = {value}; a context of "
                "{context_length} tokens needs B(m) >= 0 at every distance up to {value}",
                what=what,
                got=got,
                value=context_length - 1,
                context_length=context_length,
            )
        wider = [b for b in sorted(values) if _supported(dim, b, context_length) >= context_length + 1]
        if wider and got == wider[0]:
            fail(
                "{what} gave {got:g}: that checks m = 0 .. {context_length}; a context of L tokens "
                "has distances up to L - 1",
                what=what,
                got=got,
                context_length=context_length,
            )
        fail("{what} gave {got:g}, expected {expected:g}", what=what, got=got, expected=expected)
    expect_raises(
        ValueError,
        impl,
        "base_lower_bound",
        4096,
        128,
        torch.tensor([10.0, 100.0]),
        why=tr("no candidate reaches 4096"),
    )
