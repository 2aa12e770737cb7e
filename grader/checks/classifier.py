"""Hidden checks for exercises/classifier.py: masked pooling, the encoder classifier, training, metrics.

Where the expected values come from (never from solutions/):
- metrics: per-class counts written out from the definitions (F1 = 2 TP / (2 TP + FP + FN)) on
  hand-made predictions; the usual wrong versions (micro or weighted F1, a transposed confusion matrix)
  are computed too, to name the mistake;
- model: properties measured on the learner's model (padding changes nothing; RoPE logits are invariant
  to a shift of every position; "none" is a bag of words; RoPE is not);
- training: the check's own order task, generated here as token ids (not the exercise's generator, so
  the learner's data code cannot make it easier): "the [adj]* X [adv] verb the [adj]* Y [phrases]",
  one of X, Y a person and the other an animal, label = who acted. Both orders of the same words are
  equally likely, so a bag of words is at chance; RoPE must reach >= 95 % test accuracy.
The grading child runs torch with 1 thread: these tiny models are fastest so (a second thread only adds
synchronisation), and a shared machine does not slow them down by spinning threads.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from ..checking import (
    GRADING_STATE,
    Mistake,
    call,
    call_function,
    call_inside,
    check,
    describe_exception,
    expect_raises,
    fail,
    inside,
    is_instance,
    seed_learner,
    type_name,
)
from ..i18n import tr
from ._rotations import rotate, sinusoidal_table

# Token ids of the check's task: 0 padding, 1 "the", then word classes.
PAD, THE = 0, 1
PEOPLE = list(range(2, 12))
ANIMALS = list(range(12, 22))
VERBS = list(range(22, 32))
ADJECTIVES = list(range(32, 42))
ADVERBS = list(range(42, 46))
PHRASES = [[46, 1, 47], [48, 49], [50], [51, 1, 52], [53, 54]]  # "near the river", "after school", ...
VOCAB = 55
MODEL = dict(vocab_size=VOCAB, d_model=32, n_heads=2, n_layers=2, max_len=64, causal=False, rope_base=100.0)
TRAIN = dict(epochs=4, batch_size=64, lr=3e-3, weight_decay=0.01, seed=0, progress=False)
N_TRAIN, N_TEST = 2500, 1000


def order_task(n: int, seed: int, max_words: int = 20) -> tuple[torch.Tensor, torch.Tensor]:
    """n right-padded id rows [n, max_words] and labels [n] (0: a person acted, 1: an animal acted).

    Phrases may stand before the clause as well as after it, so the deciding words sit anywhere from
    the second token to the middle of the row: a model that drops or ignores later tokens cannot pass.
    """
    rng = np.random.default_rng(seed)
    ids = np.zeros((n, max_words), dtype=np.int64)
    labels = rng.integers(0, 2, size=n)
    for row, label in enumerate(labels):
        person, animal = rng.choice(PEOPLE), rng.choice(ANIMALS)
        actor, target = (animal, person) if label else (person, animal)
        adj_a = list(rng.choice(ADJECTIVES, size=rng.integers(0, 3)))
        adj_b = list(rng.choice(ADJECTIVES, size=rng.integers(0, 3)))
        adverb = [rng.choice(ADVERBS)] if rng.random() < 0.4 else []
        clause = [THE, *adj_a, actor, *adverb, rng.choice(VERBS), THE, *adj_b, target]
        words: list[int] = []
        for _ in range(rng.integers(0, 4)):  # phrases before the clause
            phrase = PHRASES[rng.integers(len(PHRASES))]
            if len(words) + len(phrase) + len(clause) <= max_words:
                words += phrase
        words += clause
        while len(words) < max_words and rng.random() < 0.5:
            phrase = PHRASES[rng.integers(len(PHRASES))]
            if len(words) + len(phrase) <= max_words:
                words += phrase
        ids[row, : len(words)] = words
    return torch.from_numpy(ids), torch.from_numpy(labels)


# ---------------------------------------------------------------------------------------------------
# Reaching the learner's code


def _model(impl, scheme: str, seed: int = 0, n_classes: int = 2, **kwargs) -> torch.nn.Module:
    config_cls = getattr(impl, "TransformerConfig", None)
    if config_cls is None:
        fail("`TransformerConfig` is missing: keep `from .transformer import TransformerConfig`")
    pad = {"pad_id": kwargs.pop("pad_id")} if "pad_id" in kwargs else {}
    config = call(impl, "TransformerConfig", **{**MODEL, **kwargs}, pos_scheme=scheme)
    seed_learner(impl, seed)
    model = call(impl, "TextClassifier", config, n_classes, **pad)
    if not is_instance(model, torch.nn.Module):
        fail(
            "TextClassifier(config, n_classes) should be an nn.Module, got {type_name}",
            type_name=type_name(model),
        )
    return model


def _logits(model, ids, what: str, positions=None) -> torch.Tensor:
    model.eval()
    with torch.no_grad():
        args = (ids,) if positions is None else (ids, positions)
        out = call(model, "__call__", *args)
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (ids.shape[0], 2):
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        fail(
            "{what}: the model should return logits [B, n_classes] = {value}, got {shape}",
            what=what,
            value=(ids.shape[0], 2),
            shape=shape,
        )
    if not torch.isfinite(out).all():
        fail(
            "{what}: the logits hold NaN or inf (a row of -inf scores? every row has a real token)", what=what
        )
    return out.double()


def _metrics(impl, y_true, y_pred, n_classes) -> dict:
    out = call(impl, "classification_metrics", torch.tensor(y_true), torch.tensor(y_pred), n_classes)
    if not isinstance(out, dict) or not {"accuracy", "macro_f1", "confusion"} <= set(out):
        fail("classification_metrics should return a dict with 'accuracy', 'macro_f1' and 'confusion'")
    return out


def _recording(train_classifier, model, ids, labels, **kwargs):
    """In the learner's process: train_classifier(model, ids, labels, **kwargs), and each batch the
    model was given in training (train mode, gradients on) with the logits it returned."""
    batches = []

    def record(module, args, output):
        if module.training and torch.is_grad_enabled() and args and isinstance(args[0], torch.Tensor):
            logits = output.detach().clone() if isinstance(output, torch.Tensor) else None
            batches.append((args[0].detach().clone(), logits))

    handle = model.register_forward_hook(record)
    try:
        history = train_classifier(model, ids, labels, **kwargs)
    finally:
        handle.remove()
    return history, batches


def _strip(row: torch.Tensor) -> tuple:
    values = row.tolist()
    while values and values[-1] == PAD:
        values.pop()
    return tuple(values)


def _expect_training(history, batches, ids, labels, epochs: int) -> None:
    """Each epoch gives the model every training row once (trailing padding may be cut), and the
    history's loss and accuracy are those of the logits the model returned on them."""
    from collections import Counter

    label_of = {_strip(row): int(y) for row, y in zip(ids, labels, strict=True)}
    wanted = Counter(_strip(row) for row in ids)
    n = ids.shape[0]
    seen = sum(int(batch.shape[0]) for batch, _ in batches)
    if seen != epochs * n:
        fail(
            "in {epochs} epochs over {n} training rows the model was given {seen} rows in training "
            "(expected {epochs} x {n} = {value}): each epoch visits every row once",
            cause="rows seen",
            epochs=epochs,
            n=n,
            seen=seen,
            value=epochs * n,
        )
    epoch, rows, losses, correct = [], 0, [], []
    for batch, logits in batches:
        for row in batch:
            if _strip(row) not in label_of:
                fail(
                    "the model was given a row that is no training row cut only at its padding: "
                    "{strip}...; cut only columns that are padding in every row of the batch",
                    cause="rows seen",
                    strip=_strip(row)[:12],
                )
        if logits is None or tuple(logits.shape) != (batch.shape[0], 2):
            return  # the model's own checks report its output
        y = torch.tensor([label_of[_strip(row)] for row in batch])
        epoch.append((batch, logits.double(), y))
        rows += int(batch.shape[0])
        if rows == n:
            got = Counter(_strip(row) for b, _, _ in epoch for row in b)
            if got != wanted:
                fail("an epoch gave the model some rows twice and others never: shuffle with a permutation")
            per_row = torch.cat(
                [torch.nn.functional.cross_entropy(lg, yy, reduction="none") for _, lg, yy in epoch]
            )
            batch_means = [float(torch.nn.functional.cross_entropy(lg, yy)) for _, lg, yy in epoch]
            losses.append((float(per_row.mean()), sum(batch_means) / len(batch_means)))
            hits = torch.cat([lg.argmax(-1) == yy for _, lg, yy in epoch]).double()
            batch_hits = [float((lg.argmax(-1) == yy).double().mean()) for _, lg, yy in epoch]
            correct.append((float(hits.mean()), sum(batch_hits) / len(batch_hits)))
            epoch, rows = [], 0
    for key, values, what in (
        ("loss", losses, tr("mean training loss")),
        ("train_accuracy", correct, "accuracy"),
    ):
        for e, (by_row, by_batch) in enumerate(values):
            got = float(history[key][e])
            if not any(math.isclose(got, v, rel_tol=1e-4, abs_tol=1e-6) for v in (by_row, by_batch)):
                fail(
                    "history[{key!r}][{e}] is {got:.5g}, but the {what} of the logits your model "
                    "returned on epoch {e}'s batches is {by_row:.5g} (the mean over the epoch's "
                    "rows, or {by_batch:.5g} over its batches)",
                    cause=f"history {key}",
                    key=key,
                    e=e,
                    got=got,
                    what=what,
                    by_row=by_row,
                    by_batch=by_batch,
                )


