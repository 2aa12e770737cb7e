"""Hidden checks for exercises/absolute_vs_relative.py: shift_scores, depends_only_on_offset, can_score.

The checks build their own encoders (additive sinusoidal, additive learned tables, RoPE through
_rotations.rotate, and a few traps) and know which are relative; the learner's measurement must give
the right verdict on each, so a measurement that always says "same" (or always "different") fails.
"""

from __future__ import annotations

import numpy as np

from ..checking import Mistake, call, check, fail, type_name, unfinished
from ..i18n import tr
from ._rotations import rotate, sinusoidal_table, theta

DIM = 8
MAX_POSITION = 1024  # the encoders below accept positions 0 .. 1023 (the docstring promises it)


def _learned_table(length: int, dim: int, seed: int) -> np.ndarray:
    return 0.5 * np.random.default_rng(seed).standard_normal((length, dim))


def _rope(x: np.ndarray, position: int, base: float = 10000.0) -> np.ndarray:
    return rotate(np.asarray(x, dtype=np.float64)[None], np.array([position]), base, interleaved=True)[0]


_ROPE_CACHE = np.arange(MAX_POSITION)


def _cached_rope(x, m):
    """RoPE read from a table of positions 0 .. 1023: IndexError past it, as the docstring allows."""
    return _rope(x, int(_ROPE_CACHE[m]))


def _period_five(x, m):
    """Pair i turned by m theta_i + 0.5 sin(2 pi m / 5): the score is flat for offsets that are
    multiples of 5 and moves for every other offset."""
    x = np.asarray(x, dtype=np.float64)
    z = (x[0::2] + 1j * x[1::2]) * np.exp(
        1j * (m * theta(x.shape[-1], 1e4) + 0.5 * np.sin(2 * np.pi * m / 5))
    )
    return np.stack([z.real, z.imag], -1).reshape(x.shape)


def _encoders():
    """(encode, relative?, description)."""
    pe = sinusoidal_table(MAX_POSITION, DIM)
    learned = _learned_table(MAX_POSITION, DIM, seed=1)
    noise = np.random.default_rng(2)

    def rope_rounded(x, m):  # RoPE plus float rounding-sized noise: still relative
        out = _rope(x, m)
        return out * (1 + 1e-14 * noise.standard_normal(out.shape))

    def squared_angles(x, m):  # a rotation, but by m^2 * theta_i: absolute
        return rotate(np.asarray(x, float)[None], np.array([m * m]), 10000.0, interleaved=True)[0]

    return [
        (lambda x, m: _rope(x, m), True, "RoPE"),
        (rope_rounded, True, tr("RoPE computed with float rounding")),
        (
            lambda x, m: 2.0 * _rope(x, m, base=100.0),
            True,
            tr("2 * RoPE (relative, though not norm-preserving)"),
        ),
        (lambda x, m: x + pe[m], False, tr("additive sinusoidal encoding")),
        (lambda x, m: x + learned[m], False, tr("additive learned table")),
        (squared_angles, False, tr("a rotation by m^2 * theta_i")),
        (lambda x, m: x * (1.0 + m / 100.0), False, tr("a position-dependent scale")),
        (
            lambda x, m: _rope(x, m) if m < 30 else np.full_like(np.asarray(x, float), np.nan),
            False,
            tr("RoPE that returns NaN from position 30 on (a NaN score is not flat)"),
        ),
        (
            _period_five,
            False,
            tr(
                "a rotation with an angle term of period 5 (relative only at offsets that are multiples of 5)"
            ),
        ),
        (_cached_rope, True, tr("RoPE from a cos/sin cache of 1024 positions (IndexError past 1023)")),
    ]


