"""Hidden checks for exercises/llama_attention.py: Llama's attention with GQA, a KV cache, left padding,
Mistral's sliding window and packed sequences.

The judge is Hugging Face transformers: grader/fixtures/llama_attention.npz holds what its own
LlamaAttention and MistralAttention returned on the same weights and inputs, with its own masks, cache
and packed-sequence handling (written by scripts/make_llama_fixtures.py; tests/test_llama_attention.py
regenerates it with the installed transformers and compares). When an output differs, `_attend`
(the layer by the docstring in float64, verified against the fixtures by the same test) recomputes it
with one realistic slip at a time, and a message names a slip only when it reproduces the output.
"""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path

import numpy as np
import torch

from ..checking import Mistake, call, check, expect_raises, fail, tensor_result, tolerance, type_name
from ..i18n import N_, tr
from ._rotations import rotate

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "llama_attention.npz"
HEADS = {
    "mha": (4, 4),
    "gqa": (6, 2),
    "mqa": (4, 1),
    "odd_head_dim": (4, 2),
    "window": (4, 2),
}  # config: (H, H_kv)
BASES = {"odd_head_dim": 500000.0}
WINDOW = 3
HF = N_("Hugging Face's LlamaAttention on the same weights")


@cache
def _fixture() -> dict[str, np.ndarray]:
    with np.load(FIXTURE) as data:
        return {name: data[name] for name in data.files}


def _get(case: str, name: str) -> torch.Tensor:
    return torch.from_numpy(_fixture()[f"{case}/{name}"].copy())


def _config(case: str) -> str:
    return str(_fixture()[f"{case}/config"])


def _weights(case: str) -> dict[str, torch.Tensor]:
    config = _config(case)
    return {name: _get(config, name) for name in ("q_proj", "k_proj", "v_proj", "o_proj")}


# ----------------------------------------------------------------------- the layer, by the docstring


def _causal(past: int, tokens: int, window: int | None = None, *, left_aligned: bool = False) -> np.ndarray:
    """[1, 1, T, P + T]: key j visible to new token t (cache index P + t, or t when left_aligned)."""
    query = np.arange(tokens)[:, None] + (0 if left_aligned else past)
    key = np.arange(past + tokens)[None, :]
    allowed = key <= query
    if window is not None:
        allowed &= key > query - window
    return allowed[None, None]