def _train(impl, scheme: str) -> tuple[float, float]:
    """Train the learner's model on the check's task, with the test split as `val`; (test accuracy,
    seconds). Cached per scheme."""
    trained = GRADING_STATE.setdefault("classifier", {})
    if isinstance(trained.get(scheme), Mistake):  # a failure of this training is reported once per check
        raise trained[scheme]
    if scheme not in trained:
        try:
            trained[scheme] = _run_training(impl, scheme)
        except Mistake as exc:
            trained[scheme] = exc
            raise
    return trained[scheme]


def _run_training(impl, scheme: str) -> tuple[float, float]:
    """One training of the learner's model, its contract checked on the batches it saw."""
    train_ids, train_labels = order_task(N_TRAIN, seed=1)
    test_ids, test_labels = order_task(N_TEST, seed=2)
    model = _model(impl, scheme)
    start = time.perf_counter()
    history, batches = call_inside(
        _recording, impl, "train_classifier", model, train_ids, train_labels,
        **TRAIN, val=(test_ids, test_labels),
    )  # fmt: skip
    seconds = time.perf_counter() - start
    if not isinstance(history, dict) or not history.get("loss"):
        fail("train_classifier should return a history dict with a 'loss' list (one entry per epoch)")
    epochs = TRAIN["epochs"]
    for key in ("loss", "train_accuracy", "val_accuracy"):
        if not isinstance(history.get(key), list) or len(history[key]) != epochs:
            fail(
                "with epochs={epochs} and `val` given, history[{key!r}] must be a list of {epochs} "
                "values (one per epoch), got {get}",
                epochs=epochs,
                key=key,
                get=str(history.get(key))[:80],
            )
    if not all(math.isfinite(float(v)) for v in history["loss"]):
        fail("training diverged: the loss history holds NaN or inf ({history})", history=history["loss"])
    _expect_training(history, batches, train_ids, train_labels, epochs)
    # the judge measures the accuracy from the trained model's logits (evaluate has its own check)
    predictions = _logits(model, test_ids, f"pos_scheme={scheme!r}, trained").argmax(dim=-1)
    accuracy = float((predictions == test_labels).double().mean())
    if not math.isclose(float(history["val_accuracy"][-1]), accuracy, abs_tol=1e-6):
        fail(
            "history['val_accuracy'][-1] is {history:.4f}, but the trained model's accuracy on the "
            "`val` rows is {accuracy:.4f}: after each epoch, record evaluate(model, "
            "*val)['accuracy']",
            cause="val accuracy",
            history=float(history["val_accuracy"][-1]),
            accuracy=accuracy,
        )
    return accuracy, seconds


