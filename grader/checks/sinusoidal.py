"""Hidden checks for exercises/sinusoidal.py: sinusoidal_encoding (Vaswani et al. 2017, 3.5)."""

from __future__ import annotations

import numpy as np
import torch

from ..checking import call, call_inside, check, expect_raises, fail, tensor_result
from ..i18n import tr
from ._rotations import wrap


def _poisoned(sinusoidal_encoding, length, d_model, **kw):
    """In the learner's process: sinusoidal_encoding right after NaN-filled tables of its size were
    freed, so a column the function never writes (torch.empty) shows as NaN, never as a leftover copy
    of an earlier call's correct table."""
    for dtype in (torch.float64, torch.float32):
        poison = torch.full((length, d_model), float("nan"), dtype=dtype)
        del poison
    return sinusoidal_encoding(length, d_model, **kw)


def _table(impl, length, d_model, **kw) -> np.ndarray:
    pe = tensor_result(
        call_inside(_poisoned, impl, "sinusoidal_encoding", length, d_model, **kw), "sinusoidal_encoding"
    )
    if tuple(pe.shape) == (1, length, d_model):
        fail(
            "shape is [1, {length}, {d_model}]; the encoding is [length, d_model] (add a batch "
            "axis where you use it, not here)",
            length=length,
            d_model=d_model,
        )
    if tuple(pe.shape) != (length, d_model):
        fail(
            "sinusoidal_encoding({length}, {d_model}) has shape {pe_shape}; expected [length, "
            "d_model] = ({length}, {d_model})",
            length=length,
            d_model=d_model,
            pe_shape=tuple(pe.shape),
        )
    table = pe.to(torch.float64).numpy()
    if not np.isfinite(table).all():
        fail("the table contains NaN or inf")
    return table


def _omega(d_model: int, base: float, exponent: float = 2.0) -> np.ndarray:
    return base ** (-exponent * np.arange(d_model // 2) / d_model)


@check(2, "shape [length, d_model], float32")
def test_shape_dtype(impl):
    _table(impl, 50, 16)
    pe = tensor_result(call(impl, "sinusoidal_encoding", 1, 2), "sinusoidal_encoding")
    if tuple(pe.shape) != (1, 2):
        fail("sinusoidal_encoding(1, 2) has shape {pe_shape}; expected (1, 2)", pe_shape=tuple(pe.shape))
    if pe.dtype != torch.float32:
        fail("the table must be float32, got {pe_dtype}", pe_dtype=pe.dtype)


@check(1, "position 0 is [sin 0, cos 0, ...] = [0, 1, 0, 1, ...]")
def test_position_zero(impl):
    row = _table(impl, 4, 8)[0]
    if np.allclose(row, [0, 0, 0, 0, 1, 1, 1, 1], atol=1e-6):
        fail(
            "row 0 is [0, 0, 0, 0, 1, 1, 1, 1]: sin and cos are concatenated ([sin | cos]), a permutation "
            "of the features but not the paper's interleaved layout that this exercise asks for "
            "(sin in even columns, cos in odd columns)"
        )
    if np.allclose(row, [1, 0, 1, 0, 1, 0, 1, 0], atol=1e-6):
        fail("row 0 is [1, 0, 1, 0, ...]: sin and cos are swapped; even columns hold sin")
    if not np.allclose(row, [0, 1, 0, 1, 0, 1, 0, 1], atol=1e-6):
        fail("row 0 must be [0, 1, 0, 1, ...] (sin 0 in even columns, cos 0 in odd columns)")


@check(2, "sin and cos interleaved: pair (2i, 2i+1) shares a frequency")
def test_interleaved(impl):
    pe = _table(impl, 40, 16)
    if np.allclose(pe[:, 0::2] ** 2 + pe[:, 1::2] ** 2, 1.0, atol=1e-5):
        return
    if np.allclose(pe[:, :8] ** 2 + pe[:, 8:] ** 2, 1.0, atol=1e-5):
        fail(
            "sin and cos are concatenated ([sin | cos]): a permutation of the features, but not the "
            "paper's interleaved layout that this exercise asks for, PE[p, 2i] = sin and PE[p, 2i+1] = cos "
            "of the same angle"
        )
    fail("columns 2i and 2i+1 must be sin and cos of one angle (their squares sum to 1)")


@check(3, "frequencies omega_i = base**(-2i/d_model) (divide, do not multiply)")
def test_frequencies(impl):
    length, d_model = 64, 32
    pe = _table(impl, length, d_model)
    measured = np.arctan2(pe[:, 0::2], pe[:, 1::2])  # [L, d/2]
    p = np.arange(length, dtype=np.float64)[:, None]

    def matches(omega):
        # angles computed in float32 are off by a few ulps of p * omega: large when omega is wrong
        angles = p * omega
        return bool(np.all(np.abs(wrap(measured - angles)) < 1e-4 + 5e-7 * np.abs(angles)))

    if matches(_omega(d_model, 10000.0)):
        return
    if matches(_omega(d_model, 10000.0, exponent=-2.0)):
        fail(
            "angles are p * 10000**(2i/d): multiplied by the power instead of divided; divide p by "
            "10000**(2i/d) (the frequencies must shrink with i)",
            cause="frequencies",
        )
    if matches(_omega(d_model, 10000.0, exponent=1.0)):
        fail(
            "angles use 10000**(i/d); the exponent is 2i/d, with i counting pairs 0 .. d/2 - 1",
            cause="frequencies",
        )
    if matches(2 * np.arange(0, d_model // 2) / d_model):
        fail(
            "angles are p * 2i/d, with no base at all (source document 000's formula); they are "
            "p / 10000**(2i/d)",
            cause="frequencies",
        )
    error = np.abs(wrap(measured - p * _omega(d_model, 10000.0)))
    t, i = np.unravel_index(np.argmax(error), error.shape)
    fail(
        "the angle of column pair i={i} at position p={t} is off by {error:.3g} rad from p / "
        "10000**(2i/d_model)",
        cause="frequencies",
        i=i,
        t=t,
        error=error[t, i],
    )


@check(1, "the base argument is used")
def test_base(impl):
    pe = _table(impl, 16, 8, base=100.0)
    measured = np.arctan2(pe[:, 0::2], pe[:, 1::2])
    p = np.arange(16, dtype=np.float64)[:, None]
    error = np.abs(wrap(measured - p * _omega(8, 100.0))).max()
    if error > 1e-4:
        if np.abs(wrap(measured - p * _omega(8, 10000.0))).max() < 1e-4:
            fail("the `base` argument is ignored (base=100 gave base 10000's table)", cause="base")
        fail("with base=100 the angles are not p / 100**(2i/d_model)", cause="frequencies")


@check(1, "ValueError for odd d_model or length < 1")
def test_rejects_bad_sizes(impl):
    expect_raises(ValueError, impl, "sinusoidal_encoding", 10, 7, why=tr("odd d_model 7"))
    expect_raises(ValueError, impl, "sinusoidal_encoding", 0, 8, why=tr("length 0"))
