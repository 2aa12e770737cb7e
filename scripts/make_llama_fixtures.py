"""Write grader/fixtures/llama_attention.npz: what Hugging Face transformers' own attention layers give.

The `llama_attention` exercise is graded by parity with code nobody here wrote. This script builds tiny
one-layer LlamaModel / MistralModel instances from a config (no hub, no download), sets their
attention weights from a seeded generator, runs them the way transformers runs them (its mask
functions, its cache, its position ids for left padding, its packed-sequence detection) and records,
for each case, the attention layer's input and output (a forward hook on layers[0].self_attn), its
weights and its KV cache.

Everything runs in float64 with PyTorch's SDPA attention. transformers computes RoPE's cos/sin in
float32 even in a float64 model; here its rotary embedding is given the same formula in float64
(inv_freq = 1 / base ** (arange(0, d, 2) / d), cos/sin of cat(freqs, freqs)), so the fixtures are
exact to ~1e-15 and a tight tolerance can tell mistakes apart. tests/test_llama_attention.py runs
this again with the installed transformers and compares, once as here and once with transformers'
unpatched float32 rotary embedding (to float32 precision).

    python scripts/make_llama_fixtures.py            # writes the fixture
    python scripts/make_llama_fixtures.py --check    # compares with the stored one, writes nothing
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

FIXTURE = Path(__file__).resolve().parent.parent / "grader" / "fixtures" / "llama_attention.npz"

# name: (family, hidden, heads, kv_heads, head_dim, base, sliding_window)
CONFIGS = {
    "mha": ("llama", 32, 4, 4, 8, 10000.0, None),
    "gqa": ("llama", 24, 6, 2, 8, 10000.0, None),
    "mqa": ("llama", 16, 4, 1, 8, 10000.0, None),
    "odd_head_dim": ("llama", 16, 4, 2, 12, 500000.0, None),
    "window": ("mistral", 16, 4, 2, 8, 10000.0, 3),
}


def _model(config_name: str, *, float64_rope: bool, seed: int):
    from transformers import LlamaConfig, LlamaModel, MistralConfig, MistralModel

    family, hidden, heads, kv_heads, head_dim, base, window = CONFIGS[config_name]
    common = dict(
        vocab_size=16,
        hidden_size=hidden,
        intermediate_size=16,
        num_hidden_layers=1,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        head_dim=head_dim,
        max_position_embeddings=8192,
        rope_parameters={"rope_type": "default", "rope_theta": base},
        attention_bias=False,
    )
    if family == "llama":
        model = LlamaModel(LlamaConfig(**common))
    else:
        model = MistralModel(MistralConfig(**common, sliding_window=window))
    model.config._attn_implementation = "sdpa"
    model = model.double().eval()
    generator = torch.Generator().manual_seed(seed)
    attn = model.layers[0].self_attn
    with torch.no_grad():
        for proj in (attn.q_proj, attn.k_proj, attn.v_proj, attn.o_proj):
            fan_in = proj.weight.shape[1]
            proj.weight.copy_(
                torch.randn(proj.weight.shape, generator=generator, dtype=torch.float64) * 1.5 / fan_in**0.5
            )
    if float64_rope:
        inv_freq = 1.0 / base ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)

        def rotary(x, position_ids):  # transformers' default rope formula, in float64
            freqs = position_ids[..., None].to(torch.float64) * inv_freq
            emb = torch.cat((freqs, freqs), dim=-1)
            return emb.cos().to(x.dtype), emb.sin().to(x.dtype)

        model.rotary_emb.forward = rotary
    return model


class _Recorder:
    """Records the attention layer's input and output on every forward."""

    def __init__(self, model) -> None:
        self.calls: list[tuple[torch.Tensor, torch.Tensor]] = []
        model.layers[0].self_attn.register_forward_hook(self._hook, with_kwargs=True)

    def _hook(self, module, args, kwargs, output) -> None:
        hidden = kwargs["hidden_states"] if "hidden_states" in kwargs else args[0]
        self.calls.append((hidden.detach().clone(), output[0].detach().clone()))


def _weights(model, prefix: str) -> dict[str, np.ndarray]:
    attn = model.layers[0].self_attn
    return {
        f"{prefix}/{name}": getattr(attn, name).weight.detach().numpy().copy()
        for name in ("q_proj", "k_proj", "v_proj", "o_proj")
    }


def _cache(cache, prefix: str) -> dict[str, np.ndarray]:
    layer = cache.layers[0]
    return {f"{prefix}/k_cache": layer.keys.numpy().copy(), f"{prefix}/v_cache": layer.values.numpy().copy()}


def _embeds(generator: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=generator, dtype=torch.float64)


