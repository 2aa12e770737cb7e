"""The classifier exercise: the reference passes, realistic wrong versions fail the check meant for them,
and the given data code (order task, tokenizer, vocabulary, CSV/TSV loader) does what it says.

Wrong versions are the reference solution with one mistake (a text replacement). Each is loaded from a
temporary folder next to the reference transformer.py, rope.py and sinusoidal.py (the classifier imports
them relatively), and the one check meant for it is run in this process (fast); the whole exercise is
graded in isolation once, for the reference.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import ROOT, mutate, solution_source

import solutions.classifier as ref
from grader.catalog import get_exercise
from grader.checking import GRADING_STATE, Mistake, checks_of
from grader.checks import classifier as checks
from grader.loading import from_folder
from grader.runner import grade_exercise

DATA = Path(__file__).resolve().parent / "data"

KEY_MASK = 'scores = scores.masked_fill(~keep[:, None, None, :], float("-inf"))  # padding keys'
ROPE_FLAG = 'self.rope = config.pos_scheme == "rope"'
EMBED = "x = self.tok_emb(ids)  # (B, T, d)"
ROTATE_K = "k = apply_rope(k, pos, base=self.rope_base)  # (B, H, T, hd); v is never rotated"
SHUFFLE = "order = torch.randperm(n, generator=gen)  # (N,)"
MACRO = '"macro_f1": float(f1.mean()),'
SCHEME_CHECK = "if config.pos_scheme not in POS_SCHEMES:"

# (wrong version, replacements in solutions/classifier.py, check that must fail, words its message must hold)
MISTAKES = [
    (
        "no key padding mask in attention",
        [(KEY_MASK, "pass")],
        "padding changes no prediction",
        "KEY is padding",
    ),
    (
        "mean pooling over padding too",
        [("return (x * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)", "return x.mean(dim=1)")],
        "masked mean pooling",
        "padding",
    ),
    (
        "masked sum divided by T",
        [("/ weights.sum(dim=1).clamp(min=1.0)", "/ x.shape[1]")],
        "masked mean pooling",
        "divides the sum over kept tokens by T",
    ),
    (
        "positional scheme ignored (always none)",
        [
            (
                SCHEME_CHECK,
                'config = type(config)(**{**vars(config), "pos_scheme": "none"})\n        ' + SCHEME_CHECK,
            )
        ],
        "the positional scheme is used",
        "ignored",
    ),
    (
        "positional scheme ignored: RoPE cannot learn the task",
        [
            (
                SCHEME_CHECK,
                'config = type(config)(**{**vars(config), "pos_scheme": "none"})\n        ' + SCHEME_CHECK,
            )
        ],
        "with RoPE: >= 95 %",
        "95 %",
    ),
    (
        "seed 000: RoPE applied to the embeddings instead of q and k",
        [(ROPE_FLAG, "self.rope = False"), (EMBED, "x = apply_rope(self.tok_emb(ids), positions)")],
        "RoPE is relative",
        "embeddings",
    ),
    (
        "RoPE added to the embeddings, positions ignored (arange(T) always)",
        [
            (ROPE_FLAG, "self.rope = False"),
            (
                EMBED,
                "x = self.tok_emb(ids) + apply_rope(torch.ones_like(self.tok_emb(ids)), torch.arange(T))",
            ),
        ],
        "RoPE is relative",
        "LEFT",
    ),
    (
        "v rotated too",
        [(ROTATE_K, ROTATE_K + "\n            v = apply_rope(v, pos, base=self.rope_base)")],
        "RoPE is relative",
        "nor to v",
    ),
    (
        "causal mask in the encoder",
        [
            (
                KEY_MASK,
                KEY_MASK
                + "\n        scores = scores.masked_fill(torch.ones(T, T).triu(1).bool(), -math.inf)",
            )
        ],
        "the positional scheme is used",
        "'none' should see no order",
    ),
    (
        "micro instead of macro F1",
        [(MACRO, '"macro_f1": float(tp.sum() / y_true.numel()),')],
        "accuracy, macro-F1",
        "micro-F1",
    ),
    (
        "F1 weighted by support",
        [(MACRO, '"macro_f1": float((f1 * confusion.sum(dim=1)).sum() / y_true.numel()),')],
        "accuracy, macro-F1",
        "weighted",
    ),
    (
        "confusion matrix transposed",
        [('"confusion": confusion,', '"confusion": confusion.T,')],
        "accuracy, macro-F1",
        "transposed",
    ),
    (
        "unseeded shuffling (global RNG)",
        [(SHUFFLE, "order = torch.randperm(n)")],
        "training is reproducible",
        "Generator",
    ),
    (
        "seed ignored",
        [("gen = torch.Generator().manual_seed(seed)", "gen = torch.Generator().manual_seed(0)")],
        "training is reproducible",
        "another seed",
    ),
    ("optimizer never steps", [("optimizer.step()", "pass")], "with RoPE: >= 95 %", "optimizer step"),
    (
        "'none' at chance proves nothing when nothing learns",
        [("optimizer.step()", "pass")],
        "with no positions",
        "does not learn",
    ),
]


@pytest.fixture(autouse=True)
def _one_thread_fresh_cache():
    """As in the grading child: one torch thread (tiny models; a shared machine), no cached training."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    GRADING_STATE.clear()
    yield
    GRADING_STATE.clear()
    torch.set_num_threads(threads)