# ---------------------------------------------------------------------------------------------------
# Metrics


@check(3, "accuracy, macro-F1 and confusion matrix on hand-made predictions")
def test_metrics(impl):
    y_true = [0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 0]
    y_pred = [0, 0, 0, 0, 1, 2, 1, 0, 1, 2, 1, 2]
    n = 4  # class 3 is predicted and present nowhere; class 2 is predicted more than it occurs
    y_true, y_pred = y_true + [3], y_pred + [0]  # one example of class 3, never predicted: F1 = 0
    conf = np.zeros((n, n), dtype=np.int64)
    for t, p in zip(y_true, y_pred, strict=True):
        conf[t, p] += 1
    f1 = []
    for c in range(n):
        tp = sum(t == c and p == c for t, p in zip(y_true, y_pred, strict=True))
        fp = sum(t != c and p == c for t, p in zip(y_true, y_pred, strict=True))
        fn = sum(t == c and p != c for t, p in zip(y_true, y_pred, strict=True))
        f1.append(2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn else 0.0)
    accuracy = float(np.mean(np.array(y_true) == np.array(y_pred)))
    macro = float(np.mean(f1))
    weighted = float(np.dot(f1, np.bincount(y_true, minlength=n)) / len(y_true))
    out = _metrics(impl, y_true, y_pred, n)
    confusion = np.asarray(torch.as_tensor(out["confusion"]).detach().cpu().numpy())
    if confusion.shape != (n, n):
        fail(
            "confusion should be [n_classes, n_classes] = {value}, got {confusion_shape}",
            value=(n, n),
            confusion_shape=confusion.shape,
        )
    if not np.array_equal(confusion, conf):
        if np.array_equal(confusion, conf.T):
            fail("confusion matrix is transposed: rows are the TRUE class, columns the predicted class")
        fail("confusion[t, p] should count the examples of true class t predicted as p (rows = true)")
    if not isinstance(out["accuracy"], float):
        fail("accuracy must be a Python float, got {type_name}", type_name=type_name(out["accuracy"]))
    if not math.isclose(float(out["accuracy"]), accuracy, abs_tol=1e-6):
        fail(
            "accuracy should be the fraction of correct predictions; got {out:.4f}",
            out=float(out["accuracy"]),
        )
    got = float(out["macro_f1"])
    if math.isclose(got, macro, abs_tol=1e-6):
        pass
    elif math.isclose(got, accuracy, abs_tol=1e-6):
        fail("macro_f1 equals the accuracy: that is micro-F1; macro-F1 is the plain mean of per-class F1")
    elif math.isclose(got, weighted, abs_tol=1e-6):
        fail("macro_f1 is weighted by class frequency; macro-F1 is the unweighted mean over the classes")
    elif math.isclose(got, float(np.mean([f for f in f1 if f > 0])), abs_tol=1e-6):
        fail("macro_f1 skips classes with F1 = 0 (never predicted correctly); average over all n_classes")
    else:
        fail("macro_f1 = {got:.4f} is not the mean over classes of F1 = 2 TP / (2 TP + FP + FN)", got=got)
    # n_classes larger than any label: classes 3 and 4 are neither present nor predicted (F1 0 each)
    wide = _metrics(impl, [0, 1, 1, 2, 2], [0, 1, 2, 2, 2], 5)
    confusion = torch.as_tensor(wide["confusion"])
    if tuple(confusion.shape) != (5, 5):
        fail(
            "with n_classes=5 and labels 0 .. 2 only, confusion must be [5, 5] (sized by "
            "n_classes, not by the labels seen), got {confusion_shape}",
            confusion_shape=tuple(confusion.shape),
        )
    if confusion.dtype != torch.long:
        fail(
            "confusion must hold counts as a long tensor, got {confusion_dtype}",
            confusion_dtype=confusion.dtype,
        )
    # per class: 0 TP 1 -> 1; 1 TP 1 FN 1 -> 2/3; 2 TP 2 FP 1 -> 0.8; 3, 4 -> 0
    expected_macro = (1.0 + 2 / 3 + 0.8) / 5
    got = float(wide["macro_f1"])
    if not math.isfinite(got):
        fail(
            "with n_classes=5 and classes 3, 4 neither present nor predicted, macro_f1 is NaN: the F1 of "
            "such a class is 0 (2 TP + FP + FN = 0), and it still counts in the mean"
        )
    if not math.isclose(got, expected_macro, abs_tol=1e-6):
        fail(
            "with n_classes=5 and labels 0 .. 2 only, macro_f1 = {got:.4f}; the mean over all 5 "
            "classes (classes 3 and 4 have F1 0) is {expected_macro:.4f}",
            got=got,
            expected_macro=expected_macro,
        )
    if not isinstance(wide["accuracy"], float):
        fail("accuracy must be a Python float, got {type_name}", type_name=type_name(wide["accuracy"]))
    # Two classes, balanced and perfect: the edge values.
    perfect = _metrics(impl, [0, 1, 1, 0], [0, 1, 1, 0], 2)
    if not (math.isclose(float(perfect["accuracy"]), 1.0) and math.isclose(float(perfect["macro_f1"]), 1.0)):
        fail("perfect predictions should give accuracy 1 and macro-F1 1")


