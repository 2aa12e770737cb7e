"""Hidden checks for exercises/mla_rope.py: DeepSeek-V2's latent attention and its decoupled RoPE.

Expected values come from the paper's formulas (arXiv 2405.04434, section 2.1) written out here in
float64 (`_layer`), with RoPE by its definition (`_rotations.rotate`); tests/test_mla_rope.py checks the
reference solution against Hugging Face transformers' DeepseekV2Attention (its latent norms replaced
by the identity, its interleaved RoPE mapped onto half-split pairs). When a result differs, `_layer`
recomputes it with one realistic slip at a time, and a message names a slip only when that
reproduces the result.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..checking import call, check, fail, tensor_result, tolerance, type_name
from ..i18n import N_, tr
from ._rotations import rotate

D, H, D_H, D_R, D_Q, D_C = 16, 4, 8, 6, 12, 10  # width, heads, head size, rotary size, latents
SHAPES = {
    "w_dq": (D_Q, D),
    "w_uq": (H * D_H, D_Q),
    "w_qr": (H * D_R, D_Q),
    "w_dkv": (D_C, D),
    "w_uk": (H * D_H, D_C),
    "w_uv": (H * D_H, D_C),
    "w_kr": (D_R, D),
    "w_o": (D, H * D_H),
}

PAPER = N_("the paper's formula")


def _random(*shape, seed: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _weights(seed: int = 0) -> dict[str, torch.Tensor]:
    return {
        name: _random(*shape, seed=seed * 16 + k) * 1.5 / shape[1] ** 0.5
        for k, (name, shape) in enumerate(SHAPES.items())
    }


def _heads(x: np.ndarray, size: int) -> np.ndarray:
    """[B, T, H * size] -> [B, H, T, size]."""
    return x.reshape(*x.shape[:2], H, size).transpose(0, 2, 1, 3)


def _project(hidden, w, positions, base=10000.0, **slip):
    """(c_q, q_c, q_r, c_kv, k_rope) by the docstring, float64 numpy; `slip` names one mistake."""
    x = hidden.to(torch.float64).numpy()
    w = {name: value.to(torch.float64).numpy() for name, value in w.items()}
    positions = np.asarray(positions)
    head_positions = positions[:, None, :] if positions.ndim == 2 else positions
    if slip.get("first_row"):
        head_positions = positions[:1, None, :] if positions.ndim == 2 else positions
    layout = {"interleaved": bool(slip.get("interleaved"))}
    c_q = x @ w["w_dq"].T
    q_c = _heads(c_q @ w["w_uq"].T, D_H)
    q_r = _heads(c_q @ w["w_qr"].T, D_R)
    if slip.get("heads_interleaved"):  # rows of a head strided by H instead of contiguous
        q_c = (c_q @ w["w_uq"].T).reshape(*x.shape[:2], D_H, H).transpose(0, 3, 1, 2)
    if not slip.get("q_r_plain"):
        q_r = rotate(q_r, head_positions, base, **layout)
    if slip.get("q_c_rotated"):
        q_c = rotate(q_c, head_positions, base, **layout)
    c_kv = x @ w["w_dkv"].T
    k_rope = x @ w["w_kr"].T
    if not slip.get("k_rope_plain"):
        k_rope = rotate(
            k_rope,
            positions[:1] if slip.get("first_row") and positions.ndim == 2 else positions,
            base,
            **layout,
        )
    return c_q, q_c, q_r, c_kv, k_rope


def _layer(
    hidden, w, positions, past=None, base=10000.0, *, scale=None, left_aligned=False, parts="both", **slip
):
    """(out, c_kv cache, k_rope cache) of MLA by the docstring, float64 numpy."""
    _, q_c, q_r, c_kv, k_rope = _project(hidden, w, positions, base, **slip)
    if past is not None:
        c_kv = np.concatenate((past[0], c_kv), axis=1)
        k_rope = np.concatenate((past[1], k_rope), axis=1)
    wn = {name: value.to(torch.float64).numpy() for name, value in w.items()}
    k_c = _heads(c_kv @ wn["w_uk"].T, D_H)
    v = _heads(c_kv @ wn["w_uv"].T, D_H)
    content = q_c @ k_c.transpose(0, 1, 3, 2)
    rotary = q_r @ k_rope[:, None].transpose(0, 1, 3, 2)
    scores = {"both": content + rotary, "content": content, "rotary": rotary}[parts]
    scores = scores * (scale if scale is not None else 1 / math.sqrt(D_H + D_R))
    tokens, keys = scores.shape[-2:]
    past_len = keys - tokens
    query = np.arange(tokens)[:, None] + (0 if left_aligned else past_len)
    if not slip.get("unmasked"):
        scores = np.where(np.arange(keys)[None, :] <= query, scores, -np.inf)
    probs = np.exp(scores - scores.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    mixed = (probs @ v).transpose(0, 2, 1, 3).reshape(*hidden.shape[:2], H * D_H)
    return mixed @ wn["w_o"].T, c_kv, k_rope


# ------------------------------------------------------------------------------------ comparing


def _far(got, expected, dtype=torch.float64, scale=4.0):
    rtol, atol = tolerance(dtype)
    return ~np.isclose(got, expected, rtol=max(rtol * scale, 1e-9), atol=max(atol * scale, 1e-9))


def _same(got, expected) -> bool:
    return got.shape == expected.shape and not _far(got, expected).any()


def _explain(
    what: str,
    got: np.ndarray,
    expected: np.ndarray,
    slips,
    against=PAPER,
    dtype=torch.float64,
):
    """Fail with the first slip (what it shows, how to compute it) reproducing `got`, else what differs."""
    bad = _far(got, expected, dtype)
    if not bad.any():
        return
    for why, compute in slips:
        if _same(got, compute()):
            fail("{what}: {why}", what=what, why=why)
    where = tuple(int(i) for i in np.argwhere(bad)[0])
    fail(
        "{what}: {bad_sum} of {size} values differ from {against} (first at index {where}: yours "
        "{got:.6g}, expected {expected:.6g})",
        what=what,
        bad_sum=bad.sum(),
        size=bad.size,
        against=against,
        where=where,
        got=got[where],
        expected=expected[where],
    )


def _tensor(value, what: str, shape: tuple, dtype) -> np.ndarray:
    out = tensor_result(value, what)
    if tuple(out.shape) != tuple(shape):
        fail(
            "{what} has shape {out_shape}, expected {shape}",
            what=what,
            out_shape=tuple(out.shape),
            shape=tuple(shape),
        )
    if out.dtype != dtype:
        fail(
            "{what} is {out_dtype}; keep the inputs' dtype {dtype}",
            what=what,
            out_dtype=out.dtype,
            dtype=dtype,
        )
    return out.to(torch.float64).numpy()


def _unchanged(what: str, given: list[torch.Tensor], before: list[torch.Tensor]) -> None:
    if not all(torch.equal(a, b) for a, b in zip(given, before, strict=True)):
        fail("{what} changed its inputs; compute in new tensors", what=what)


# ------------------------------------------------------------------------------------ absorption


@check(2, "absorb_key_up_projection: A[i] = W_UQ,i^T W_UK,i, one matrix per head")
def test_absorb(impl):
    w = _weights(1)
    what = tr("absorb_key_up_projection(w_uq [32, 12], w_uk [32, 10], n_heads=4)")
    got = _tensor(
        call(impl, "absorb_key_up_projection", w["w_uq"], w["w_uk"], H), what, (H, D_Q, D_C), torch.float64
    )
    uq = w["w_uq"].numpy().reshape(H, D_H, D_Q)
    uk = w["w_uk"].numpy().reshape(H, D_H, D_C)
    expected = uq.transpose(0, 2, 1) @ uk
    strided_uq = w["w_uq"].numpy().reshape(D_H, H, D_Q).transpose(1, 0, 2)
    strided_uk = w["w_uk"].numpy().reshape(D_H, H, D_C).transpose(1, 0, 2)
    slips = [
        (
            tr(
                "the heads were taken as rows strided by H; head i owns the contiguous rows i * d_h "
                ".. (i + 1) * d_h - 1"
            ),
            lambda: strided_uq.transpose(0, 2, 1) @ strided_uk,
        ),
        (
            tr(
                "every head got W_UQ^T W_UK of all heads together (a sum over the heads); each head "
                "has its own A[i]"
            ),
            lambda: np.broadcast_to(w["w_uq"].numpy().T @ w["w_uk"].numpy(), (H, D_Q, D_C)),
        ),
    ]
    _explain(what, got, expected, slips, against=tr("W_UQ,i^T W_UK,i"))
    c_q, c_kv = _random(D_Q, seed=2).numpy(), _random(D_C, seed=3).numpy()
    content = np.einsum("hd,hd->h", uq @ c_q, uk @ c_kv)
    if not np.allclose(c_q @ got @ c_kv, content, rtol=1e-9, atol=1e-9):
        fail("{what}: c_q @ A[i] @ c_kv differs from q_C,i . k_C,i", what=what)


def _gap(impl, m, n, seed=4):
    w = _weights(seed)
    c_q, c_kv = _random(D_Q, seed=seed + 1), _random(D_C, seed=seed + 2)
    got = call(impl, "rope_absorption_gap", c_q, c_kv, w["w_uq"], w["w_uk"], H, m, n)
    what = tr("rope_absorption_gap(..., m={m}, n={n})", m=m, n=n)
    if not isinstance(got, float):
        fail("{what} must return a Python float, got {type_name}", what=what, type_name=type_name(got))
    q = (w["w_uq"].numpy() @ c_q.numpy()).reshape(H, 1, D_H)
    k = (w["w_uk"].numpy() @ c_kv.numpy()).reshape(H, 1, D_H)
    exact = (
        rotate(q, np.array([m]), 10000.0, interleaved=False)
        * rotate(k, np.array([n]), 10000.0, interleaved=False)
    ).sum((1, 2))
    absorbed = (q * k).sum((1, 2))
    return what, got, exact, absorbed, q, k


@check(2, "rope_absorption_gap: 0 when m == n, the exact gap otherwise")
def test_gap(impl):
    for m, n in ((7, 7), (0, 5), (12, 3), (1000, 1)):
        what, got, exact, absorbed, q, k = _gap(impl, m, n)
        expected = float(np.abs(exact - absorbed).max())
        if np.isclose(got, expected, rtol=1e-7, atol=1e-9):
            continue
        slips = [
            (
                float((exact - absorbed).max()),
                tr("the signed difference; return the largest |exact - absorbed|"),
            ),
            (
                float(np.abs(exact - absorbed).sum()),
                tr("the gaps of all heads summed; return the largest one"),
            ),
            (
                float(np.abs(exact - absorbed).mean()),
                tr("the mean gap over the heads; return the largest one"),
            ),
            (
                float(
                    np.abs(
                        (
                            rotate(q, np.array([m]), 10000.0, interleaved=True)
                            * rotate(k, np.array([n]), 10000.0, interleaved=True)
                        ).sum((1, 2))
                        - absorbed
                    ).max()
                ),
                tr(
                    "RoPE used adjacent pairs (2i, 2i+1); apply_rope's half-split pairs (i, i + "
                    "d/2) are the layout here"
                ),
            ),
        ]
        for value, why in slips:
            if np.isclose(got, value, rtol=1e-7, atol=1e-9):
                fail("{what} = {got:.6g}: {why}", what=what, got=got, why=why)
        if m == n:
            fail(
                "{what} = {got:.6g}: with m == n the rotations cancel (R(m)^T R(m) = I), so the gap is ~0",
                what=what,
                got=got,
            )
        fail(
            "{what} = {got:.6g}, expected {expected:.6g} (max over heads of |RoPE(q_C,i, m) . "
            "RoPE(k_C,i, n) - c_q A[i] c_kv|)",
            what=what,
            got=got,
            expected=expected,
        )


# ------------------------------------------------------------------------------------ projections


def _call_project(impl, hidden, w, positions, what, **kw):
    before = [hidden.clone(), positions.clone()] + [v.clone() for v in w.values()]
    result = call(impl, "mla_project", hidden, w, H, positions, **kw)
    _unchanged(what, [hidden, positions, *w.values()], before)
    if not (isinstance(result, tuple) and len(result) == 5):
        fail(
            "{what} must return five tensors (c_q, q_c, q_r, c_kv, k_rope), got {type_name}",
            what=what,
            type_name=type_name(result),
        )
    B, T = hidden.shape[:2]
    k_rope = tensor_result(result[4], f"{what}: k_rope")
    if k_rope.dim() == 4 and k_rope.shape[1] == H:
        fail(
            "{what}: k_rope has a head axis {k_rope_shape}; one rotary key [B, T, d_r] is shared "
            "by every head",
            what=what,
            k_rope_shape=tuple(k_rope.shape),
        )
    shapes = {
        "c_q": (B, T, D_Q),
        "q_c": (B, H, T, D_H),
        "q_r": (B, H, T, D_R),
        "c_kv": (B, T, D_C),
        "k_rope": (B, T, D_R),
    }
    return [
        _tensor(v, f"{what}: {name}", shapes[name], hidden.dtype)
        for v, name in zip(result, shapes, strict=True)
    ]


@check(3, "mla_project: RoPE on q_r and the shared k_rope only, at the positions given")
def test_project(impl):
    w = _weights(5)
    hidden = _random(2, 5, D, seed=6)
    positions = torch.tensor([[0, 1, 2, 3, 4], [40, 41, 42, 43, 44]])
    what = tr("mla_project(hidden [2, 5, 16], ..., positions [[0 .. 4], [40 .. 44]])")
    got = _call_project(impl, hidden, w, positions, what)
    expected = _project(hidden, w, positions.numpy())
    names = ("c_q", "q_c", "q_r", "c_kv", "k_rope")
    for k, name in enumerate(names):

        def part(k=k, **slip):
            return lambda: _project(hidden, w, positions.numpy(), **slip)[k]

        slips = {
            "q_c": [
                (
                    tr(
                        "q_c was rotated; RoPE goes on the decoupled part q_r only (the content "
                        "part must stay absorbable)"
                    ),
                    part(q_c_rotated=True),
                ),
                (
                    tr(
                        "the heads were taken as rows strided by H; head i owns the contiguous rows "
                        "i * d_h .. (i + 1) * d_h - 1"
                    ),
                    part(heads_interleaved=True),
                ),
            ],
            "q_r": [
                (tr("q_r is not rotated: RoPE((c_q @ w_qr.T)_i) at the positions"), part(q_r_plain=True)),
                (
                    tr(
                        "RoPE used adjacent pairs (2i, 2i+1); apply_rope's half-split pairs (i, i + "
                        "d/2) are the layout here"
                    ),
                    part(interleaved=True),
                ),
                (
                    tr("every row used the positions of row 0: positions [B, T] gives one row per sequence"),
                    part(first_row=True),
                ),
            ],
            "k_rope": [
                (
                    tr("k_rope is not rotated: the shared rotary key is RoPE(hidden @ w_kr.T)"),
                    part(k_rope_plain=True),
                ),
                (
                    tr(
                        "RoPE used adjacent pairs (2i, 2i+1); apply_rope's half-split pairs (i, i + "
                        "d/2) are the layout here"
                    ),
                    part(interleaved=True),
                ),
                (
                    tr("every row used the positions of row 0: positions [B, T] gives one row per sequence"),
                    part(first_row=True),
                ),
            ],
        }.get(name, [])
        if name == "c_kv" and _same(
            got[k], rotate(expected[k], positions.numpy(), 10000.0, interleaved=False)
        ):
            fail("{what}: c_kv was rotated; the latent is cached as it is (RoPE lives in k_rope)", what=what)
        _explain(f"{what}: {name}", got[k], expected[k], slips)


@check(1, "mla_project: the base argument is used")
def test_project_base(impl):
    w = _weights(7)
    hidden = _random(1, 4, D, seed=8)
    positions = torch.arange(10, 14)
    what = tr("mla_project(..., positions [10 .. 13], base=500.0)")
    got = _call_project(impl, hidden, w, positions, what, base=500.0)
    expected = _project(hidden, w, positions.numpy(), base=500.0)
    for k, name in ((2, "q_r"), (4, "k_rope")):
        slips = [
            (
                tr("RoPE used base 10000; use the base argument"),
                lambda k=k: _project(hidden, w, positions.numpy())[k],
            )
        ]
        _explain(f"{what}: {name}", got[k], expected[k], slips)


# ------------------------------------------------------------------------------------ the layer


def _call_layer(impl, name, hidden, w, what, **kw):
    past = kw.get("past")
    before = [hidden.clone()] + [v.clone() for v in w.values()] + ([p.clone() for p in past] if past else [])
    result = call(impl, name, hidden, w, H, **kw)
    _unchanged(what, [hidden, *w.values(), *(past or ())], before)
    if not (
        isinstance(result, tuple)
        and len(result) == 2
        and isinstance(result[1], tuple)
        and len(result[1]) == 2
    ):
        fail(
            "{what} must return (out, (c_kv, k_rope)), got {type_name}",
            what=what,
            type_name=type_name(result),
        )
    B, T = hidden.shape[:2]
    S = T + (0 if past is None else past[0].shape[1])
    out = _tensor(result[0], f"{what}: out", (B, T, D), hidden.dtype)
    c_kv = tensor_result(result[1][0], f"{what}: c_kv")
    if c_kv.dim() == 4 and c_kv.shape[1] == H:
        fail(
            "{what}: the cache holds per-head tensors {c_kv_shape}; MLA caches the latent c_kv [B, "
            "P + T, d_c]",
            what=what,
            c_kv_shape=tuple(c_kv.shape),
        )
    if past is not None and c_kv.dim() == 3 and c_kv.shape[1] == T:
        fail(
            "{what}: c_kv holds only the {t} new latents; append them to past[0] along axis 1", what=what, t=T
        )
    c_kv = _tensor(c_kv, f"{what}: c_kv", (B, S, D_C), hidden.dtype)
    k_rope = _tensor(result[1][1], f"{what}: k_rope", (B, S, D_R), hidden.dtype)
    return out, c_kv, k_rope


def _layer_slips(hidden, w, positions, past=None):
    def layer(**kw):
        return lambda: _layer(hidden, w, positions, past, **kw)[0]

    return [
        (
            tr(
                "scores scaled by 1/sqrt(d_h) = 1/sqrt({d_h}); the score of [q_C; q_R] . [k_C; k_R] "
                "is scaled by 1/sqrt(d_h + d_r) = 1/sqrt({value})",
                d_h=D_H,
                value=D_H + D_R,
            ),
            layer(scale=1 / math.sqrt(D_H)),
        ),
        (
            tr("the rotary part q_R . k_R is missing from the scores (no position information)"),
            layer(parts="content"),
        ),
        (tr("the content part q_C . k_C is missing from the scores"), layer(parts="rotary")),
        (tr("q_c was rotated too; RoPE goes on the decoupled part only"), layer(q_c_rotated=True)),
        (tr("no causal mask: a token attended to later tokens"), layer(unmasked=True)),
    ]


@check(3, "mla_attention: the paper's latent attention with decoupled RoPE (prefill)")
def test_layer(impl):
    w, hidden = _weights(9), _random(2, 6, D, seed=10)
    what = tr("mla_attention(hidden [2, 6, 16], ..., n_heads=4)")
    out, c_kv, k_rope = _call_layer(impl, "mla_attention", hidden, w, what)
    positions = np.arange(6)
    expected, expected_c, expected_k = _layer(hidden, w, positions)
    _explain(what, out, expected, _layer_slips(hidden, w, positions))
    _explain(f"{what}: c_kv", c_kv, expected_c, [])
    slips = [
        (
            tr("k_rope is cached before RoPE; cache it rotated, as decoding reads it"),
            lambda: _project(hidden, w, positions, k_rope_plain=True)[4],
        )
    ]
    _explain(f"{what}: k_rope", k_rope, expected_k, slips)


def _decode_case(impl, name: str):
    w, hidden = _weights(11), _random(2, 8, D, seed=12)
    _, c_kv, k_rope = _layer(hidden[:, :5], w, np.arange(5))  # the cache of 5 earlier tokens
    for tokens in (1, 3):
        _decode_one(impl, name, w, hidden[:, 5 : 5 + tokens], (c_kv, k_rope))


def _decode_one(impl, name: str, w, new: torch.Tensor, past: tuple[np.ndarray, np.ndarray]) -> None:
    P, tokens = past[0].shape[1], new.shape[1]
    what = tr(
        "{name}(..., past of {p} tokens) on {tokens} new token{value}",
        name=name,
        p=P,
        tokens=tokens,
        value="s" * (tokens > 1),
    )
    given = (torch.from_numpy(past[0]), torch.from_numpy(past[1]))
    out, got_c, got_k = _call_layer(impl, name, new, w, what, past=given)
    positions = np.arange(P, P + tokens)
    expected, expected_c, expected_k = _layer(new, w, positions, past)
    slips = [
        (
            tr(
                "the new tokens were rotated at positions 0 .. {value}; after a cache of {p} they "
                "sit at {p} .. {value2} (default positions start at P)",
                value=tokens - 1,
                p=P,
                value2=P + tokens - 1,
            ),
            lambda: _layer(new, w, np.arange(tokens), past)[0],
        ),
        (
            tr(
                "the causal mask was built on the new tokens' own indices; new token t sits at "
                "cache index P + t and sees every cached key"
            ),
            lambda: _layer(new, w, positions, past, left_aligned=True)[0],
        ),
    ] + _layer_slips(new, w, positions, past)
    _explain(what, out, expected, slips)
    _explain(f"{what}: c_kv", got_c, expected_c, [])
    _explain(f"{what}: k_rope", got_k, expected_k, [])


@check(2, "mla_attention: decoding with the latent cache (positions continue, mask on cache indices)")
def test_layer_decode(impl):
    _decode_case(impl, "mla_attention")


@check(3, "mla_attention_absorbed: the same outputs from the cached latents (prefill and decode)")
def test_absorbed(impl):
    w, hidden = _weights(13), _random(2, 6, D, seed=14)
    what = tr("mla_attention_absorbed(hidden [2, 6, 16], ..., n_heads=4)")
    out, c_kv, k_rope = _call_layer(impl, "mla_attention_absorbed", hidden, w, what)
    positions = np.arange(6)
    expected, expected_c, expected_k = _layer(hidden, w, positions)
    _explain(what, out, expected, _layer_slips(hidden, w, positions))
    _explain(f"{what}: c_kv", c_kv, expected_c, [])
    _explain(f"{what}: k_rope", k_rope, expected_k, [])
    _decode_case(impl, "mla_attention_absorbed")


@check(1, "mla_attention: float32 in, float32 out")
def test_float32(impl):
    w = {n: v.to(torch.float32) for n, v in _weights(15).items()}
    hidden = _random(1, 4, D, seed=16).to(torch.float32)
    for name in ("mla_attention", "mla_attention_absorbed"):
        what = tr("{name} on float32 inputs", name=name)
        out, c_kv, k_rope = _call_layer(impl, name, hidden, w, what)
        expected = _layer(hidden, w, np.arange(4))[0]
        _explain(what, out, expected, [], dtype=torch.float32)


# ------------------------------------------------------------------------------------ cache size


@check(1, "kv_cache_per_token: (2 H d_h, d_c + d_r)")
def test_cache_size(impl):
    for args in ((128, 128, 512, 64), (32, 128, 256, 32)):
        heads, d_h, d_c, d_r = args
        got = call(impl, "kv_cache_per_token", *args)
        what = f"kv_cache_per_token{args}"
        if not (isinstance(got, tuple) and len(got) == 2 and all(type(v) is int for v in got)):
            fail("{what} must return two Python ints (MHA, MLA), got {got!r}", what=what, got=got)
        expected = (2 * heads * d_h, d_c + d_r)
        if got == expected:
            continue
        if got[0] == heads * d_h:
            fail(
                "{what} = {got}: MHA caches a key and a value per head, 2 H d_h = {expected}",
                what=what,
                got=got,
                expected=expected[0],
            )
        if got[1] == d_c:
            fail(
                "{what} = {got}: MLA also caches the shared rotary key k_R: d_c + d_r = {expected}",
                what=what,
                got=got,
                expected=expected[1],
            )
        if got[1] == d_c + heads * d_r:
            fail(
                "{what} = {got}: the rotary key is shared by all heads: d_c + d_r = {expected}, "
                "not d_c + H d_r",
                what=what,
                got=got,
                expected=expected[1],
            )
        fail("{what} = {got}, expected {expected}", what=what, got=got, expected=expected)
