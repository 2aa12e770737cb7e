"""Track E (rope_cache): the reference agrees with Hugging Face transformers where transformers is
installed (its Dynamic NTK frequencies, its rotate_half RoPE at shifted positions), with the
composition law R(m + d) = R(d) R(m) in float64, and every realistic wrong version fails the check
meant for it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from conftest import assert_caught, grade_wrong, mutate, solution_source

from solutions import rope, rope_cache


def _keys(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_shift_is_composition_in_float64():
    k0 = _keys(2, 3, 7, 32)
    m = torch.tensor([0, 1, 5, 9, 100, 4000, 65000])
    for delta in (0, 1, -5, 12345):
        shifted = rope_cache.shift_keys(rope.apply_rope(k0, m), delta)
        torch.testing.assert_close(shifted, rope.apply_rope(k0, m + delta), rtol=0, atol=1e-9)


def test_evicted_cache_attends_like_a_fresh_one():
    """A query after eviction scores the kept keys as if they were rotated at 0 .. n - 1 from the start."""
    k0, v = _keys(1, 2, 20, 16, seed=1), _keys(1, 2, 20, 16, seed=2)
    cache = rope.apply_rope(k0, torch.arange(20))
    k, v_kept = rope_cache.evict_middle(cache, v, 4, 6)
    kept = torch.cat((k0[..., :4, :], k0[..., 14:, :]), dim=-2)
    fresh = rope.apply_rope(kept, torch.arange(10))
    q = rope.apply_rope(_keys(1, 2, 1, 16, seed=3), torch.tensor([10]))
    torch.testing.assert_close(q @ k.transpose(-1, -2), q @ fresh.transpose(-1, -2), rtol=0, atol=1e-9)
    torch.testing.assert_close(v_kept, torch.cat((v[..., :4, :], v[..., 14:, :]), dim=-2))


def test_stale_keys_break_the_relative_property_and_rerotation_mends_it():
    """Under a changed base, keys cached under the old one give scores that depend on more than n - m."""
    q0, k0 = _keys(1, 1, 1, 64, seed=4), _keys(1, 1, 1, 64, seed=5)
    old, new = 10000.0, rope_cache.dynamic_ntk_base(10000.0, 64, 8192, 4096, 2.0)

    def score(m, n, key_base):
        k = rope.apply_rope(k0, torch.tensor([m]), base=key_base)
        return float(rope.apply_rope(q0, torch.tensor([n]), base=new) @ k.transpose(-1, -2))

    assert abs(score(3000, 3010, old) - score(100, 110, old)) > 1e-3  # stale: not a function of n - m
    assert score(3000, 3010, new) == pytest.approx(score(100, 110, new), abs=1e-9)
    mended = rope_cache.rerotate_keys(
        rope.apply_rope(k0, torch.tensor([3000]), base=old), torch.tensor([3000]), old, new
    )
    torch.testing.assert_close(mended, rope.apply_rope(k0, torch.tensor([3000]), base=new), rtol=0, atol=1e-9)


def _hf_config(max_position_embeddings: int, rope: dict | None = None):
    """A tiny LlamaConfig (head_dim 64) with base 10000 and `rope` scaling, for transformers 4 or 5."""
    transformers = pytest.importorskip("transformers")
    rope = {"rope_type": "default", **(rope or {})}
    sizes = dict(hidden_size=128, num_attention_heads=2, num_key_value_heads=1)
    if int(transformers.__version__.split(".")[0]) >= 5:  # one dict: rope_parameters
        rope_kw = {"rope_parameters": {**rope, "rope_theta": 10000.0}}
    else:
        rope_kw = {"rope_theta": 10000.0, "rope_scaling": None if rope["rope_type"] == "default" else rope}
    return transformers.LlamaConfig(max_position_embeddings=max_position_embeddings, **sizes, **rope_kw)


def test_dynamic_ntk_base_is_hugging_faces():
    """transformers' own `dynamic` rope type computes inv_freq from the same base (code nobody here wrote)."""
    pytest.importorskip("transformers")
    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

    for factor, L, seq_len in ((2.0, 4096, 8192), (4.0, 2048, 3000), (1.5, 1024, 500)):
        config = _hf_config(L, {"rope_type": "dynamic", "factor": factor})
        hf_inv_freq, _ = ROPE_INIT_FUNCTIONS["dynamic"](config, "cpu", seq_len=seq_len)
        base = rope_cache.dynamic_ntk_base(10000.0, 64, seq_len, L, factor)
        mine = 1.0 / base ** (torch.arange(0, 64, 2, dtype=torch.float64) / 64)
        torch.testing.assert_close(hf_inv_freq.double(), mine, rtol=1e-6, atol=0)