def build(*, float64_rope: bool = True) -> dict[str, np.ndarray]:
    """Every case's arrays, keyed "case/name" (float64, int64 for positions and masks)."""
    from transformers import DynamicCache

    out: dict[str, np.ndarray] = {}
    generator = torch.Generator().manual_seed(2024)

    def prefill(case: str, config: str, batch: int, tokens: int, use_cache: bool = True, **kwargs):
        model = _model(config, float64_rope=float64_rope, seed=list(CONFIGS).index(config))
        recorder = _Recorder(model)
        embeds = _embeds(generator, batch, tokens, CONFIGS[config][1])
        cache = DynamicCache(config=model.config) if use_cache else None
        with torch.no_grad():
            model(inputs_embeds=embeds, cache=cache, use_cache=use_cache, **kwargs)
        hidden, attn_out = recorder.calls[-1]
        out.update(_weights(model, config))  # the same weights for every case of a config
        out[f"{case}/config"] = np.array(config)
        out[f"{case}/hidden"], out[f"{case}/out"] = hidden.numpy(), attn_out.numpy()
        return model, recorder, cache

    def step(case: str, prefix: str, model, recorder, cache, tokens: int, **kwargs):
        embeds = _embeds(generator, cache.layers[0].keys.shape[0], tokens, model.config.hidden_size)
        past_k, past_v = cache.layers[0].keys.clone(), cache.layers[0].values.clone()
        with torch.no_grad():
            model(inputs_embeds=embeds, cache=cache, use_cache=True, **kwargs)
        hidden, attn_out = recorder.calls[-1]
        out[f"{case}/{prefix}_past_k"], out[f"{case}/{prefix}_past_v"] = past_k.numpy(), past_v.numpy()
        out[f"{case}/{prefix}_hidden"], out[f"{case}/{prefix}_out"] = hidden.numpy(), attn_out.numpy()

    for case in ("mha", "gqa", "mqa"):  # prefill, default positions 0 .. T - 1, causal mask only
        _, _, cache = prefill(case, case, 2, 7)
        out.update(_cache(cache, case))

    # explicit per-row positions far from 0, a base of 500 000, a head size that is not hidden / heads
    positions = torch.tensor([[100, 101, 102, 103, 104], [3000, 3001, 3002, 3003, 3004]])
    _, _, cache = prefill("odd_head_dim", "odd_head_dim", 2, 5, position_ids=positions)
    out.update(_cache(cache, "odd_head_dim"))
    out["odd_head_dim/position_ids"] = positions.numpy()

    # a prefill of 5 tokens, then one decode step, then a chunk of 3 (default positions continue)
    model, recorder, cache = prefill("decode", "gqa", 2, 5)
    step("decode", "step", model, recorder, cache, 1)
    step("decode", "chunk", model, recorder, cache, 3)
    out.update(_cache(cache, "decode"))

    # a left-padded batch: position ids as transformers' generate computes them, then one decode step
    mask = torch.tensor([[1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1], [0, 0, 0, 0, 1, 1]])
    positions = mask.cumsum(-1) - 1
    positions = positions.masked_fill(mask == 0, 1)
    model, recorder, cache = prefill("left_pad", "gqa", 3, 6, attention_mask=mask, position_ids=positions)
    out["left_pad/attention_mask"], out["left_pad/position_ids"] = mask.numpy(), positions.numpy()
    step_mask = torch.cat((mask, torch.ones(3, 1, dtype=mask.dtype)), dim=-1)
    step_positions = positions[:, -1:] + 1
    step("left_pad", "step", model, recorder, cache, 1, attention_mask=step_mask, position_ids=step_positions)
    out["left_pad/step_attention_mask"], out["left_pad/step_position_ids"] = (
        step_mask.numpy(),
        step_positions.numpy(),
    )
    out.update(_cache(cache, "left_pad"))

    # Mistral's sliding window of 3: a prefill of 8 tokens, then one decode step (outputs only:
    # transformers' sliding-window cache keeps only the last window - 1 tokens)
    model, recorder, cache = prefill("window", "window", 2, 8)
    step("window", "step", model, recorder, cache, 1)

    # packed documents of lengths 4, 2, 3 in one row: positions restart, no attention mask and no cache
    # (then transformers detects the packing from the position ids), and each document run alone
    lengths = [4, 2, 3]
    positions = torch.cat([torch.arange(n) for n in lengths])[None]
    model, recorder, _ = prefill("packed", "gqa", 1, sum(lengths), use_cache=False, position_ids=positions)
    out["packed/position_ids"], out["packed/doc_lengths"] = positions.numpy(), np.array(lengths)
    hidden = torch.from_numpy(out["packed/hidden"])
    alone = []
    for doc in torch.split(hidden, lengths, dim=1):  # the attention layer alone on each document
        attn = model.layers[0].self_attn
        cos, sin = model.rotary_emb(doc, torch.arange(doc.shape[1])[None])
        with torch.no_grad():
            causal = torch.ones(doc.shape[1], doc.shape[1], dtype=torch.bool).tril()[None, None]
            alone.append(attn(doc, position_embeddings=(cos, sin), attention_mask=causal)[0])
    out["packed/alone_out"] = torch.cat(alone, dim=1).numpy()
    return out


def compare(
    stored: dict[str, np.ndarray], fresh: dict[str, np.ndarray], rtol: float, atol: float
) -> list[str]:
    """Names of the arrays that differ (or are missing on one side)."""
    problems = sorted(set(stored) ^ set(fresh))
    for name in sorted(set(stored) & set(fresh)):
        a, b = stored[name], fresh[name]
        if a.dtype.kind in "US" or b.dtype.kind in "US":
            same = np.array_equal(a, b)
        else:
            same = a.shape == b.shape and np.allclose(a, b, rtol=rtol, atol=atol)
        if not same:
            problems.append(name)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the stored fixture; write nothing")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    fresh = build()
    packed_gap = np.abs(fresh["packed/out"] - fresh["packed/alone_out"]).max()
    if packed_gap > 1e-12:
        print(
            f"transformers' packed attention differs from each document alone by {packed_gap:.3g}",
            file=sys.stderr,
        )
        return 1
    if args.check:
        with np.load(FIXTURE) as stored:
            problems = compare(dict(stored), fresh, rtol=1e-12, atol=1e-12)
        print("fixtures match" if not problems else "differ: " + ", ".join(problems))
        return 1 if problems else 0
    np.savez_compressed(FIXTURE, **fresh)
    print(f"wrote {FIXTURE} ({len(fresh)} arrays, {FIXTURE.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