@check(1, "masked mean pooling ignores padding")
def test_masked_mean(impl):
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(3, 5, 4, generator=gen, dtype=torch.float64)
    keep = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], dtype=torch.bool)
    x[~keep] = 1e8  # padding rows hold garbage (large: subtracting them back loses the real values)
    got = call(impl, "masked_mean", x, keep)
    if not isinstance(got, torch.Tensor) or tuple(got.shape) != (3, 4):
        fail(
            "masked_mean(x [3, 5, 4], keep [3, 5]) should return [3, 4], got {getattr}",
            getattr=getattr(got, "shape", got),
        )
    expected = torch.stack([x[b, keep[b]].mean(dim=0) for b in range(3)])
    got = got.double()
    if not torch.allclose(got, expected, rtol=1e-9, atol=1e-9):
        kept_sum = (x * keep[..., None]).sum(dim=1)  # [B, d]
        if (got.abs() > 1e3).any():
            fail("masked_mean lets padding in: padding rows (set to 1e8 here) changed the mean")
        if torch.allclose(got, kept_sum / x.shape[1], rtol=1e-9, atol=1e-9):
            fail(
                "masked_mean divides the sum over kept tokens by T; divide by each row's count of kept tokens"
            )
        if torch.allclose(got, kept_sum / keep.sum(), rtol=1e-9, atol=1e-9):
            fail(
                "masked_mean divides by the kept tokens of the whole batch; divide each row by its own "
                "number of kept tokens (keep.sum(dim=1))"
            )
        b = int((got - expected).abs().max(dim=1).values.argmax())
        fail(
            "masked_mean: row {b} (kept tokens {flatten_tolist}) is off by {value_abs_max:.3g} "
            "from the mean of its kept tokens",
            b=b,
            flatten_tolist=keep[b].nonzero().flatten().tolist(),
            value_abs_max=float((got - expected)[b].abs().max()),
        )


