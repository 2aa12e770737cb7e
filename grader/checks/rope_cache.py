"""Hidden checks for exercises/rope_cache.py: moving cached keys, StreamingLLM's eviction, Dynamic NTK.

Expected values come from RoPE by the definition (`_rotations.rotate`, float64 complex numbers) applied
to pre-RoPE keys the learner never sees: the cache holds rotate(k0, m), and the right answer is
rotate(k0, m') for the positions m' the docstring names. Dynamic NTK's expected bases are Hugging
Face's formula written out here (tests/test_rope_cache.py compares it with transformers when present).
"""

from __future__ import annotations

import numpy as np
import torch

from ..checking import Mistake, call, check, expect_raises, fail, tensor_result, tolerance, type_name
from ..i18n import tr
from ._rotations import rotate

SHAPE = (2, 3, 6, 16)  # [B, H_kv, P, d]
POSITIONS = np.array([0, 3, 7, 20, 21, 50])  # where the six cached keys were rotated


def _random(*shape, seed=0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _rope(x: np.ndarray, positions, base: float = 10000.0) -> np.ndarray:
    """RoPE by the definition, half-split pairs (the layout the exercise's keys use), float64."""
    return rotate(x, positions, base, interleaved=False)


def _cached(seed=0, shape=SHAPE, positions=POSITIONS, base=10000.0) -> tuple[np.ndarray, torch.Tensor]:
    """(pre-RoPE keys k0, the cache _rope(k0, positions)) in float64."""
    k0 = _random(*shape, seed=seed).numpy()
    return k0, torch.from_numpy(_rope(k0, positions, base))


def _result(value, what: str, like: torch.Tensor) -> torch.Tensor:
    out = tensor_result(value, what)
    if tuple(out.shape) != tuple(like.shape) or out.dtype != like.dtype:
        fail(
            "{what} gave {out_dtype} {out_shape}; keep the keys' dtype {like_dtype} and shape {like_shape}",
            what=what,
            out_dtype=out.dtype,
            out_shape=tuple(out.shape),
            like_dtype=like.dtype,
            like_shape=tuple(like.shape),
        )
    return out


def _far(got: np.ndarray, expected: np.ndarray, dtype, scale: float) -> np.ndarray:
    """Where `got` is outside the tolerance of `dtype` (times `scale`) around `expected`."""
    rtol, atol = tolerance(dtype)
    return ~np.isclose(got, expected, rtol=rtol * scale, atol=atol * scale)


def _same(out: torch.Tensor, expected: np.ndarray, dtype=torch.float64, scale: float = 1.0) -> bool:
    return not _far(out.to(torch.float64).numpy(), expected, dtype, scale).any()


def _differs(what: str, out: torch.Tensor, expected: np.ndarray, dtype=torch.float64, scale=1.0) -> None:
    """Fail, saying how many values differ and the first, unless out matches expected."""
    got = out.to(torch.float64).numpy()
    bad = _far(got, expected, dtype, scale)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        fail(
            "{what}: {bad_sum} of {size} values differ from the keys RoPE gives at the expected "
            "positions (first at index {where}: yours {got:.6g}, expected {expected:.6g})",
            what=what,
            bad_sum=bad.sum(),
            size=bad.size,
            where=where,
            got=got[where],
            expected=expected[where],
        )


# ------------------------------------------------------------------------------------ shift_keys


def _unchanged(name: str, given: torch.Tensor, before: torch.Tensor) -> None:
    if not torch.equal(given, before):
        fail(
            "{name} changed its input k; return the result in a new tensor and leave the cache as it was",
            name=name,
        )


def _shift(impl, k, delta, **kw):
    before = k.clone()
    out = _result(call(impl, "shift_keys", k, delta, **kw), "shift_keys", k)
    _unchanged("shift_keys", k, before)
    return out


def _why_shift_differs(out, k0, k, delta, base=10000.0) -> None:
    """Name what the shifted keys show, else what differs."""
    if _same(out, k.numpy()):
        fail(
            "shift_keys(k, {delta}) returned the keys unchanged: rotate them once more, by delta", delta=delta
        )
    if _same(out, _rope(k0, POSITIONS - delta, base)):
        fail(
            "shift_keys(k, {delta}) moved the keys from m to m - {delta}: the rotation goes the "
            "wrong way (R(delta) moves m to m + delta)",
            delta=delta,
        )
    index = np.arange(k.shape[-2])
    if _same(out, _rope(k0, POSITIONS + index + delta, base)):
        fail(
            "shift_keys(k, {delta}) rotated each key by its cache index + {delta}: the keys are "
            "already rotated at their positions; only delta is new",
            delta=delta,
        )
    if _same(out, _rope(k0, 2 * POSITIONS + delta, base)):
        fail("shift_keys(k, {delta}) rotated by m + delta on top of R(m): only delta is new", delta=delta)
    _differs(f"shift_keys(k, {delta})", out, _rope(k0, POSITIONS + delta, base))


@check(2, "shift_keys: a cached key moves from m to m + delta")
def test_shift_moves_keys(impl):
    k0, k = _cached()
    for delta in (5, 1000):
        out = _shift(impl, k, delta)
        if not _same(out, _rope(k0, POSITIONS + delta)):
            _why_shift_differs(out, k0, k, delta)


@check(1, "shift_keys: delta 0 is the identity, a negative delta moves back")
def test_shift_zero_and_negative(impl):
    k0, k = _cached(seed=1)
    out = _shift(impl, k, 0)
    _differs(tr("shift_keys(k, 0) must return the keys as they are"), out, k.numpy())
    out = _shift(impl, k, -3)
    if not _same(out, _rope(k0, POSITIONS - 3)):
        _why_shift_differs(out, k0, k, -3)


@check(2, "shift_keys: one delta per cached token (broadcast)")
def test_shift_per_token(impl):
    k0, k = _cached(seed=2)
    per_token = torch.tensor([4, -2, 0, 9, 100, -50])  # [P]
    out = _shift(impl, k, per_token)
    expected = _rope(k0, POSITIONS + per_token.numpy())
    _differs(tr("shift_keys(k, delta of shape [P]) with one delta per cached token"), out, expected)
    per_row = torch.tensor([[[3, 3, 3, 3, 3, 3]], [[-7, 1, 2, 3, 4, 5]]])  # [B, 1, P]
    out = _shift(impl, k, per_row)
    expected = _rope(k0, POSITIONS + per_row.numpy())
    _differs(tr("shift_keys(k, delta of shape [B, 1, P]) with one delta per row and token"), out, expected)


@check(1, "shift_keys: the base argument is used")
def test_shift_base(impl):
    k0, k = _cached(seed=3, base=500.0)
    out = _shift(impl, k, 7, base=500.0)
    if not _same(out, _rope(k0, POSITIONS + 7, 500.0)):
        if _same(out, _rope(_rope(k0, POSITIONS, 500.0), np.full(6, 7))):
            fail("shift_keys(k, 7, base=500) rotated with base 10000: the `base` argument is ignored")
        _why_shift_differs(out, k0, k, 7, base=500.0)


@check(1, "shift_keys: keys' dtype and shape kept, k not modified")
def test_shift_dtype(impl):
    _, k = _cached(seed=4)
    for dtype in (torch.float32, torch.bfloat16):
        keys = k.to(dtype)
        out = _shift(impl, keys, 2)
        expected = _rope(keys.to(torch.float64).numpy(), np.full(6, 2))
        _differs(f"shift_keys of {dtype} keys", out, expected, dtype)


# ------------------------------------------------------------------------------------ evict_middle

P, N_SINK, N_RECENT = 12, 2, 4  # 6 evicted


def _evict(impl, k, v, n_sink, n_recent):
    what = tr(
        "evict_middle(k, v, n_sink={n_sink}, n_recent={n_recent}) with P={k_shape}",
        n_sink=n_sink,
        n_recent=n_recent,
        k_shape=k.shape[-2],
    )
    before = k.clone(), v.clone()
    result = call(impl, "evict_middle", k, v, n_sink, n_recent)
    if not (torch.equal(k, before[0]) and torch.equal(v, before[1])):
        fail("{what} changed its input k or v; return the kept cache in new tensors", what=what)
    if not isinstance(result, tuple) or len(result) != 2:
        fail("{what} must return a tuple (k, v), got {type_name}", what=what, type_name=type_name(result))
    kept = min(k.shape[-2], n_sink + n_recent)
    shape = (*k.shape[:-2], kept, k.shape[-1])
    outs = []
    for value, name in zip(result, ("k", "v"), strict=True):
        out = tensor_result(value, f"{what}: {name}")
        if tuple(out.shape) != shape:
            fail(
                "{what}: {name} has shape {out_shape}, expected {shape} (n_sink + n_recent tokens)",
                what=what,
                name=name,
                out_shape=tuple(out.shape),
                shape=shape,
            )
        outs.append(out.to(torch.float64))
    return what, outs[0], outs[1]


def _cache(seed=0, cached=P):
    k0 = _random(2, 3, cached, 16, seed=seed).numpy()
    v = _random(2, 3, cached, 16, seed=seed + 100)
    return k0, torch.from_numpy(_rope(k0, np.arange(cached))), v


@check(3, "evict_middle: sinks kept, recent keys moved back, values not rotated")
def test_evict(impl):
    _evict_one(impl, *_cache())
    k0, k, v = _cache(seed=4, cached=N_SINK + N_RECENT + 1)  # one token evicted, a cache [H, P, d]
    what, k_out, v_out = _evict(impl, k[0], v[0], N_SINK, N_RECENT)
    kept_at = np.r_[0:N_SINK, N_SINK + 1 : N_SINK + N_RECENT + 1]
    if not _same(v_out, v[0].numpy()[..., kept_at, :]):
        fail(
            "{what}: v must be the first {n_sink} and the last {n_recent} values, unchanged",
            what=what,
            n_sink=N_SINK,
            n_recent=N_RECENT,
        )
    expected = _rope(k0[0][..., kept_at, :], np.arange(N_SINK + N_RECENT))
    _differs(tr("{what} (one token evicted, k of shape [H, P, d])", what=what), k_out, expected)


def _evict_one(impl, k0, k, v):
    what, k_out, v_out = _evict(impl, k, v, N_SINK, N_RECENT)
    recent = np.arange(P - N_RECENT, P)  # cache indices 8 .. 11
    evicted = P - N_SINK - N_RECENT
    sinks_ok = _same(k_out[..., :N_SINK, :], k.numpy()[..., :N_SINK, :])
    if not sinks_ok:
        fail(
            "{what}: the {n_sink} sink keys must stay as they are (positions 0 .. {value})",
            what=what,
            n_sink=N_SINK,
            value=N_SINK - 1,
        )
    values = np.concatenate([v.numpy()[..., :N_SINK, :], v.numpy()[..., recent, :]], axis=-2)
    if not _same(v_out, values):
        if _same(v_out[..., N_SINK:, :], _rope(v.numpy()[..., recent, :], np.full(N_RECENT, -evicted))):
            fail(
                "{what}: the recent values were rotated; values are never rotated: keep them as they are",
                what=what,
            )
        fail(
            "{what}: v must be the first {n_sink} and the last {n_recent} values, unchanged",
            what=what,
            n_sink=N_SINK,
            n_recent=N_RECENT,
        )
    got = k_out[..., N_SINK:, :]
    expected = _rope(k0[..., recent, :], np.arange(N_SINK, N_SINK + N_RECENT))
    if _same(got, expected):
        return
    if _same(got, k.numpy()[..., recent, :]):
        fail(
            "{what}: the recent keys still carry positions {recent} .. {recent2}: move them back "
            "by the {evicted} evicted tokens, to {n_sink} .. {value}",
            what=what,
            recent=recent[0],
            recent2=recent[-1],
            evicted=evicted,
            n_sink=N_SINK,
            value=N_SINK + N_RECENT - 1,
        )
    for shift in (evicted, -evicted - 1, -evicted + 1, -(P - N_RECENT)):
        if _same(got, _rope(k0[..., recent, :], recent + shift)):
            fail(
                "{what}: the recent keys moved by {shift:+d}; the {evicted} evicted tokens move "
                "them by {value:+d}, to positions {n_sink} .. {value2}",
                what=what,
                shift=shift,
                evicted=evicted,
                value=-evicted,
                n_sink=N_SINK,
                value2=N_SINK + N_RECENT - 1,
            )
    for start in (P - N_RECENT - 1, P - N_RECENT + 1):
        indices = np.arange(start, start + N_RECENT) % P
        for target in (np.arange(N_SINK, N_SINK + N_RECENT), indices):
            if _same(got, _rope(k0[..., indices, :], target)):
                fail(
                    "{what}: the recent tokens are the last {n_recent}, cache indices {recent} .. {value}",
                    what=what,
                    n_recent=N_RECENT,
                    recent=recent[0],
                    value=P - 1,
                )
    _differs(tr("{what}: the recent keys", what=what), got, expected)


@check(1, "evict_middle: nothing to evict returns the cache as it is")
def test_evict_nothing(impl):
    _, k, v = _cache(seed=1, cached=5)
    what, k_out, v_out = _evict(impl, k, v, 2, 4)
    if not (_same(k_out, k.numpy()) and _same(v_out, v.numpy())):
        fail("{what}: P <= n_sink + n_recent evicts nothing: return (k, v) as they are", what=what)


@check(1, "evict_middle: n_sink = 0 or n_recent = 0 keeps only the other part")
def test_evict_edges(impl):
    k0, k, v = _cache(seed=2, cached=10)
    for n_sink, n_recent in ((0, 3), (3, 0)):
        what = tr(
            "evict_middle(k, v, n_sink={n_sink}, n_recent={n_recent}) with P=10",
            n_sink=n_sink,
            n_recent=n_recent,
        )
        result = call(impl, "evict_middle", k, v, n_sink, n_recent)
        if isinstance(result, tuple) and len(result) == 2 and n_recent == 0:
            kept = tensor_result(result[0], f"{what}: k")
            if kept.shape[-2] in (10, 13):  # the whole cache as the "recent" part
                fail(
                    "{what} kept {kept_shape} tokens; it must keep n_sink + n_recent = 3 (note "
                    "that a slice x[..., -n_recent:, :] with n_recent = 0 is all of x, not an "
                    "empty slice)",
                    what=what,
                    kept_shape=kept.shape[-2],
                )
        what, k_out, v_out = _evict(impl, k, v, n_sink, n_recent)
        kept_at = np.r_[0:n_sink, 10 - n_recent : 10]
        if not _same(v_out, v.numpy()[..., kept_at, :]):
            fail(
                "{what}: v must be the first {n_sink} and the last {n_recent} values, unchanged",
                what=what,
                n_sink=n_sink,
                n_recent=n_recent,
            )
        expected = _rope(k0[..., kept_at, :], np.arange(3))
        _differs(tr("{what}: the kept keys (positions 0, 1, 2)", what=what), k_out, expected)


@check(1, "evict_middle: ValueError for negative counts or k, v of different shapes")
def test_evict_errors(impl):
    _, k, v = _cache(seed=3)
    expect_raises(ValueError, impl, "evict_middle", k, v, -1, 4, why=tr("n_sink = -1"))
    expect_raises(ValueError, impl, "evict_middle", k, v, 2, -4, why=tr("n_recent = -4"))
    expect_raises(
        ValueError, impl, "evict_middle", k, v[..., :8, :], 2, 4, why=tr("k with 12 tokens, v with 8")
    )


# ------------------------------------------------------------------------------------ Dynamic NTK


def _hf_dynamic(base, dim, seq_len, max_pos, factor) -> float:
    s = max(seq_len, max_pos)
    return base * ((factor * s / max_pos) - (factor - 1)) ** (dim / (dim - 2))


def _dynamic(impl, *args) -> float:
    what = "dynamic_ntk_base({:g}, {}, {}, {}, {:g})".format(*args)
    value = call(impl, "dynamic_ntk_base", *args)
    if isinstance(value, bool) or not isinstance(value, (float, int)):
        fail("{what} must return a Python float, got {type_name}", what=what, type_name=type_name(value))
    return float(value)


CASES = [  # (base, dim, seq_len, max_position_embeddings, factor); the last two at the edges of the ranges
    (10000.0, 128, 12288, 4096, 2.0),
    (500000.0, 64, 20000, 8192, 4.0),
    (10000.0, 16, 3000, 2048, 1.5),
    (10000.0, 4, 300, 100, 1.0),
    (10000.0, 32, 10, 1, 3.0),
]


@check(2, "dynamic_ntk_base: Hugging Face's formula past the trained length")
def test_dynamic_formula(impl):
    for base, dim, s, L, factor in CASES:
        got = _dynamic(impl, base, dim, s, L, factor)
        want = _hf_dynamic(base, dim, s, L, factor)
        if np.isclose(got, want, rtol=1e-9):
            continue
        what = tr(
            "dynamic_ntk_base({base:g}, {dim}, {s}, {l}, {factor:g}) = {got:.6g}, expected {want:.6g}",
            base=base,
            dim=dim,
            s=s,
            l=L,
            factor=factor,
            got=got,
            want=want,
        )
        ratio = factor * s / L - (factor - 1)
        exponent = dim / (dim - 2)
        slips = [  # (value, why): what each realistic slip gives here
            (base * ratio, tr("the exponent dim / (dim - 2) is missing")),
            (base * (factor * s / L) ** exponent, tr("the term - (factor - 1) is missing")),
            (
                base * factor**exponent,
                tr(
                    "that is static NTK, base * factor ** (dim / (dim - 2)); the dynamic base "
                    "follows the current length s"
                ),
            ),
            (base * (s / L) ** exponent, tr("factor is missing: (factor * s / L - (factor - 1))")),
            (
                base * ratio ** (1 / exponent),
                tr("the exponent is inverted: dim / (dim - 2), not (dim - 2) / dim"),
            ),
        ]
        for value, why in slips:
            if np.isclose(got, value, rtol=1e-9):
                fail("{what}: {why}", what=what, why=why)
        fail("{what} (base * (factor * s / L - (factor - 1)) ** (dim / (dim - 2)))", what=what)


@check(1, "dynamic_ntk_base: up to the trained length the base is unchanged")
def test_dynamic_short(impl):
    rule = tr(
        "up to max_position_embeddings the base is unchanged (s = max(seq_len, max_position_embeddings))"
    )
    for s in (1, 100, 4096):
        try:
            got = _dynamic(impl, 10000.0, 128, s, 4096, 4.0)
        except Mistake as exc:  # e.g. a negative number to a fractional power, without the clamp
            fail("{exc}; seq_len {s} with max_position_embeddings 4096: {rule}", exc=exc, s=s, rule=rule)
        if not np.isclose(got, 10000.0, rtol=1e-12):
            fail("dynamic_ntk_base(10000, 128, {s}, 4096, 4) = {got:.6g}: {rule}", s=s, got=got, rule=rule)


@check(1, "dynamic_ntk_base: ValueError for odd dim, dim < 4, factor < 1, max_position_embeddings < 1")
def test_dynamic_errors(impl):
    for args, why in (
        ((10000.0, 63, 8192, 4096, 2.0), tr("odd dim 63")),
        ((10000.0, 2, 8192, 4096, 2.0), "dim 2 (< 4)"),
        ((10000.0, 64, 8192, 4096, 0.5), "factor 0.5 (< 1)"),
        ((10000.0, 64, 8192, 0, 2.0), "max_position_embeddings 0"),
    ):
        expect_raises(ValueError, impl, "dynamic_ntk_base", *args, why=why)


# ------------------------------------------------------------------------------------ rerotate_keys

OLD, NEW = 10000.0, 31622.0


def _rerotate(impl, k, positions, old, new):
    before = k.clone()
    out = _result(call(impl, "rerotate_keys", k, positions, old, new), "rerotate_keys", k)
    _unchanged("rerotate_keys", k, before)
    return out


@check(2, "rerotate_keys: keys cached under the old base become those of the new base")
def test_rerotate(impl):
    k0, k = _cached(seed=5, base=OLD)
    out = _rerotate(impl, k, torch.from_numpy(POSITIONS), OLD, NEW)
    expected = _rope(k0, POSITIONS, NEW)
    if _same(out, expected):
        return
    what = tr("rerotate_keys(k, positions, old_base={old:g}, new_base={new:g})", old=OLD, new=NEW)
    if _same(out, _rope(k.numpy(), POSITIONS, NEW)):
        fail(
            "{what} rotated by R_new(m) on top of R_old(m): first undo the old rotation (R_old(-m))",
            what=what,
        )
    if _same(out, _rope(_rope(k.numpy(), -POSITIONS, NEW), POSITIONS, OLD)):
        fail(
            "{what} undid with the new base and rotated with the old one: the two bases are swapped",
            what=what,
        )
    if _same(out, k.numpy()):
        fail("{what} returned the keys unchanged", what=what)
    index = np.arange(k.shape[-2])
    if _same(out, _rope(_rope(k.numpy(), -index, OLD), index, NEW)):
        fail(
            "{what} re-rotated at the cache indices 0 .. {index}, not at the `positions` given",
            what=what,
            index=index[-1],
        )
    _differs(what, out, expected)


@check(1, "rerotate_keys: the same base changes nothing; positions may differ per row")
def test_rerotate_rows(impl):
    k0, k = _cached(seed=6, base=OLD)
    out = _rerotate(impl, k, torch.from_numpy(POSITIONS), OLD, OLD)
    _differs(tr("rerotate_keys with old_base == new_base must return the keys as they are"), out, k.numpy())
    rows = np.stack([POSITIONS, POSITIONS + 100])[:, None, :]  # [B, 1, P]
    k = torch.from_numpy(_rope(k0, rows, OLD))
    out = _rerotate(impl, k, torch.from_numpy(rows), OLD, NEW)
    expected = _rope(k0, rows, NEW)
    _differs(tr("rerotate_keys with positions of shape [B, 1, P]"), out, expected)


@check(1, "rerotate_keys: keys' dtype and shape kept, k not modified, bf16 rotated in float32 or better")
def test_rerotate_dtype(impl):
    _, k = _cached(seed=7, base=OLD)
    for dtype in (torch.float32, torch.bfloat16):
        keys = k.to(dtype)
        out = _rerotate(impl, keys, torch.from_numpy(POSITIONS), OLD, NEW)
        pre = _rope(keys.to(torch.float64).numpy(), -POSITIONS, OLD)
        expected = _rope(pre, POSITIONS, NEW)
        _differs(f"rerotate_keys of {dtype} keys", out, expected, dtype, scale=2.0)
        if dtype == torch.bfloat16:  # one rounding of a float32-or-better result: within one bf16 step
            step = 2.0 ** (np.floor(np.log2(np.maximum(np.abs(expected), 1e-30))) - 7)
            far = np.abs(out.to(torch.float64).numpy() - expected) > step
            if far.any():
                fail(
                    "rerotate_keys of bf16 keys: {far_sum} of {size} values are more than one bf16 "
                    "step from the exact result; compute the rotation in float32 or float64 and "
                    "cast to bf16 once, at the end (not in bf16)",
                    far_sum=far.sum(),
                    size=far.size,
                )
