"""Track E (alternatives): ALiBi's slopes as its authors' code computes them (written here as the
recursion it uses), xPos's relative and decaying scores, NoPE's 1 / (t + 1), the ablation's ALiBi hook,
and realistic wrong versions failing the check meant for them."""

from __future__ import annotations

import importlib.util
import math
import shutil
from pathlib import Path

import pytest
import torch
from conftest import ROOT, assert_caught, grade_wrong, mutate, solution_source

from solutions import alternatives, classifier, rope


def _paper_slopes(n: int) -> list[float]:
    """The recursion of ALiBi's released code: start = ratio = 2 ** (-2 ** -(log2(n) - 3))."""
    if math.log2(n).is_integer():
        start = 2 ** (-(2 ** -(math.log2(n) - 3)))
        return [start * start**i for i in range(n)]
    p = 2 ** math.floor(math.log2(n))
    return _paper_slopes(p) + _paper_slopes(2 * p)[0::2][: n - p]


@pytest.mark.parametrize("n", [1, 2, 3, 5, 6, 8, 12, 16, 20, 24, 40, 64])
def test_slopes_are_the_papers(n):
    assert torch.allclose(
        alternatives.alibi_slopes(n), torch.tensor(_paper_slopes(n), dtype=torch.float64), rtol=1e-12
    )


def test_known_slopes_and_bias():
    assert alternatives.alibi_slopes(8).tolist() == [2.0**-k for k in range(1, 9)]
    twelve = alternatives.alibi_slopes(12).tolist()
    assert twelve[8:] == pytest.approx([2**-0.5, 2**-1.5, 2**-2.5, 2**-3.5], rel=1e-12)
    bias = alternatives.alibi_bias(2, 1, 4)  # one query at index 3
    assert bias[0, 0].tolist() == [-3 / 16, -2 / 16, -1 / 16, 0.0]  # slopes 2^-4, 2^-8 for 2 heads


def test_xpos_scores_are_relative_and_decay():
    g = torch.Generator().manual_seed(0)
    q, k = (
        torch.randn(1, 1, 1, 32, generator=g, dtype=torch.float64),
        torch.randn(1, 1, 1, 32, generator=g, dtype=torch.float64),
    )

    def score(m, n):
        return float(
            (
                alternatives.apply_xpos(q, torch.tensor([m]))
                * alternatives.apply_xpos(k, torch.tensor([n]), key=True)
            ).sum()
        )

    assert score(40, 10) == pytest.approx(score(1040, 1010), rel=1e-10)
    # same pair, same offset: the xPos score is RoPE's pair score times zeta_i ** (offset / 512)
    plain = rope.apply_rope(q, torch.tensor([40])) * rope.apply_rope(k, torch.tensor([10]))
    zeta = alternatives.xpos_scale(32, torch.tensor([30]))[0]
    assert score(40, 10) == pytest.approx(float((plain[0, 0, 0] * torch.cat((zeta, zeta))).sum()), rel=1e-10)
    assert bool((zeta < 1).all()) and bool((zeta[1:] > zeta[:-1]).all())  # fast pairs decay most


def test_nope_signal():
    assert torch.allclose(alternatives.nope_position_signal(7), 1 / torch.arange(1, 8, dtype=torch.float64))


def test_the_ablations_alibi_hook_without_bias_is_the_plain_model():
    spec = importlib.util.spec_from_file_location("ablation", ROOT / "scripts" / "ablation.py")
    ablation = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ablation)
    config = classifier.TransformerConfig(
        vocab_size=20, d_model=16, n_heads=2, n_layers=2, max_len=16, pos_scheme="none", causal=False
    )
    torch.manual_seed(0)
    model = classifier.TextClassifier(config, 2).eval()
    ids = torch.randint(1, 20, (3, 9), generator=torch.Generator().manual_seed(1))
    ids[1, 6:] = 0  # padding
    plain = model(ids)
    ablation.with_alibi(model, alternatives, bias=False)
    assert torch.allclose(model(ids), plain, atol=1e-6)
    ablation.with_alibi(model, alternatives)
    assert not torch.allclose(model(ids), plain, atol=1e-3)


MISTAKES = [
    (
        "slopes start at 1",
        [
            (
                "return [2.0 ** (-8.0 * (h + 1) / n) for h in range(n)]",
                "return [2.0 ** (-8.0 * h / n) for h in range(n)]",
            )
        ],
        "alibi_slopes: a power of two",
        "not 1",
    ),
    (
        "first slopes of 2p instead of every other",
        [("power_of_two(2 * p)[0::2][: n_heads - p]", "power_of_two(2 * p)[: n_heads - p]")],
        "alibi_slopes: other head counts",
        "take every other one",
    ),
    (
        "bias queries at index 0",
        [
            (
                "query = torch.arange(k_len - q_len, k_len, dtype=torch.float64)[:, None]",
                "query = torch.arange(q_len, dtype=torch.float64)[:, None]",
            )
        ],
        "alibi_bias",
        "the last tokens",
    ),
    (
        "xPos keys not inverted",
        [("-positions if key else positions", "positions")],
        "apply_xpos: RoPE times zeta",
        "keys the inverse",
    ),
    (
        "xPos factor interleaved",
        [
            (
                "factor = torch.cat((factor, factor), dim=-1).to(x.device)",
                "factor = factor.repeat_interleave(2, -1).to(x.device)",
            )
        ],
        "apply_xpos: RoPE times zeta",
        "repeat_interleave",
    ),
    (
        "NoPE without the causal mask",
        [('scores.masked_fill(~causal, float("-inf"))', "scores")],
        "nope_position_signal",
        "without the causal mask",
    ),
]


@pytest.mark.parametrize(
    ("name", "replacements", "check_name", "words"), MISTAKES, ids=[m[0] for m in MISTAKES]
)
def test_alternatives_mistake_is_caught(tmp_path, name, replacements, check_name, words):
    shutil.copy(Path(rope.__file__), tmp_path / "rope.py")  # the module imports the reference rope relatively
    result = grade_wrong(tmp_path, "alternatives", mutate(solution_source("alternatives"), replacements))
    assert_caught(result, check_name, words)
