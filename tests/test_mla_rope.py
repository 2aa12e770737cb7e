"""Track E (mla_rope): the reference MLA equals Hugging Face transformers' DeepseekV2Attention where
transformers is installed, absorption is exact without RoPE and breaks with it, and every realistic
wrong version fails the check meant for it.

transformers' layer differs from the exercise in two documented ways, both mapped here: it normalises
the latents (q_a_layernorm, kv_a_layernorm: RMSNorm, replaced by the identity) and it rotates adjacent
pairs (2i, 2i + 1) as complex numbers, while the exercise rotates half-split pairs (i, i + d/2) with the
same frequencies. Reordering the rotary rows of w_qr and w_kr by the permutation that takes one layout
to the other rotates the same pairs by the same angles, and dot products do not change under a
permutation applied to both sides, so the outputs must agree."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from conftest import assert_caught, grade_wrong, mutate, solution_source

from solutions import mla_rope, rope

D, H, D_H, D_R, D_Q, D_C = 16, 4, 8, 6, 12, 10


def _hf_attention():
    from transformers import DeepseekV2Config
    from transformers.models.deepseek_v2.modeling_deepseek_v2 import DeepseekV2Attention

    config = DeepseekV2Config(
        hidden_size=D,
        num_attention_heads=H,
        num_key_value_heads=H,
        q_lora_rank=D_Q,
        kv_lora_rank=D_C,
        qk_nope_head_dim=D_H,
        qk_rope_head_dim=D_R,
        v_head_dim=D_H,
        attention_bias=False,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
    )
    config._attn_implementation = "eager"
    attn = DeepseekV2Attention(config, layer_idx=0).double().eval()
    attn.q_a_layernorm = torch.nn.Identity()
    attn.kv_a_layernorm = torch.nn.Identity()
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for proj in (attn.q_a_proj, attn.q_b_proj, attn.kv_a_proj_with_mqa, attn.kv_b_proj, attn.o_proj):
            proj.weight.copy_(
                torch.randn(proj.weight.shape, generator=g, dtype=torch.float64) / proj.weight.shape[1] ** 0.5
            )
    return attn


def _weights_from(attn) -> dict[str, torch.Tensor]:
    """The exercise's weights from transformers' layer (rotary rows reordered to half-split pairs)."""
    to_half_split = torch.cat(
        (torch.arange(0, D_R, 2), torch.arange(1, D_R, 2))
    )  # (2i, 2i+1) -> (i, i + d/2)
    q_b = attn.q_b_proj.weight.detach().view(H, D_H + D_R, D_Q)
    kv_a = attn.kv_a_proj_with_mqa.weight.detach()
    kv_b = attn.kv_b_proj.weight.detach().view(H, D_H + D_H, D_C)
    return {
        "w_dq": attn.q_a_proj.weight.detach(),
        "w_uq": q_b[:, :D_H].reshape(H * D_H, D_Q),
        "w_qr": q_b[:, D_H:][:, to_half_split].reshape(H * D_R, D_Q),
        "w_dkv": kv_a[:D_C],
        "w_uk": kv_b[:, :D_H].reshape(H * D_H, D_C),
        "w_uv": kv_b[:, D_H:].reshape(H * D_H, D_C),
        "w_kr": kv_a[D_C:][to_half_split],
        "w_o": attn.o_proj.weight.detach(),
    }


def _hf_out(attn, hidden, positions, past_len=0, past=None):
    inv_freq = 1.0 / 10000.0 ** (torch.arange(0, D_R, 2, dtype=torch.float64) / D_R)
    angles = positions[None, :, None].to(torch.float64) * inv_freq  # [1, T, d_r / 2]
    freqs_cis = torch.polar(torch.ones_like(angles), angles)
    tokens, keys = hidden.shape[1], past_len + hidden.shape[1]
    causal = torch.arange(keys)[None, :] <= torch.arange(past_len, keys)[:, None]
    mask = torch.zeros(tokens, keys, dtype=torch.float64).masked_fill(~causal, float("-inf"))[None, None]
    with torch.no_grad():
        return attn(hidden, attention_mask=mask, cache=past, position_embeddings=freqs_cis)[0]


def test_the_reference_equals_transformers_deepseek_v2_attention():
    pytest.importorskip("transformers")
    from transformers import DynamicCache

    attn = _hf_attention()
    w = _weights_from(attn)
    hidden = torch.randn(2, 7, D, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    ours, cache = mla_rope.mla_attention(hidden, w, H)
    theirs = _hf_out(attn, hidden, torch.arange(7))
    assert torch.allclose(ours, theirs, rtol=1e-5, atol=1e-6)  # transformers rotates in float32
    absorbed, _ = mla_rope.mla_attention_absorbed(hidden, w, H)
    assert torch.allclose(absorbed, ours, rtol=1e-12, atol=1e-12)
    # a prefill of 5 through transformers' cache of latents, then 2 more tokens
    hf_cache = DynamicCache(config=attn.config)
    _hf_out(attn, hidden[:, :5], torch.arange(5), past=hf_cache)
    theirs = _hf_out(attn, hidden[:, 5:], torch.arange(5, 7), past_len=5, past=hf_cache)
    _, past = mla_rope.mla_attention(hidden[:, :5], w, H)
    ours, (c_kv, k_rope) = mla_rope.mla_attention(hidden[:, 5:], w, H, past=past)
    assert torch.allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    assert torch.allclose(
        c_kv, hf_cache.layers[0].keys[:, 0], atol=1e-12
    )  # transformers caches the latent too


def _setup(seed=0):
    g = torch.Generator().manual_seed(seed)
    shapes = {"w_uq": (H * D_H, D_Q), "w_uk": (H * D_H, D_C)}
    w = {n: torch.randn(*s, generator=g, dtype=torch.float64) for n, s in shapes.items()}
    return (
        w,
        torch.randn(D_Q, generator=g, dtype=torch.float64),
        torch.randn(D_C, generator=g, dtype=torch.float64),
    )


def test_absorption_is_exact_without_rope_and_breaks_with_it():
    w, c_q, c_kv = _setup()
    a = mla_rope.absorb_key_up_projection(w["w_uq"], w["w_uk"], H)
    q = (w["w_uq"] @ c_q).view(H, D_H)
    k = (w["w_uk"] @ c_kv).view(H, D_H)
    assert torch.allclose(c_q @ a @ c_kv, (q * k).sum(-1), atol=1e-12)
    for m in (0, 3, 1000):
        assert mla_rope.rope_absorption_gap(c_q, c_kv, w["w_uq"], w["w_uk"], H, m, m) < 1e-9
    assert mla_rope.rope_absorption_gap(c_q, c_kv, w["w_uq"], w["w_uk"], H, 0, 5) > 0.1
    assert mla_rope.kv_cache_per_token(128, 128, 512, 64) == (32768, 576)


MISTAKES = [
    (
        "absorbed over all heads",
        [
            (
                "return w_uq.transpose(1, 2) @ w_uk",
                "return (w_uq.transpose(1, 2) @ w_uk).sum(0).expand(n_heads, -1, -1)",
            )
        ],
        "absorb_key_up_projection",
        "a sum over the heads",
    ),
    (
        "signed gap",
        [("return float((exact - absorbed).abs().max())", "return float((exact - absorbed).max())")],
        "rope_absorption_gap",
        "signed difference",
    ),
    (
        "content query rotated",
        [
            (
                "    q_c = heads(",
                "    HEAD_POSITIONS = positions[:, None, :] if positions.dim() == 2 else positions\n"
                "    q_c = heads(",
            ),
            (
                'q_c = heads(c_q @ weights["w_uq"].T)',
                'q_c = apply_rope(heads(c_q @ weights["w_uq"].T), HEAD_POSITIONS, base=base)',
            ),
        ],
        "mla_project: RoPE on q_r",
        "q_c was rotated",
    ),
    (
        "rotary key not rotated",
        [
            (
                'k_rope = apply_rope(hidden @ weights["w_kr"].T, positions, base=base)',
                'k_rope = hidden @ weights["w_kr"].T',
            )
        ],
        "mla_project: RoPE on q_r",
        "k_rope is not rotated",
    ),
    (
        "scale without the rotary size",
        [
            (
                "scores = scores / math.sqrt(q_c.shape[-1] + q_r.shape[-1])",
                "scores = scores / math.sqrt(q_c.shape[-1])",
            )
        ],
        "mla_attention: the paper's latent attention",
        "1/sqrt(d_h + d_r)",
    ),
    (
        "decode positions restart",
        [
            (
                "positions = torch.arange(past_len, past_len + tokens, device=hidden.device)",
                "positions = torch.arange(tokens)",
            )
        ],
        "mla_attention: decoding",
        "default positions start at P",
    ),
    (
        "absorbed without the rotary part",
        [
            (
                "q_latent @ c_kv[:, None].transpose(-2, -1) + q_r @ k_rope[:, None].transpose(-2, -1)",
                "q_latent @ c_kv[:, None].transpose(-2, -1)",
            )
        ],
        "mla_attention_absorbed",
        "rotary part q_R . k_R is missing",
    ),
    (
        "cache size without the rotary key",
        [
            (
                "return 2 * n_heads * head_dim, latent_dim + rope_dim",
                "return 2 * n_heads * head_dim, latent_dim",
            )
        ],
        "kv_cache_per_token",
        "shared rotary key",
    ),
]


@pytest.mark.parametrize(
    ("name", "replacements", "check_name", "words"), MISTAKES, ids=[m[0] for m in MISTAKES]
)
def test_mla_rope_mistake_is_caught(tmp_path, name, replacements, check_name, words):
    shutil.copy(Path(rope.__file__), tmp_path / "rope.py")  # the module imports the reference rope relatively
    result = grade_wrong(tmp_path, "mla_rope", mutate(solution_source("mla_rope"), replacements))
    assert_caught(result, check_name, words)
