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

from ..checking import GRADING_STATE, Mistake, call, check, fail, is_instance, seed_learner, type_name

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


def order_task(n: int, seed: int, max_words: int = 12) -> tuple[torch.Tensor, torch.Tensor]:
    """n right-padded id rows [n, max_words] and labels [n] (0: a person acted, 1: an animal acted)."""
    rng = np.random.default_rng(seed)
    ids = np.zeros((n, max_words), dtype=np.int64)
    labels = rng.integers(0, 2, size=n)
    for row, label in enumerate(labels):
        person, animal = rng.choice(PEOPLE), rng.choice(ANIMALS)
        actor, target = (animal, person) if label else (person, animal)
        adj_a = list(rng.choice(ADJECTIVES, size=rng.integers(0, 3)))
        adj_b = list(rng.choice(ADJECTIVES, size=rng.integers(0, 3)))
        adverb = [rng.choice(ADVERBS)] if rng.random() < 0.4 else []
        words = [THE, *adj_a, actor, *adverb, rng.choice(VERBS), THE, *adj_b, target]
        while len(words) < max_words and rng.random() < 0.5:
            phrase = PHRASES[rng.integers(len(PHRASES))]
            if len(words) + len(phrase) <= max_words:
                words += phrase
        ids[row, : len(words)] = words
    return torch.from_numpy(ids), torch.from_numpy(labels)


# ---------------------------------------------------------------------------------------------------
# Reaching the learner's code


def _model(impl, scheme: str, seed: int = 0, n_classes: int = 2) -> torch.nn.Module:
    config_cls = getattr(impl, "TransformerConfig", None)
    if config_cls is None:
        fail("`TransformerConfig` is missing: keep `from .transformer import TransformerConfig`")
    config = call(impl, "TransformerConfig", **MODEL, pos_scheme=scheme)
    seed_learner(impl, seed)
    model = call(impl, "TextClassifier", config, n_classes)
    if not is_instance(model, torch.nn.Module):
        fail(f"TextClassifier(config, n_classes) should be an nn.Module, got {type_name(model)}")
    return model


def _logits(model, ids, what: str, positions=None) -> torch.Tensor:
    model.eval()
    with torch.no_grad():
        args = (ids,) if positions is None else (ids, positions)
        out = call(model, "__call__", *args)
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (ids.shape[0], 2):
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        fail(f"{what}: the model should return logits [B, n_classes] = {(ids.shape[0], 2)}, got {shape}")
    if not torch.isfinite(out).all():
        fail(f"{what}: the logits hold NaN or inf (a row of -inf scores? every row has a real token)")
    return out.double()


def _metrics(impl, y_true, y_pred, n_classes) -> dict:
    out = call(impl, "classification_metrics", torch.tensor(y_true), torch.tensor(y_pred), n_classes)
    if not isinstance(out, dict) or not {"accuracy", "macro_f1", "confusion"} <= set(out):
        fail("classification_metrics should return a dict with 'accuracy', 'macro_f1' and 'confusion'")
    return out