def _folder(tmp_path: Path, source: str) -> Path:
    for module in ("transformer", "rope", "sinusoidal"):
        shutil.copy(ROOT / "solutions" / f"{module}.py", tmp_path / f"{module}.py")
    (tmp_path / "classifier.py").write_text(source, encoding="utf-8")
    return tmp_path


def _check(prefix: str):
    found = [c for c in checks_of(checks) if c.name.startswith(prefix)]
    assert len(found) == 1, prefix
    return found[0]


@pytest.mark.parametrize("name, replacements, check_name, words", MISTAKES, ids=[m[0] for m in MISTAKES])
def test_wrong_version_is_caught(tmp_path, name, replacements, check_name, words):
    folder = _folder(tmp_path, mutate(solution_source("classifier"), replacements))
    impl = from_folder(folder).load("classifier")
    with pytest.raises(Mistake) as caught:
        _check(check_name).func(impl)
    assert words in str(caught.value), str(caught.value)


def test_reference_gets_full_marks_in_isolation():
    result = grade_exercise(get_exercise("classifier"), from_folder(ROOT / "solutions"))
    assert result.all_passed, [(c.name, c.message) for c in result.checks if not c.passed]
    assert sum(c.points for c in result.checks) == get_exercise("classifier").points


def test_stub_fails_every_check():
    impl = from_folder(ROOT / "exercises").load("classifier")
    for check in checks_of(checks):
        with pytest.raises(Mistake):
            check.func(impl)


# ---------------------------------------------------------------------------------------------------
# The given data code


def test_order_task_is_deterministic_balanced_and_order_only():
    texts, labels = ref.make_order_task(2000, seed=3, min_words=5, max_words=14)
    assert (texts, labels) == ref.make_order_task(2000, seed=3, min_words=5, max_words=14)
    assert 0.45 < np.mean(labels) < 0.55
    lengths = [len(t.split()) for t in texts]
    assert min(lengths) >= 5 and max(lengths) <= 14
    for text, label in zip(texts[:200], labels[:200], strict=True):
        words = text.split()
        first = next(w for w in words if w in ref.PEOPLE or w in ref.ANIMALS)
        assert label == (first in ref.ANIMALS)  # active voice: the first noun acted
    # A bag of words is at chance: naive Bayes on word counts, trained on 2000, tested on fresh ones.
    vocab = sorted({w for t in texts for w in t.split()})
    index = {w: i for i, w in enumerate(vocab)}

    def counts(batch):
        out = np.zeros((len(batch), len(vocab)))
        for row, text in enumerate(batch):
            for word in text.split():
                out[row, index[word]] += 1
        return out

    x, y = counts(texts), np.array(labels)
    log_p = [np.log((x[y == c].sum(0) + 1) / (x[y == c].sum() + len(vocab))) for c in (0, 1)]
    test_texts, test_labels = ref.make_order_task(2000, seed=4, min_words=5, max_words=14)
    scores = counts(test_texts) @ np.stack(log_p, axis=1)
    assert abs(np.mean(scores.argmax(1) == np.array(test_labels)) - 0.5) < 0.05


