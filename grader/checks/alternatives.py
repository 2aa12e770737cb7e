"""Hidden checks for exercises/alternatives.py: ALiBi's slopes and bias, xPos, NoPE's position signal.

Expected values are the papers' formulas written out here: ALiBi's slopes as its authors' code computes
them (arXiv 2108.12409, the code's get_slopes, written as 2 ** (-8 (h + 1) / n) for a power of two),
xPos's zeta_i = (2i / d + gamma) / (1 + gamma) (arXiv 2212.10554 and its torchscale code), RoPE by the
definition (`_rotations.rotate`), all in float64. A message names a slip only when recomputing the
slip reproduces the learner's result.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..checking import call, check, expect_raises, fail, float64_result, tensor_result, tolerance
from ..i18n import tr
from ._rotations import rotate


def _slopes(n: int) -> np.ndarray:
    def power(k: int) -> list[float]:
        return [2.0 ** (-8.0 * (h + 1) / k) for h in range(k)]

    p = 2 ** int(math.floor(math.log2(n)))
    return np.array(power(p) + power(2 * p)[0::2][: n - p])


def _close(got: np.ndarray, expected: np.ndarray, dtype=torch.float64) -> bool:
    rtol, atol = tolerance(dtype)
    return got.shape == expected.shape and np.allclose(
        got, expected, rtol=max(rtol * 4, 1e-12), atol=max(atol * 4, 1e-12)
    )


def _name_slip(
    what: str, got: np.ndarray, expected: np.ndarray, slips, rule: str, dtype=torch.float64
) -> None:
    if _close(got, expected, dtype):
        return
    for value, why in slips:
        if _close(got, np.asarray(value), dtype):
            fail("{what}: {why}", what=what, why=why)
    where = tuple(int(i) for i in np.argwhere(~np.isclose(got, expected, rtol=1e-9, atol=1e-12))[0])
    fail(
        "{what}: yours {got:.6g} at index {where}, expected {expected:.6g} ({rule})",
        what=what,
        got=got[where],
        where=where,
        expected=expected[where],
        rule=rule,
    )


# ------------------------------------------------------------------------------------ ALiBi


@check(2, "alibi_slopes: a power of two of heads, the geometric sequence 2^(-8/H), 2^(-16/H), ...")
def test_slopes_power_of_two(impl):
    for n in (8, 16, 1, 2):
        what = f"alibi_slopes({n})"
        got = float64_result(call(impl, "alibi_slopes", n), what, (n,))
        h = np.arange(n)
        slips = [
            (
                2.0 ** (-8.0 * h / n),
                tr("the first head's slope must be 2^(-8/H), not 1: the exponents are -8 (h + 1) / H"),
            ),
            (
                2.0 ** (-8.0 * (h + 1) / n)[::-1],
                tr("the slopes are in reverse order: head 0 has the largest slope 2^(-8/H)"),
            ),
            (
                2.0 ** (-(h + 1.0)),
                tr("the ratio 1/2 holds only for H = 8: the sequence is 2^(-8 (h + 1) / H)"),
            ),
        ]
        _name_slip(what, got, _slopes(n), slips, "m_h = 2 ** (-8 (h + 1) / H)")


@check(2, "alibi_slopes: other head counts, as the paper's code fills them")
def test_slopes_other(impl):
    for n in (12, 6, 3, 20):
        what = f"alibi_slopes({n})"
        got = float64_result(call(impl, "alibi_slopes", n), what, (n,))
        p = 2 ** int(math.floor(math.log2(n)))
        base_p = 2.0 ** (-8.0 * (np.arange(p) + 1) / p)
        base_2p = 2.0 ** (-8.0 * (np.arange(2 * p) + 1) / (2 * p))
        slips = [
            (
                2.0 ** (-8.0 * (np.arange(n) + 1) / n),
                tr(
                    "that is the power-of-two formula applied to {n}; the paper's code takes the "
                    "{p} slopes of {p} heads, then every other slope of {value} heads",
                    n=n,
                    p=p,
                    value=2 * p,
                ),
            ),
            (
                np.concatenate((base_p, base_2p[: n - p])),
                tr(
                    "the last {value} slopes are the first {value} of the {value2}-head sequence; "
                    "take every other one (slopes 0, 2, 4, ... of it)",
                    value=n - p,
                    value2=2 * p,
                ),
            ),
            (
                np.concatenate((base_p, base_2p[1::2][: n - p])),
                tr(
                    "the last {value} slopes are slopes 1, 3, 5, ... of the {value2}-head sequence; "
                    "take 0, 2, 4, ...",
                    value=n - p,
                    value2=2 * p,
                ),
            ),
            (
                np.concatenate((base_2p[0::2][: n - p], base_p)),
                tr("the two parts are swapped: first the {p} slopes of {p} heads, then the others", p=p),
            ),
        ]
        _name_slip(
            what,
            got,
            _slopes(n),
            slips,
            tr("the {p} slopes of {p} heads, then slopes 0, 2, 4, ... of {value}", p=p, value=2 * p),
        )


@check(1, "alibi_slopes: ValueError for n_heads < 1")
def test_slopes_error(impl):
    expect_raises(ValueError, impl, "alibi_slopes", 0, why="alibi_slopes(0)")


@check(2, "alibi_bias: -m_h * |i' - j| with the queries as the last q_len tokens")
def test_bias(impl):
    for n_heads, q_len, k_len in ((4, 5, 5), (6, 2, 7)):
        what = tr(
            "alibi_bias({n_heads}, q_len={q_len}, k_len={k_len})", n_heads=n_heads, q_len=q_len, k_len=k_len
        )
        got = float64_result(call(impl, "alibi_bias", n_heads, q_len, k_len), what, (n_heads, q_len, k_len))
        slopes = _slopes(n_heads)[:, None, None]
        j = np.arange(k_len)[None, :]
        aligned = np.arange(k_len - q_len, k_len)[:, None]
        expected = -slopes * np.abs(aligned - j)
        slips = [
            (-expected, tr("the bias must be negative: far keys are penalised (-m_h * distance)")),
            (
                -slopes * np.abs(np.arange(q_len)[:, None] - j),
                tr(
                    "query i was placed at key index i; the {q_len} queries are the last tokens, at "
                    "{value} .. {value2}",
                    q_len=q_len,
                    value=k_len - q_len,
                    value2=k_len - 1,
                ),
            ),
            (
                -slopes * (aligned - j),
                tr("the distance must be |i' - j|: keys after the query get the same penalty"),
            ),
            (
                -_slopes(n_heads)[::-1, None, None] * np.abs(aligned - j),
                tr("the slopes are in reverse head order"),
            ),
        ]
        _name_slip(what, got, expected, slips, "-m_h * |i' - j|, i' = k_len - q_len + i")
    expect_raises(ValueError, impl, "alibi_bias", 2, 5, 3, why=tr("alibi_bias(2, q_len=5, k_len=3)"))


# ------------------------------------------------------------------------------------ xPos


def _zeta(dim: int, gamma: float = 0.4) -> np.ndarray:
    return (2 * np.arange(dim // 2) / dim + gamma) / (1 + gamma)


@check(2, "xpos_scale: zeta_i ** (m / scale_base), zeta_i = (2i / d + gamma) / (1 + gamma)")
def test_xpos_scale(impl):
    positions = torch.tensor([[0, 1, 100], [512, 1000, 4000]])
    for kwargs in ({}, {"gamma": 0.2, "scale_base": 256.0}):
        gamma, scale_base = kwargs.get("gamma", 0.4), kwargs.get("scale_base", 512.0)
        options = "".join(f", {k}={v}" for k, v in kwargs.items())
        what = tr("xpos_scale(16, positions{options})", options=options)
        got = float64_result(call(impl, "xpos_scale", 16, positions, **kwargs), what, (2, 3, 8))
        m = positions.numpy()[..., None].astype(np.float64)
        expected = _zeta(16, gamma) ** (m / scale_base)
        i = np.arange(8)
        slips = [
            (
                ((i / 16 + gamma) / (1 + gamma)) ** (m / scale_base),
                tr("zeta_i uses 2i / d (pair i), not i / d"),
            ),
            (_zeta(16, gamma) ** m, tr("the exponent is m / scale_base, not m")),
            (
                _zeta(16, gamma) ** (-m / scale_base),
                tr("queries get zeta ** (+m / scale_base); keys get the inverse"),
            ),
            ((2 * i / 16 + gamma) ** (m / scale_base), tr("zeta_i is divided by (1 + gamma)")),
        ]
        _name_slip(what, got, expected, slips, "zeta_i ** (m / scale_base)")
    expect_raises(ValueError, impl, "xpos_scale", 7, positions, why=tr("xpos_scale(7, ...) with an odd dim"))


def _xpos(
    x: np.ndarray, positions: np.ndarray, key: bool, base=10000.0, gamma=0.4, scale_base=512.0
) -> np.ndarray:
    d = x.shape[-1]
    factor = _zeta(d, gamma) ** ((-positions if key else positions)[..., None] / scale_base)
    return rotate(x, positions, base, interleaved=False) * np.concatenate((factor, factor), axis=-1)


def _apply(impl, x, positions, what, **kwargs):
    before = x.clone()
    out = tensor_result(call(impl, "apply_xpos", x, positions, **kwargs), what)
    if not torch.equal(x, before):
        fail("{what} changed its input x; return a new tensor", what=what)
    if tuple(out.shape) != tuple(x.shape) or out.dtype != x.dtype:
        fail(
            "{what} gave {out_dtype} {out_shape}; keep x's dtype {x_dtype} and shape {x_shape}",
            what=what,
            out_dtype=out.dtype,
            out_shape=tuple(out.shape),
            x_dtype=x.dtype,
            x_shape=tuple(x.shape),
        )
    return out.to(torch.float64).numpy()


@check(3, "apply_xpos: RoPE times zeta ** (m / scale_base) for queries, the inverse for keys")
def test_apply_xpos(impl):
    x = torch.randn(2, 3, 5, 16, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    positions = np.array([0, 7, 100, 900, 2000])
    for key in (False, True):
        what = tr("apply_xpos(x, positions, key={key})", key=key)
        got = _apply(impl, x, torch.from_numpy(positions), what, key=key)
        expected = _xpos(x.numpy(), positions, key)
        factor = _zeta(16) ** ((-positions if key else positions)[:, None] / 512.0)
        rotated = rotate(x.numpy(), positions, 10000.0, interleaved=False)
        slips = [
            (
                _xpos(x.numpy(), positions, not key),
                tr("queries (key=False) get zeta ** (+m / scale_base), keys the inverse"),
            ),
            (rotated, tr("the xPos factor is missing: this is plain RoPE")),
            (
                x.numpy() * np.concatenate((factor, factor), -1),
                tr("the RoPE rotation is missing: xPos scales the rotated vector"),
            ),
            (
                rotated * np.repeat(factor, 2, axis=-1),
                tr(
                    "the factors were laid out as adjacent pairs (repeat_interleave); with "
                    "half-split pairs, pair i is features i and i + d/2: cat((factor, factor), -1)"
                ),
            ),
            (
                rotate(x.numpy(), positions, 10000.0, interleaved=True) * np.repeat(factor, 2, axis=-1),
                tr(
                    "this is xPos with adjacent pairs (2i, 2i+1); the exercise uses apply_rope's "
                    "half-split pairs"
                ),
            ),
        ]
        _name_slip(what, got, expected, slips, tr("apply_rope(x, m) * zeta_i ** (+-m / scale_base) per pair"))
    rows = np.stack((positions, positions + 3000))[:, None, :]  # [B, 1, T]: one row per sequence
    what = tr("apply_xpos(x, positions of shape [B, 1, T], key=True)")
    got = _apply(impl, x, torch.from_numpy(rows), what, key=True)
    _name_slip(
        what,
        got,
        _xpos(x.numpy(), rows, True),
        [],
        tr("positions broadcast to x.shape[:-1] as in apply_rope"),
    )
    what = tr("apply_xpos(x, positions, base=500.0)")
    got = _apply(impl, x, torch.from_numpy(positions), what, base=500.0)
    slips = [(_xpos(x.numpy(), positions, False), tr("the base argument was not used (RoPE at base 10000)"))]
    _name_slip(what, got, _xpos(x.numpy(), positions, False, base=500.0), slips, tr("RoPE at the base given"))
    what = tr("apply_xpos(x, positions) on float32 x")
    got = _apply(impl, x.to(torch.float32), torch.from_numpy(positions), what)
    expected = _xpos(x.to(torch.float32).to(torch.float64).numpy(), positions, False)
    _name_slip(what, got, expected, [], tr("the float64 result, cast to float32 once"), dtype=torch.float32)


@check(1, "apply_xpos: scores depend on m - n only and decay as zeta ** ((m - n) / scale_base)")
def test_xpos_scores(impl):
    g = torch.Generator().manual_seed(2)
    q, k = (
        torch.randn(1, 1, 1, 16, generator=g, dtype=torch.float64),
        torch.randn(1, 1, 1, 16, generator=g, dtype=torch.float64),
    )
    scores = {}
    for m, n in ((10, 4), (1010, 1004), (300, 0)):
        qx = _apply(impl, q, torch.tensor([m]), f"apply_xpos(q, [{m}])")
        kx = _apply(impl, k, torch.tensor([n]), f"apply_xpos(k, [{n}], key=True)", key=True)
        scores[m, n] = float((qx * kx).sum())
    if not np.isclose(scores[10, 4], scores[1010, 1004], rtol=1e-9, atol=1e-12):
        fail(
            "xPos scores: query 10 / key 4 gives {scores:.6g}, query 1010 / key 1004 gives "
            "{scores2:.6g}; both have m - n = 6 and must be equal (query factor at +m, key at -n)",
            scores=scores[10, 4],
            scores2=scores[1010, 1004],
        )
    expected = float((_xpos(q.numpy(), np.array([300]), False) * _xpos(k.numpy(), np.array([0]), True)).sum())
    if not np.isclose(scores[300, 0], expected, rtol=1e-9, atol=1e-12):
        fail(
            "xPos score of query 300 and key 0: yours {scores:.6g}, expected {expected:.6g}",
            scores=scores[300, 0],
            expected=expected,
        )


# ------------------------------------------------------------------------------------ NoPE


@check(2, "nope_position_signal: a causal mask alone gives token t the value 1 / (t + 1)")
def test_nope(impl):
    for n in (1, 6, 50):
        what = f"nope_position_signal({n})"
        got = float64_result(call(impl, "nope_position_signal", n), what, (n,))
        t = np.arange(n)
        slips = [
            (
                np.full(n, 1.0 / n),
                tr("every token read 1 / T: without the causal mask there is no position signal"),
            ),
            (
                1.0 / np.maximum(t, 1),
                tr("token t sees t + 1 tokens (itself included), so it reads 1 / (t + 1)"),
            ),
            (
                np.where(t == n - 1, 1.0, 0.0) if n > 1 else np.ones(1),
                tr("the value 1 sits on the first token, v_0"),
            ),
        ]
        _name_slip(what, got, 1.0 / (t + 1), slips, "1 / (t + 1)")
    expect_raises(ValueError, impl, "nope_position_signal", 0, why="nope_position_signal(0)")