def _bool(value, what: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        fail(
            "{what} must return a bool (True or False), got {type_name}",
            what=what,
            type_name=type_name(value),
        )
    return bool(value)


@check(2, "shift_scores: encode(q, m+s) . encode(k, n+s) for each shift")
def test_shift_scores(impl):
    rng = np.random.default_rng(3)
    pe = sinusoidal_table(MAX_POSITION, DIM)
    for encode, what in ((lambda x, m: x + pe[m], tr("additive sinusoidal")), (_rope, "RoPE")):
        q, k = rng.standard_normal((2, DIM))
        m, n, shifts = 4, 11, [0, 1, 3, 50, 400]
        got = call(impl, "shift_scores", encode, q, k, m, n, shifts)
        got = np.asarray(got, dtype=np.float64) if isinstance(got, (list, tuple, np.ndarray)) else None
        if got is None or got.shape != (len(shifts),):
            fail(
                "shift_scores must return an array of one score per shift, shape ({n_shifts},)",
                n_shifts=len(shifts),
            )
        expected = [np.dot(encode(q, m + s), encode(k, n + s)) for s in shifts]
        if np.allclose(got, expected, rtol=1e-9, atol=1e-12):
            continue
        only_q = [np.dot(encode(q, m + s), encode(k, n)) for s in shifts]
        only_k = [np.dot(encode(q, m), encode(k, n + s)) for s in shifts]
        if np.allclose(got, only_q, rtol=1e-9) or np.allclose(got, only_k, rtol=1e-9):
            fail(
                "{what}: only one token moves; shift BOTH (q to m + s and k to n + s) so that "
                "their offset n - m stays fixed",
                what=what,
            )
        if np.allclose(got, np.dot(q, k), rtol=1e-9):
            fail(
                "{what}: the scores ignore encode: score q and k after encoding them at their positions",
                what=what,
            )
        fail("{what}: score(s) must be encode(q, m + s) . encode(k, n + s)", what=what)


@check(2, "depends_only_on_offset: True for relative schemes (RoPE, even with rounding or scale)")
def test_relative_schemes(impl):
    for encode, relative, what in _encoders():
        if not relative:
            continue
        said = _bool(call(impl, "depends_only_on_offset", encode, DIM), "depends_only_on_offset")
        if not said:
            fail(
                "{what} depends only on the offset, but your measurement says it does not: shift "
                "both tokens by the same s, compare scores (not the encoded vectors), and allow "
                "float rounding with a tolerance relative to the size of the scores",
                what=what,
            )

    def slow_drift(x, m):  # a 1-vector: score(s) = 0.01 |q| |k| (1 + sin(m + s) / 2) (1 + sin(n + s) / 2)
        return np.array([0.1 * np.linalg.norm(x) * (1.0 + 0.5 * np.sin(m))])

    # score(s) moves by at most 0.02 |q| |k| < rtol |q| |k|: flat by the docstring's tolerance, at any
    # shifts; it moves by far more than rtol times the scores alone, or rtol / (|q| |k|)
    said = _bool(call(impl, "depends_only_on_offset", slow_drift, 64, rtol=0.05), "depends_only_on_offset")
    if not said:
        fail(
            "with rtol=0.05, a score that moves by less than 2 percent of |q| |k| must count as flat: the "
            "tolerance is rtol * (the curve's largest |score| + |q| |k|), with the `rtol` argument"
        )
    said = _bool(
        call(impl, "depends_only_on_offset", lambda x, m: x, DIM, rtol=0.0), "depends_only_on_offset"
    )
    if not said:
        fail(
            "encode(x, m) = x (no positions) never moves the score, so even with rtol=0 it depends only "
            "on the offset: a curve is flat when max - min <= the tolerance (<=, not <)"
        )


@check(3, "depends_only_on_offset: False for absolute schemes (never always 'same')")
def test_absolute_schemes(impl):
    for encode, relative, what in _encoders():
        if relative:
            continue
        said = _bool(call(impl, "depends_only_on_offset", encode, DIM), "depends_only_on_offset")
        if said:
            fail(
                "your measurement says the score of the {what} depends only on the offset, but it "
                "changes when both tokens shift by the same amount",
                what=what,
            )


@check(1, "depends_only_on_offset: shifts reach far positions (hundreds)")
def test_several_pairs(impl):
    pe = sinusoidal_table(MAX_POSITION, DIM)

    def late_drift(x, m):
        return _rope(x, m) + (pe[m] if m >= 300 else 0.0)  # relative below position 300 only

    said = _bool(call(impl, "depends_only_on_offset", late_drift, DIM), "depends_only_on_offset")
    if said:
        fail(
            "an encoding that becomes absolute past position 300 passed your measurement: use shifts of "
            "several hundred positions (encoders accept 0 .. 1023)"
        )


@check(2, "can_score: a learned table cannot place a token past its length")
def test_can_score(impl):
    short = _learned_table(64, DIM, seed=4)
    pe = sinusoidal_table(64, DIM)

    def learned(x, m):
        return x + short[m]  # numpy raises IndexError past row 63

    def sinusoidal_formula(x, m):  # the formula, evaluated at any position
        angles = m * theta(DIM, 10000.0)
        return x + np.stack([np.sin(angles), np.cos(angles)], -1).reshape(DIM)

    def refuses(error):
        def encode(x, m):
            if m >= 64:
                raise error(f"no position {m}")
            return x + pe[m]

        return encode

    cases = [
        (learned, 0, True, tr("a learned table of 64 rows at position 0")),
        (refuses(ValueError), 80, False, tr("an encoder raising ValueError at position 80")),
        (refuses(KeyError), 80, False, tr("an encoder raising KeyError at position 80")),
        (
            lambda x, m: x * np.exp(float(m)),
            1000,
            False,
            tr("an encoder overflowing to inf at position 1000 (x * e^m)"),
        ),
        (learned, 63, True, tr("a learned table of 64 rows at position 63")),
        (learned, 64, False, tr("a learned table of 64 rows at position 64")),
        (learned, 5000, False, tr("a learned table of 64 rows at position 5000")),
        (sinusoidal_formula, 100_000, True, tr("the sinusoidal formula at position 100 000")),
        (_rope, 100_000, True, tr("RoPE at position 100 000")),
        (
            lambda x, m: x + (pe[m] if m < 64 else np.nan),
            70,
            False,
            tr("an encoder returning NaN at position 70"),
        ),
    ]
    for encode, position, expected, what in cases:
        try:
            said = _bool(call(impl, "can_score", encode, position, DIM), "can_score")
        except Mistake as exc:
            if unfinished(exc):
                raise
            fail(
                "{what}: {exc}; can_score answers False there (IndexError, ValueError, KeyError)",
                what=what,
                exc=exc,
            )
        if said != expected:
            if expected:
                fail("{what}: the encoding exists, but can_score says it cannot be scored", what=what)
            fail("{what}: there is no finite encoding there, but can_score says True", what=what)
