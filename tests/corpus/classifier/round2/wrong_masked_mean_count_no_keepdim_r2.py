# corpus: wrong
# mistake: masked_mean divides the [B, d] sum by keep.sum(1) of shape [B] (keepdim forgotten), which broadcasts along the features: right for a batch of one, silently wrong when B == d, an error otherwise.
# evidence: x [4, 6, 4] with 6, 5, 3, 1 kept tokens: rows differ from the mean over their kept tokens by up to 0.85 (column j is divided by row j's count); a batch of one is exact.
"""A RoPE text classifier, trained and evaluated (seed coding question C2).

The source document's "RoPE classifier" adds an encoding to the embeddings (`src = src + pos_encoding`):
that is an additive absolute encoding, not RoPE. Here the encoder reuses the Block of your
transformer.py, run without a causal mask, so RoPE rotates q and k inside every attention layer:

    ids [B, T] -> tok_emb [B, T, d] (+ table[positions] for "sinusoidal" / "learned")
    per EncoderBlock (pre-norm, non-causal):  x = x + attn(norm1(x), key padding mask);  x = x + mlp(norm2(x))
    final LayerNorm -> masked mean over the real tokens [B, d] -> head Linear(d, C) -> logits [B, C]

Padding (id `pad_id`, on the right) must not change a prediction, so it is masked twice:
- as a key in attention: scores[b, h, i, j] = -inf where token j of row b is padding (a query may be
  padding; its output is thrown away by the pooling);
- in the pooling: pooled[b] = sum_t keep[b, t] x[b, t] / sum_t keep[b, t].

With RoPE and nothing absolute anywhere, the logits depend on positions only through differences
n - m: shifting every position by the same offset leaves them unchanged. With pos_scheme "none", the
encoder is permutation equivariant and the mean pooling permutation invariant: the model is a bag of
words, and on a task where word order decides the label it cannot beat chance, while the RoPE model
trained with train_classifier's settings reaches >= 95 % test accuracy (the checks use an order task
of their own, with the deciding words anywhere in the sentence).

Given (not exercises): the order task `make_order_task` / `order_task_splits`, a tokenizer and vocabulary
(`tokenize`, `build_vocab`, `encode`), a loader for your own CSV/TSV (`load_text_dataset`) and
`progress_bar`. Your work: `masked_mean`, `EncoderBlock.forward`, `TextClassifier`, `train_classifier`,
`classification_metrics` and `evaluate`.
"""

from __future__ import annotations

import csv
import math
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path

import torch
from torch import nn

from .rope import apply_rope
from .sinusoidal import sinusoidal_encoding
from .transformer import POS_SCHEMES, Block, TransformerConfig

__all__ = ["POS_SCHEMES", "TransformerConfig"]  # re-exported: build a config without another import

PAD, UNK = "<pad>", "<unk>"  # ids 0 and 1 of every vocabulary built here

# ---------------------------------------------------------------------------------------------------
# Data (given): an English task where word order decides the label


PEOPLE = ("farmer", "teacher", "doctor", "child", "baker", "sailor", "pilot", "nurse", "judge", "king")
ANIMALS = ("cat", "dog", "fox", "horse", "goat", "mouse", "owl", "bear", "wolf", "duck")
VERBS = ("chased", "pushed", "followed", "helped", "watched", "kicked", "fed", "scared", "pulled", "found")
ADJECTIVES = ("small", "old", "young", "happy", "angry", "tall", "quiet", "brown", "lazy", "clever")
ADVERBS = ("quietly", "suddenly", "slowly", "gladly", "really")
OPENERS = ("yesterday", "this morning", "after lunch", "once again", "in the end")
CLOSERS = ("near the river", "in the garden", "after school", "before dawn", "for a while", "again")
ORDER_LABELS = ("a person acted", "an animal acted")


