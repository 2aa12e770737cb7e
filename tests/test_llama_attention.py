"""Track E (llama_attention): the judge is Hugging Face transformers.

grader/fixtures/llama_attention.npz is what transformers' LlamaAttention and MistralAttention return;
these tests regenerate it with the installed transformers (float64, and once with transformers' own
float32 rotary embedding), check that the checks' own layer (`_attend`, from which they build the
realistic slips they name) equals it on every case, and that every realistic wrong version fails the
check meant for it with words that name its mistake."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import ROOT, assert_caught, grade_wrong, mutate, solution_source

from grader.checks import llama_attention as checks
from solutions import llama_attention, rope


def _script():
    spec = importlib.util.spec_from_file_location(
        "make_llama_fixtures", ROOT / "scripts" / "make_llama_fixtures.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def stored():
    with np.load(checks.FIXTURE) as data:
        return {name: data[name] for name in data.files}


def test_the_fixtures_are_what_the_installed_transformers_gives(stored):
    pytest.importorskip("transformers")
    script = _script()
    fresh = script.build()
    assert script.compare(stored, fresh, rtol=1e-12, atol=1e-12) == []
    # transformers' own float32 cos/sin: the same to float32 angles (positions up to 3004 here, so
    # angles are off by up to ~3004 * 6e-8 rad; the tolerance says how far float32 angles go)
    plain = script.build(float64_rope=False)
    assert script.compare(stored, plain, rtol=1e-3, atol=1e-3) == []
    near = {k: v for k, v in stored.items() if not k.startswith("odd_head_dim")}
    assert script.compare(near, {k: plain[k] for k in near}, rtol=1e-5, atol=1e-5) == []


def test_transformers_keeps_packed_documents_apart(stored):
    assert np.allclose(stored["packed/out"], stored["packed/alone_out"], rtol=1e-12, atol=1e-12)


def test_the_checks_layer_and_the_reference_equal_transformers(stored):
    fx = stored
    t = {k: torch.from_numpy(v) for k, v in fx.items() if v.dtype.kind != "U"}
    for case, tokens in (("mha", 7), ("gqa", 7), ("mqa", 7)):
        out, k, v = checks._attend(case, t[f"{case}/hidden"], np.arange(tokens), checks._causal(0, tokens))
        assert np.allclose(out, fx[f"{case}/out"], atol=1e-12) and np.allclose(
            k, fx[f"{case}/k_cache"], atol=1e-12
        )
        n_heads, n_kv = checks.HEADS[case]
        ref, (rk, _) = llama_attention.llama_attention(
            t[f"{case}/hidden"], checks._weights(case), n_heads, n_kv
        )
        assert np.allclose(ref.numpy(), fx[f"{case}/out"], atol=1e-12) and np.allclose(
            rk.numpy(), k, atol=1e-12
        )
    positions = fx["odd_head_dim/position_ids"]
    out, _, _ = checks._attend("odd_head_dim", t["odd_head_dim/hidden"], positions, checks._causal(0, 5))
    assert np.allclose(out, fx["odd_head_dim/out"], atol=1e-10)
    past = (fx["decode/chunk_past_k"], fx["decode/chunk_past_v"])
    out, k, v = checks._attend(
        "decode", t["decode/chunk_hidden"], np.arange(6, 9), checks._causal(6, 3), past
    )
    assert np.allclose(out, fx["decode/chunk_out"], atol=1e-12) and np.allclose(
        k, fx["decode/k_cache"], atol=1e-12
    )
    real = fx["left_pad/attention_mask"].astype(bool)
    allowed = checks._causal(0, 6) & real[:, None, None, :]
    out, _, _ = checks._attend("left_pad", t["left_pad/hidden"], fx["left_pad/position_ids"], allowed)
    assert np.allclose(out[real], fx["left_pad/out"][real], atol=1e-12)
    out, k, v = checks._attend("window", t["window/hidden"], np.arange(8), checks._causal(0, 8, 3))
    assert np.allclose(out, fx["window/out"], atol=1e-12)
    out, _, _ = checks._attend(
        "window", t["window/step_hidden"], np.arange(8, 9), checks._causal(8, 1, 3), (k, v)
    )
    assert np.allclose(out, fx["window/step_out"], atol=1e-12)


def test_gqa_caches_fewer_heads_and_equals_repeating_after_rotation():
    """RoPE before repeat_kv equals RoPE after it (each copy gets the same rotation): the order is about
    the cache's size, H_kv heads instead of H."""
    g = torch.Generator().manual_seed(0)
    k = torch.randn(2, 2, 5, 8, generator=g, dtype=torch.float64)
    pos = torch.arange(5)
    before = llama_attention.repeat_kv(rope.apply_rope(k, pos), 3)
    after = rope.apply_rope(llama_attention.repeat_kv(k, 3), pos)
    assert torch.allclose(before, after, atol=1e-14)
    assert torch.equal(llama_attention.repeat_kv(k, 3), torch.repeat_interleave(k, 3, dim=1))