# ---------------------------------------------------------------------------------------------------
# The model


def _perturbed_state(model, seed: int):
    """In the learner's process: every parameter moved by seeded noise (so that LayerNorm weights and
    biases are not 1 and 0, and a swapped norm shows), then the state and the parameters' names."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _, p in sorted(model.named_parameters()):
            p.add_(0.2 * torch.randn(p.shape, generator=gen, dtype=torch.float64).to(p.dtype))
    state = {name: t.detach().to(torch.float64).clone() for name, t in model.state_dict().items()}
    return state, [name for name, _ in model.named_parameters()]


def _layer_norm(x, weight, bias):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + 1e-5) * weight + bias


def _definition_logits(state, ids, positions, scheme: str, pad_id: int) -> torch.Tensor:
    """The module docstring's forward pass, in float64, from the learner's own weights."""
    B, T = ids.shape
    H, d = MODEL["n_heads"], MODEL["d_model"]
    hd = d // H
    pos = torch.arange(T).expand(B, T) if positions is None else torch.as_tensor(positions).expand(B, T)
    keep = ids != pad_id
    x = state["tok_emb.weight"][ids]
    if scheme == "learned":
        x = x + state["pos_emb.weight"][pos]
    if scheme == "sinusoidal":
        x = x + torch.from_numpy(sinusoidal_table(MODEL["max_len"], d))[pos]
    for layer in range(MODEL["n_layers"]):
        w = {k[len(f"blocks.{layer}.") :]: v for k, v in state.items() if k.startswith(f"blocks.{layer}.")}
        h = _layer_norm(x, w["norm1.weight"], w["norm1.bias"])
        q, k, v = (
            (h @ w[f"attn.{n}_proj.weight"].T).view(B, T, H, hd).transpose(1, 2) for n in ("q", "k", "v")
        )
        if scheme == "rope":
            q, k = (
                torch.from_numpy(rotate(t.numpy(), pos[:, None, :].numpy(), MODEL["rope_base"], False))
                for t in (q, k)
            )
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(hd)
        scores = scores.masked_fill(~keep[:, None, None, :], float("-inf"))
        y = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(B, T, d)
        x = x + y @ w["attn.out_proj.weight"].T
        h = _layer_norm(x, w["norm2.weight"], w["norm2.bias"])
        h = torch.nn.functional.gelu(h @ w["mlp.0.weight"].T + w["mlp.0.bias"])
        x = x + h @ w["mlp.2.weight"].T + w["mlp.2.bias"]
    x = _layer_norm(x, state["norm.weight"], state["norm.bias"])
    pooled = (x * keep[..., None]).sum(1) / keep.sum(1, keepdim=True)
    return pooled @ state["head.weight"].T + state["head.bias"]


@check(3, "logits = the documented forward pass, for every scheme, positions and pad_id")
def test_definition(impl):
    ids, _ = order_task(3, seed=40, max_words=12)  # B = 3 != n_heads = 2
    ids = ids[:, : int((ids != PAD).sum(dim=1).max())]
    T = ids.shape[1]
    per_row = torch.stack([torch.arange(T) * (b + 1) + b for b in range(3)])  # [B, T]: other gaps per row
    settings = [
        (tr("default positions"), None),
        (tr("positions [T] with gaps"), torch.arange(T) * 3 + 1),
        (tr("positions [B, T] that differ per row"), per_row),
    ]
    for scheme in ("rope", "learned", "sinusoidal", "none"):
        for pad_id in (PAD, 3):
            model = _model(impl, scheme, seed=41, pad_id=pad_id)
            state, names = call_function(
                tr("reading your model's state_dict"), inside, _perturbed_state, model, 42
            )
            if scheme == "sinusoidal" and any(name.startswith("pos_table") for name in names):
                fail(
                    "the sinusoidal table is a trainable parameter: it is fixed, "
                    "register_buffer('pos_table', ..., persistent=False)"
                )
            rows = ids if pad_id == PAD else torch.where(ids == PAD, 3, torch.where(ids == 3, PAD, ids))
            for label, positions in settings:
                if pad_id != PAD and positions is not None:
                    continue
                what = f"pos_scheme={scheme!r}, {label}" + (f", pad_id={pad_id}" if pad_id != PAD else "")
                mine = _logits(model, rows, what, positions=positions)
                try:
                    expected = _definition_logits(state, rows, positions, scheme, pad_id)
                except (KeyError, RuntimeError) as exc:
                    fail(
                        "{what}: your model's state_dict does not hold the documented modules "
                        "({describe_exception}): keep tok_emb, pos_emb ('learned'), "
                        "blocks.i.norm1, blocks.i.attn.{{q,k,v,out}}_proj, blocks.i.norm2, "
                        "blocks.i.mlp, norm and head",
                        what=what,
                        describe_exception=describe_exception(exc),
                    )
                error = (mine - expected).abs()
                if float(error.max()) > 1e-4:
                    b = int(error.max(dim=1).values.argmax())
                    fail(
                        "{what}: the logits of row {b} differ from the module docstring's forward "
                        "pass computed from your own weights by {error_max:.3g} (yours {value}, "
                        "the definition's {value2})",
                        cause="forward",
                        what=what,
                        b=b,
                        error_max=float(error[b].max()),
                        value=[round(float(v), 4) for v in mine[b]],
                        value2=[round(float(v), 4) for v in expected[b]],
                    )


@check(2, "padding changes no prediction (key padding mask in attention, masked pooling)")
def test_padding(impl):
    ids, _ = order_task(6, seed=5, max_words=10)
    width = int((ids != PAD).sum(dim=1).max())
    ids = ids[:, :width]
    padded = torch.cat([ids, torch.zeros(6, 7, dtype=torch.long)], dim=1)  # 7 more padding columns
    for scheme in ("rope", "learned", "none"):
        model = _model(impl, scheme, seed=7)
        short = _logits(model, ids, f"pos_scheme={scheme!r}")
        long = _logits(model, padded, tr("pos_scheme={scheme!r} with padding", scheme=scheme))
        if not torch.allclose(short, long, rtol=1e-4, atol=1e-5):
            diff = float((short - long).abs().max())
            fail(
                "pos_scheme={scheme!r}: appending 7 padding tokens changed the logits by up to "
                "{diff:.3g}; padding must not be attended to (scores = -inf where the KEY is "
                "padding) and must not count in the mean pooling",
                scheme=scheme,
                diff=diff,
            )


@check(2, "RoPE is relative: shifting every position changes nothing")
def test_rope_relative(impl):
    ids, _ = order_task(5, seed=6)
    model = _model(impl, "rope", seed=8)
    T = ids.shape[1]
    base = _logits(model, ids, "pos_scheme='rope'")
    shifted = _logits(model, ids, tr("pos_scheme='rope' with positions + 9"), positions=torch.arange(T) + 9)
    if not torch.allclose(base, shifted, rtol=1e-4, atol=1e-5):
        fail(
            "with RoPE, adding 9 to every position changed the logits: something absolute is in the model. "
            "RoPE is not added to (or applied on) the embeddings, nor to v: it rotates q and k inside "
            "attention, and forward(ids, positions) must use the positions it is given"
        )
    left = torch.cat([torch.zeros(5, 4, dtype=torch.long), ids], dim=1)  # real tokens now at 4 .. 4 + L - 1
    if not torch.allclose(
        base, _logits(model, left, tr("pos_scheme='rope' with left padding")), rtol=1e-4, atol=1e-5
    ):
        fail(
            "with RoPE, 4 padding tokens on the LEFT (each real token 4 positions later) changed the logits: "
            "either padding is attended to / pooled, or something absolute is in the model: RoPE is not "
            "added to (or applied on) the embeddings, nor to v; it rotates q and k inside attention"
        )


@check(1, "the positional scheme is used: RoPE sees order, 'none' is a bag of words")
def test_order_sensitivity(impl):
    ids, _ = order_task(5, seed=9)
    length = (ids != PAD).sum(dim=1)
    swapped = ids.clone()
    for row in range(ids.shape[0]):  # reverse the real tokens of each row, padding stays at the end
        swapped[row, : length[row]] = ids[row, : length[row]].flip(0)
    none = _model(impl, "none", seed=10)
    if not torch.allclose(_logits(none, ids, "none"), _logits(none, swapped, "none"), rtol=1e-4, atol=1e-5):
        fail(
            "pos_scheme='none' should see no order (permutation equivariant attention, mean pooling), "
            "but reversing the words changed its logits: a position leaks in (a causal mask? a table?)"
        )
    for scheme in ("rope", "sinusoidal", "learned"):
        model = _model(impl, scheme, seed=10)
        if torch.allclose(_logits(model, ids, scheme), _logits(model, swapped, scheme), rtol=1e-5, atol=1e-6):
            fail(
                "pos_scheme={scheme!r}: reversing the words left the logits unchanged, so the "
                "model sees no order: is the positional scheme ignored (always 'none')?",
                scheme=scheme,
            )


# ---------------------------------------------------------------------------------------------------
# Training and evaluation


def _never_predict(model, classes) -> None:
    """In the learner's process: make `classes` lose every argmax (head.bias very negative)."""
    with torch.no_grad():
        for c in classes:
            model.head.bias[c] = -1e6


