"""Hidden checks for exercises/attention.py: scaled_dot_product_attention, is_permutation_equivariant.

Expected weights come from the definition, computed here per query row in numpy float64; when the
learner's weights differ, they are compared with the weights of a few realistic wrong formulas to name
the mistake (missing 1/sqrt(d), 1/d, softmax over the queries, inverted mask, mask after softmax, ...).
"""

from __future__ import annotations

import numpy as np
import torch

from ..checking import (
    Mistake,
    call,
    call_inside,
    check,
    fail,
    tensor_result,
    tolerance,
    type_name,
    unfinished,
)
from ..i18n import N_, tr


def _random(*shape, dtype=torch.float64, seed=0, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return (scale * torch.randn(*shape, generator=g, dtype=torch.float64)).to(dtype)


def _softmax_rows(scores: np.ndarray) -> np.ndarray:
    """Softmax of each row of a 2-D array, by the definition (rows of -inf only are not used here)."""
    out = np.empty_like(scores)
    for i, row in enumerate(scores):
        e = np.exp(row - row.max())
        out[i] = e / e.sum()
    return out


def _definition_weights(q: np.ndarray, k: np.ndarray, mask: np.ndarray | None, scale: float, axis=-1):
    """Weights [..., Tq, Tk] for one formula; `axis` is the axis the softmax normalises."""
    q, k = np.broadcast_arrays(q[..., :, None, :], k[..., None, :, :])  # [..., Tq, Tk, d] each
    scores = (q * k).sum(-1) * scale
    if mask is not None:
        scores = np.where(np.broadcast_to(mask, scores.shape), scores, -np.inf)
    if axis == -2:
        scores = np.swapaxes(scores, -1, -2)
    flat = scores.reshape(-1, scores.shape[-1])
    weights = _softmax_rows(flat).reshape(scores.shape)
    return np.swapaxes(weights, -1, -2) if axis == -2 else weights


def _result(impl, q, k, v, mask=None, what="scaled_dot_product_attention", if_raises=""):
    """Call the learner's function; `if_raises` is the likely mistake when it raises on these shapes."""
    args = (q, k, v) if mask is None else (q, k, v, mask)
    given = [a.clone() for a in args]
    try:
        result = call(impl, "scaled_dot_product_attention", *given)
    except Mistake as exc:
        if if_raises and not unfinished(exc):
            fail("{what}: {exc}: {if_raises}", what=what, exc=exc, if_raises=if_raises)
        raise
    for name, before, after in zip(("q", "k", "v", "mask"), args, given, strict=False):
        if not torch.equal(before, after):
            fail(
                "{what}: your function changed its input {name} in place; compute into new tensors",
                what=what,
                name=name,
            )
    return _unpack(result, what)


def _unpack(result, what: str):
    if not isinstance(result, tuple) or len(result) != 2:
        fail(
            "{what} must return a tuple (output, weights), got {type_name}",
            what=what,
            type_name=type_name(result),
        )
    out = tensor_result(result[0], f"{what}: output")
    weights = tensor_result(result[1], f"{what}: weights")
    return out, weights


def _expect_weights(weights: torch.Tensor, q, k, mask, what: str, tol=None) -> None:
    """Fail with the name of the mistake unless `weights` are softmax(q k^T / sqrt(d)) over the keys."""
    qn, kn = q.to(torch.float64).numpy(), k.to(torch.float64).numpy()
    mn = None if mask is None else mask.numpy()
    d = qn.shape[-1]
    expected = _definition_weights(qn, kn, mn, 1 / np.sqrt(d))
    got = weights.to(torch.float64).numpy()
    if got.shape != expected.shape:
        fail(
            "{what}: weights have shape {got_shape}, expected [..., Tq, Tk] = {expected_shape}",
            what=what,
            got_shape=got.shape,
            expected_shape=expected.shape,
        )
    rtol, atol = tolerance(weights.dtype) if tol is None else tol
    if np.allclose(got, expected, rtol=rtol, atol=atol):
        return
    candidates = [
        (tr("the scores are not scaled: divide q k^T by sqrt(d)"), _definition_weights(qn, kn, mn, 1.0)),
        (
            tr("the scores are divided by d; the scale is 1/sqrt(d) (q . k has variance d)"),
            _definition_weights(qn, kn, mn, 1 / d),
        ),
        (
            tr(
                "softmax over the wrong axis: it normalises over the queries (axis -2); each "
                "query's row must sum to 1 over the keys (axis -1)"
            ),
            _definition_weights(qn, kn, mn, 1 / np.sqrt(d), axis=-2),
        ),
    ]
    if mn is not None:
        plain = _definition_weights(qn, kn, None, 1 / np.sqrt(d))
        allowed = np.broadcast_to(mn, plain.shape)
        candidates += [
            (
                tr(
                    "the mask is inverted: True means 'may attend' (PyTorch's convention), so fill "
                    "the scores where the mask is False with -inf"
                ),
                _definition_weights(qn, kn, ~mn, 1 / np.sqrt(d)),
            ),
            (
                tr(
                    "the mask is applied after the softmax: masked weights are 0 but the rows no "
                    "longer sum to 1; fill the scores with -inf before the softmax"
                ),
                np.where(allowed, plain, 0.0),
            ),
            (tr("the mask is ignored"), plain),
        ]
    for message, weights_if in candidates:
        if np.allclose(got, weights_if, rtol=rtol, atol=atol, equal_nan=True):
            fail("{what}: {message_}", what=what, message_=message)
    if not np.isfinite(got).all():
        fail(
            "{what}: the weights contain NaN or inf: fill forbidden scores with -inf before a "
            "softmax over the keys (torch.softmax subtracts the row's max, so large scores do not "
            "overflow)",
            what=what,
        )
    sums = got.sum(-1)
    if not np.allclose(sums, 1.0, atol=1e-4):
        fail(
            "{what}: the rows of the weights sum to values between {sums_min:.3g} and "
            "{sums_max:.3g}; each query's weights over the keys must sum to 1 (a softmax over the "
            "last axis)",
            what=what,
            sums_min=sums.min(),
            sums_max=sums.max(),
        )
    error = np.abs(got - expected)
    where = tuple(int(i) for i in np.unravel_index(np.argmax(error), error.shape))
    fail(
        "{what}: the weights differ from softmax(q k^T / sqrt(d)) over the keys (first large "
        "difference at index {where}, off by {error:.3g})",
        what=what,
        where=where,
        error=error[where],
    )


def _expect_output(out: torch.Tensor, weights: torch.Tensor, v: torch.Tensor, what: str) -> None:
    expected = (weights.to(torch.float64) @ v.to(torch.float64)).numpy()
    got = out.to(torch.float64).numpy()
    if got.shape != expected.shape:
        fail(
            "{what}: output has shape {got_shape}, expected [..., Tq, dv] = {expected_shape}",
            what=what,
            got_shape=got.shape,
            expected_shape=expected.shape,
        )
    rtol, atol = tolerance(out.dtype)
    if not np.allclose(got, expected, rtol=rtol, atol=atol):
        fail("{what}: the output is not weights @ v (the weighted average of the values)", what=what)


BROADCAST = N_(
    "batched input is broken: transpose only the last two axes of k (k.transpose(-2, -1), not "
    "transpose(1, 2) or .T), use @ rather than bmm, and let the leading (batch, head) axes "
    "broadcast"
)


@check(1, "returns (output, weights) of shapes [..., Tq, dv] and [..., Tq, Tk]")
def test_shapes(impl):
    q, k, v = _random(2, 5, 8, seed=1), _random(2, 7, 8, seed=2), _random(2, 7, 3, seed=3)
    out, weights = _result(impl, q, k, v)
    if tuple(out.shape) != (2, 5, 3):
        fail(
            "q [2, 5, 8], k [2, 7, 8], v [2, 7, 3] gave output {out_shape}; expected (2, 5, 3)",
            out_shape=tuple(out.shape),
        )
    if tuple(weights.shape) != (2, 5, 7):
        fail(
            "q [2, 5, 8], k [2, 7, 8] gave weights {weights_shape}; expected [B, Tq, Tk] = (2, 5, 7)",
            weights_shape=tuple(weights.shape),
        )
    if out.dtype != q.dtype:
        fail("float64 inputs gave a {out_dtype} output; keep the inputs' dtype", out_dtype=out.dtype)


@check(3, "scores scaled by 1/sqrt(d), softmax over the keys")
def test_scaling(impl):
    q, k, v = _random(3, 6, 16, seed=4), _random(3, 6, 16, seed=5), _random(3, 6, 16, seed=6)
    out, weights = _result(impl, q, k, v)
    _expect_weights(weights, q, k, None, "no mask, d = 16")
    _expect_output(out, weights, v, "no mask, d = 16")


@check(2, "each row of weights sums to 1, weights >= 0")
def test_rows_sum_to_one(impl):
    q, k, v = _random(4, 9, 8, seed=7), _random(4, 11, 8, seed=8), _random(4, 11, 8, seed=9)
    mask = torch.rand(4, 9, 11, generator=torch.Generator().manual_seed(10)) > 0.4
    mask[..., 0] = True  # every query may attend to at least one key
    _, weights = _result(impl, q, k, v, mask)
    w = weights.to(torch.float64)
    if (w < 0).any() or not torch.isfinite(w).all():
        fail("weights must be finite probabilities (>= 0): fill forbidden scores with -inf, then softmax")
    sums = w.sum(-1)
    if not torch.allclose(sums, torch.ones_like(sums), atol=1e-6):
        if torch.allclose(w.sum(-2), torch.ones_like(w.sum(-2)), atol=1e-6):
            fail("the weights sum to 1 over the queries: softmax over the wrong axis; use the keys (-1)")
        fail(
            "each query's weights must sum to 1 over the keys, but the row sums range from "
            "{sums_min:.3g} to {sums_max:.3g} (is the mask applied after the softmax?)",
            sums_min=float(sums.min()),
            sums_max=float(sums.max()),
        )


@check(3, "boolean mask: True means 'may attend', applied before the softmax")
def test_mask(impl):
    q, k, v = _random(2, 6, 8, seed=11), _random(2, 6, 8, seed=12), _random(2, 6, 8, seed=13)
    causal = torch.ones(6, 6, dtype=torch.bool).tril()  # [Tq, Tk], broadcast over the batch
    out, weights = _result(impl, q, k, v, causal)
    _expect_weights(weights, q, k, causal, tr("causal mask [Tq, Tk]"))
    _expect_output(out, weights, v, tr("causal mask [Tq, Tk]"))
    if weights.to(torch.float64).triu(1).abs().max() > 0:
        fail("with a causal mask, a query must give weight 0 to every later key")
    # scores of size ~1e5: a large negative fill (-1e4, -1e9 in float16 habits) is not "excluded"
    big_q = 3e4 * _random(2, 6, 8, seed=27)
    _, weights = _result(impl, big_q, k, v, causal, what=tr("causal mask with scores of size ~1e5"))
    leaked = float(weights.to(torch.float64).triu(1).abs().max())
    if not torch.isfinite(weights).all():
        return  # an overflowing softmax: the numerical-stability check says so
    if leaked != 0.0:
        fail(
            "with scores of size ~1e5 a causal mask leaves weight {leaked:.3g} on a later key: a "
            "masked key gets weight exactly 0 whatever the scores (fill the scores with -inf, not "
            "a large number)",
            leaked=leaked,
        )


@check(2, "broadcasts over batch and heads ([B, H, T, d], masks [T, T] or [B, 1, 1, T])")
def test_broadcast(impl):
    B, H, Tq, Tk, d = 2, 3, 4, 5, 8
    q, k, v = _random(B, H, Tq, d, seed=14), _random(B, H, Tk, d, seed=15), _random(B, H, Tk, 6, seed=16)
    padding = torch.ones(B, 1, 1, Tk, dtype=torch.bool)
    padding[1, ..., 3:] = False  # the second sequence has 2 padded keys
    for mask, what in ((None, "q [B, H, Tq, d]"), (padding, tr("padding mask [B, 1, 1, Tk]"))):
        out, weights = _result(impl, q, k, v, mask, what=what, if_raises=BROADCAST)
        if tuple(weights.shape) != (B, H, Tq, Tk) or tuple(out.shape) != (B, H, Tq, 6):
            fail(
                "{what}: got output {out_shape} and weights {weights_shape}, expected {value} and "
                "{value2}: {broadcast}",
                what=what,
                out_shape=tuple(out.shape),
                weights_shape=tuple(weights.shape),
                value=(B, H, Tq, 6),
                value2=(B, H, Tq, Tk),
                broadcast=BROADCAST,
            )
        _expect_weights(weights, q, k, mask, what)
        _expect_output(out, weights, v, what)
    q2, k2, v2 = _random(Tq, d, seed=17), _random(Tk, d, seed=18), _random(Tk, d, seed=19)
    out, weights = _result(impl, q2, k2, v2, what=tr("unbatched q [Tq, d]"), if_raises=BROADCAST)
    _expect_weights(weights, q2, k2, None, "unbatched q [Tq, d]")
    # keys and values shared by the heads (multi-query attention): k, v [B, 1, Tk, d] broadcast
    k3, v3 = _random(B, 1, Tk, d, seed=24), _random(B, 1, Tk, 6, seed=25)
    what = tr("q [B, H, Tq, d] with k, v [B, 1, Tk, d] shared by the heads")
    out, weights = _result(impl, q, k3, v3, what=what, if_raises=BROADCAST)
    if tuple(weights.shape) != (B, H, Tq, Tk) or tuple(out.shape) != (B, H, Tq, 6):
        fail(
            "{what}: got output {out_shape} and weights {weights_shape}, expected {value} and "
            "{value2}: the leading axes broadcast",
            what=what,
            out_shape=tuple(out.shape),
            weights_shape=tuple(weights.shape),
            value=(B, H, Tq, 6),
            value2=(B, H, Tq, Tk),
        )
    _expect_weights(weights, q, k3.expand(B, H, Tk, d), None, what)
    _expect_output(out, weights, v3.expand(B, H, Tk, 6), what)


@check(2, "Tq != Tk (cross-attention) and dv != d")
def test_cross_attention(impl):
    q, k, v = _random(3, 2, 8, seed=20), _random(3, 9, 8, seed=21), _random(3, 9, 5, seed=22)
    mask = torch.rand(3, 2, 9, generator=torch.Generator().manual_seed(23)) > 0.3
    mask[..., 4] = True
    out, weights = _result(
        impl,
        q,
        k,
        v,
        mask,
        what=tr("Tq = 2, Tk = 9, dv = 5"),
        if_raises=tr("cross-attention has Tq != Tk and dv != d; nothing in the formula needs them equal"),
    )
    _expect_weights(weights, q, k, mask, "Tq = 2, Tk = 9, dv = 5")
    _expect_output(out, weights, v, "Tq = 2, Tk = 9, dv = 5")


@check(1, "float32 in, float32 out; numerically stable for large scores")
def test_float32_and_stability(impl):
    q = _random(2, 5, 16, dtype=torch.float32, seed=24, scale=30.0)  # scores of several hundred
    k = _random(2, 5, 16, dtype=torch.float32, seed=25, scale=30.0)
    v = _random(2, 5, 16, dtype=torch.float32, seed=26)
    out, weights = _result(impl, q, k, v)
    if out.dtype != torch.float32 or weights.dtype != torch.float32:
        fail(
            "float32 inputs gave {out_dtype} output and {weights_dtype} weights; keep float32",
            out_dtype=out.dtype,
            weights_dtype=weights.dtype,
        )
    if not (torch.isfinite(out).all() and torch.isfinite(weights).all()):
        fail(
            "scores of a few hundred overflow exp(): the output has NaN/inf; use torch.softmax (or "
            "subtract each row's max before exp)"
        )
    # scores of ~1000 in float32 carry absolute errors ~1e-4, so the weights can only match loosely
    _expect_weights(weights, q, k, None, tr("float32, large scores"), tol=(1e-3, 1e-3))


_FORBIDDEN = {
    "scaled_dot_product_attention": "torch.nn.functional.scaled_dot_product_attention",
    "multi_head_attention_forward": "nn.MultiheadAttention",
}


def _fused_calls(attention, *args):
    """In the learner's process: attention(*args) and the fused torch attention functions it called."""
    from torch.overrides import TorchFunctionMode  # cheap; TorchDispatchMode imports torch._dynamo

    forbidden = {getattr(torch.nn.functional, name): text for name, text in _FORBIDDEN.items()}
    seen: list[str] = []

    class Spy(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            if func in forbidden:
                seen.append(forbidden[func])
            return func(*args, **(kwargs or {}))

    with Spy():
        result = attention(*args)
    return result, seen


@check(2, "written by hand (no fused attention, no nn.MultiheadAttention)")
def test_by_hand(impl):
    q, k, v = _random(2, 4, 8, seed=27), _random(2, 6, 8, seed=28), _random(2, 6, 8, seed=29)
    mask = torch.ones(4, 6, dtype=torch.bool).tril(1)
    result, seen = call_inside(_fused_calls, impl, "scaled_dot_product_attention", q, k, v, mask)
    if seen:
        fail(
            "your function calls {seen}: this exercise is to write attention by hand (q @ k^T, "
            "scale, mask, softmax, @ v)",
            seen=seen[0],
        )
    out, weights = _unpack(result, "scaled_dot_product_attention")
    _expect_weights(weights, q, k, mask, "mask [Tq, Tk]")
    _expect_output(out, weights, v, "mask [Tq, Tk]")


# --- Q1: permutation equivariance ---------------------------------------------------------------


def _layers():
    """Layers to test the learner's is_permutation_equivariant on, with the right verdict."""
    g = torch.Generator().manual_seed(30)
    d = 8
    W_q, W_k, W_v = (torch.randn(d, d, generator=g, dtype=torch.float64) / d**0.5 for _ in range(3))
    angles = torch.arange(16, dtype=torch.float64)[:, None] * 10000.0 ** (-torch.arange(0, d, 2) / d)
    pe = torch.stack([angles.sin(), angles.cos()], -1).flatten(-2)  # [16, d] sinusoidal table

    def attend(x, causal=False):
        # torch's fused attention is fine here: this is the check's own layer, not the learner's answer
        return torch.nn.functional.scaled_dot_product_attention(x @ W_q, x @ W_k, x @ W_v, is_causal=causal)

    return [
        (lambda x: attend(x), True, tr("self-attention without positions")),
        (lambda x: torch.tanh(x @ W_v) * 2, True, tr("a per-token MLP")),
        (
            lambda x: attend(x + pe[: x.shape[-2]]),
            False,
            tr("self-attention with sinusoidal positions added"),
        ),
        (lambda x: attend(x, causal=True), False, tr("causal self-attention")),
        (lambda x: x.cumsum(-2), False, tr("a running sum over the tokens")),
        # moves each output by 1e-3 * its position: far above atol = 1e-6, far below the values' size,
        # so a comparison that is loose relative to the values (rtol > 0) misses it
        (
            lambda x: x @ W_v + 1e-3 * torch.arange(x.shape[-2], dtype=x.dtype)[:, None],
            False,
            tr("a layer adding a small position signal (1e-3 * t)"),
        ),
        # large values: a tolerance relative to the values (torch.allclose's rtol) hides differences of 5
        (
            lambda x: 1e7 + x @ W_v + torch.arange(x.shape[-2], dtype=x.dtype)[:, None],
            False,
            tr("a layer with large outputs (1e7 + x W + t)"),
        ),
        # tiny values: differences below atol count as equal, whatever their size relative to the values
        (
            lambda x: 1e-9 * (x @ W_v + torch.arange(x.shape[-2], dtype=x.dtype)[:, None]),
            True,
            tr("a layer with tiny outputs (1e-9 (x W + t): every difference is below atol)"),
        ),
        (
            lambda x: torch.where(
                torch.arange(x.shape[-2])[:, None] == 0, torch.full_like(x, float("nan")), x @ W_v
            ),
            False,
            tr("a layer writing NaN into token 0's output"),
        ),
    ]


def _verdict(impl, layer, x, perm, what, **kwargs):
    result = call(impl, "is_permutation_equivariant", layer, x, perm, **kwargs)
    if not isinstance(result, bool):
        fail(
            "is_permutation_equivariant must return a Python bool, got {type_name} ({what}): "
            "bool(...) of the comparison",
            type_name=type_name(result),
            what=what,
        )
    return result


class _Recorder:
    """A layer (x -> x @ W) that keeps every input it is given, called back in the judge (an object,
    not a function, so it does not run in the learner's process): what the learner's test fed it."""

    def __init__(self, weight):
        self.weight, self.inputs = weight, []

    def __call__(self, x):
        self.inputs.append(torch.as_tensor(x).detach().clone())
        return x @ self.weight.to(x.dtype)


def _fed(impl, x, perm, what) -> str | None:
    """What the learner's is_permutation_equivariant fed the layer, when it is not x and a token
    permutation of x (x[..., perm, :] or x[..., perm^-1, :], both right): a sentence for the message."""
    recorder = _Recorder(torch.eye(x.shape[-1], dtype=torch.float64))
    _verdict(impl, recorder, x, perm, what)
    inverse = torch.argsort(perm)
    seen = [t for t in recorder.inputs if tuple(t.shape) == tuple(x.shape)]
    tokens = [x[..., perm, :], x[..., inverse, :]]
    if any(any(torch.equal(t, p) for p in tokens) for t in seen):
        return None
    if any(torch.equal(t, x[perm]) or torch.equal(t, x[inverse]) for t in seen):
        return tr(
            "your function shuffles the batch axis (x[perm]); perm applies to the token axis "
            "-2: x[..., perm, :]"
        )
    return tr("your function never runs the layer on x with its tokens shuffled (x[..., perm, :])")


@check(2, "is_permutation_equivariant: right verdict on equivariant and position-aware layers")
def test_equivariance_verdicts(impl):
    x = _random(2, 6, 8, seed=31)  # [B, T, d]: batch 2, 6 tokens
    rng = np.random.default_rng(32)
    perms = [torch.tensor([1, 2, 0, 3, 4, 5])]  # a 3-cycle: its inverse is a different permutation
    perms += [torch.from_numpy(rng.permutation(6)) for _ in range(3)]
    for layer, equivariant, what in _layers():
        for perm in perms:
            if torch.equal(perm, torch.arange(6)):
                continue
            said = _verdict(impl, layer, x, perm, what)
            if said == equivariant:
                continue
            fed = _fed(impl, x, perm, what)
            if fed:
                fail(
                    "{what}, perm {perm_tolist}: wrong verdict; {fed}",
                    cause="permutation",
                    what=what,
                    perm_tolist=perm.tolist(),
                    fed=fed,
                )
            if equivariant:
                identity = _verdict(impl, lambda t: t * 1.0, x, perm, tr("the identity layer"))
                if not identity:
                    fail(
                        "for the identity layer (layer(x) = x) your function says 'not "
                        "equivariant' (perm {perm_tolist}), although the layer is run on x[..., "
                        "perm, :]: shuffle the unshuffled run's output by the same perm, "
                        "layer(x)[..., perm, :], and compare",
                        cause="output permutation",
                        perm_tolist=perm.tolist(),
                    )
                fail(
                    "{what} IS permutation-equivariant (layer(x[..., perm, :]) == layer(x)[..., "
                    "perm, :] for perm {perm_tolist}), but your function says it is not",
                    cause="verdict",
                    what=what,
                    perm_tolist=perm.tolist(),
                )
            fail(
                "{what} is NOT permutation-equivariant (layer(x[..., perm, :]) and layer(x)[..., "
                "perm, :] differ for perm {perm_tolist}), but your function says it is",
                cause="verdict",
                what=what,
                perm_tolist=perm.tolist(),
            )


@check(1, "is_permutation_equivariant: permutes the token axis (-2) of any input, with `atol`")
def test_equivariance_token_axis(impl):
    layers = _layers()
    inputs = (
        (_random(5, 5, 8, seed=33), "x of shape [batch=5, T=5, d=8]"),  # x[perm] runs but permutes the batch
        (_random(5, 8, seed=34), "x of shape [T=5, d=8]"),
        (_random(2, 3, 5, 8, seed=35), "x of shape [B=2, H=3, T=5, d=8]"),
    )
    perm = torch.tensor([4, 0, 1, 3, 2])
    for x, shape in inputs:
        for layer, equivariant, what in (layers[0], layers[2]):
            if _verdict(impl, layer, x, perm, f"{what}, {shape}") != equivariant:
                fed = _fed(impl, x, perm, f"{what}, {shape}")
                fail(
                    "{what} on {shape} got the wrong verdict: {fed}"
                    if fed
                    else "{what} on {shape} got the wrong verdict",
                    cause="permutation" if fed else "verdict",
                    what=what,
                    shape=shape,
                    fed=fed,
                )
    # a layer that mixes each token with the one before it, cyclically: equivariant under a cyclic
    # shift, not under other permutations (a function that draws its own perm cannot tell)
    x = _random(2, 6, 8, seed=36)
    shift = torch.roll(torch.arange(6), 1)
    cyclic = lambda t: t + 0.5 * torch.roll(t, 1, dims=-2)  # noqa: E731
    if not _verdict(impl, cyclic, x, shift, tr("a cyclic layer, perm = a cyclic shift")):
        fail(
            "the layer x + 0.5 roll(x, 1) IS equivariant under the cyclic shift perm "
            "{shift_tolist}, but your function says it is not: test the `perm` given, not another "
            "one",
            shift_tolist=shift.tolist(),
        )
    small = layers[5][0]
    if not _verdict(impl, small, x, torch.tensor([1, 2, 0, 3, 4, 5]), "atol=0.1", atol=0.1):
        fail(
            "with atol=0.1, a layer whose outputs move by at most 5e-3 under the permutation is "
            "equivariant within atol, but your function says it is not: compare within the `atol` given"
        )
