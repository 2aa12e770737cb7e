"""Track D (long_context, rope_2d): the reference solutions reproduce the published numbers and agree
with 1-D RoPE where they must, and every realistic wrong version fails the check meant for it."""

from __future__ import annotations

import math

import pytest
import torch
from conftest import assert_caught, grade_wrong, mutate, solution_source

from solutions import long_context, rope, rope_2d

YARN_BLEND = "inv_freq = (theta / scale) * ramp + theta * (1 - ramp)"
LLAMA_BLEND = "blended = (1 - s) * theta / factor + s * theta"
ADJACENT_2D = (
    "x1, x2 = x[..., 0::2], x[..., 1::2]  # [..., N, d/2] each\n"
    "    return torch.stack((x1 * cos - x2 * sin, x2 * cos + x1 * sin), dim=-1).flatten(-2)"
)
HALF_SPLIT_MROPE = (
    "x1, x2 = x[..., : d // 2], x[..., d // 2 :]  # [..., T, d/2] each\n"
    "    return torch.cat((x1 * cos - x2 * sin, x2 * cos + x1 * sin), dim=-1)"
)

# (wrong version, replacements in solutions/long_context.py, check that must fail, words in its message)
LONG_CONTEXT_MISTAKES = [
    (
        "NTK exponent d/(d+2)",
        [("scale ** (dim / (dim - 2))", "scale ** (dim / (dim + 2))")],
        "ntk_scaled_base",
        "exponent is d/(d+2)",
    ),
    (
        "NTK base * scale",
        [("base * scale ** (dim / (dim - 2))", "base * scale")],
        "ntk_scaled_base",
        "base * scale",
    ),
    (
        "PI multiplies instead of dividing",
        [("to(torch.float64) / scale", "to(torch.float64) * scale")],
        "interpolate_positions: positions / scale",
        "multiplied by the scale",
    ),
    (
        "PI rounds the positions (integer division)",
        [("to(torch.float64) / scale", "to(torch.float64) // scale")],
        "interpolate_positions: positions / scale",
        "integer division",
    ),
    (
        "YaRN without the ramp",
        [(YARN_BLEND, "inv_freq = theta / scale")],
        "yarn_inv_freq: highest",
        "that is PI",
    ),
    (
        "YaRN ramp reversed",
        [(YARN_BLEND, "inv_freq = theta * ramp + (theta / scale) * (1 - ramp)")],
        "yarn_inv_freq: linear ramp",
        "ramp is reversed",
    ),
    (
        "YaRN ceil for low, floor for high",
        [
            ("low = max(math.floor(", "low = max(math.ceil("),
            ("high = min(math.ceil(", "high = min(math.floor("),
        ],
        "yarn_inv_freq: linear ramp",
        "floor for low, ceil for high",
    ),
    (
        "YaRN ramp as a step",
        [("ramp = ((i - low) / (high - low)).clamp(0.0, 1.0)", "ramp = (i >= (low + high) / 2).double()")],
        "yarn_inv_freq: linear ramp",
        "jumps from 0 to 1",
    ),
    (
        "YaRN ramp divides by zero when low == high",
        [("    if low == high:\n        high += 0.001  # avoid a division by zero\n", "")],
        "yarn_inv_freq: linear ramp",
        "add 0.001 to high",
    ),
    (
        "YaRN high not clamped to dim - 1",
        [("min(math.ceil(correction_dim(beta_slow)), dim - 1)", "math.ceil(correction_dim(beta_slow))")],
        "yarn_inv_freq: linear ramp",
        "clamped to [0, dim - 1]",
    ),
    (
        "YaRN attention factor with log10",
        [("0.1 * math.log(scale) + 1.0", "0.1 * math.log10(scale) + 1.0")],
        "yarn_inv_freq: attention factor",
        "uses log10",
    ),
    (
        "YaRN attention factor below 1 for scale < 1",
        [("0.1 * math.log(scale) + 1.0 if scale > 1 else 1.0", "0.1 * math.log(scale) + 1.0")],
        "yarn_inv_freq: attention factor",
        "must be 1",
    ),
    (
        "Llama 3.1 blend reversed",
        [(LLAMA_BLEND, "blended = s * theta / factor + (1 - s) * theta")],
        "llama3_inv_freq: wavelength bands",
        "blend is reversed",
    ),
    (
        "Llama 3.1 divides every frequency",
        [("        theta,\n        torch.where(", "        theta / factor,\n        torch.where(")],
        "llama3_inv_freq: factor 1",
        "highest frequency",
    ),
    (
        "decay bound rejects max_distance 0",
        [("if max_distance < 0:", "if max_distance < 1:")],
        "long_term_decay_bound: RoFormer",
        "max_distance 0 is valid",
    ),
    (
        "decay bound unnormalised (sum over j)",
        [("S.abs().mean(dim=-1)", "S.abs().sum(dim=-1)")],
        "long_term_decay_bound: RoFormer",
        "is a sum over j",
    ),
    (
        "decay bound over S_0 .. S_(d/2-1)",
        [("S.abs().mean(dim=-1)", "(S - torch.polar(torch.ones_like(angles), angles)).abs().mean(dim=-1)")],
        "long_term_decay_bound: RoFormer",
        "j runs from 1 to d/2",
    ),
    (
        "decay bound sums the moduli",
        [
            (
                "S.abs().mean(dim=-1)",
                "torch.polar(torch.ones_like(angles), angles).abs().cumsum(-1).mean(dim=-1)",
            )
        ],
        "long_term_decay_bound: RoFormer",
        "does not change with r",
    ),
]