LINE_K = "k = apply_rope(k, positions, base=base)  # H_kv heads, rotated once each"
SCORES = "scores = q @ repeat_kv(k, n_rep).transpose(-2, -1) / math.sqrt(head_dim)"
WINDOW = "allowed = allowed & (key_index > query_index - sliding_window)"
# (wrong version, replacements in solutions/llama_attention.py, check that must fail, words of its message)
MISTAKES = [
    (
        "repeat_kv tiles the stack",
        [
            (
                "return copies.reshape(batch, kv_heads * n_rep, tokens, dim)",
                "return x.repeat(1, n_rep, 1, 1)",
            )
        ],
        "repeat_kv: consecutive copies",
        "tiled the whole stack",
    ),
    (
        "keys not rotated",
        [(LINE_K, "pass")],
        "llama_attention: matches Hugging Face",
        "the keys are not rotated",
    ),
    (
        "adjacent pairs",
        [
            (LINE_K, "k = apply_rope(k, positions, base=base, interleaved=True)"),
            (
                "q = apply_rope(q, positions, base=base)",
                "q = apply_rope(q, positions, base=base, interleaved=True)",
            ),
        ],
        "llama_attention: matches Hugging Face",
        "adjacent pairs",
    ),
    (
        "scale by 1/d",
        [(SCORES, "scores = q @ repeat_kv(k, n_rep).transpose(-2, -1) / head_dim")],
        "llama_attention: matches Hugging Face",
        "scaled by 1/d",
    ),
    (
        "heads merged without transpose",
        [("out = mixed.transpose(1, 2).reshape(", "out = mixed.reshape(")],
        "llama_attention: matches Hugging Face",
        "transpose to [B, T, H, d] first",
    ),
    (
        "the cache holds pre-RoPE keys",
        [
            (LINE_K, "k_raw = k.clone(); k = apply_rope(k, positions, base=base)"),
            ("return out, (k, v)", "return out, (k_raw if past_kv is None else k, v)"),
        ],
        "llama_attention: the returned cache holds",
        "keys before RoPE",
    ),
    (
        "the cache holds repeated heads",
        [("return out, (k, v)", "return out, (repeat_kv(k, n_rep), repeat_kv(v, n_rep))")],
        "llama_attention: the returned cache holds",
        "repeated heads",
    ),
    (
        "decode positions restart at 0",
        [
            (
                "position_ids = torch.arange(past, past + tokens, device=hidden.device)",
                "position_ids = torch.arange(tokens)",
            )
        ],
        "llama_attention: decoding with past_kv",
        "default position_ids start at P",
    ),
    (
        "causal mask on the new tokens' own indices",
        [
            (
                "query_index = torch.arange(past, past + tokens, device=hidden.device)[:, None]",
                "query_index = torch.arange(tokens)[:, None]",
            )
        ],
        "llama_attention: decoding with past_kv",
        "own indices",
    ),
    (
        "base ignored",
        [
            (LINE_K, "k = apply_rope(k, positions)"),
            ("q = apply_rope(q, positions, base=base)", "q = apply_rope(q, positions)"),
        ],
        "llama_attention: base, explicit position_ids",
        "use the base argument",
    ),
    (
        "padding mask ignored",
        [("allowed = allowed & attention_mask.to(torch.bool)[:, None, None, :]", "pass")],
        "llama_attention: a left-padded batch",
        "padding keys were attended",
    ),
    (
        "window one too wide",
        [(WINDOW, "allowed = allowed & (key_index >= query_index - sliding_window)")],
        "llama_attention: Mistral's sliding window",
        f"saw {checks.WINDOW + 1} keys",
    ),
    (
        "4-D mask ignored",
        [
            ("if attention_mask is not None and attention_mask.dim() == 4:", "if False:"),
            ("allowed = allowed & attention_mask.to(torch.bool)[:, None, None, :]", "pass"),
        ],
        "llama_attention: packed documents",
        "4-D mask was not used",
    ),
    (
        "left padding counts the padding",
        [
            (
                "return (real.cumsum(-1) - 1).clamp(min=0)",
                "return torch.arange(real.shape[-1]).expand_as(real)",
            )
        ],
        "left_padding_position_ids",
        "padding was counted",
    ),
    (
        "packed mask not causal",
        [("return causal & (doc[:, None] == doc[None, :])", "return doc[:, None] == doc[None, :]")],
        "packed_causal_mask",
        "each block must be causal",
    ),
    (
        "float64 output for float32 input",
        [("return out, (k, v)", "return out.double(), (k, v)")],
        "llama_attention: float32 in, float32 out",
        "keep the inputs' dtype",
    ),
]


@pytest.mark.parametrize(
    ("name", "replacements", "check_name", "words"), MISTAKES, ids=[m[0] for m in MISTAKES]
)
def test_llama_attention_mistake_is_caught(tmp_path, name, replacements, check_name, words):
    shutil.copy(Path(rope.__file__), tmp_path / "rope.py")  # the module imports the reference rope relatively
    result = grade_wrong(
        tmp_path, "llama_attention", mutate(solution_source("llama_attention"), replacements)
    )
    assert_caught(result, check_name, words)