def make_order_task(
    n: int, *, seed: int = 0, min_words: int = 5, max_words: int = 12, passive: float = 0.0
) -> tuple[list[str], list[int]]:
    """`n` sentences "the <A> <verb> the <B>" padded out with adjectives, adverbs and phrases.

    One noun is a person, the other an animal; the label says who acted: 0 "a person acted",
    1 "an animal acted". Both orders of the same words are equally likely, and the extra words are
    drawn independently of the label, so the bag of words carries no information: only the order
    (which noun comes before the verb) does. With probability `passive` the sentence is passive,
    "the <B> was <verb> by the <A>", where the actor comes last. Each sentence has a word count drawn
    uniformly in [min_words, max_words] (min_words >= 5, plus 3 for passive ones).
    """
    if min_words < 5 or max_words < min_words:
        raise ValueError(f"need 5 <= min_words <= max_words, got {min_words}, {max_words}")
    rng = random.Random(seed)
    texts, labels = [], []
    for _ in range(n):
        label = rng.randrange(2)
        person, animal = rng.choice(PEOPLE), rng.choice(ANIMALS)
        actor, target = (animal, person) if label else (person, animal)
        is_passive = rng.random() < passive
        target_len = rng.randint(min_words, max_words) - (3 if is_passive else 0)
        adj_a, adj_b, adverb, opener, closers = [], [], [], [], []
        length = 5
        while length < target_len:
            room = target_len - length
            kind = rng.randrange(5)
            if kind == 0 and not adverb:
                adverb.append(rng.choice(ADVERBS))
                length += 1
            elif kind == 1 and not opener:
                phrase = rng.choice(OPENERS)
                if len(phrase.split()) <= room:
                    opener.append(phrase)
                    length += len(phrase.split())
            elif kind == 2:
                phrase = rng.choice(CLOSERS)
                if len(phrase.split()) <= room:
                    closers.append(phrase)
                    length += len(phrase.split())
            else:
                (adj_a if rng.random() < 0.5 else adj_b).append(rng.choice(ADJECTIVES))
                length += 1
        verb = rng.choice(VERBS)
        np_a = " ".join(["the", *adj_a, actor])
        np_b = " ".join(["the", *adj_b, target])
        if is_passive:
            core = [np_b, "was", *adverb, verb, "by", np_a]
        else:
            core = [np_a, *adverb, verb, np_b]
        texts.append(" ".join([*opener, *core, *closers]))
        labels.append(label)
    return texts, labels


def order_task_splits(
    sizes: tuple[int, int, int] = (4000, 500, 1000), *, seed: int = 0, **task: int | float
) -> dict[str, tuple[list[str], list[int]]]:
    """Train / val / test splits of distinct sentences of the order task (no sentence in two splits)."""
    total = sum(sizes)
    seen: dict[str, int] = {}
    draw = 0
    while len(seen) < total:
        texts, labels = make_order_task(total, seed=seed * 1000 + draw, **task)
        for text, label in zip(texts, labels, strict=True):
            if len(seen) < total:
                seen.setdefault(text, label)
        draw += 1
        if draw > 50:
            raise ValueError(f"cannot draw {total} distinct sentences with {task}: ask for fewer")
    items = list(seen.items())
    splits, start = {}, 0
    for name, size in zip(("train", "val", "test"), sizes, strict=True):
        chunk = items[start : start + size]
        splits[name] = ([t for t, _ in chunk], [y for _, y in chunk])
        start += size
    return splits


# ---------------------------------------------------------------------------------------------------
# Tokenizer, vocabulary, your own data (given)


def tokenize(text: str) -> list[str]:
    """Lower-case words (with an inner apostrophe: "don't") and single punctuation marks."""
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?|[^\sa-z0-9]", text.lower())


def build_vocab(texts: list[str], *, min_freq: int = 1, max_size: int | None = None) -> dict[str, int]:
    """token -> id: 0 <pad>, 1 <unk>, then tokens seen >= min_freq times, most frequent first."""
    counts = Counter(token for text in texts for token in tokenize(text))
    kept = sorted((t for t, c in counts.items() if c >= min_freq), key=lambda t: (-counts[t], t))
    if max_size is not None:
        kept = kept[: max(0, max_size - 2)]
    return {PAD: 0, UNK: 1, **{token: i + 2 for i, token in enumerate(kept)}}


def encode(texts: list[str], vocab: dict[str, int], *, max_len: int | None = None) -> torch.Tensor:
    """Token ids, right-padded with 0 to the longest text (cut at max_len): LongTensor [N, T]."""
    rows = [[vocab.get(token, vocab[UNK]) for token in tokenize(text)][:max_len] for text in texts]
    if any(len(row) == 0 for row in rows):
        raise ValueError("a text has no tokens; drop empty texts first")
    ids = torch.zeros(len(rows), max(len(row) for row in rows), dtype=torch.long)  # [N, T]
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row)
    return ids


def load_text_dataset(
    path: str | Path, *, text_column: str = "text", label_column: str = "label"
) -> tuple[list[str], list[int], list[str]]:
    """Read a CSV (comma) or TSV (tab, or a .tsv name) file with a header naming `text` and `label`.

    Returns (texts, labels as ids, label names); label ids follow the sorted label names.
    """
    path = Path(path)
    with path.open(newline="", encoding="utf-8") as handle:
        first = handle.readline()
        handle.seek(0)
        delimiter = "\t" if path.suffix.lower() == ".tsv" or "\t" in first else ","
        rows = list(csv.DictReader(handle, delimiter=delimiter))
    if not rows or text_column not in rows[0] or label_column not in rows[0]:
        raise ValueError(f"{path}: need a header with columns {text_column!r} and {label_column!r}")
    rows = [r for r in rows if (r[text_column] or "").strip()]
    names = sorted({r[label_column].strip() for r in rows})
    index = {name: i for i, name in enumerate(names)}
    return [r[text_column] for r in rows], [index[r[label_column].strip()] for r in rows], names


