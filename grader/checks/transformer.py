"""Hidden checks for exercises/transformer.py: a pre-norm Transformer with RoPE, causal mask, KV cache.

Where the expected values come from (never from solutions/):
- the attention weights, the value path and the cached keys are rebuilt from the definition in numpy
  float64, from the learner's own projection weights (RoPE by grader/checks/_rotations.rotate);
- causality, the relative property, permutation equivariance, cache == full pass and the residual
  identity are properties measured on the learner's model;
- the snapshot compares with grader/fixtures/transformer_snapshot.npz (written by
  scripts/make_transformer_snapshot.py, reproduced in tests by an independent numpy forward pass).
When a result is wrong, the checks compare it with realistic wrong versions to name the mistake.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..checking import (
    Mistake,
    call_function,
    check,
    describe_exception,
    fail,
    inside,
    is_instance,
    seed_learner,
    tensor_result,
    type_name,
)
from ..i18n import N_, tr
from ._rotations import rotate

SNAPSHOT = Path(__file__).resolve().parent.parent / "fixtures" / "transformer_snapshot.npz"

# The model most checks build: 2 heads of size 8, a non-default RoPE base (so ignoring it shows).
SMALL = dict(vocab_size=11, d_model=16, n_heads=2, n_layers=2, max_len=32, rope_base=100.0, mlp_ratio=4)
TOL = 1e-4  # float32 model against float64 expectations, O(1) activations
NAMES = N_(
    "tok_emb, pos_emb (learned only), blocks[i].norm1 / attn.{q,k,v,out}_proj / norm2 / mlp, norm, lm_head"
)


# ---------------------------------------------------------------------------------------------------
# Reaching the learner's code


def _config(impl, **overrides):
    cls = getattr(impl, "TransformerConfig", None)
    if cls is None:
        fail("`TransformerConfig` is missing: keep the exercise's config dataclass")
    fields = {**SMALL, **overrides}
    return call_function(
        f"TransformerConfig({', '.join(f'{k}={v!r}' for k, v in overrides.items())})", cls, **fields
    )


def _build(impl, class_name: str, config, seed: int = 0) -> torch.nn.Module:
    cls = getattr(impl, class_name, None)
    if cls is None:
        fail("`{class_name}` is missing: keep the class of the exercise", class_name=class_name)
    module = call_function(f"{class_name}(config)", cls, config)
    if not is_instance(module, torch.nn.Module):
        fail(
            "{class_name}(config) should be a torch.nn.Module, got {type_name}",
            class_name=class_name,
            type_name=type_name(module),
        )
    _randomize(module, seed)
    return module.eval()


def _randomize(module, seed: int) -> None:
    """O(1) activations: matrices randn / sqrt(fan_in), LayerNorm weights 1 + 0.1 randn, rest 0.1 randn.

    The values are drawn here, in the judge, and copied into the learner's model."""
    gen = torch.Generator().manual_seed(seed)
    values = {}
    for name, shape in inside(_shapes, module):
        noise = torch.randn(shape, generator=gen, dtype=torch.float64)
        if len(shape) == 2:
            value = noise / shape[1] ** 0.5
        elif "norm" in name and name.endswith("weight"):
            value = 1.0 + 0.1 * noise
        else:
            value = 0.1 * noise
        values[name] = value
    inside(_assign, module, values)


def _shapes(module) -> list:
    """In the learner's process: [(name, shape)] of the parameters, in order."""
    return [(name, tuple(p.shape)) for name, p in module.named_parameters()]


def _assign(module, values: dict) -> None:
    """In the learner's process: copy `values` into the parameters of the same names (zeros for '0')."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name in values:
                p.copy_(values[name])


def _model(impl, seed: int = 0, **overrides) -> torch.nn.Module:
    return _build(impl, "Transformer", _config(impl, **overrides), seed)


def _tokens(B: int, T: int, seed: int = 1, vocab: int = SMALL["vocab_size"]) -> torch.Tensor:
    return torch.randint(0, vocab, (B, T), generator=torch.Generator().manual_seed(seed))


def _forward(model, idx, positions=None, cache=None, what="model(idx)"):
    """(logits, cache, weights) of the learner's Transformer, validated as far as types go."""
    with torch.no_grad():
        result = call_function(what, model, idx, positions=positions, cache=cache)
    return _unpack_model(result, what)


def _unpack_model(result, what: str):
    if not isinstance(result, tuple) or len(result) != 3:
        fail(
            "{what} must return a tuple (logits, cache, weights), got {type_name}",
            what=what,
            type_name=type_name(result),
        )
    logits, cache, weights = result
    logits = tensor_result(logits, f"{what}: logits")
    if not isinstance(weights, (list, tuple)) or not all(isinstance(w, torch.Tensor) for w in weights):
        fail("{what}: weights must be a list with one [B, H, T, P + T] tensor per layer", what=what)
    if not isinstance(cache, (list, tuple)):
        fail("{what}: the cache must be a list with one (keys, values) pair per layer", what=what)
    return logits, cache, [w.detach() for w in weights]


def _attention(impl, seed: int = 0, **overrides) -> torch.nn.Module:
    attn = _build(impl, "MultiHeadSelfAttention", _config(impl, **overrides), seed)
    for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
        if not is_instance(getattr(attn, name, None), torch.nn.Linear):
            fail("MultiHeadSelfAttention needs `{name}` = nn.Linear(d_model, d_model, bias=False)", name=name)
    return attn


def _attend(attn, x, positions=None, cache=None, what="attention(x, positions)"):
    with torch.no_grad():
        result = call_function(what, attn, x, positions, cache)
    if not isinstance(result, tuple) or len(result) != 3:
        fail(
            "{what} must return a tuple (output, weights, cache), got {type_name}",
            what=what,
            type_name=type_name(result),
        )
    out, weights, new_cache = result
    if not isinstance(new_cache, tuple) or len(new_cache) != 2:
        fail("{what}: the cache must be a tuple (keys, values)", what=what)
    return (
        tensor_result(out, f"{what}: output"),
        tensor_result(weights, f"{what}: weights"),
        (
            tensor_result(new_cache[0], tr("{what}: cached keys", what=what)),
            tensor_result(new_cache[1], f"{what}: values"),
        ),
    )


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().to(torch.float64).numpy()


def _close(a, b, tol: float = TOL) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=tol, atol=tol))


def _differs(a, b, tol: float = 1e-3) -> bool:
    return not _close(a, b, tol)


