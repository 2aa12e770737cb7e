"""Write grader/fixtures/transformer_snapshot.npz: stored weights, inputs and reference logits.

    python scripts/make_transformer_snapshot.py

How the fixture is trusted (it is not "the solution checking itself"):
1. The logits are produced by the reference solutions/transformer.py, in float64, from float32 weights
   drawn with a fixed seed (so the file is reproducible bit for bit: re-running the script gives the
   same arrays).
2. The reference passes the property checks in grader/checks/transformer.py that need no fixture
   (attention weights rebuilt from the definition, causality, the relative property, permutation
   equivariance, KV cache == full pass, residual identity), so the model that wrote the logits is
   cross-validated by properties.
3. tests/test_transformer.py re-implements the forward pass independently (numpy float64, einsum and
   loops, its own RoPE, LayerNorm, GELU and sinusoidal table; no import of the solution) and
   reproduces every stored logit array from the stored weights.

One set of weights serves all four schemes: the "learned" model's state_dict is a superset (it adds
`pos_emb.weight`); the other schemes load it without that key.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from grader.checks.transformer import _randomize
from solutions.transformer import Transformer, TransformerConfig

OUT = Path(__file__).resolve().parent.parent / "grader" / "fixtures" / "transformer_snapshot.npz"

# The snapshot's config: small, with a non-default rope_base so that ignoring it is seen.
CONFIG = dict(vocab_size=13, d_model=16, n_heads=2, n_layers=2, max_len=24, rope_base=100.0, mlp_ratio=4)
SEED = 2024
B, T = 2, 9
POSITIONS_WITH_GAPS = [3, 4, 5, 7, 8, 11, 12, 15, 20]  # for the encoder run (causal=False)


def random_weights(model: torch.nn.Module, seed: int) -> dict[str, torch.Tensor]:
    """The weights the checks draw for a model (grader/checks/transformer.py's _randomize), by name."""
    _randomize(model, seed)
    return {name: value.detach().clone() for name, value in model.state_dict().items()}


def runs() -> list[tuple[str, dict, torch.Tensor | None]]:
    """(key, config overrides, positions): what the stored logits are for."""
    gaps = torch.tensor(POSITIONS_WITH_GAPS)
    return [
        ("rope", dict(pos_scheme="rope", causal=True), None),
        ("rope_encoder_gaps", dict(pos_scheme="rope", causal=False), gaps),
        ("sinusoidal", dict(pos_scheme="sinusoidal", causal=True), None),
        ("learned", dict(pos_scheme="learned", causal=True), None),
        ("learned_encoder_gaps", dict(pos_scheme="learned", causal=False), gaps),
        ("none", dict(pos_scheme="none", causal=True), None),
    ]


def build() -> dict[str, np.ndarray]:
    """Every array of the fixture: param/<name>, input/<name>, config/<field>, logits/<run>."""
    weights = random_weights(Transformer(TransformerConfig(**CONFIG, pos_scheme="learned")), SEED)
    idx = torch.randint(0, CONFIG["vocab_size"], (B, T), generator=torch.Generator().manual_seed(SEED + 1))
    arrays = {f"param/{name}": w.numpy() for name, w in weights.items()}
    arrays["input/idx"] = idx.numpy()
    arrays["input/positions_with_gaps"] = np.array(POSITIONS_WITH_GAPS)
    arrays.update({f"config/{name}": np.array(value) for name, value in CONFIG.items()})
    for key, overrides, positions in runs():
        model = Transformer(TransformerConfig(**CONFIG, **overrides))
        model.load_state_dict({k: v for k, v in weights.items() if k in model.state_dict()})
        model = model.double().eval()
        with torch.no_grad():
            logits, _, _ = model(idx, positions)
        arrays[f"logits/{key}"] = logits.numpy()  # float64, [B, T, vocab_size]
    return arrays


def main() -> None:
    arrays = build()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