def progress_bar(done: int, total: int, *, width: int = 24, note: str = "") -> None:
    """Redraw one line on stderr: `[#######.....]  7/12 note`; a newline once done == total."""
    filled = width * done // max(total, 1)
    end = "\n" if done >= total else ""
    sys.stderr.write(
        f"\r[{'#' * filled}{'.' * (width - filled)}] {done:>{len(str(total))}}/{total} {note}{end}"
    )
    sys.stderr.flush()


# ---------------------------------------------------------------------------------------------------
# The model (your work)


def masked_mean(x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """Mean of x [B, T, d] over the tokens where keep [B, T] (bool) is True -> [B, d].

    Padding rows of x may hold anything (even large values); they must not count.
    """
    total = torch.where(keep.unsqueeze(-1), x, torch.zeros((), dtype=x.dtype)).sum(dim=1)  # [B, d]
    return total / keep.sum(dim=1).clamp(min=1)


class EncoderBlock(Block):
    """Your transformer.py Block (norm1, attn.{q,k,v,out}_proj, norm2, mlp), run as an encoder layer:
    no causal mask, and a key padding mask so that no token attends to padding."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__(config)
        self.n_heads = config.n_heads
        self.rope = config.pos_scheme == "rope"
        self.rope_base = config.rope_base
        self.attn_drop = nn.Dropout(config.dropout)
        self.resid_drop = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor, positions: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        """x [B, T, d]; positions [T] or [B, T]; keep [B, T] bool (False = padding) -> x [B, T, d]."""
        B, T, d = x.shape
        H = self.n_heads
        hd = d // H
        attn = self.attn
        h = self.norm1(x)
        q = attn.q_proj(h).view(B, T, H, hd).transpose(1, 2)  # [B, H, T, hd]
        k = attn.k_proj(h).view(B, T, H, hd).transpose(1, 2)
        v = attn.v_proj(h).view(B, T, H, hd).transpose(1, 2)
        if self.rope:
            pos = positions[:, None, :] if positions.dim() == 2 else positions
            q = apply_rope(q, pos, base=self.rope_base)
            k = apply_rope(k, pos, base=self.rope_base)
        scores = q @ k.transpose(-2, -1) / math.sqrt(hd)  # [B, H, T, T]
        scores = scores.masked_fill(~keep[:, None, None, :], float("-inf"))
        weights = self.attn_drop(torch.softmax(scores, dim=-1))
        out = (weights @ v).transpose(1, 2).reshape(B, T, d)
        x = x + self.resid_drop(attn.out_proj(out))
        x = x + self.resid_drop(self.mlp(self.norm2(x)))
        return x


class TextClassifier(nn.Module):
    """tok_emb -> (+ table for sinusoidal / learned) -> EncoderBlocks -> norm -> masked mean -> head."""

    def __init__(self, config: TransformerConfig, n_classes: int, pad_id: int = 0) -> None:
        super().__init__()
        super().__init__()
        if config.pos_scheme not in POS_SCHEMES:
            raise ValueError(f"unknown pos_scheme {config.pos_scheme!r}; expected one of {POS_SCHEMES}")
        if n_classes < 2:
            raise ValueError(f"n_classes must be >= 2, got {n_classes}")
        self.config = config
        self.n_classes = n_classes
        self.pad_id = pad_id
        d = config.d_model
        self.tok_emb = nn.Embedding(config.vocab_size, d)
        if config.pos_scheme == "learned":
            self.pos_emb = nn.Embedding(config.max_len, d)
        elif config.pos_scheme == "sinusoidal":
            self.register_buffer("pos_table", sinusoidal_encoding(config.max_len, d), persistent=False)
        self.blocks = nn.ModuleList(EncoderBlock(config) for _ in range(config.n_layers))
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, n_classes)

    def forward(self, ids: torch.Tensor, positions: torch.Tensor | None = None) -> torch.Tensor:
        """ids [B, T] (pad_id = padding, usually on the right); positions [T] or [B, T] (default 0 .. T-1).

        Returns logits [B, n_classes].
        """
        B, T = ids.shape
        keep = ids != self.pad_id  # [B, T]
        if positions is None:
            positions = torch.arange(T, device=ids.device)
        positions = positions.to(ids.device)
        x = self.tok_emb(ids)
        if self.config.pos_scheme == "learned":
            x = x + self.pos_emb(positions.long())
        elif self.config.pos_scheme == "sinusoidal":
            x = x + self.pos_table[positions.long()]
        for block in self.blocks:
            x = block(x, positions, keep)
        x = self.norm(x)
        return self.head(masked_mean(x, keep))


# ---------------------------------------------------------------------------------------------------
# Training and evaluation (your work)


def train_classifier(
    model: nn.Module,
    ids: torch.Tensor,
    labels: torch.Tensor,
    *,
    epochs: int = 8,
    batch_size: int = 64,
    lr: float = 3e-3,
    weight_decay: float = 0.01,
    seed: int = 0,
    val: tuple[torch.Tensor, torch.Tensor] | None = None,
    progress: bool = True,
) -> dict[str, list[float]]:
    """Train with AdamW and cross-entropy on shuffled mini-batches; returns the history.

    ids [N, T] (right-padded), labels [N]. The shuffling comes from torch.Generator().manual_seed(seed)
    only, so the same seed and the same initial model give the same weights whatever the global RNG.
    Each epoch visits every row once, in shuffled batches of batch_size (the last may be smaller).
    History: lists with one value per epoch: "loss" (mean training loss), "train_accuracy" (on the
    batches seen), and "val_accuracy" (evaluate(model, *val)["accuracy"] after the epoch) when
    `val` = (ids, labels) is given. `progress` redraws progress_bar a few times per epoch.
    """
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(seed)
    n = ids.shape[0]
    n_batches = math.ceil(n / batch_size)
    history: dict[str, list[float]] = {"loss": [], "train_accuracy": []}
    if val is not None:
        history["val_accuracy"] = []
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(n, generator=gen)
        loss_sum, correct, seen = 0.0, 0, 0
        for b, start in enumerate(range(0, n, batch_size)):
            index = order[start : start + batch_size]
            batch, target = ids[index], labels[index]
            logits = model(batch)
            loss = nn.functional.cross_entropy(logits, target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(index)
            correct += int((logits.argmax(dim=-1) == target).sum())
            seen += len(index)
            if progress and (b + 1) % max(1, n_batches // 4) == 0:
                progress_bar(epoch * n_batches + b + 1, epochs * n_batches, note=f"loss {loss_sum / seen:.3f}")
        history["loss"].append(loss_sum / seen)
        history["train_accuracy"].append(correct / seen)
        if val is not None:
            history["val_accuracy"].append(evaluate(model, *val)["accuracy"])
    if progress:
        progress_bar(epochs * n_batches, epochs * n_batches)
    return history


def classification_metrics(y_true: torch.Tensor, y_pred: torch.Tensor, n_classes: int) -> dict:
    """Accuracy, macro-F1 and the confusion matrix of integer labels y_true, y_pred [N] in [0, n_classes).

    confusion [n_classes, n_classes] (long): row = true class, column = predicted class.
    F1 of class c = 2 TP / (2 TP + FP + FN) (0 when the class is neither present nor predicted);
    macro-F1 = the unweighted mean over the n_classes classes (micro-F1 would equal the accuracy).
    Returns {"accuracy": float, "macro_f1": float, "confusion": Tensor}.
    """
    y_true = y_true.long().flatten()
    y_pred = y_pred.long().flatten()
    confusion = torch.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes)
    confusion = confusion.reshape(n_classes, n_classes)
    tp = confusion.diagonal().double()
    fp = confusion.sum(dim=0).double() - tp
    fn = confusion.sum(dim=1).double() - tp
    denom = 2 * tp + fp + fn
    f1 = torch.where(denom > 0, 2 * tp / denom.clamp(min=1), torch.zeros_like(denom))
    accuracy = (y_true == y_pred).double().mean().item() if y_true.numel() else 0.0
    return {"accuracy": float(accuracy), "macro_f1": float(f1.mean()), "confusion": confusion}


def evaluate(model: nn.Module, ids: torch.Tensor, labels: torch.Tensor, *, batch_size: int = 512) -> dict:
    """classification_metrics of the model's argmax predictions on ids [N, T], in eval mode, no grad.

    n_classes is the width of the model's logits. Returns the same dict, plus "predictions" [N].
    """
    model.eval()
    predictions = []
    n_classes = None
    with torch.no_grad():
        for start in range(0, ids.shape[0], batch_size):
            logits = model(ids[start : start + batch_size])
            n_classes = logits.shape[-1]
            predictions.append(logits.argmax(dim=-1))
    preds = torch.cat(predictions)
    metrics = classification_metrics(labels, preds, n_classes)
    metrics["predictions"] = preds
    return metrics