def _attend(
    case: str,
    hidden: torch.Tensor,
    positions,
    allowed: np.ndarray,
    past: tuple[np.ndarray, np.ndarray] | None = None,
    *,
    tiled: bool = False,
    rotate_q: bool = True,
    rotate_k: bool = True,
    interleaved: bool = False,
    scale: float | None = None,
    merge_heads_by_reshape: bool = False,
    base: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(out [B, T, D], k_cache, v_cache) in float64, with the slips the flags name."""
    n_heads, n_kv = HEADS[_config(case)]
    base = BASES.get(_config(case), 10000.0) if base is None else base
    w = {name: value.numpy() for name, value in _weights(case).items()}
    x = hidden.to(torch.float64).numpy()
    batch, tokens, _ = x.shape
    d = w["q_proj"].shape[0] // n_heads

    def heads(proj, count):
        return (x @ proj.T).reshape(batch, tokens, count, d).transpose(0, 2, 1, 3)

    q, k, v = heads(w["q_proj"], n_heads), heads(w["k_proj"], n_kv), heads(w["v_proj"], n_kv)
    positions = np.asarray(positions)
    positions = positions[:, None, :] if positions.ndim == 2 else positions
    if rotate_q:
        q = rotate(q, positions, base, interleaved=interleaved)
    if rotate_k:
        k = rotate(k, positions, base, interleaved=interleaved)
    if past is not None:
        k, v = np.concatenate((past[0], k), axis=-2), np.concatenate((past[1], v), axis=-2)
    rep = n_heads // n_kv
    kv_of_head = np.arange(n_heads) % n_kv if tiled else np.arange(n_heads) // rep
    scores = q @ k[:, kv_of_head].transpose(0, 1, 3, 2) * (scale if scale is not None else 1 / math.sqrt(d))
    scores = np.where(allowed, scores, -np.inf)
    scores = scores - np.max(scores, axis=-1, keepdims=True, initial=-1e300)
    probs = np.exp(scores)
    probs = probs / np.maximum(probs.sum(-1, keepdims=True), 1e-300)
    mixed = probs @ v[:, kv_of_head]  # [B, H, T, d]
    merged = (
        mixed.reshape(batch, tokens, n_heads * d) if merge_heads_by_reshape else mixed.transpose(0, 2, 1, 3)
    )
    out = merged.reshape(batch, tokens, n_heads * d) @ w["o_proj"].T
    return out, k, v


# ------------------------------------------------------------------------------------ comparing


def _far(got: np.ndarray, expected: np.ndarray, dtype=torch.float64, scale: float = 1.0) -> np.ndarray:
    rtol, atol = tolerance(dtype)
    return ~np.isclose(got, expected, rtol=max(rtol * scale, 1e-9), atol=max(atol * scale, 1e-9))


def _same(got: np.ndarray, expected: np.ndarray, rows: np.ndarray | None = None) -> bool:
    if got.shape != expected.shape:
        return False
    if rows is not None:
        got, expected = got[rows], expected[rows]
    return not _far(got, expected).any()


def _differs(
    what: str, got: np.ndarray, expected: np.ndarray, against: str, rows=None, dtype=torch.float64
) -> str:
    """'' when got matches expected (on `rows`, a [B, T] bool of the outputs that count), else a message."""
    bad = _far(got, expected, dtype, scale=4.0)
    if rows is not None:
        bad &= rows.reshape(rows.shape + (1,) * (bad.ndim - rows.ndim))
    if not bad.any():
        return ""
    where = tuple(int(i) for i in np.argwhere(bad)[0])
    return tr(
        "{what}: {bad_sum} of {value} values differ from {against} (first at index {where}: "
        "yours {got:.6g}, expected {expected:.6g})",
        what=what,
        bad_sum=bad.sum(),
        value=bad.size if rows is None else rows.sum() * got.shape[-1],
        against=against,
        where=where,
        got=got[where],
        expected=expected[where],
    )


def _run(
    impl, case: str, hidden: torch.Tensor, what: str, **kwargs
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Call the learner's llama_attention on a fixture case; check types, shapes, dtypes, inputs kept."""
    n_heads, n_kv = HEADS[_config(case)]
    weights = _weights(case)
    before = [hidden.clone()] + [w.clone() for w in weights.values()]
    past = kwargs.get("past_kv")
    before_past = None if past is None else (past[0].clone(), past[1].clone())
    kwargs.setdefault("base", BASES.get(_config(case), 10000.0))
    head_dim = weights["q_proj"].shape[0] // n_heads
    try:
        result = call(impl, "llama_attention", hidden, weights, n_heads, n_kv, **kwargs)
    except Mistake as exc:
        if " raised " in str(exc) and head_dim * n_heads != hidden.shape[-1]:  # a fact worth knowing here
            fail(
                "{exc} (here the head size d = q_proj.shape[0] // n_heads = {head_dim}, while D / "
                "H = {value:g})",
                exc=exc,
                head_dim=head_dim,
                value=hidden.shape[-1] / n_heads,
            )
        raise
    if not all(torch.equal(a, b) for a, b in zip([hidden, *weights.values()], before, strict=True)):
        fail("{what} changed its input hidden or weights; compute in new tensors", what=what)
    if past is not None and not (
        torch.equal(past[0], before_past[0]) and torch.equal(past[1], before_past[1])
    ):
        fail(
            "{what} changed the past_kv tensors it was given; return the longer cache as new tensors",
            what=what,
        )
    if not (isinstance(result, tuple) and len(result) == 2):
        fail(
            "{what} must return (out, (k_cache, v_cache)), got {type_name}",
            what=what,
            type_name=type_name(result),
        )
    out = tensor_result(result[0], f"{what}: out")
    cache = result[1]
    if not (isinstance(cache, tuple) and len(cache) == 2):
        fail(
            "{what} must return (out, (k_cache, v_cache)); the second item is {type_name}",
            what=what,
            type_name=type_name(cache),
        )
    k_cache, v_cache = (
        tensor_result(c, f"{what}: {name}") for c, name in zip(cache, ("k_cache", "v_cache"), strict=True)
    )
    if tuple(out.shape) != tuple(hidden.shape) or out.dtype != hidden.dtype:
        fail(
            "{what}: out is {out_dtype} {out_shape}; it must have hidden's shape {hidden_shape} "
            "and dtype {hidden_dtype}",
            what=what,
            out_dtype=out.dtype,
            out_shape=tuple(out.shape),
            hidden_shape=tuple(hidden.shape),
            hidden_dtype=hidden.dtype,
        )
    cached = (0 if past is None else past[0].shape[-2]) + hidden.shape[1]
    shape = (hidden.shape[0], n_kv, cached, head_dim)
    for tensor, name in ((k_cache, "k_cache"), (v_cache, "v_cache")):
        if tuple(tensor.shape) != shape:
            extra = ""
            if tensor.dim() == 4 and tensor.shape[1] == n_heads != n_kv:
                extra = tr(
                    ": it holds the {n_heads} repeated heads; cache the {n_kv} KV heads (GQA's saving)",
                    n_heads=n_heads,
                    n_kv=n_kv,
                )
            elif tensor.dim() == 4 and past is not None and tensor.shape[2] == hidden.shape[1]:
                extra = tr(": it holds only the new tokens; append them to past_kv along the cache axis")
            fail(
                "{what}: {name} has shape {tensor_shape}, expected {shape} = [B, H_kv, P + T, d]{extra}",
                what=what,
                name=name,
                tensor_shape=tuple(tensor.shape),
                shape=shape,
                extra=extra,
            )
    return out.to(torch.float64).numpy(), k_cache.to(torch.float64).numpy(), v_cache.to(torch.float64).numpy()


def _rope_is_broken(impl) -> bool:
    """True when the learner's module exposes an apply_rope that differs from RoPE's definition."""
    apply = getattr(impl, "apply_rope", None)
    if not callable(apply):
        return False
    x = torch.randn(1, 2, 5, 8, generator=torch.Generator().manual_seed(9), dtype=torch.float64)
    try:
        got = tensor_result(apply(x, torch.arange(5)), "apply_rope").numpy()
    except Exception:  # noqa: BLE001 - any failure of the learner's rope counts as broken
        return True
    return not _same(got, rotate(x.numpy(), np.arange(5), 10000.0, interleaved=False))


def _explain(impl, what: str, case: str, got, expected, variants, rows=None, against: str = HF) -> None:
    """Fail with the first slip (what it shows, how to compute it) that reproduces `got`, else with
    what differs from `expected`."""
    message = _differs(what, got, expected, against, rows)
    if not message:
        return
    for why, compute in variants:
        try:
            alternative = compute()
        except Exception:  # noqa: BLE001 - a slip that cannot be computed here names nothing
            continue
        if _same(got, alternative, rows):
            fail("{what}: {why}", what=what, why=why)
    if _rope_is_broken(impl):
        fail(
            "{message_}; your apply_rope (rope.py) differs from RoPE's definition: finish the rope "
            "exercise first",
            message_=message,
        )
    fail(message)


def _common_slips(case, hidden, positions, allowed, past=None):
    """The slips any output of the layer may show: (what it shows, how to compute it)."""
    n_heads, n_kv = HEADS[_config(case)]
    d = _weights(case)["q_proj"].shape[0] // n_heads
    D = hidden.shape[-1]

    def attend(**kw):
        return lambda: _attend(case, hidden, positions, kw.pop("allowed", allowed), past, **kw)[0]

    slips = []
    if n_heads != n_kv:
        slips.append(
            (
                tr(
                    "query head h read KV head h % {n_kv}: each KV head serves {value} consecutive "
                    "query heads (head h uses KV head h // {value}), repeat it in a row rather than "
                    "tiling the stack",
                    n_kv=n_kv,
                    value=n_heads // n_kv,
                ),
                attend(tiled=True),
            )
        )
    slips += [
        (
            tr("RoPE is missing on q and k (the outputs match attention without positions)"),
            attend(rotate_q=False, rotate_k=False),
        ),
        (tr("the keys are not rotated (RoPE on q only)"), attend(rotate_k=False)),
        (tr("the queries are not rotated (RoPE on k only)"), attend(rotate_q=False)),
        (
            tr("RoPE used adjacent pairs (2i, 2i+1); Llama rotates half-split pairs (i, i + d/2)"),
            attend(interleaved=True),
        ),
        (tr("scores scaled by 1/d; Llama scales by 1/sqrt(d) = 1/sqrt({d})", d=d), attend(scale=1 / d)),
        (
            tr(
                "scores scaled by 1/sqrt(D) = 1/sqrt({d}) (the model width); scale by 1/sqrt(d), d "
                "= {d2} the head size",
                d=D,
                d2=d,
            ),
            attend(scale=1 / math.sqrt(D)),
        ),
        (tr("no scaling of the scores; divide them by sqrt(d)"), attend(scale=1.0)),
        (
            tr(
                "the heads were merged with a reshape of [B, H, T, d] straight to [B, T, H * d]; "
                "transpose to [B, T, H, d] first"
            ),
            attend(merge_heads_by_reshape=True),
        ),
        (tr("no causal mask: a token attended to later tokens"), attend(allowed=np.ones_like(allowed))),
    ]
    return slips


# ------------------------------------------------------------------------------------ repeat_kv


@check(2, "repeat_kv: consecutive copies of each KV head")
def test_repeat_kv(impl):
    x = torch.randn(2, 3, 4, 5, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    for n_rep in (2, 4):
        out = tensor_result(call(impl, "repeat_kv", x, n_rep), f"repeat_kv(x, {n_rep})")
        what = tr("repeat_kv(x of shape {x_shape}, {n_rep})", x_shape=tuple(x.shape), n_rep=n_rep)
        if tuple(out.shape) != (2, 3 * n_rep, 4, 5):
            fail(
                "{what} has shape {out_shape}, expected (2, {value}, 4, 5) = [B, H_kv * n_rep, T, d]",
                what=what,
                out_shape=tuple(out.shape),
                value=3 * n_rep,
            )
        expected = x[:, torch.arange(3 * n_rep) // n_rep]
        if torch.equal(out, expected):
            continue
        if torch.equal(out, x[:, torch.arange(3 * n_rep) % 3]):
            fail(
                "{what} tiled the whole stack (head h is KV head h % 3, as x.repeat(1, {n_rep}, 1, "
                "1) gives); head h must be x[:, h // {n_rep}]: {n_rep} consecutive copies of each "
                "KV head",
                what=what,
                n_rep=n_rep,
            )
        fail(
            "{what}: head h must be x[:, h // {n_rep}] (consecutive copies of each KV head)",
            what=what,
            n_rep=n_rep,
        )


@check(1, "repeat_kv: n_rep = 1 keeps x; ValueError for n_rep < 1")
def test_repeat_kv_edges(impl):
    x = torch.randn(1, 2, 3, 4, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    out = tensor_result(call(impl, "repeat_kv", x, 1), "repeat_kv(x, 1)")
    if tuple(out.shape) != tuple(x.shape) or not torch.equal(out, x):
        fail(
            "repeat_kv(x, 1) must return x's values, shape {x_shape}; got shape {out_shape}",
            x_shape=tuple(x.shape),
            out_shape=tuple(out.shape),
        )
    expect_raises(ValueError, impl, "repeat_kv", x, 0, why=tr("repeat_kv(x, 0)"))


# ---------------------------------------------------------------------------- position ids, masks


@check(2, "left_padding_position_ids: every row's first real token is at position 0")
def test_left_padding_ids(impl):
    for mask in (
        torch.tensor([[1, 1, 1, 1, 1], [0, 0, 1, 1, 1], [0, 0, 0, 0, 1]]),
        torch.tensor([[False, True, True, True], [True, True, True, True]]),
    ):
        what = f"left_padding_position_ids({mask.int().tolist()})"
        out = tensor_result(call(impl, "left_padding_position_ids", mask), what)
        if tuple(out.shape) != tuple(mask.shape):
            fail(
                "{what} has shape {out_shape}, expected {mask_shape} = [B, S]",
                what=what,
                out_shape=tuple(out.shape),
                mask_shape=tuple(mask.shape),
            )
        if out.dtype != torch.int64:
            fail("{what} is {out_dtype}; positions are int64 (torch.long)", what=what, out_dtype=out.dtype)
        real = mask.bool()
        expected = mask.long().cumsum(-1) - 1
        if torch.equal(out[real], expected[real]):
            continue
        got = out.tolist()
        if torch.equal(out[real], torch.arange(mask.shape[1]).expand_as(mask)[real]):
            fail(
                "{what} = {got}: the padding was counted; a real token's position counts only the "
                "real tokens before it",
                what=what,
                got=got,
            )
        if torch.equal(out[real], (expected + 1)[real]):
            fail(
                "{what} = {got}: off by one, the first real token of each row is at position 0",
                what=what,
                got=got,
            )
        fail(
            "{what} = {got}: a real token's position is the number of real tokens before it "
            "({clamp_tolist} at the real tokens)",
            what=what,
            got=got,
            clamp_tolist=expected.clamp(min=0).tolist(),
        )


def _doc_ids(lengths):
    return torch.repeat_interleave(torch.arange(len(lengths)), torch.tensor(lengths))


@check(1, "packed_position_ids: positions restart at 0 in every document")
def test_packed_ids(impl):
    for lengths in ([4, 2, 3], [1, 5], [6]):
        what = f"packed_position_ids({lengths})"
        out = tensor_result(call(impl, "packed_position_ids", lengths), what)
        expected = torch.cat([torch.arange(n) for n in lengths])
        if tuple(out.shape) != tuple(expected.shape):
            fail(
                "{what} has shape {out_shape}, expected {expected_shape} (one position per token)",
                what=what,
                out_shape=tuple(out.shape),
                expected_shape=tuple(expected.shape),
            )
        if out.dtype != torch.int64:
            fail("{what} is {out_dtype}; positions are int64 (torch.long)", what=what, out_dtype=out.dtype)
        if torch.equal(out, expected):
            continue
        if torch.equal(out, torch.arange(sum(lengths))):
            fail(
                "{what} = {out_tolist}: the positions must restart at 0 in every document",
                what=what,
                out_tolist=out.tolist(),
            )
        if torch.equal(out, expected + 1):
            fail(
                "{what} = {out_tolist}: each document starts at position 0, not 1",
                what=what,
                out_tolist=out.tolist(),
            )
        fail(
            "{what} = {out_tolist}, expected {expected_tolist}",
            what=what,
            out_tolist=out.tolist(),
            expected_tolist=expected.tolist(),
        )


@check(2, "packed_causal_mask: block-diagonal and causal")
def test_packed_mask(impl):
    for lengths in ([4, 2, 3], [1, 1, 2]):
        what = f"packed_causal_mask({lengths})"
        out = tensor_result(call(impl, "packed_causal_mask", lengths), what)
        T = sum(lengths)
        if tuple(out.shape) != (T, T) or out.dtype != torch.bool:
            fail(
                "{what} is {out_dtype} {out_shape}; expected a bool [{t}, {t}] mask",
                what=what,
                out_dtype=out.dtype,
                out_shape=tuple(out.shape),
                t=T,
            )
        doc = _doc_ids(lengths)
        same_doc = doc[:, None] == doc[None, :]
        causal = torch.ones(T, T, dtype=torch.bool).tril()
        if torch.equal(out, same_doc & causal):
            continue
        if torch.equal(out, same_doc):
            fail(
                "{what}: inside a document a token sees later tokens; each block must be causal "
                "(key j <= query i)",
                what=what,
            )
        if torch.equal(out, causal):
            fail(
                "{what}: a token sees the tokens of earlier documents; keep only keys of its own document",
                what=what,
            )
        if torch.equal(out, (same_doc & causal).T):
            fail(
                "{what} is transposed: True where query i may attend key j <= i (rows are queries)", what=what
            )
        if torch.equal(out, same_doc & causal & ~torch.eye(T, dtype=torch.bool)):
            fail("{what}: a token must also see itself (the diagonal is True)", what=what)
        fail("{what}: True exactly where query i and key j are in the same document and j <= i", what=what)


@check(1, "packed_position_ids, packed_causal_mask: ValueError for no documents or a length < 1")
def test_packed_errors(impl):
    for name in ("packed_position_ids", "packed_causal_mask"):
        expect_raises(ValueError, impl, name, [], why=f"{name}([])")
        expect_raises(ValueError, impl, name, [3, 0, 2], why=f"{name}([3, 0, 2])")


# ------------------------------------------------------------------------------------ the layer


@check(2, "llama_attention: matches Hugging Face's LlamaAttention (prefill, H = H_kv)")
def test_prefill_mha(impl):
    hidden = _get("mha", "hidden")
    what = tr("llama_attention on 7 tokens, 4 heads, 4 KV heads")
    out, _, _ = _run(impl, "mha", hidden, what)
    positions, allowed = np.arange(7), _causal(0, 7)
    _explain(impl, what, "mha", out, _fixture()["mha/out"], _common_slips("mha", hidden, positions, allowed))


@check(3, "llama_attention: GQA, query head h reads KV head h // (H / H_kv)")
def test_prefill_gqa(impl):
    for case in ("gqa", "mqa"):  # 6 heads on 2 KV heads; 4 heads on 1 (multi-query attention)
        n_heads, n_kv = HEADS[case]
        hidden = _get(case, "hidden")
        what = tr(
            "llama_attention on 7 tokens, {n_heads} heads, {n_kv} KV head{value}",
            n_heads=n_heads,
            n_kv=n_kv,
            value="s" * (n_kv > 1),
        )
        out, _, _ = _run(impl, case, hidden, what)
        positions, allowed = np.arange(7), _causal(0, 7)
        _explain(
            impl, what, case, out, _fixture()[f"{case}/out"], _common_slips(case, hidden, positions, allowed)
        )


@check(2, "llama_attention: the returned cache holds the rotated keys and the values of H_kv heads")
def test_cache_returned(impl):
    hidden = _get("gqa", "hidden")
    what = tr("llama_attention on 7 tokens, 6 heads, 2 KV heads")
    _, k_cache, v_cache = _run(impl, "gqa", hidden, what)
    expected_k, expected_v = _fixture()["gqa/k_cache"], _fixture()["gqa/v_cache"]
    if not _same(k_cache, expected_k):
        _, raw_k, _ = _attend("gqa", hidden, np.arange(7), _causal(0, 7), rotate_k=False)
        if _same(k_cache, raw_k):
            fail(
                "{what}: k_cache holds the keys before RoPE; cache them rotated (R(m) k), as "
                "decoding reads them",
                what=what,
            )
        if _same(k_cache, expected_v):
            fail("{what}: k_cache holds the values; return (k_cache, v_cache) in that order", what=what)
        fail(_differs(f"{what}: k_cache", k_cache, expected_k, "the keys transformers caches"))
    if not _same(v_cache, expected_v):
        if _same(v_cache, rotate(expected_v, np.arange(7), 10000.0, interleaved=False)):
            fail(
                "{what}: v_cache holds rotated values; RoPE rotates q and k only, values are "
                "cached as they are",
                what=what,
            )
        fail(_differs(f"{what}: v_cache", v_cache, expected_v, "the values transformers caches"))


@check(3, "llama_attention: decoding with past_kv, one token and a chunk of 3")
def test_decode(impl):
    fx = _fixture()
    _decode_one(impl, "step", 1)
    k_cache, v_cache = _decode_one(impl, "chunk", 3)
    if not (_same(k_cache, fx["decode/k_cache"]) and _same(v_cache, fx["decode/v_cache"])):
        fail(
            "after the chunk, the returned cache must be past_kv with the 3 new rotated keys and values "
            "appended (cache axis -2)"
        )


def _decode_one(impl, prefix: str, tokens: int) -> tuple[np.ndarray, np.ndarray]:
    """Grade one call after transformers' cache of the earlier tokens; return the learner's cache."""
    past = (_get("decode", f"{prefix}_past_k"), _get("decode", f"{prefix}_past_v"))
    P = past[0].shape[-2]
    hidden = _get("decode", f"{prefix}_hidden")
    what = tr(
        "llama_attention on {tokens} new token{value} after a cache of {p}",
        tokens=tokens,
        value="s" * (tokens > 1),
        p=P,
    )
    out, k_cache, v_cache = _run(impl, "decode", hidden, what, past_kv=past)
    positions, allowed = np.arange(P, P + tokens), _causal(P, tokens)
    numpy_past = (past[0].numpy(), past[1].numpy())

    def attend(positions=positions, allowed=allowed, past=numpy_past):
        return lambda: _attend("decode", hidden, positions, allowed, past)[0]

    slips = [
        (
            tr(
                "the new tokens were rotated at positions 0 .. {value}; after a cache of {p} tokens "
                "they sit at {p} .. {value2} (the default position_ids start at P)",
                value=tokens - 1,
                p=P,
                value2=P + tokens - 1,
            ),
            attend(positions=np.arange(tokens)),
        ),
        (
            tr(
                "the causal mask was built on the new tokens' own indices (tril of [T, P + T]); new "
                "token t sits at cache index P + t and sees every cached key and the new ones up to "
                "itself"
            ),
            attend(allowed=_causal(P, tokens, left_aligned=True)),
        ),
        (
            tr("the cached keys were ignored: attend to past_kv and the new keys together"),
            attend(allowed=_causal(0, tokens), past=None),
        ),
    ]
    slips += _common_slips("decode", hidden, positions, allowed, numpy_past)
    _explain(impl, what, "decode", out, _fixture()[f"decode/{prefix}_out"], slips)
    return k_cache, v_cache


@check(2, "llama_attention: base, explicit position_ids per row, a head size d != D / H")
def test_positions_base_head_dim(impl):
    hidden, positions = _get("odd_head_dim", "hidden"), _get("odd_head_dim", "position_ids")
    what = tr(
        "llama_attention with D = 16, 4 heads of d = 12, base 500000, position_ids [[100 ..], [3000 ..]]"
    )
    out, k_cache, _ = _run(impl, "odd_head_dim", hidden, what, position_ids=positions)
    allowed, numpy_positions = _causal(0, 5), positions.numpy()

    def attend(part, positions=numpy_positions, **kw):
        return lambda: _attend("odd_head_dim", hidden, positions, allowed, **kw)[part]

    base_slip = tr("RoPE used base 10000; use the base argument (here 500000)")
    slips = [(base_slip, attend(0, base=10000.0))] + _common_slips(
        "odd_head_dim", hidden, numpy_positions, allowed
    )
    _explain(impl, what, "odd_head_dim", out, _fixture()["odd_head_dim/out"], slips)
    # the scores depend only on offsets, so absolute positions show in the cached keys alone
    hidden_by_scores = tr("(the scores cannot show it, they depend only on offsets; the cached keys do)")
    key_slips = [
        (
            tr(
                "the keys were rotated at 0 .. 4, not at the position_ids given {hidden_by_scores}",
                hidden_by_scores=hidden_by_scores,
            ),
            attend(1, np.arange(5)),
        ),
        (
            tr(
                "every row's keys were rotated at the positions of row 0: position_ids [B, T] gives "
                "one row of positions per sequence {hidden_by_scores}",
                hidden_by_scores=hidden_by_scores,
            ),
            attend(1, numpy_positions[:1].repeat(2, 0)),
        ),
        (base_slip, attend(1, base=10000.0)),
        (tr("the keys are not rotated"), attend(1, rotate_k=False)),
    ]
    expected_k = _fixture()["odd_head_dim/k_cache"]
    _explain(
        impl,
        f"{what}: k_cache",
        "odd_head_dim",
        k_cache,
        expected_k,
        key_slips,
        against=tr("transformers' keys"),
    )


@check(2, "llama_attention: a left-padded batch (2-D attention_mask, per-row position_ids)")
def test_left_padding(impl):
    fx = _fixture()
    mask, positions = _get("left_pad", "attention_mask"), _get("left_pad", "position_ids")
    hidden = _get("left_pad", "hidden")
    real = mask.bool().numpy()
    what = tr("llama_attention on a left-padded batch of 3 rows (2 and 4 padding tokens)")
    out, k_cache, v_cache = _run(impl, "left_pad", hidden, what, attention_mask=mask, position_ids=positions)
    allowed = _causal(0, 6) & real[:, None, None, :]
    slips = [
        (
            tr("the padding keys were attended: attention_mask 0 marks keys no query may see"),
            lambda: _attend("left_pad", hidden, positions.numpy(), _causal(0, 6))[0],
        ),
    ]
    _explain(
        impl,
        what,
        "left_pad",
        out,
        fx["left_pad/out"],
        slips + _common_slips("left_pad", hidden, positions.numpy(), allowed),
        rows=real,
    )
    # one decode step after it, with the cache this call returned (padding keys included)
    step_mask, step_positions = _get("left_pad", "step_attention_mask"), _get("left_pad", "step_position_ids")
    step_hidden = _get("left_pad", "step_hidden")
    hidden_by_scores = tr("(the scores cannot show it, they depend only on offsets; the cached keys do)")
    key_slips = [
        (
            tr(
                "the keys were rotated at 0 .. 5 in every row, not at the position_ids given "
                "{hidden_by_scores}",
                hidden_by_scores=hidden_by_scores,
            ),
            lambda: _attend("left_pad", hidden, np.arange(6), allowed)[1],
        ),
        (
            tr(
                "every row's keys were rotated at the positions of row 0: position_ids [B, T] gives "
                "one row of positions per sequence {hidden_by_scores}",
                hidden_by_scores=hidden_by_scores,
            ),
            lambda: _attend("left_pad", hidden, positions.numpy()[:1].repeat(3, 0), allowed)[1],
        ),
    ]
    _explain(
        impl,
        f"{what}: k_cache",
        "left_pad",
        k_cache,
        fx["left_pad/step_past_k"],
        key_slips,
        against=tr("transformers' keys"),
    )
    message = _differs(f"{what}: v_cache", v_cache, fx["left_pad/step_past_v"], "transformers' values")
    if message:
        fail(message)
    past = (torch.from_numpy(k_cache), torch.from_numpy(v_cache))
    step_what = tr("llama_attention, one decode step after the left-padded prefill (attention_mask [B, 7])")
    out, _, _ = _run(
        impl,
        "left_pad",
        step_hidden,
        step_what,
        attention_mask=step_mask,
        position_ids=step_positions,
        past_kv=past,
    )
    step_allowed = _causal(6, 1) & step_mask.bool().numpy()[:, None, None, :]
    numpy_past = (k_cache, v_cache)
    slips = [
        (
            tr(
                "the padding keys in the cache were attended: the 2-D attention_mask covers the P + "
                "T cached and new keys"
            ),
            lambda: _attend("left_pad", step_hidden, step_positions.numpy(), _causal(6, 1), numpy_past)[0],
        ),
    ]
    _explain(
        impl,
        step_what,
        "left_pad",
        out,
        fx["left_pad/step_out"],
        slips + _common_slips("left_pad", step_hidden, step_positions.numpy(), step_allowed, numpy_past),
    )


@check(2, "llama_attention: Mistral's sliding window on cache indices")
def test_sliding_window(impl):
    fx = _fixture()
    hidden = _get("window", "hidden")
    what = tr("llama_attention with sliding_window={window} on 8 tokens", window=WINDOW)
    out, k_cache, v_cache = _run(impl, "window", hidden, what, sliding_window=WINDOW)

    def window_slips(hidden, P, tokens, past=None):
        positions = np.arange(P, P + tokens)

        def attend(window, **kw):
            return lambda: _attend("window", hidden, positions, _causal(P, tokens, window, **kw), past)[0]

        return [
            (
                tr(
                    "each token saw {value} keys: the window holds the token itself and the "
                    "{value2} before it (key j with i - W < j <= i)",
                    value=WINDOW + 1,
                    value2=WINDOW - 1,
                ),
                attend(WINDOW + 1),
            ),
            (
                tr(
                    "each token saw {value} keys: the window holds the token itself and the {value} "
                    "before it (key j with i - W < j <= i)",
                    value=WINDOW - 1,
                ),
                attend(WINDOW - 1),
            ),
            (tr("the sliding window was not applied (plain causal mask)"), attend(None)),
            (
                tr(
                    "the window was measured on the new tokens' own indices; new token t sits at "
                    "cache index P + t"
                ),
                attend(WINDOW, left_aligned=True),
            ),
        ] + _common_slips("window", hidden, positions, _causal(P, tokens, WINDOW), past)

    _explain(impl, what, "window", out, fx["window/out"], window_slips(hidden, 0, 8))
    step_hidden = _get("window", "step_hidden")
    _, k_cache, v_cache = _attend("window", hidden, np.arange(8), _causal(0, 8, WINDOW))  # = transformers'
    past = (torch.from_numpy(k_cache), torch.from_numpy(v_cache))
    step_what = tr(
        "llama_attention with sliding_window={window}, one decode step after 8 cached tokens", window=WINDOW
    )
    out, _, _ = _run(impl, "window", step_hidden, step_what, sliding_window=WINDOW, past_kv=past)
    _explain(
        impl,
        step_what,
        "window",
        out,
        fx["window/step_out"],
        window_slips(step_hidden, 8, 1, (k_cache, v_cache)),
    )
    # the window and a 2-D padding mask together (the layer by the docstring, checked against
    # transformers on the cases above)
    mask = torch.tensor([[1] * 8, [0, 0, 0] + [1] * 5])
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    real = mask.bool().numpy()
    what = tr(
        "llama_attention with sliding_window={window} and a 2-D attention_mask (3 padding tokens in row 1)",
        window=WINDOW,
    )
    out, _, _ = _run(
        impl, "window", hidden, what, sliding_window=WINDOW, attention_mask=mask, position_ids=positions
    )
    padding = real[:, None, None, :]
    expected = _attend("window", hidden, positions.numpy(), _causal(0, 8, WINDOW) & padding)[0]
    slips = [
        (
            tr("with a 2-D attention_mask the window was dropped: combine causal mask, window and padding"),
            lambda: _attend("window", hidden, positions.numpy(), _causal(0, 8) & padding)[0],
        ),
        (
            tr("with a window the padding mask was dropped: combine causal mask, window and padding"),
            lambda: _attend("window", hidden, positions.numpy(), _causal(0, 8, WINDOW))[0],
        ),
    ]
    _explain(impl, what, "window", out, expected, slips, rows=real, against=tr("the docstring's layer"))


@check(2, "llama_attention: packed documents give each document's outputs run alone")
def test_packed(impl):
    fx = _fixture()
    lengths = [int(n) for n in fx["packed/doc_lengths"]]
    hidden = _get("packed", "hidden")
    positions = torch.cat([torch.arange(n) for n in lengths])[None]
    doc = _doc_ids(lengths)
    mask = ((doc[:, None] == doc[None, :]) & torch.ones(len(doc), len(doc), dtype=torch.bool).tril())[
        None, None
    ]
    what = tr(
        "llama_attention on documents of {lengths} tokens packed in one row (packed position_ids, 4-D mask)",
        lengths=lengths,
    )
    out, _, _ = _run(impl, "packed", hidden, what, position_ids=positions, attention_mask=mask)
    alone = []
    for start, n in zip(np.cumsum([0, *lengths[:-1]]), lengths, strict=True):
        piece = hidden[:, start : start + n]
        got, _, _ = _run(impl, "packed", piece, tr("llama_attention on one document of {n} tokens", n=n))
        alone.append(got)
    alone = np.concatenate(alone, axis=1)
    if _same(out, fx["packed/out"]) and _same(alone, fx["packed/alone_out"]):
        return
    if not _same(alone, fx["packed/alone_out"]):
        _explain(
            impl, tr("llama_attention on each document alone"), "packed", alone, fx["packed/alone_out"], []
        )
    numpy_positions = positions.numpy()
    slips = [
        (
            tr("the 4-D mask was not used: the documents attended to each other (plain causal mask)"),
            lambda: _attend("packed", hidden, numpy_positions, _causal(0, len(doc)))[0],
        ),
        (
            tr("the position_ids given were not used (positions 0 .. T - 1 across the documents)"),
            lambda: _attend("packed", hidden, np.arange(len(doc)), mask.numpy())[0],
        ),
    ]
    mismatch = _differs(
        what, out, alone, tr("the same documents run one at a time through your llama_attention")
    )
    for why, compute in slips:
        if _same(out, compute()):
            fail("{what}: {why}", what=what, why=why)
    fail(mismatch or _differs(what, out, fx["packed/out"], HF))


@check(1, "llama_attention: a 4-D mask is used as it is (nothing added)")
def test_mask_as_given(impl):
    hidden = _get("gqa", "hidden")
    T = hidden.shape[1]
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    prefix = causal.clone()
    prefix[:3, :3] = True  # a prefix-LM mask: the first 3 tokens see each other both ways
    mask = torch.stack((prefix, causal.T))[:, None]  # [2, 1, T, T]: row 1 sees only later tokens
    what = tr(
        "llama_attention with a 4-D mask [2, 1, 7, 7] (row 0: a prefix of 3 seen both ways; row 1: j >= i)"
    )
    out, _, _ = _run(impl, "gqa", hidden, what, attention_mask=mask)
    positions, allowed = np.arange(T), mask.numpy()
    expected = _attend("gqa", hidden, positions, allowed)[0]
    slips = [
        (
            tr("a causal mask was added to the 4-D mask; a 4-D mask is used as it is"),
            lambda: _attend("gqa", hidden, positions, allowed & _causal(0, T))[0],
        ),
        (
            tr("the 4-D mask was not used (plain causal mask)"),
            lambda: _attend("gqa", hidden, positions, _causal(0, T))[0],
        ),
        (
            tr("only the first row of the 4-D mask was used: its batch axis gives one mask per sequence"),
            lambda: _attend("gqa", hidden, positions, allowed[:1])[0],
        ),
    ]
    _explain(impl, what, "gqa", out, expected, slips, against=tr("the docstring's layer"))


@check(1, "llama_attention: float32 in, float32 out")
def test_float32(impl):
    hidden = _get("gqa", "hidden").to(torch.float32)
    n_heads, n_kv = HEADS["gqa"]
    weights = {name: w.to(torch.float32) for name, w in _weights("gqa").items()}
    what = tr("llama_attention on float32 hidden and weights")
    result = call(impl, "llama_attention", hidden, weights, n_heads, n_kv)
    if not (
        isinstance(result, tuple)
        and len(result) == 2
        and isinstance(result[1], tuple)
        and len(result[1]) == 2
    ):
        fail(
            "{what} must return (out, (k_cache, v_cache)), got {type_name}",
            what=what,
            type_name=type_name(result),
        )
    for value, name in ((result[0], "out"), (result[1][0], "k_cache"), (result[1][1], "v_cache")):
        tensor = tensor_result(value, f"{what}: {name}")
        if tensor.dtype != torch.float32:
            fail(
                "{what}: {name} is {tensor_dtype}; keep the inputs' dtype (float32)",
                what=what,
                name=name,
                tensor_dtype=tensor.dtype,
            )
    out = tensor_result(result[0], what).to(torch.float64).numpy()
    message = _differs(what, out, _fixture()["gqa/out"], HF, dtype=torch.float32)
    if message:
        fail(message)


@check(1, "llama_attention: ValueError when n_heads is not a multiple of n_kv_heads")
def test_heads_error(impl):
    hidden = _get("gqa", "hidden")
    expect_raises(
        ValueError,
        impl,
        "llama_attention",
        hidden,
        _weights("gqa"),
        6,
        4,
        why=tr("n_heads 6 with n_kv_heads 4"),
    )