@check(1, "evaluate reports the metrics of the model's own predictions, in eval mode")
def test_evaluate(impl):
    ids, labels = order_task(40, seed=11)
    model = _model(impl, "rope", seed=12, dropout=0.5)
    predictions = _logits(model, ids, "pos_scheme='rope'").argmax(dim=-1)  # eval mode, no dropout
    model.train()  # left in train mode: evaluate must switch dropout off itself
    result = call(impl, "evaluate", model, ids, labels, batch_size=16)  # 40 rows: a partial last batch
    if not isinstance(result, dict) or "accuracy" not in result:
        fail("evaluate(model, ids, labels) should return classification_metrics' dict")
    expected = float((predictions == labels).double().mean())
    if not math.isclose(float(result["accuracy"]), expected, abs_tol=1e-6):
        fail(
            "evaluate's accuracy {result:.4f} (model left in train mode, dropout 0.5, batch_size "
            "16 over 40 rows) is not that of the model's argmax predictions in eval mode "
            "({expected:.4f}): call model.eval(), predict every row under torch.no_grad(), argmax "
            "over the classes",
            result=float(result["accuracy"]),
            expected=expected,
        )
    mine = torch.as_tensor(result.get("predictions", torch.empty(0)))
    if tuple(mine.shape) != (40,) or not torch.equal(mine.long(), predictions):
        fail("evaluate's 'predictions' must be the argmax class of every row, [N] = [40]")
    four = _model(impl, "rope", seed=12, n_classes=4)
    call_function("setting head.bias", inside, _never_predict, four, [2, 3])  # nor predicted, nor labels
    result = call(impl, "evaluate", four, ids, labels)  # labels 0 and 1 only
    confusion = torch.as_tensor(result["confusion"])
    if tuple(confusion.shape) != (4, 4):
        fail(
            "a model with 4 classes, on labels 0 and 1 and never predicting 2 or 3, must give a "
            "[4, 4] confusion (n_classes is the width of the logits), got {confusion_shape}",
            confusion_shape=tuple(confusion.shape),
        )


