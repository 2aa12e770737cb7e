# corpus: wrong
# mistake: depends_only_on_offset compares with np.allclose(curve, curve[0]) and its default atol 1e-8 / rtol 1e-5, ignoring rtol, which hides a small absolute component.
# evidence: encode = RoPE(x) + 1e-7 * PE[m] (absolute): curves spread up to 1.0e-06, above the documented tolerance 1.8e-08, yet the case says True.
"""Absolute or relative? Measure it (interview question Q2: why absolute encodings fall short).

A positional scheme is a function `encode(x, position)` that turns a token's vector x [d] at a position
into the vector that enters the attention score. Three schemes:

- additive sinusoidal (Vaswani et al. 2017): encode(x, m) = x + PE[m];
- additive learned (BERT, GPT-2): encode(x, m) = x + table[m], a table with one row per position;
- RoPE (Su et al. 2021): encode(x, m) = R(m) x, a rotation of each feature pair by m * theta_i.

The score of a query q at position m and a key k at position n is encode(q, m) . encode(k, n). A scheme
is *relative* when that score depends on the positions only through n - m: shifting both tokens by
the same s changes nothing. For additive encodings,

    (q + p_m) . (k + p_n) = q.k + q.p_n + p_m.k + p_m.p_n,

and the cross terms q.p_n and p_m.k depend on the absolute positions: the score moves under a shift.
For RoPE, R(m)^T R(n) = R(n - m), so (R(m) q) . (R(n) k) = q . R(n - m) k: it does not move.
A learned table has a last row: a position past its length cannot be encoded at all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

Encode = Callable[[np.ndarray, int], np.ndarray]

# Probes you may use in depends_only_on_offset (or choose your own): shifts from 0 to several hundred
# (the encoders accept positions 0 .. 1023), and position pairs (m, n), some with m > n.
SHIFTS = (0, 1, 2, 5, 17, 100, 500, 900)
POSITION_PAIRS = ((0, 5), (3, 1), (10, 10), (7, 40))


def shift_scores(
    encode: Encode, q: np.ndarray, k: np.ndarray, m: int, n: int, shifts: Sequence[int]
) -> np.ndarray:
    """Scores of q at position m + s against k at position n + s, one per shift s: shape [len(shifts)].

    score(s) = encode(q, m + s) . encode(k, n + s) (a float64 dot product). Both tokens move by s, so
    their offset n - m stays the same: for a relative scheme every entry is the same number.
    """
    scores = np.empty(len(shifts), dtype=np.float64)
    for idx, s in enumerate(shifts):
        a = np.asarray(encode(q, m + s), dtype=np.float64)
        b = np.asarray(encode(k, n + s), dtype=np.float64)
        scores[idx] = np.dot(a, b)
    return scores


def depends_only_on_offset(encode: Encode, dim: int, *, seed: int = 0, rtol: float = 1e-9) -> bool:
    """True when encode's q.k score is unchanged by shifting both tokens, on random q, k of size dim.

    Draw a few random (q, k) with np.random.default_rng(seed); for several position pairs (m, n), some
    with m > n, compute shift_scores over shifts from 0 to several hundred (encoders accept positions
    0 .. 1023) and say True only if every curve is flat: max - min <= rtol * (the curve's largest |score|
    + |q| |k|). The tolerance absorbs float rounding; a relative scheme that is not norm-preserving
    (2 * R(m) x) is still relative.
    """
    rng = np.random.default_rng(seed)
    for _ in range(3):
        q = rng.standard_normal(dim)
        k = rng.standard_normal(dim)
        norms = np.linalg.norm(q) * np.linalg.norm(k)
        for m, n in POSITION_PAIRS:
            curve = shift_scores(encode, q, k, m, n, SHIFTS)
            if not np.allclose(curve, curve[0]):
                return False
    return True


def can_score(encode: Encode, position: int, dim: int) -> bool:
    """Can `encode` place a token at `position` at all? False if it raises or returns NaN/inf.

    A learned table of L rows raises (IndexError) for position >= L; formulas (sinusoidal, RoPE) work at
    any position. Call encode on a vector of ones of size dim.
    """
    try:
        out = encode(np.ones(dim), position)
    except (IndexError, ValueError, KeyError):
        return False
    return bool(np.all(np.isfinite(np.asarray(out, dtype=np.float64))))