ROPE_2D_MISTAKES = [
    (
        "rows and cols swapped",
        [
            (
                "torch.cat((cols[..., None] * theta, rows[..., None] * theta)",
                "torch.cat((rows[..., None] * theta, cols[..., None] * theta)",
            )
        ],
        "one row",
        "column (x) first",
    ),
    (
        "frequencies of the full d",
        [("torch.arange(0, d, 4, dtype", "torch.arange(0, d // 2, 2, dtype")],
        "one row",
        "base**(-4j/d)",
    ),
    (
        "half-split pairs over the whole vector",
        [(ADJACENT_2D, HALF_SPLIT_MROPE.replace("T, d/2", "N, d/2"))],
        "one row",
        "must not move",
    ),
    ("default base 10000", [("base: float = 100.0", "base: float = 10000.0")], "one row", "base 10000"),
    (
        "rotation the wrong way",
        [
            (
                "x1 * cos - x2 * sin, x2 * cos + x1 * sin), dim=-1).flatten",
                "x1 * cos + x2 * sin, x2 * cos - x1 * sin), dim=-1).flatten",
            )
        ],
        "one row",
        "wrong way",
    ),
    (
        "2-D angles concatenated along a fixed axis (breaks batched rows, cols)",
        [("rows[..., None] * theta), dim=-1)", "rows[..., None] * theta), dim=1)")],
        "returns a tensor of x's shape",
        "cat the angles along dim=-1",
    ),
    (
        "M-RoPE sections concatenated along a fixed axis (breaks batched positions)",
        [("for k, chunk in enumerate(chunks)], dim=-1)", "for k, chunk in enumerate(chunks)], dim=1)")],
        "M-RoPE: each pair",
        "cat the angles along dim=-1",
    ),
    (
        "grid in column-major order",
        [("return t // width, t % width", "return t % height, t // height")],
        "grid_positions",
        "raster order",
    ),
    (
        "no ValueError for d = 6",
        [("if d % 4 != 0:", "if False:")],
        "ValueError",
        "expected ValueError",
    ),
    (
        "M-RoPE sections in reverse order",
        [("chunk[k] for k, chunk in enumerate(chunks)", "chunk[2 - k] for k, chunk in enumerate(chunks)")],
        "M-RoPE: each pair",
        "must rotate with the temporal position",
    ),
    (
        "M-RoPE with adjacent pairs",
        [(HALF_SPLIT_MROPE, ADJACENT_2D.replace("N, d/2", "T, d/2"))],
        "M-RoPE: text tokens",
        "code rotates adjacent pairs (2j, 2j+1)",
    ),
]


@pytest.mark.parametrize(
    "name, replacements, check_name, words", LONG_CONTEXT_MISTAKES, ids=[m[0] for m in LONG_CONTEXT_MISTAKES]
)
def test_long_context_mistake_is_caught(tmp_path, name, replacements, check_name, words):
    result = grade_wrong(tmp_path, "long_context", mutate(solution_source("long_context"), replacements))
    assert_caught(result, check_name, words)


