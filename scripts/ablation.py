"""Positional-scheme ablation on the order task: train on sentences of up to L words, test up to 2L.

    python scripts/ablation.py                 # the reference solutions, L = 12, 5 schemes
    python scripts/ablation.py --exercises     # your own exercises/classifier.py (and alternatives.py)
    python scripts/ablation.py --json out.json # also write the numbers (the notebook can load them)

Every scheme gets the same data, the same initial seed and the same training budget; the table reports
test accuracy per length bucket and the training time. Seeded: the same command prints the same
accuracies (times vary with the machine). 3 seeds x 5 schemes: about 40 s on 2 CPU cores.

"alibi" is the classifier without positions (pos_scheme "none") whose attention scores get ALiBi's
bias (alternatives.py's alibi_bias): an encoder sees both sides, so the bias is the symmetric
-m_h * |i - j| of the bidirectional variant; the model is otherwise the same Block as the others.
"alibi_causal" adds the causal mask ALiBi was designed for (token i sees j <= i), which gives it the
direction the symmetric bias cannot express; "none_causal" is that causal mask without ALiBi's bias
(NoPE), to tell what the mask does from what the bias does.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import time

import torch

SCHEMES = ("rope", "sinusoidal", "learned", "none", "alibi", "alibi_causal", "none_causal")


def with_alibi(model, alternatives, *, causal: bool = False, bias: bool = True) -> None:
    """Give every encoder block of `model` (built with pos_scheme "none") ALiBi's score bias
    (bias=False: none) and, with causal=True, a causal mask."""
    for block in model.blocks:
        block.forward = _alibi_forward(block, alternatives, causal, bias)


def _alibi_forward(block, alternatives, causal: bool, bias: bool):
    biases: dict[int, torch.Tensor] = {}

    def forward(x: torch.Tensor, positions: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        H = block.n_heads
        if T not in biases:
            biases[T] = alternatives.alibi_bias(H, T, T).to(x.dtype) * bias  # [H, T, T], -m_h |i - j|
        h = block.norm1(x)
        q, k, v = (
            p(h).view(B, T, H, C // H).transpose(1, 2)
            for p in (block.attn.q_proj, block.attn.k_proj, block.attn.v_proj)
        )
        scores = q @ k.transpose(-2, -1) / math.sqrt(C // H) + biases[T]  # (B, H, T, T)
        allowed = keep[:, None, None, :]  # (B, 1, 1, T): no padding key
        if causal:
            allowed = allowed & torch.ones(T, T, dtype=torch.bool).tril()
        weights = torch.softmax(scores.masked_fill(~allowed, float("-inf")), dim=-1)
        x = x + block.attn.out_proj((weights @ v).transpose(1, 2).reshape(B, T, C))
        return x + block.mlp(block.norm2(x))

    return forward


def length_buckets(train_max: int) -> list[tuple[int, int]]:
    """In-distribution [5, L], then (L, 1.5L] and (1.5L, 2L]."""
    mid = train_max + train_max // 2
    return [(5, train_max), (train_max + 1, mid), (mid + 1, 2 * train_max)]


def run(
    module: str = "solutions.classifier",
    *,
    train_max: int = 12,
    n_train: int = 3000,
    n_test: int = 600,
    epochs: int = 4,
    seed: int = 0,
    schemes: tuple[str, ...] = SCHEMES,
    d_model: int = 32,
    progress: bool = False,
) -> dict:
    """One classifier per scheme: {"buckets", "results": {scheme: {"accuracy": [per bucket], "seconds"}}}."""
    clf = importlib.import_module(module)
    alternatives = importlib.import_module(module.rsplit(".", 1)[0] + ".alternatives")
    splits = clf.order_task_splits((n_train, 300, n_test), seed=seed, min_words=5, max_words=train_max)
    buckets = length_buckets(train_max)
    tests = [splits["test"]]
    for i, (lo, hi) in enumerate(buckets[1:], start=1):
        tests.append(clf.make_order_task(n_test, seed=seed + 100 + i, min_words=lo, max_words=hi))
    vocab = clf.build_vocab(splits["train"][0])
    train = clf.encode(splits["train"][0], vocab), torch.tensor(splits["train"][1])
    encoded = [(clf.encode(texts, vocab), torch.tensor(labels)) for texts, labels in tests]
    results = {}
    for scheme in schemes:
        config = clf.TransformerConfig(
            vocab_size=len(vocab),
            d_model=d_model,
            n_heads=2,
            n_layers=2,
            max_len=4 * train_max,
            pos_scheme="none" if scheme.startswith("alibi") or scheme == "none_causal" else scheme,
            causal=False,
        )
        torch.manual_seed(seed)
        model = clf.TextClassifier(config, 2)
        if scheme.startswith("alibi") or scheme == "none_causal":
            with_alibi(model, alternatives, causal=scheme.endswith("_causal"), bias=scheme != "none_causal")
        start = time.perf_counter()
        clf.train_classifier(
            model, *train, epochs=epochs, batch_size=64, lr=3e-3, seed=seed, progress=progress
        )
        seconds = time.perf_counter() - start
        accuracy = [clf.evaluate(model, ids, labels)["accuracy"] for ids, labels in encoded]
        results[scheme] = {"accuracy": accuracy, "seconds": seconds}
    return {
        "buckets": buckets,
        "train_max": train_max,
        "threads": torch.get_num_threads(),
        "results": results,
    }


def combine(reports: list[dict]) -> dict:
    """Several seeds: per scheme and bucket the mean accuracy, plus the lowest and highest seed."""
    out = {**reports[0], "seeds": len(reports), "results": {}}
    for scheme in reports[0]["results"]:
        runs = [r["results"][scheme] for r in reports]
        columns = list(zip(*(run["accuracy"] for run in runs), strict=True))
        out["results"][scheme] = {
            "accuracy": [sum(c) / len(c) for c in columns],
            "low": [min(c) for c in columns],
            "high": [max(c) for c in columns],
            "seconds": sum(run["seconds"] for run in runs) / len(runs),
        }
    return out


def table(report: dict) -> str:
    heads = [
        f"{lo}-{hi} words" + (" (train)" if i == 0 else "") for i, (lo, hi) in enumerate(report["buckets"])
    ]
    lines = [f"| scheme | {' | '.join(heads)} | train s |", "|---" * (len(heads) + 2) + "|"]
    for scheme, row in report["results"].items():
        lows, highs = row.get("low", row["accuracy"]), row.get("high", row["accuracy"])
        cells = " | ".join(
            f"{a:.1%}" + (f" ({lo:.1%}-{hi:.1%})" if hi > lo else "")
            for a, lo, hi in zip(row["accuracy"], lows, highs, strict=True)
        )
        lines.append(f"| {scheme} | {cells} | {row['seconds']:.1f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exercises", action="store_true", help="use exercises/classifier.py")
    parser.add_argument("--train-max", type=int, default=12, help="L: longest training sentence (words)")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest for tiny models)")
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0 .. n-1; the table shows the mean")
    parser.add_argument("--json", help="also write the numbers to this file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    module = "exercises.classifier" if args.exercises else "solutions.classifier"
    start = time.perf_counter()
    reports = [run(module, train_max=args.train_max, epochs=args.epochs, seed=s) for s in range(args.seeds)]
    report = combine(reports)
    print(table(report))
    print(
        f"mean over seeds 0..{args.seeds - 1} (lowest-highest seed), train s = per model; total "
        f"{time.perf_counter() - start:.1f} s with {report['threads']} torch thread(s)"
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=1)


if __name__ == "__main__":
    main()