def test_shift_matches_hugging_faces_rope_at_the_new_positions():
    """Keys rotated by transformers' Llama RoPE at m, shifted by delta, equal its keys at m + delta."""
    config = _hf_config(256)
    from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding, apply_rotary_pos_emb

    rotary = LlamaRotaryEmbedding(config)
    k0 = _keys(1, 1, 5, 64, seed=6).float()
    m = torch.tensor([[0, 2, 9, 40, 100]])

    def hf_keys(positions):
        cos, sin = rotary(k0, positions)
        return apply_rotary_pos_emb(k0, k0, cos, sin)[1]

    for delta in (1, 37, -9):
        torch.testing.assert_close(
            rope_cache.shift_keys(hf_keys(m), delta), hf_keys(m + delta), rtol=1e-4, atol=1e-4
        )


RERO = "pre_rope = apply_rope(k.to(work), -positions, base=old_base)"
# (wrong version, replacements in solutions/rope_cache.py, check that must fail, words its message must hold)
MISTAKES = [
    (
        "shift the wrong way",
        [("return apply_rope(k, delta, base=base)", "return apply_rope(k, -delta, base=base)")],
        "shift_keys: a cached key moves",
        "wrong way",
    ),
    (
        "shift by cache index + delta",
        [
            (
                "return apply_rope(k, delta, base=base)",
                "return apply_rope(k, torch.arange(k.shape[-2]) + delta, base=base)",
            )
        ],
        "shift_keys: a cached key moves",
        "cache index",
    ),
    (
        "shift ignores base",
        [("return apply_rope(k, delta, base=base)", "return apply_rope(k, delta)")],
        "shift_keys: the base argument is used",
        "`base` argument is ignored",
    ),
    (
        "recent keys not moved",
        [("shift_keys(k[..., recent, :], -evicted, base=base)", "k[..., recent, :]")],
        "evict_middle: sinks kept",
        "still carry positions",
    ),
    (
        "recent keys moved forward",
        [
            (
                "shift_keys(k[..., recent, :], -evicted, base=base)",
                "shift_keys(k[..., recent, :], evicted, base=base)",
            )
        ],
        "evict_middle: sinks kept",
        "moved by +6",
    ),
    (
        "values rotated too",
        [("v[..., recent, :]), dim=-2)", "shift_keys(v[..., recent, :], -evicted, base=base)), dim=-2)")],
        "evict_middle: sinks kept",
        "values are never rotated",
    ),
    (
        "dynamic without the clamp",
        [("s = max(seq_len, max_position_embeddings)", "s = seq_len")],
        "dynamic_ntk_base: up to the trained length",
        "s = max(seq_len",
    ),
    (
        "static NTK instead of dynamic",
        [("(factor * s / max_position_embeddings - (factor - 1))", "factor")],
        "dynamic_ntk_base: Hugging Face's formula",
        "static NTK",
    ),
    (
        "dynamic without - (factor - 1)",
        [(" - (factor - 1))", ")")],
        "dynamic_ntk_base: Hugging Face's formula",
        "- (factor - 1) is missing",
    ),
    (
        "rerotate without undoing",
        [(RERO, "pre_rope = k.to(work)")],
        "rerotate_keys: keys cached under the old base",
        "first undo the old rotation",
    ),
    (
        "rerotate with swapped bases",
        [
            (RERO, RERO.replace("old_base", "new_base")),
            ("positions, base=new_base).to", "positions, base=old_base).to"),
        ],
        "rerotate_keys: keys cached under the old base",
        "swapped",
    ),
    (
        "rerotate loses the dtype",
        [("base=new_base).to(k.dtype)", "base=new_base)")],
        "rerotate_keys: keys' dtype and shape kept",
        "keep the keys' dtype",
    ),
]


@pytest.mark.parametrize(
    ("name", "replacements", "check_name", "words"), MISTAKES, ids=[m[0] for m in MISTAKES]
)
def test_rope_cache_mistake_is_caught(tmp_path, name, replacements, check_name, words):
    shutil.copy(Path(rope.__file__), tmp_path / "rope.py")  # the module imports the reference rope relatively
    result = grade_wrong(tmp_path, "rope_cache", mutate(solution_source("rope_cache"), replacements))
    assert_caught(result, check_name, words)