def _train(impl, scheme: str) -> tuple[float, float]:
    """Train the learner's model on the check's task; (test accuracy, seconds). Cached per scheme."""
    trained = GRADING_STATE.setdefault("classifier", {})
    if scheme not in trained:
        train_ids, train_labels = order_task(N_TRAIN, seed=1)
        test_ids, test_labels = order_task(N_TEST, seed=2)
        model = _model(impl, scheme)
        start = time.perf_counter()
        history = call(impl, "train_classifier", model, train_ids, train_labels, **TRAIN)
        seconds = time.perf_counter() - start
        if not isinstance(history, dict) or not history.get("loss"):
            fail("train_classifier should return a history dict with a 'loss' list (one entry per epoch)")
        if not all(math.isfinite(float(v)) for v in history["loss"]):
            fail(f"training diverged: the loss history holds NaN or inf ({history['loss']})")
        # the judge measures the accuracy from the trained model's logits (evaluate has its own check)
        predictions = _logits(model, test_ids, f"pos_scheme={scheme!r}, trained").argmax(dim=-1)
        accuracy = float((predictions == test_labels).double().mean())
        trained[scheme] = (accuracy, seconds)
    return trained[scheme]


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
        fail(f"confusion should be [n_classes, n_classes] = {(n, n)}, got {confusion.shape}")
    if not np.array_equal(confusion, conf):
        if np.array_equal(confusion, conf.T):
            fail("confusion matrix is transposed: rows are the TRUE class, columns the predicted class")
        fail("confusion[t, p] should count the examples of true class t predicted as p (rows = true)")
    if not math.isclose(float(out["accuracy"]), accuracy, abs_tol=1e-9):
        fail(f"accuracy should be the fraction of correct predictions; got {float(out['accuracy']):.4f}")
    got = float(out["macro_f1"])
    if math.isclose(got, macro, abs_tol=1e-9):
        pass
    elif math.isclose(got, accuracy, abs_tol=1e-9):
        fail("macro_f1 equals the accuracy: that is micro-F1; macro-F1 is the plain mean of per-class F1")
    elif math.isclose(got, weighted, abs_tol=1e-9):
        fail("macro_f1 is weighted by class frequency; macro-F1 is the unweighted mean over the classes")
    elif math.isclose(got, float(np.mean([f for f in f1 if f > 0])), abs_tol=1e-9):
        fail("macro_f1 skips classes with F1 = 0 (never predicted correctly); average over all n_classes")
    else:
        fail(f"macro_f1 = {got:.4f} is not the mean over classes of F1 = 2 TP / (2 TP + FP + FN)")
    # Two classes, balanced and perfect: the edge values.
    perfect = _metrics(impl, [0, 1, 1, 0], [0, 1, 1, 0], 2)
    if not (math.isclose(float(perfect["accuracy"]), 1.0) and math.isclose(float(perfect["macro_f1"]), 1.0)):
        fail("perfect predictions should give accuracy 1 and macro-F1 1")


@check(1, "masked mean pooling ignores padding")
def test_masked_mean(impl):
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(3, 5, 4, generator=gen, dtype=torch.float64)
    keep = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], dtype=torch.bool)
    x[~keep] = 1e6  # padding rows hold garbage
    got = call(impl, "masked_mean", x, keep)
    if not isinstance(got, torch.Tensor) or tuple(got.shape) != (3, 4):
        fail(f"masked_mean(x [3, 5, 4], keep [3, 5]) should return [3, 4], got {getattr(got, 'shape', got)}")
    expected = torch.stack([x[b, keep[b]].mean(dim=0) for b in range(3)])
    if not torch.allclose(got.double(), expected, rtol=1e-9, atol=1e-9):
        if (got.double().abs() > 1e3).any():
            fail("masked_mean lets padding in: padding rows (set to 1e6 here) changed the mean")
        fail("masked_mean should divide the sum over kept tokens by the NUMBER of kept tokens, not by T")


# ---------------------------------------------------------------------------------------------------
# The model


@check(2, "padding changes no prediction (key padding mask in attention, masked pooling)")
def test_padding(impl):
    ids, _ = order_task(6, seed=5, max_words=10)
    width = int((ids != PAD).sum(dim=1).max())
    ids = ids[:, :width]
    padded = torch.cat([ids, torch.zeros(6, 7, dtype=torch.long)], dim=1)  # 7 more padding columns
    for scheme in ("rope", "learned", "none"):
        model = _model(impl, scheme, seed=7)
        short = _logits(model, ids, f"pos_scheme={scheme!r}")
        long = _logits(model, padded, f"pos_scheme={scheme!r} with padding")
        if not torch.allclose(short, long, rtol=1e-4, atol=1e-5):
            diff = float((short - long).abs().max())
            fail(
                f"pos_scheme={scheme!r}: appending 7 padding tokens changed the logits by up to {diff:.3g}; "
                "padding must not be attended to (scores = -inf where the KEY is padding) and must not "
                "count in the mean pooling"
            )


