"""Track E (rope_precision): the exact-integer limits by brute force, the angle errors against the
float formats' spacing, Men et al.'s B(m) and the bound's defining property, the frequencies against
Hugging Face's, and realistic wrong versions failing the check meant for them."""

from __future__ import annotations

import math

import pytest
import torch
from conftest import assert_caught, grade_wrong, mutate, solution_source

from solutions import rope_precision as prec


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
def test_max_exact_integer_by_brute_force(dtype):
    n = prec.max_exact_integer(dtype)
    integers = torch.arange(n - 3, n + 2, dtype=torch.float64)
    back = integers.to(dtype).to(torch.float64)
    assert torch.equal(back[:4], integers[:4])  # n - 3 .. n exact
    assert back[4] != integers[4]  # n + 1 is not


def test_angle_errors_stay_within_half_a_spacing_plus_thetas_rounding():
    positions = torch.tensor([1000, 100_000, 1_000_000, 10_000_000])
    error = prec.angle_error(positions, 128)
    assert error[0, 0] == 0.0  # theta_0 = 1 and 1000 are exact in float32
    for m, row in zip(positions.tolist(), error, strict=True):
        spacing = 2.0 ** (math.floor(math.log2(m)) - 23)
        theta = 10000.0 ** (-torch.arange(0, 128, 2, dtype=torch.float64) / 128)
        bound = spacing / 2 + m * theta * 2.0**-24 + 1e-12  # the product's rounding + theta's rounding
        assert bool((row <= bound * 1.0001).all())
    assert 0.01 < float(error[2].max()) < 0.1  # hundredths of a radian near a million
    assert float(prec.angle_error(torch.tensor([257]), 16, dtype=torch.bfloat16)[0, 0]) == 1.0  # 257 -> 256


def test_thetas_match_hugging_face():
    """transformers' Llama rotary embedding (its own float32 inv_freq) at base 500 000, head size 128."""
    transformers = pytest.importorskip("transformers")
    from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding

    if int(transformers.__version__.split(".")[0]) >= 5:
        rope_kw = {"rope_parameters": {"rope_type": "default", "rope_theta": 500000.0}}
    else:
        rope_kw = {"rope_theta": 500000.0}
    config = transformers.LlamaConfig(hidden_size=256, num_attention_heads=2, **rope_kw)
    inv_freq = LlamaRotaryEmbedding(config).inv_freq
    torch.testing.assert_close(inv_freq.double(), prec._inv_freq(128, 500000.0), rtol=1e-6, atol=0)


def test_margin_and_the_bound():
    assert prec.similar_token_margin(torch.tensor(0), 128).item() == 64.0
    assert prec.supported_context(128, 10000.0, 5000) == 1707
    assert (
        prec.similar_token_margin(torch.tensor(1707), 128)
        < 0
        <= prec.similar_token_margin(torch.tensor(1706), 128)
    )
    candidates = torch.logspace(3, 6, 121, dtype=torch.float64)
    for L in (512, 1024, 2048):
        bound = prec.base_lower_bound(L, 128, candidates.flip(0))
        assert prec.supported_context(128, bound, L - 1) >= L
        assert all(prec.supported_context(128, float(b), L - 1) < L for b in candidates if b < bound)
    with pytest.raises(ValueError):
        prec.base_lower_bound(4096, 128, [10.0, 100.0])


MISTAKES = [
    (
        "theta rounded in float32 from the start",
        [
            (
                "low = m.to(dtype) * theta.to(dtype)",
                "low = m.to(dtype) * base ** (-torch.arange(0, dim, 2, dtype=dtype) / dim)",
            )
        ],
        "angle_error: float32",
        "theta_i was computed in float32",
    ),
    (
        "the exact angle from the rounded theta",
        [("theta = _inv_freq(dim, base)\n", "theta = _inv_freq(dim, base).float().double()\n")],
        "angle_error: float32",
        "the exact angle used theta_i rounded",
    ),
    (
        "the product in float64",
        [("low = m.to(dtype) * theta.to(dtype)", "low = m.to(dtype).double() * theta.to(dtype).double()")],
        "angle_error: float32",
        "the product was computed in float64",
    ),
    (
        "2 ** mantissa bits",
        [("return round(2 / torch.finfo(dtype).eps)", "return round(1 / torch.finfo(dtype).eps)")],
        "max_exact_integer",
        "implicit leading bit",
    ),
    (
        "mean over the pairs",
        [("m * _inv_freq(dim, base)).sum(dim=-1)", "m * _inv_freq(dim, base)).mean(dim=-1)")],
        "similar_token_margin",
        "mean",
    ),
    (
        "last good distance",
        [("return int(negative[0, 0]) if", "return int(negative[0, 0]) - 1 if")],
        "supported_context",
        "the last distance",
    ),
    (
        "candidates in the given order",
        [("for base in sorted(float(b) for b in bases):", "for base in (float(b) for b in bases):")],
        "base_lower_bound",
        "in the order given",
    ),
]


@pytest.mark.parametrize(
    ("name", "replacements", "check_name", "words"), MISTAKES, ids=[m[0] for m in MISTAKES]
)
def test_rope_precision_mistake_is_caught(tmp_path, name, replacements, check_name, words):
    result = grade_wrong(tmp_path, "rope_precision", mutate(solution_source("rope_precision"), replacements))
    assert_caught(result, check_name, words)