@pytest.mark.parametrize(
    "name, replacements, check_name, words", ROPE_2D_MISTAKES, ids=[m[0] for m in ROPE_2D_MISTAKES]
)
def test_rope_2d_mistake_is_caught(tmp_path, name, replacements, check_name, words):
    result = grade_wrong(tmp_path, "rope_2d", mutate(solution_source("rope_2d"), replacements))
    assert_caught(result, check_name, words)


# ---------------------------------------------------------------- the reference against published numbers


def test_yarn_reproduces_kit_spec_values():
    """KIT_SPEC: dim 128, base 1e4, L 4096, scale 4 give low 20, high 46, attention factor 1.138629."""
    inv_freq, factor = long_context.yarn_inv_freq(128, 10000.0, 4.0, 4096)
    theta = 10000.0 ** (-torch.arange(0, 128, 2, dtype=torch.float64) / 128)
    ramp = (theta - inv_freq) / (theta - theta / 4)
    assert torch.all(ramp[:21] == 0) and ramp[21] > 0  # kept up to low = 20
    assert torch.all(ramp[46:] == 1) and ramp[45] < 1  # interpolated from high = 46
    assert torch.allclose(ramp[20:47], torch.linspace(0, 1, 27, dtype=torch.float64))
    assert round(factor, 6) == 1.138629
    assert inv_freq.dtype == torch.float64


def test_ntk_and_pi_properties():
    new = long_context.ntk_scaled_base(10000.0, 4.0, 128)
    assert math.isclose(new, 10000.0 * 4.0 ** (128 / 126))
    lowest = lambda b: b ** (-126 / 128)  # noqa: E731
    assert math.isclose(lowest(10000.0) / lowest(new), 4.0)
    assert long_context.interpolate_positions(torch.arange(8192), 4.0).max() < 2048


def test_llama31_published_setting():
    """Llama 3.1 (base 5e5, factor 8, L 8192, 1 / 4): wavelengths < 2048 kept, > 8192 divided by 8."""
    inv = long_context.llama3_inv_freq(128, 500000.0, 8.0, 8192)
    theta = 500000.0 ** (-torch.arange(0, 128, 2, dtype=torch.float64) / 128)
    wavelength = 2 * math.pi / theta
    assert torch.equal(inv[wavelength < 2048], theta[wavelength < 2048])
    assert torch.allclose(inv[wavelength > 8192], theta[wavelength > 8192] / 8)
    assert torch.all(inv.diff() < 0)  # still strictly decreasing: the blend is continuous and monotone


def test_decay_bound_starts_at_mean_of_j_and_decays():
    bound = long_context.long_term_decay_bound(128, 2000)
    assert math.isclose(float(bound[0]), 32.5)  # mean of j = 1 .. 64
    assert bound[1000:].max() < bound[0] / 2


def test_2d_rope_with_one_row_is_partial_1d_rope():
    x = torch.randn(3, 10, 32, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    cols = torch.tensor([0, 1, 2, 3, 4, 5, 6, 7, 50, 99])
    two_d = rope_2d.apply_rope_2d(x, torch.zeros_like(cols), cols)
    one_d = rope.apply_rope(x, cols, base=100.0, interleaved=True, rotary_dim=16)
    assert torch.allclose(two_d, one_d, atol=1e-12)


def test_2d_rope_is_two_1d_ropes_on_a_grid():
    rows, cols = rope_2d.grid_positions(4, 5)
    x = torch.randn(20, 16, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    out = rope_2d.apply_rope_2d(x, rows, cols, base=100.0)
    expected = torch.cat(
        (
            rope.apply_rope(x[:, :8], cols, base=100.0, interleaved=True),
            rope.apply_rope(x[:, 8:], rows, base=100.0, interleaved=True),
        ),
        dim=-1,
    )
    assert torch.allclose(out, expected, atol=1e-12)


def test_mrope_text_tokens_are_1d_rope_and_qwen2vl_sections_fit():
    x = torch.randn(2, 6, 128, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    p = torch.arange(6) + 10
    out = rope_2d.apply_mrope(x, p.expand(3, -1), (16, 24, 24))  # Qwen2-VL's mrope_section for d = 128
    assert torch.allclose(out, rope.apply_rope(x, p), atol=1e-12)