@check(1, "ValueError for an unknown pos_scheme or n_classes < 2")
def test_model_validation(impl):
    for scheme, n_classes, why in (
        ("alibi", 2, "pos_scheme 'alibi'"),
        ("rope", 1, "n_classes 1"),
        ("rope", 0, "n_classes 0"),
    ):
        config = call(impl, "TransformerConfig", **MODEL, pos_scheme=scheme)
        expect_raises(ValueError, impl, "TextClassifier", config, n_classes, why=f"TextClassifier: {why}")


@check(2, "training is reproducible with the same seed; lr and weight_decay are used")
def test_reproducible(impl):
    ids, labels = order_task(256, seed=13)
    settings = dict(TRAIN, epochs=1)
    finals = []
    for global_seed, seed in ((1000, 0), (1005, 0), (1000, 21)):
        model = _model(impl, "rope", seed=14)  # the same initial weights every time
        seed_learner(model, global_seed)  # the global RNG differs between runs; only `seed` should matter
        call(impl, "train_classifier", model, ids, labels, **dict(settings, seed=seed))
        finals.append(_logits(model, ids[:16], tr("trained model")))
    if not torch.allclose(finals[0], finals[1], rtol=1e-5, atol=1e-6):
        fail(
            "two trainings with the same seed (and the same initial model) gave different models: shuffle "
            "with torch.Generator().manual_seed(seed), not the global RNG"
        )
    if torch.allclose(finals[0], finals[2], rtol=1e-7, atol=1e-9):
        fail("training with another seed gave the very same model: is the seed used for the shuffling?")
    for name, value in (("weight_decay", 0.5), ("lr", 1e-2)):
        model = _model(impl, "rope", seed=14)
        call(impl, "train_classifier", model, ids, labels, **dict(settings, **{name: value}))
        if torch.allclose(_logits(model, ids[:16], tr("trained model")), finals[0], rtol=1e-7, atol=1e-9):
            fail(
                "training with {name}={value:g} gave the very same model as {name}={settings:g}: "
                "pass {name} to torch.optim.AdamW",
                name=name,
                value=value,
                settings=settings[name],
            )