# ---------------------------------------------------------------------------------------------------
# Independent construction of one attention layer (numpy float64, from the learner's weights)


def _heads(y: np.ndarray, H: int, wrong_axis: bool = False) -> np.ndarray:
    """[B, T, d] -> [B, H, T, hd]; head h holds features [h hd, (h + 1) hd)."""
    B, T, d = y.shape
    if wrong_axis:
        return y.reshape(B, H, T, d // H)
    return y.reshape(B, T, H, d // H).transpose(0, 2, 1, 3)


def _softmax(scores: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(scores - scores.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _expected_weights(attn, x, positions, causal: bool, base: float, variant: str = "") -> np.ndarray:
    """softmax(R(m) q_m . R(n) k_n / sqrt(hd)) per head, [B, H, T, T]; `variant` is a wrong version."""
    H = SMALL["n_heads"]
    xs = _np(x)
    q = _heads(xs @ _np(attn.q_proj.weight).T, H, variant == "wrong_split")  # [B, H, T, hd]
    k = _heads(xs @ _np(attn.k_proj.weight).T, H, variant == "wrong_split")
    hd = q.shape[-1]
    pos = np.asarray(positions)
    if pos.ndim == 2:  # [B, T]: one row per sequence, the same for every head
        pos = pos[:, None, :]
    rope_base = 10000.0 if variant == "base_ignored" else base
    interleaved = variant == "interleaved"
    if variant not in ("no_rope", "k_only"):
        q = rotate(q, pos, rope_base, interleaved)
    if variant not in ("no_rope", "q_only"):
        k = rotate(k, pos, rope_base, interleaved)
    scale = {"scale_d_model": (H * hd) ** -0.5, "no_scale": 1.0}.get(variant, hd**-0.5)
    scores = np.einsum("bhid,bhjd->bhij", q, k) * scale  # [B, H, T, T]
    T = scores.shape[-1]
    if causal:
        diagonal = {"mask_sees_next": 1, "mask_hides_self": -1}.get(variant, 0)
        allowed = np.tril(np.ones((T, T), dtype=bool), k=diagonal)
        scores = np.where(allowed, scores, -np.inf)
    if variant == "causal_ignored":  # the mask applied although causal=False
        allowed = np.tril(np.ones((T, T), dtype=bool))
        scores = np.where(allowed, scores, -np.inf)
    if variant == "softmax_queries":
        return _softmax(scores, axis=-2)
    with np.errstate(invalid="ignore"):
        return _softmax(scores)


WEIGHT_MISTAKES = {
    "wrong_split": N_(
        "heads are split along the wrong axis: view q, k, v [B, T, d] as [B, T, H, "
        "hd], then transpose(1, 2) to [B, H, T, hd] (viewing straight as [B, H, T, "
        "hd] mixes tokens into heads)"
    ),
    "no_rope": N_(
        "the weights ignore the positions: with pos_scheme 'rope', rotate q and k "
        "(apply_rope) before the q·k product"
    ),
    "q_only": N_("only q is rotated: RoPE rotates both q and k, each at its own position"),
    "k_only": N_("only k is rotated: RoPE rotates both q and k, each at its own position"),
    "interleaved": N_(
        "RoPE pairs must be half-split (i, i + hd/2), apply_rope's default; yours rotates adjacent pairs"
    ),
    "base_ignored": N_("config.rope_base is ignored: pass base=config.rope_base to apply_rope"),
    "scale_d_model": N_("scores are divided by sqrt(d_model); each head divides by sqrt(head_dim)"),
    "no_scale": N_("scores are not scaled: divide q·k by sqrt(head_dim)"),
    "softmax_queries": N_(
        "the softmax normalises over the queries; it must normalise over the keys (the last axis)"
    ),
    "mask_sees_next": N_("causal mask off by one: query i also sees key i + 1 (allowed keys are j <= i)"),
    "mask_hides_self": N_("causal mask off by one: it hides the token itself (allowed keys are j <= i)"),
    "causal_ignored": N_(
        "with causal=False the weights are masked causally: apply the mask only when config.causal"
    ),
}


def _expect_weights(weights: torch.Tensor, attn, x, positions, causal: bool, base: float, what: str):
    expected = _expected_weights(attn, x, positions, causal, base)
    mine = _np(weights)
    if mine.shape != expected.shape:
        fail(
            "{what}: weights have shape {mine_shape}, expected [B, H, T, T] = {expected_shape}",
            what=what,
            mine_shape=mine.shape,
            expected_shape=expected.shape,
        )
    if not np.isfinite(mine).all():
        fail(
            "{what}: the weights contain NaN: a query row has no key it may attend to (does the "
            "causal mask hide the token itself? allowed keys are j <= i)",
            what=what,
        )
    if _close(mine, expected):
        return
    for variant, message in WEIGHT_MISTAKES.items():
        if variant.startswith("mask") and not causal or variant == "causal_ignored" and causal:
            continue
        with np.errstate(invalid="ignore"):
            if _close(mine, _expected_weights(attn, x, positions, causal, base, variant)):
                fail("{what}: {message_}", what=what, message_=message)
    if not np.allclose(mine.sum(-1), 1.0, atol=1e-4):
        fail(
            "{what}: each row of the weights must sum to 1 over the keys: mask the scores with "
            "-inf before the softmax, do not zero weights after it",
            what=what,
        )
    worst = np.unravel_index(np.argmax(np.abs(mine - expected)), mine.shape)
    fail(
        "{what}: the weights differ from softmax(R(m) q_m · R(n) k_n / sqrt(head_dim)) computed "
        "from your q_proj and k_proj (by {value:.3g} at [batch, head, query, key] = {map})",
        cause="attention weights",
        what=what,
        value=np.abs(mine - expected)[worst],
        map=list(map(int, worst)),
    )


# ---------------------------------------------------------------------------------------------------
# The checks


@check(2, "shapes of logits, weights and cache for several sizes and schemes")
def test_shapes(impl):
    settings = [  # scheme, B, T, n_heads, d_model, n_layers
        ("rope", 1, 1, 1, 8, 1),
        ("rope", 2, 5, 2, 16, 2),
        ("rope", 3, 7, 4, 32, 1),
        ("sinusoidal", 2, 4, 2, 16, 2),
        ("learned", 2, 6, 4, 16, 1),
        ("none", 1, 3, 2, 16, 2),
    ]
    for scheme, B, T, H, d, L in settings:
        model = _model(impl, pos_scheme=scheme, n_heads=H, d_model=d, n_layers=L)
        what = tr(
            "{scheme} model (B={b}, T={t}, n_heads={h}, d_model={d}, n_layers={l})",
            scheme=scheme,
            b=B,
            t=T,
            h=H,
            d=d,
            l=L,
        )
        idx = _tokens(B, T)
        logits, cache, weights = _forward(model, idx, what=what)
        V, hd = SMALL["vocab_size"], d // H
        if tuple(logits.shape) != (B, T, V) or logits.dtype != torch.float32:
            fail(
                "{what}: logits have shape {logits_shape} ({logits_dtype}), expected [B, T, V] = "
                "{value} in float32",
                what=what,
                logits_shape=tuple(logits.shape),
                logits_dtype=logits.dtype,
                value=[B, T, V],
            )
        if len(weights) != L or any(tuple(w.shape) != (B, H, T, T) for w in weights):
            fail(
                "{what}: weights must be a list of {l} tensors [B, H, T, T] = {value}, got {value2}",
                what=what,
                l=L,
                value=[B, H, T, T],
                value2=[tuple(w.shape) for w in weights],
            )
        if len(cache) != L or any(tuple(t.shape) != (B, H, T, hd) for entry in cache for t in entry):
            fail(
                "{what}: the cache must hold one (keys, values) pair per layer, each [B, H, T, "
                "head_dim] = {value}",
                what=what,
                value=[B, H, T, hd],
            )
        more, cache, weights = _forward(
            model, _tokens(B, 2, seed=5), cache=cache, what=tr("{what} with a cache", what=what)
        )
        if tuple(more.shape) != (B, 2, V) or any(tuple(w.shape) != (B, H, 2, T + 2) for w in weights):
            fail(
                "{what}: 2 new tokens after {t} cached ones must give logits [B, 2, V] and weights "
                "[B, H, 2, {t} + 2]; got {more_shape} and {value}",
                what=what,
                t=T,
                more_shape=tuple(more.shape),
                value=[tuple(w.shape) for w in weights],
            )
        if any(tuple(t.shape) != (B, H, T + 2, hd) for entry in cache for t in entry):
            fail(
                "{what}: after 2 more tokens the cache must hold T + 2 = {value} entries per layer",
                what=what,
                value=T + 2,
            )
    model = _model(impl, pos_scheme="sinusoidal", mlp_ratio=2)
    shapes, buffers = dict(inside(_shapes, model)), inside(_buffer_shapes, model)
    if list(shapes.get("blocks.0.mlp.0.weight", ())) != [32, 16]:
        fail(
            "with mlp_ratio=2 and d_model=16, blocks[0].mlp[0] must be Linear(16, 32) (weight [32, "
            "16]), got {get}: the MLP width is mlp_ratio * d_model",
            get=list(shapes.get("blocks.0.mlp.0.weight", ())),
        )
    if [SMALL["max_len"], 16] not in [list(shape) for shape in buffers]:
        fail(
            "the sinusoidal table is not a buffer of the model (register_buffer('pos_table', ..., "
            "persistent=False)), so model.to(...) does not move it"
        )


def _expect_value_error(what: str, func, *args, **kwargs) -> None:
    try:
        func(*args, **kwargs)
    except ValueError:
        return
    except NotImplementedError:
        name = tr("the model's forward") if is_instance(func, torch.nn.Module) else f"{func.__name__}(config)"
        call_function(name, func, *args, **kwargs)  # the same failure, with the usual message
    except Mistake:
        raise
    except Exception as exc:
        fail(
            "{what}: expected ValueError, got {describe_exception}",
            what=what,
            describe_exception=describe_exception(exc),
        )
    fail("{what}: expected ValueError, but it returned normally", what=what)


@check(1, "ValueError for bad configs and positions past a learned/sinusoidal table")
def test_validation(impl):
    cls = getattr(impl, "Transformer", None)
    if cls is None:
        fail("`Transformer` is missing: keep the class of the exercise")
    _expect_value_error(
        tr("d_model=16, n_heads=3 (d_model not divisible)"), cls, _config(impl, n_heads=3, pos_scheme="none")
    )
    _expect_value_error(
        tr("RoPE with head_dim 3 (d_model=12, n_heads=4)"), cls, _config(impl, d_model=12, n_heads=4)
    )
    _expect_value_error("pos_scheme='alibi' (unknown)", cls, _config(impl, pos_scheme="alibi"))
    for scheme in ("learned", "sinusoidal"):
        model = _model(impl, pos_scheme=scheme)  # max_len 32
        _expect_value_error(
            tr(
                "{scheme} model at positions 29 .. 32 with max_len 32 (a table of 32 rows holds "
                "positions 0 .. 31; absolute tables cannot go past their length)",
                scheme=scheme,
            ),
            model,
            _tokens(1, 4),
            positions=torch.arange(29, 33),
        )
        _expect_value_error(
            tr("{scheme} model at positions -1 .. 2 (outside [0, max_len))", scheme=scheme),
            model,
            _tokens(1, 4),
            positions=torch.arange(-1, 3),
        )
    for scheme in ("none", "learned"):  # an odd head_dim is only a problem for RoPE
        what = tr(
            "a {scheme!r} model with head_dim 3 (d_model=12, n_heads=4; only RoPE needs it even)",
            scheme=scheme,
        )
        config = _config(impl, pos_scheme=scheme, d_model=12, n_heads=4)
        model = call_function(what, cls, config)
        _forward(model, _tokens(1, 3), what=what)
    rope = _model(impl, pos_scheme="rope")
    _forward(
        rope,
        _tokens(1, 4),
        torch.arange(40, 44),
        what=tr("rope model at positions 40 .. 43 (past max_len 32)"),
    )


@check(3, "attention weights = softmax(R q · R k / sqrt(head_dim)) per head")
def test_attention_weights(impl):
    x = torch.randn(2, 6, 16, generator=torch.Generator().manual_seed(3))
    positions = torch.tensor([3, 5, 6, 10, 11, 20])
    for causal in (False, True):
        attn = _attention(impl, seed=4, causal=causal)
        what = tr(
            "MultiHeadSelfAttention (causal={causal}, positions {positions_tolist})",
            causal=causal,
            positions_tolist=positions.tolist(),
        )
        _, weights, _ = _attend(attn, x, positions, what=what)
        _expect_weights(weights, attn, x, positions.numpy(), causal, SMALL["rope_base"], what)
    # positions [B, T] that differ per row (not by a constant shift), with B = n_heads and B != n_heads
    attn = _attention(impl, seed=4, causal=True)
    for B in (2, 3):
        xb = torch.randn(B, 6, 16, generator=torch.Generator().manual_seed(30 + B))
        per_row = torch.stack([torch.arange(6) * (b + 1) + 2 * b for b in range(B)])
        what = tr(
            "MultiHeadSelfAttention (causal=True, B={b}, positions [B, T] {per_row_tolist})",
            b=B,
            per_row_tolist=per_row.tolist(),
        )
        _, weights, _ = _attend(attn, xb, per_row, what=what)
        _expect_weights(weights, attn, xb, per_row.numpy(), True, SMALL["rope_base"], what)


@check(2, "output = out_proj(heads of weights @ v); values are not rotated")
def test_value_path(impl):
    x = torch.randn(2, 6, 16, generator=torch.Generator().manual_seed(5))
    positions = torch.tensor([0, 2, 3, 9, 10, 40])
    attn = _attention(impl, seed=6, causal=False)
    what = tr("MultiHeadSelfAttention (causal=False)")
    out, weights, _ = _attend(attn, x, positions, what=what)
    w = _np(weights)
    if w.shape != (2, SMALL["n_heads"], 6, 6):
        fail(
            "{what}: weights have shape {w_shape}, expected [B, H, T, T] = [2, 2, 6, 6]",
            what=what,
            w_shape=w.shape,
        )
    v = _heads(_np(x) @ _np(attn.v_proj.weight).T, SMALL["n_heads"])  # [B, H, T, hd]
    Wo = _np(attn.out_proj.weight)

    def merged(values, transpose=True):
        y = w @ values  # [B, H, T, hd]
        y = y.transpose(0, 2, 1, 3).reshape(2, 6, 16) if transpose else y.reshape(2, 6, 16)
        return y @ Wo.T  # [B, T, d]

    mine = _np(out)
    if not _close(mine, merged(v)):
        if _close(mine, merged(rotate(v, positions.numpy(), SMALL["rope_base"], False))):
            fail(
                "{what}: the values are rotated: RoPE acts on q and k only; v is the content mixed "
                "by the weights and must stay as v_proj(x)",
                what=what,
            )
        if _close(mine, merged(v, transpose=False)):
            fail(
                "{what}: heads are merged along the wrong axis: transpose [B, H, T, hd] to [B, T, "
                "H, hd] before reshaping to [B, T, d]",
                what=what,
            )
        fail(
            "{what}: the output is not out_proj(concat over heads of weights @ v) with your own "
            "weights and v = v_proj(x) split into heads (values must not be rotated)",
            what=what,
        )
    model = _model(impl, seed=7, pos_scheme="rope")
    token = _tokens(2, 1, seed=8)
    first, _, _ = _forward(model, token, positions=torch.tensor([0]), what=tr("rope model, one token"))
    for p in (1, 37, 500):
        other, _, _ = _forward(model, token, positions=torch.tensor([p]), what=tr("rope model, one token"))
        if not _close(_np(first), _np(other)):
            fail(
                "rope model: a single token's logits change when it moves from position 0 to {p}; "
                "with RoPE only q·k sees positions, so values must not be rotated and nothing is "
                "added to the embeddings",
                p=p,
            )


@check(3, "causal: a future token changes no earlier output")
def test_causal(impl):
    T = 8
    idx = _tokens(2, T, seed=9)
    for scheme in ("rope", "learned"):
        model = _model(impl, seed=10, pos_scheme=scheme, causal=True)
        base, _, weights = _forward(model, idx, what=tr("{scheme} model (causal=True)", scheme=scheme))
        for layer, w in enumerate(weights):
            w = _np(w)
            if not np.isfinite(w).all():
                fail(
                    "{scheme} model: NaN in the weights of layer {layer}: a query has no key it "
                    "may attend to (causal mask off by one: it hides the token itself; allowed "
                    "keys are j <= i)",
                    scheme=scheme,
                    layer=layer,
                )
            if w.shape[-2:] == (T, T):
                future = np.triu(np.ones((T, T), dtype=bool), k=1)
                if np.abs(w[..., future]).max() > 1e-6:
                    if np.abs(w[..., np.triu(np.ones((T, T), dtype=bool), k=2)]).max() <= 1e-6:
                        fail(
                            "{scheme} model: causal mask off by one: query i attends to key i + 1 "
                            "(mask the keys j > i: tril(diagonal=0) is allowed)",
                            scheme=scheme,
                        )
                    fail(
                        "{scheme} model: with causal=True, query i attends to keys j > i (weights "
                        "above the diagonal must be exactly 0)",
                        scheme=scheme,
                    )
                if np.abs(np.diagonal(w, axis1=-2, axis2=-1)).min() <= 1e-12:
                    fail(
                        "{scheme} model: causal mask off by one: a token does not attend to itself "
                        "(allowed keys are j <= i, the diagonal included)",
                        scheme=scheme,
                    )
        weights_causal = all(_np(w).shape[-2:] == (T, T) for w in weights)  # checked just above
        for t in (0, 3, T - 1):
            changed = idx.clone()
            changed[:, t] = (changed[:, t] + 1) % SMALL["vocab_size"]
            logits, _, _ = _forward(model, changed, what=tr("{scheme} model (causal=True)", scheme=scheme))
            before, mine = _np(base), _np(logits)
            if not _close(before[:, :t], mine[:, :t], 1e-5):
                earlier = [i for i in range(t) if not _close(before[:, i], mine[:, i], 1e-5)]
                if weights_causal:
                    fail(
                        "{scheme} model: changing token {t} changed earlier outputs {earlier}, "
                        "although your attention weights are causal (zero above the diagonal): "
                        "tokens are mixed after the weights (weights @ v, the merge of the heads "
                        "[B, H, T, hd] -> [B, T, d], or what follows)",
                        cause="token mixing",
                        scheme=scheme,
                        t=t,
                        earlier=earlier,
                    )
                fail(
                    "{scheme} model: changing token {t} changed earlier outputs {earlier}: with "
                    "causal=True, token i may only attend to tokens j <= i",
                    scheme=scheme,
                    t=t,
                    earlier=earlier,
                )
            if not _differs(before[:, t], mine[:, t], 1e-6):
                fail(
                    "{scheme} model: changing token {t} did not change its own output: with "
                    "causal=True token t attends to the keys j <= t, itself included",
                    scheme=scheme,
                    t=t,
                )
    # the mask is about order in the sequence, not position values: repeated positions change nothing
    model = _model(impl, seed=10, pos_scheme="rope", causal=True)
    repeated = torch.tensor([0, 1, 2, 2, 3, 4, 4, 5])
    _, _, weights = _forward(
        model, idx, repeated, what=tr("rope model (causal=True), positions with repeats")
    )
    for layer, w in enumerate(weights):
        w = _np(w)
        if w.shape[-2:] == (T, T) and np.abs(w[..., np.triu(np.ones((T, T), dtype=bool), k=1)]).max() > 1e-6:
            fail(
                "rope model, positions {repeated_tolist}: in layer {layer} a token attends to a "
                "later token of the sequence: the causal mask compares indices in the sequence (j "
                "<= P + i), not position values",
                repeated_tolist=repeated.tolist(),
                layer=layer,
            )
    model = _model(impl, seed=11, pos_scheme="rope", causal=False)
    base, _, _ = _forward(model, idx, what=tr("rope model (causal=False)"))
    changed = idx.clone()
    changed[:, -1] = (changed[:, -1] + 1) % SMALL["vocab_size"]
    logits, _, _ = _forward(model, changed, what=tr("rope model (causal=False)"))
    if not _differs(_np(base)[:, 0], _np(logits)[:, 0], 1e-6):
        fail(
            "rope model with causal=False: the first output ignores the last token; an encoder's "
            "tokens attend to every token (apply the mask only when config.causal)"
        )


@check(3, "RoPE: attention weights unchanged when all positions shift")
def test_rope_relative(impl):
    T = 6
    idx = _tokens(2, T, seed=12)
    for causal in (True, False):
        model = _model(impl, seed=13, pos_scheme="rope", causal=causal)
        what = tr("rope model (causal={causal})", causal=causal)
        logits, _, weights = _forward(model, idx, positions=torch.arange(T), what=what)
        for offset in (5, 100, 1000):
            shifted, _, moved = _forward(model, idx, positions=torch.arange(T) + offset, what=what)
            for layer, (w, m) in enumerate(zip(weights, moved, strict=False)):
                if not _close(_np(w), _np(m)):
                    fail(
                        "{what}: the attention weights of layer {layer} changed when every "
                        "position shifted by {offset}; with RoPE a score depends only on n - m: "
                        "rotate q and k, each at its own position, before the q·k product (not the "
                        "scores after it, and no positions added to the embeddings)",
                        what=what,
                        layer=layer,
                        offset=offset,
                    )
            if not _close(_np(logits), _np(shifted)):
                fail(
                    "{what}: the weights are shift-invariant but the logits changed when every "
                    "position shifted by {offset}: the values must not be rotated",
                    what=what,
                    offset=offset,
                )
        _, _, spread = _forward(model, idx, positions=torch.arange(T) * 7, what=what)
        if all(_close(_np(w), _np(m), 1e-3) for w, m in zip(weights, spread, strict=False)):
            fail(
                "{what}: the weights do not change when the distances between tokens change "
                "(positions 0, 7, 14, ...): the positions given do not reach the rotation of q and "
                "k",
                what=what,
            )


@check(2, "`none` (non-causal) is permutation equivariant; the other schemes are not")
def test_permutation(impl):
    T = 7
    idx = _tokens(2, T, seed=14)
    perm = torch.tensor([3, 0, 6, 1, 5, 2, 4])
    model = _model(impl, seed=15, pos_scheme="none", causal=False)
    logits, _, weights = _forward(model, idx, what=tr("none model (causal=False)"))
    shuffled, _, moved = _forward(model, idx[:, perm], what=tr("none model (causal=False)"))
    if not _close(_np(shuffled), _np(logits)[:, perm.numpy()]):
        fail(
            "pos_scheme 'none', causal=False: permuting the tokens must permute the logits the same way "
            "(self-attention without positions is permutation equivariant); is a position added or a "
            "mask applied anyway?"
        )
    p = perm.numpy()
    if not _close(_np(moved[0]), _np(weights[0])[:, :, p][:, :, :, p]):
        fail("pos_scheme 'none': permuting the tokens must permute the rows and columns of the weights")
    for scheme in ("rope", "learned", "sinusoidal"):
        model = _model(impl, seed=15, pos_scheme=scheme, causal=False)
        logits, _, _ = _forward(model, idx, what=tr("{scheme} model (causal=False)", scheme=scheme))
        shuffled, _, _ = _forward(
            model, idx[:, perm], what=tr("{scheme} model (causal=False)", scheme=scheme)
        )
        if _close(_np(shuffled), _np(logits)[:, perm.numpy()], 1e-3):
            fail(
                "pos_scheme '{scheme}': the model is permutation equivariant, so it ignores "
                "positions (is the positional scheme applied?)",
                scheme=scheme,
            )


@check(2, "pre-norm blocks with residuals: zeroed sublayers leave the embeddings untouched")
def test_residual(impl):
    idx = _tokens(2, 5, seed=16)
    for scheme in ("none", "learned"):
        model = _model(impl, seed=17, pos_scheme=scheme)
        try:
            blocks = list(model.blocks)
            sublayers = [(b.attn.out_proj, b.mlp) for b in blocks]
            tok_emb, norm, lm_head = model.tok_emb, model.norm, model.lm_head
            pos_emb = model.pos_emb if scheme == "learned" else None
            block_norms = [(b.norm1, b.norm2) for b in blocks]
        except (AttributeError, TypeError) as exc:
            fail(
                "module names differ from the exercise's ({describe_exception}); keep {names}",
                describe_exception=describe_exception(exc),
                names=NAMES,
            )
        for out_proj, mlp in sublayers:
            inside(_zero, out_proj, mlp)
        with torch.no_grad():
            x = tok_emb(idx)  # the embeddings go straight through every block
            if pos_emb is not None:
                x = x + pos_emb(torch.arange(5))
            expected = _np(lm_head(norm(x)))
            lost = _np(lm_head(norm(torch.zeros_like(x))))  # nothing carried past a block
            post = x
            for norm1, norm2 in block_norms:  # post-norm: x = norm1(x + 0), then norm2(x + 0)
                post = norm2(norm1(post))
            post = _np(lm_head(norm(post)))
        logits, _, _ = _forward(model, idx, what=tr("{scheme} model with zeroed sublayers", scheme=scheme))
        if not _close(_np(logits), expected):
            if _close(_np(logits), lost):
                fail(
                    "{scheme} model: with every attention out_proj and MLP zeroed, the logits are "
                    "lm_head(norm(0)) for every token: the embeddings do not reach the output, so "
                    "a residual connection (x + sublayer) is missing",
                    scheme=scheme,
                )
            if _close(_np(logits), post):
                fail(
                    "{scheme} model: with every out_proj and MLP zeroed, the logits equal "
                    "lm_head(norm(norm2(norm1(x)))) per block: the LayerNorms are applied to the "
                    "residual stream (post-norm); pre-norm normalises only each sublayer's input",
                    scheme=scheme,
                )
            error = float(np.abs(_np(logits) - expected).max())
            fail(
                "{scheme} model: with every attention out_proj and MLP zeroed, each pre-norm block must "
                "return its input (x + 0), so the logits are lm_head(norm({embedded})); yours differ by "
                "up to {error:.3g}: something on the path embeddings -> blocks -> final norm -> lm_head "
                "changes the values",
                scheme=scheme,
                embedded="tok_emb(idx) + pos_emb(positions)" if scheme == "learned" else "tok_emb(idx)",
                error=error,
            )


@check(2, "learned and sinusoidal tables: rows at the positions given (gaps, per row, after a cache)")
def test_table_positions(impl):
    idx = _tokens(2, 5, seed=25)
    settings = [
        (tr("positions [5] with gaps [3, 7, 8, 12, 20]"), torch.tensor([3, 7, 8, 12, 20]), None),
        (
            tr("positions [2, 5] that differ per row"),
            torch.tensor([[0, 1, 2, 3, 4], [5, 9, 10, 11, 30]]),
            None,
        ),
        (tr("2 tokens after 3 cached ones, default positions (3, 4)"), None, 3),
    ]
    for scheme in ("learned", "sinusoidal"):
        model = _model(impl, seed=26, pos_scheme=scheme)
        try:
            sublayers = [(b.attn.out_proj, b.mlp) for b in model.blocks]
            tok_emb, norm, lm_head = model.tok_emb, model.norm, model.lm_head
            table = model.pos_emb.weight if scheme == "learned" else None
        except (AttributeError, TypeError) as exc:
            fail(
                "module names differ from the exercise's ({describe_exception}); keep {names}",
                describe_exception=describe_exception(exc),
                names=NAMES,
            )
        for out_proj, mlp in sublayers:
            inside(_zero, out_proj, mlp)  # the embeddings then go straight to the final norm
        if scheme == "learned":
            rows = torch.as_tensor(tensor_result(table, "pos_emb.weight"))
        else:
            encoding = getattr(impl, "sinusoidal_encoding", None)
            if not callable(encoding):
                fail("transformer.py must import sinusoidal_encoding (from .sinusoidal) for its table")
            table = call_function("sinusoidal_encoding(max_len, d_model)", encoding, SMALL["max_len"], 16)
            rows = tensor_result(table, "sinusoidal_encoding")
        for label, positions, cached in settings:
            what = f"{scheme} model, {label}"
            tokens = idx if cached is None else idx[:, cached:]
            cache = None
            if cached is not None:
                _, cache, _ = _forward(model, idx[:, :cached], what=what)
                positions = torch.arange(cached, idx.shape[1])
            logits, _, _ = _forward(model, tokens, positions if cached is None else None, cache, what=what)
            with torch.no_grad():
                embedded = tok_emb(tokens)

                def through(at):
                    return _np(lm_head(norm(embedded + rows[at.expand(tokens.shape)].float())))  # noqa: B023

                expected = through(positions)
            mine = _np(logits)
            if mine.shape != expected.shape or not _close(mine, expected):
                counted = torch.arange(tokens.shape[1])  # 0 .. T-1: positions ignored, or restarting
                if mine.shape == expected.shape and _close(mine, through(counted)):
                    fail(
                        "{what}: the table rows are those of positions 0 .. {value}, not of the "
                        "positions given (or, after a cache, continuing at P)",
                        cause="table positions",
                        what=what,
                        value=tokens.shape[1] - 1,
                    )
                error = float(np.abs(mine - expected).max()) if mine.shape == expected.shape else float("nan")
                fail(
                    "{what}: with every out_proj and MLP zeroed the logits must be "
                    "lm_head(norm(tok_emb(idx) + table[positions])) with table = {table}; yours differ "
                    "by up to {error:.3g}",
                    cause="table positions",
                    what=what,
                    table="pos_emb.weight"
                    if scheme == "learned"
                    else tr("your sinusoidal_encoding(max_len, d_model)"),
                    error=error,
                )


@check(3, "KV cache: incremental decoding equals the full forward pass")
def test_kv_cache(impl):
    # One layer: the cache holds the keys already rotated at their own positions and the plain values.
    attn = _attention(impl, seed=18, causal=True)
    x = torch.randn(2, 7, 16, generator=torch.Generator().manual_seed(19))
    positions = torch.arange(7) + 3
    full, _, _ = _attend(attn, x, positions, what=tr("attention(x, positions)"))
    _, _, (keys, values) = _attend(attn, x[:, :4], positions[:4], what=tr("attention on 4 tokens"))
    H = SMALL["n_heads"]
    k = _heads(_np(x[:, :4]) @ _np(attn.k_proj.weight).T, H)
    v = _heads(_np(x[:, :4]) @ _np(attn.v_proj.weight).T, H)
    expected_keys = rotate(k, positions[:4].numpy(), SMALL["rope_base"], False)
    if np.shape(_np(keys)) != expected_keys.shape:
        fail(
            "the cached keys have shape {shape}; the cache holds [B, H, T, head_dim] = {expected_keys_shape}",
            shape=np.shape(_np(keys)),
            expected_keys_shape=list(expected_keys.shape),
        )
    if not _close(_np(keys), expected_keys):
        if _close(_np(keys), k):
            fail(
                "the cached keys are not rotated: the cache holds the keys already rotated at their own "
                "positions (a key's rotation never changes, so it is stored rotated, never rotated again)",
                cause="cache keys",
            )
        worst = np.unravel_index(np.argmax(np.abs(_np(keys) - expected_keys)), expected_keys.shape)
        fail(
            "the cached keys differ from k_proj(x) split into heads [B, H, T, head_dim] and "
            "rotated at their positions (by {value:.3g} at [batch, head, token, feature] = {map})",
            cause="cache keys",
            value=np.abs(_np(keys) - expected_keys)[worst],
            map=list(map(int, worst)),
        )
    if not _close(_np(values), v):
        fail("the cached values must be v_proj(x) split into heads, not rotated")
    rest, _, _ = _attend(attn, x[:, 4:], positions[4:], (keys, values), what=tr("attention with a cache"))
    if not _close(_np(rest), _np(full)[:, 4:]):
        fail(
            "attention on 3 new tokens (positions 7 .. 9, given) after 4 cached ones (positions 3 "
            ".. 6) differs from the full pass by up to {value_max:.3g} (by the definition the "
            "cached keys and values come first and new token i attends to keys j <= P + i, P = "
            "cached length)",
            cause="cache",
            value_max=float(np.abs(_np(rest) - _np(full)[:, 4:]).max()),
        )
    full, _, _ = _attend(attn, x, what=tr("attention(x) with default positions"))
    _, _, cache = _attend(attn, x[:, :4], what=tr("attention on 4 tokens, default positions"))
    rest, _, _ = _attend(attn, x[:, 4:], None, cache, what=tr("attention with a cache, default positions"))
    if not _close(_np(rest), _np(full)[:, 4:]):
        found = _after_cache(
            lambda p: _attend(attn, x[:, 4:], p, cache, what=tr("attention with a cache")), rest, 4, 3
        )
        fail(
            "attention on 3 new tokens after 4 cached ones, with default positions, differs from "
            "the full pass; with a cache, default positions continue at P, P + 1, ... (P = cached "
            "length): {found}",
            cause="cache positions",
            found=found,
        )
    # The model, token by token and in chunks.
    idx = _tokens(2, 7, seed=20)
    for scheme in ("rope", "learned"):
        model = _model(impl, seed=21, pos_scheme=scheme, causal=True)
        full, _, _ = _forward(model, idx, what=f"{scheme} model")
        for chunks in ((1,) * 7, (3, 1, 3)):
            cache, start, steps, explicit_ok = None, 0, [], True
            explicit_cache = None
            for size in chunks:
                what = tr(
                    "{scheme} model, tokens fed in chunks {chunks} with the cache",
                    scheme=scheme,
                    chunks=list(chunks),
                )
                logits, cache, _ = _forward(model, idx[:, start : start + size], cache=cache, what=what)
                steps.append(_np(logits))
                given = torch.arange(start, start + size)
                right, explicit_cache, _ = _forward(
                    model, idx[:, start : start + size], given, explicit_cache, what=what
                )
                explicit_ok &= _close(_np(right), _np(full)[:, start : start + size])
                start += size
            if not _close(np.concatenate(steps, axis=1), _np(full)):
                first = next(
                    i for i in range(7) if not _close(np.concatenate(steps, axis=1)[:, i], _np(full)[:, i])
                )
                if explicit_ok:
                    fail(
                        "{scheme} model, tokens fed in chunks {chunks} with the cache: the logits "
                        "differ from the full pass from token {first} on, but not with explicit "
                        "positions: new tokens' default positions must be P, P + 1, ... after the "
                        "P cached ones",
                        cause="cache positions",
                        scheme=scheme,
                        chunks=list(chunks),
                        first=first,
                    )
                fail(
                    "{scheme} model, tokens fed in chunks {chunks}: the logits differ from the "
                    "full pass from token {first} on: append the new keys (rotated) and values to "
                    "each layer's cache and let new token i attend to keys j <= P + i",
                    scheme=scheme,
                    chunks=list(chunks),
                    first=first,
                )


FIXTURE_RUNS = {  # stored logits -> (pos_scheme, causal, explicit positions?, what the run depends on)
    "none": (
        "none",
        True,
        False,
        N_(
            "the core architecture: pre-norm blocks x + attn(norm1(x)) and x + mlp(norm2(x)), the "
            "MLP Linear-GELU(exact)-Linear, scores / sqrt(head_dim), bias-free q/k/v/out "
            "projections, the final norm, then lm_head"
        ),
    ),
    "learned": ("learned", True, False, N_("pos_emb(positions) added to the token embeddings")),
    "learned_encoder_gaps": (
        "learned",
        False,
        True,
        N_("explicit positions used as given, and causal=False attending to every token"),
    ),
    "sinusoidal": (
        "sinusoidal",
        True,
        False,
        N_(
            "the rows of your sinusoidal_encoding(max_len, d_model) at the positions, added to the "
            "token embeddings"
        ),
    ),
    "rope": (
        "rope",
        True,
        False,
        N_(
            "q and k rotated with apply_rope (half-split pairs, base=config.rope_base) at the token "
            "positions, inside every layer"
        ),
    ),
    "rope_encoder_gaps": (
        "rope",
        False,
        True,
        N_("RoPE at the positions given (gaps allowed), and no mask when causal=False"),
    ),
}


def _which_positions(run, mine, candidates: dict[str, torch.Tensor]) -> str | None:
    """The name of the candidate positions whose explicit run gives `mine`, if one does."""
    for name, positions in candidates.items():
        other, _, _ = run(positions)
        if _close(_np(mine), _np(other)):
            return name
    return None


def _after_cache(run, mine, P: int, n: int) -> str:
    """What the default positions of n new tokens after P cached ones are, when not P .. P + n - 1:
    named when an explicit run at a plausible wrong range gives the same output, else said plainly."""
    found = _which_positions(
        run,
        mine,
        {
            "restart at 0 (they are 0, 1, ...)": torch.arange(n),
            f"off by one (they are P + 1 = {P + 1}, ...)": torch.arange(P + 1, P + 1 + n),
            f"off by one (they are P - 1 = {P - 1}, ...)": torch.arange(P - 1, P - 1 + n),
        },
    )
    if found:
        return tr("the new tokens' default positions {found}", found=found)
    return tr("the output with default positions differs from the output at explicit positions P, P + 1, ...")


@check(1, "default positions are 0 .. T-1, and continue after the cache")
def test_default_positions(impl):
    idx = _tokens(2, 6)
    for scheme in ("learned", "sinusoidal", "rope"):
        model = _model(impl, pos_scheme=scheme)
        default, _, _ = _forward(model, idx, what=f"{scheme} model(idx)")
        explicit, _, _ = _forward(
            model, idx, torch.arange(6), what=tr("{scheme} model(idx, positions)", scheme=scheme)
        )
        if not _close(_np(default), _np(explicit)):
            shifted = _which_positions(
                lambda p: _forward(model, idx, p, what=tr("{scheme} model(idx, positions)", scheme=scheme)),  # noqa: B023
                default,
                {"1 .. T": torch.arange(1, 7)},
            )
            fail(
                "{scheme} model: model(idx) differs from model(idx, positions=arange(T)); without "
                "positions and without a cache the tokens sit at 0 .. T-1{shifted}",
                cause="default positions",
                scheme=scheme,
                shifted=tr("; yours sit at 1 .. T (off by one)") if shifted else "",
            )
        _, cache, _ = _forward(model, idx[:, :4], what=tr("{scheme} model(first 4 tokens)", scheme=scheme))
        after, _, _ = _forward(
            model, idx[:, 4:], cache=cache, what=tr("{scheme} model(2 more, cache)", scheme=scheme)
        )
        given, _, _ = _forward(model, idx[:, 4:], torch.arange(4, 6), cache, what=f"{scheme} model")
        if not _close(_np(after), _np(given)):
            found = _after_cache(
                lambda p: _forward(model, idx[:, 4:], p, cache, what=f"{scheme} model"),  # noqa: B023
                after,
                4,
                2,
            )
            fail(
                "{scheme} model: after 4 cached tokens the new tokens default to positions 4, 5: {found}",
                cause="cache positions",
                scheme=scheme,
                found=found,
            )


@check(1, "dropout: active in train mode, off in eval mode")
def test_dropout(impl):
    model = _model(impl, dropout=0.5)
    idx = _tokens(2, 8)
    first, _, _ = _forward(model, idx, what="model.eval()(idx)")
    second, _, _ = _forward(model, idx, what=tr("model.eval()(idx), again"))
    if not _close(_np(first), _np(second)):
        fail("in eval mode the model must be deterministic (dropout off)")
    model.train()
    seed_learner(model, 0)
    noisy, _, _ = _forward(model, idx, what="model.train()(idx)")
    if _close(_np(noisy), _np(first)):
        fail(
            "with dropout=0.5 in train mode the output equals eval mode's: config.dropout is not used "
            "(nn.Dropout on the attention weights and on each sublayer's output)"
        )


@check(3, "snapshot: stored weights give the stored logits (all four schemes)")
def test_snapshot(impl):
    data = np.load(SNAPSHOT)
    config = {key.split("/", 1)[1]: data[key].item() for key in data.files if key.startswith("config/")}
    weights = {
        key.split("/", 1)[1]: torch.from_numpy(data[key]) for key in data.files if key.startswith("param/")
    }
    idx = torch.from_numpy(data["input/idx"]).long()
    gaps = torch.from_numpy(data["input/positions_with_gaps"]).long()
    for key, (scheme, causal, explicit, hint) in FIXTURE_RUNS.items():
        cfg = _config(impl, **config, pos_scheme=scheme, causal=causal)
        model = _build(impl, "Transformer", cfg)
        wanted = {k: v for k, v in weights.items() if k != "pos_emb.weight" or scheme == "learned"}
        mine = set(model.state_dict())
        if mine != set(wanted):
            fail(
                "{scheme} model: parameter names differ from the exercise's: missing {sorted}, "
                "unexpected {sorted2} (keep {names}; the sinusoidal table is a non-persistent "
                "buffer)",
                scheme=scheme,
                sorted=sorted(set(wanted) - mine)[:4],
                sorted2=sorted(mine - set(wanted))[:4],
                names=NAMES,
            )
        shapes = {name: list(shape) for name, shape in inside(_shapes, model)}
        for name, value in sorted(wanted.items()):
            if name in shapes and shapes[name] != list(value.shape):
                fail(
                    "{scheme} model: {name} has shape {shapes}, the stored one {value_shape} "
                    "(config: {config})",
                    scheme=scheme,
                    name=name,
                    shapes=shapes[name],
                    value_shape=list(value.shape),
                    config=config,
                )
        call_function(f"{scheme} model: load_state_dict(stored weights)", model.load_state_dict, wanted)
        logits, _, _ = _forward(model, idx, gaps if explicit else None, what=f"{scheme} model")
        expected = data[f"logits/{key}"]
        got = _np(logits)
        if got.shape != expected.shape:
            fail(
                "{scheme} model: logits of shape {got_shape}, expected {expected_shape}",
                scheme=scheme,
                got_shape=got.shape,
                expected_shape=expected.shape,
            )
        if not _close(got, expected):
            err = np.abs(got - expected).max()
            fail(
                "stored weights, run '{key}': your logits differ from the stored reference by up "
                "to {err:.3g}; this run depends on {hint}",
                key=key,
                err=err,
                hint=hint,
            )


def _buffer_shapes(model) -> list:
    """In the learner's process: the shapes of the model's buffers."""
    return [tuple(b.shape) for _, b in model.named_buffers()]


def _zero(*modules) -> None:
    """In the learner's process: zero every parameter of `modules`."""
    with torch.no_grad():
        for module in modules:
            for p in module.parameters():
                p.zero_()


def _loss_backward(model, idx, targets):
    """In the learner's process: one cross-entropy backward pass; {parameter name: its gradient}, or
    None when the model does not return a tuple (logits, cache, weights)."""
    result = model(idx)
    if not isinstance(result, tuple) or len(result) != 3:
        return None
    logits = result[0]  # [B, T, V]
    torch.nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten()).backward()
    return {name: p.grad for name, p in model.named_parameters()}


@check(2, "gradients reach every parameter")
def test_gradients(impl):
    idx = _tokens(2, 6, seed=22)
    targets = _tokens(2, 6, seed=23)
    for scheme in ("rope", "learned", "sinusoidal"):
        model = _model(impl, seed=24, pos_scheme=scheme).train()
        what = tr("{scheme} model: forward and backward", scheme=scheme)
        grads = call_function(what, inside, _loss_backward, model, idx, targets)
        if not isinstance(grads, dict):
            fail("{what}: the model must return a tuple (logits, cache, weights)", what=what)
        if not grads:
            fail("{scheme} model has no parameters (create the submodules in __init__)", scheme=scheme)
        missing = [
            n
            for n, g in grads.items()
            if not isinstance(g, torch.Tensor) or not torch.isfinite(g).all() or not g.any()
        ]
        if missing:
            fail(
                "{scheme} model: no gradient reaches {missing}: is every module used in forward, "
                "without .detach() or torch.no_grad() on the path?",
                scheme=scheme,
                missing=missing[:4],
            )