@check(2, "RoPE is relative: shifting every position changes nothing")
def test_rope_relative(impl):
    ids, _ = order_task(5, seed=6)
    model = _model(impl, "rope", seed=8)
    T = ids.shape[1]
    base = _logits(model, ids, "pos_scheme='rope'")
    shifted = _logits(model, ids, "pos_scheme='rope' with positions + 9", positions=torch.arange(T) + 9)
    if not torch.allclose(base, shifted, rtol=1e-4, atol=1e-5):
        fail(
            "with RoPE, adding 9 to every position changed the logits: something absolute is in the model. "
            "RoPE is not added to (or applied on) the embeddings, nor to v: it rotates q and k inside "
            "attention, and forward(ids, positions) must use the positions it is given"
        )
    left = torch.cat([torch.zeros(5, 4, dtype=torch.long), ids], dim=1)  # real tokens now at 4 .. 4 + L - 1
    if not torch.allclose(
        base, _logits(model, left, "pos_scheme='rope' with left padding"), rtol=1e-4, atol=1e-5
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
                f"pos_scheme={scheme!r}: reversing the words left the logits unchanged, so the model sees no "
                "order: is the positional scheme ignored (always 'none')?"
            )


# ---------------------------------------------------------------------------------------------------
# Training and evaluation


@check(1, "evaluate reports the metrics of the model's own predictions")
def test_evaluate(impl):
    ids, labels = order_task(40, seed=11)
    model = _model(impl, "rope", seed=12)
    predictions = _logits(model, ids, "pos_scheme='rope'").argmax(dim=-1)
    result = call(impl, "evaluate", model, ids, labels)
    if not isinstance(result, dict) or "accuracy" not in result:
        fail("evaluate(model, ids, labels) should return classification_metrics' dict")
    expected = float((predictions == labels).double().mean())
    if not math.isclose(float(result["accuracy"]), expected, abs_tol=1e-9):
        fail(
            f"evaluate's accuracy {float(result['accuracy']):.4f} is not that of the model's argmax "
            f"predictions ({expected:.4f}): eval mode, no grad, argmax over the classes"
        )


@check(2, "training is reproducible with the same seed")
def test_reproducible(impl):
    ids, labels = order_task(256, seed=13)
    settings = dict(TRAIN, epochs=1)
    finals = []
    for global_seed, seed in ((1000, 0), (1005, 0), (1000, 21)):
        model = _model(impl, "rope", seed=14)  # the same initial weights every time
        seed_learner(model, global_seed)  # the global RNG differs between runs; only `seed` should matter
        call(impl, "train_classifier", model, ids, labels, **dict(settings, seed=seed))
        finals.append(_logits(model, ids[:16], "trained model"))
    if not torch.allclose(finals[0], finals[1], rtol=1e-5, atol=1e-6):
        fail(
            "two trainings with the same seed (and the same initial model) gave different models: shuffle "
            "with torch.Generator().manual_seed(seed), not the global RNG"
        )
    if torch.allclose(finals[0], finals[2], rtol=1e-7, atol=1e-9):
        fail("training with another seed gave the very same model: is the seed used for the shuffling?")


@check(4, "with RoPE: >= 95 % test accuracy on the order task")
def test_rope_learns(impl):
    accuracy, seconds = _train(impl, "rope")
    if accuracy < 0.95:
        fail(
            f"the RoPE classifier reached {accuracy:.1%} test accuracy after {TRAIN['epochs']} epochs "
            f"({seconds:.1f} s); expected >= 95 %. Check the RoPE rotation of q and k (not of v), the "
            "padding masks, the optimizer step after backward, and that the loss is cross-entropy on logits"
        )


@check(2, "with no positions: at chance (<= 60 %), the task needs order")
def test_none_at_chance(impl):
    accuracy, seconds = _train(impl, "none")
    if accuracy > 0.60:
        fail(
            f"the model with pos_scheme='none' reached {accuracy:.1%} on a task a bag of words cannot "
            "solve: position leaks in without a positional scheme (a causal mask? padding counted in "
            "the mean? a table added anyway?)"
        )
    rope_accuracy, _ = _train(impl, "rope")
    if rope_accuracy < 0.95:
        raise Mistake(
            f"'none' is at chance ({accuracy:.1%}), but so is a model that does not learn: the RoPE model "
            f"reached only {rope_accuracy:.1%}; fix that first"
        )