@check(2, "train_classifier: every row once per epoch; loss, accuracy and val accuracy per epoch")
def test_training_contract(impl):
    _train(impl, "rope")  # the contract is checked on the logits the model returned while training


@check(4, "with RoPE: >= 95 % test accuracy on the order task")
def test_rope_learns(impl):
    accuracy, seconds = _train(impl, "rope")
    if accuracy < 0.95:
        fail(
            "the RoPE classifier reached {accuracy:.1%} test accuracy after {train} epochs "
            "({seconds:.1f} s); expected >= 95 %. Check the RoPE rotation of q and k (not of v), "
            "the padding masks, the optimizer step after backward, and that the loss is "
            "cross-entropy on logits",
            accuracy=accuracy,
            train=TRAIN["epochs"],
            seconds=seconds,
        )


@check(2, "with no positions: at chance (<= 60 %), the task needs order")
def test_none_at_chance(impl):
    accuracy, seconds = _train(impl, "none")
    if accuracy > 0.60:
        fail(
            "the model with pos_scheme='none' reached {accuracy:.1%} on a task a bag of words "
            "cannot solve: position leaks in without a positional scheme (a causal mask? padding "
            "counted in the mean? a table added anyway?)",
            accuracy=accuracy,
        )
    rope_accuracy, _ = _train(impl, "rope")
    if rope_accuracy < 0.95:
        raise Mistake(
            tr(
                "'none' is at chance ({accuracy:.1%}), but so is a model that does not learn: the "
                "RoPE model reached only {rope_accuracy:.1%}; fix that first",
                accuracy=accuracy,
                rope_accuracy=rope_accuracy,
            )
        )