def test_passive_sentences_put_the_actor_last():
    texts, labels = ref.make_order_task(300, seed=5, passive=1.0, min_words=8, max_words=12)
    for text, label in zip(texts, labels, strict=True):
        words = text.split()
        assert "was" in words and "by" in words
        last = [w for w in words if w in ref.PEOPLE or w in ref.ANIMALS][-1]
        assert label == (last in ref.ANIMALS)


def test_splits_are_disjoint_and_reproducible():
    splits = ref.order_task_splits((300, 50, 100), seed=1, max_words=9)
    again = ref.order_task_splits((300, 50, 100), seed=1, max_words=9)
    assert splits == again
    sets = [set(splits[name][0]) for name in ("train", "val", "test")]
    assert [len(s) for s in sets] == [300, 50, 100]
    assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])


def test_tokenizer_vocab_and_encode():
    assert ref.tokenize("It's GREAT, isn't it?") == ["it's", "great", ",", "isn't", "it", "?"]
    vocab = ref.build_vocab(["a b b", "b c"], min_freq=1)
    assert vocab == {"<pad>": 0, "<unk>": 1, "b": 2, "a": 3, "c": 4}
    assert ref.build_vocab(["a b b", "b c"], min_freq=2) == {"<pad>": 0, "<unk>": 1, "b": 2}
    ids = ref.encode(["b a", "c zebra b"], vocab)
    assert ids.tolist() == [[2, 3, 0], [4, 1, 2]]
    assert ref.encode(["c zebra b"], vocab, max_len=2).tolist() == [[4, 1]]
    with pytest.raises(ValueError, match="no tokens"):
        ref.encode(["..."[:0]], vocab)


def test_load_tsv_shipped_with_the_kit():
    texts, labels, names = ref.load_text_dataset(DATA / "tiny_reviews.tsv")
    assert names == ["negative", "positive"]
    assert len(texts) == 40 and Counter(labels) == {0: 20, 1: 20}
    assert texts[0] == "A warm, funny film with a great cast." and labels[0] == 1


def test_load_csv_with_quoted_commas(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text('label,text\nspam,"win money, now"\nham,see you at 5\nspam,"free, free, free"\n\n')
    texts, labels, names = ref.load_text_dataset(path)
    assert texts == ["win money, now", "see you at 5", "free, free, free"]
    assert names == ["ham", "spam"] and labels == [1, 0, 1]
    with pytest.raises(ValueError, match="columns"):
        ref.load_text_dataset(path, text_column="body")


def test_pipeline_runs_on_the_tiny_reviews():
    """The same code runs on a user's file: vocabulary, ids, a model, training, metrics."""
    texts, labels, names = ref.load_text_dataset(DATA / "tiny_reviews.tsv")
    vocab = ref.build_vocab(texts)
    ids, y = ref.encode(texts, vocab), torch.tensor(labels)
    config = ref.TransformerConfig(vocab_size=len(vocab), d_model=16, n_heads=2, n_layers=1, causal=False)
    torch.manual_seed(0)
    model = ref.TextClassifier(config, len(names))
    history = ref.train_classifier(model, ids, y, epochs=30, batch_size=8, progress=False)
    assert history["loss"][-1] < history["loss"][0]
    result = ref.evaluate(model, ids, y)
    assert result["confusion"].sum() == 40 and result["accuracy"] > 0.9  # it can fit 40 sentences


def test_unfinished_transformer_is_named(tmp_path):
    """A finished classifier on top of the untouched transformer stub: the message names transformer.py."""
    folder = _folder(tmp_path, solution_source("classifier"))
    shutil.copy(ROOT / "exercises" / "transformer.py", folder / "transformer.py")
    impl = from_folder(folder).load("classifier")
    with pytest.raises(Mistake, match="finish the transformer exercise first"):
        _check("padding changes no prediction").func(impl)
