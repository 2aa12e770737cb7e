"""A small pre-norm Transformer with RoPE, causal masking and a KV cache (seed coding question C1).

RoPE is not added to anything (source document 000 adds it to the embeddings; that is wrong). Inside
every attention layer the query and the key of a token at position m are rotated by R(m) (rope.py's
`apply_rope`, half-split pairs, theta_i = rope_base ** (-2i / head_dim)), and only then multiplied:

    score(m, n) = <R(m) q_m, R(n) k_n> / sqrt(head_dim) = <q_m, R(n - m) k_n> / sqrt(head_dim),

so the attention weights depend on positions only through n - m. Values are never rotated: they are the
content that the weights mix, and a rotated value would carry its absolute position into the output.

Shapes (B batch, T new tokens, P cached tokens, H heads, hd = d_model / H head size, V vocabulary):

    idx [B, T] -> tok_emb [B, T, d] (+ sinusoidal or learned table[positions] for those schemes)
    per block (pre-norm):  x = x + attn(norm1(x));  x = x + mlp(norm2(x))
    attention: q, k, v = x @ W^T split into heads -> [B, H, T, hd] (heads are a batch dimension)
               q, k rotated at `positions`; k, v appended to the cache -> [B, H, P + T, hd]
               weights = softmax(q k^T / sqrt(hd), masked) [B, H, T, P + T]; out = weights @ v
    final LayerNorm, lm_head -> logits [B, T, V]

KV cache: for incremental decoding each layer keeps the keys (already rotated: a key's rotation only
depends on its own position, which never changes) and the values of the tokens seen so far. A new token
gets the position after the cached ones (P, P + 1, ...), computes its own q, k, v, and attends to the
cache plus itself: T new tokens cost O((P + T) * T * d), not a recomputation of the whole prefix.

The causal mask lets new token i (absolute index P + i) attend to keys j <= P + i. It is about order in
the sequence, not about the position values, so it stays right when positions are shifted or have gaps.

Exact architecture (the checks load stored weights by these names, so keep them):
- `tok_emb` nn.Embedding(V, d); `pos_emb` nn.Embedding(max_len, d) only for "learned"; for
  "sinusoidal" your `sinusoidal_encoding(max_len, d)` is added (a non-persistent buffer, not a weight).
- `blocks[i]`: `norm1`, `attn`, `norm2`, `mlp` = Sequential(Linear(d, mlp_ratio d), GELU() (exact, erf),
  Linear(mlp_ratio d, d)); LayerNorms with PyTorch's defaults (eps 1e-5, weight and bias).
- `attn`: `q_proj`, `k_proj`, `v_proj`, `out_proj`, each Linear(d, d, bias=False); head h uses
  features [h hd, (h + 1) hd) of the projections.
- `norm` (final LayerNorm), `lm_head` Linear(d, V, bias=False), not tied to `tok_emb`.

pos_scheme "none" adds no position information: with causal=False the model is then permutation
equivariant (shuffling the tokens shuffles the logits), which every other scheme breaks. config.dropout
drives nn.Dropout modules (on the attention weights and on each sublayer's output): active in train
mode, off in eval mode. The model is differentiable end to end: every parameter gets a gradient.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from .rope import apply_rope
from .sinusoidal import sinusoidal_encoding

POS_SCHEMES = ("rope", "sinusoidal", "learned", "none")

# One layer's cache: (keys already rotated, values), each [B, H, P, head_dim].
KVCache = tuple[torch.Tensor, torch.Tensor]


@dataclass
class TransformerConfig:
    vocab_size: int = 64  # number of token ids
    d_model: int = 64  # width of the residual stream
    n_heads: int = 4  # attention heads; head_dim = d_model // n_heads must be even for RoPE
    n_layers: int = 2  # pre-norm blocks
    max_len: int = 256  # rows of the learned / sinusoidal table (RoPE itself has no length limit)
    pos_scheme: str = "rope"  # "rope" (rotate q, k), "sinusoidal" / "learned" (added), "none"
    causal: bool = True  # True: token t attends to tokens <= t (decoder); False: to all (encoder)
    rope_base: float = 10000.0  # theta_i = rope_base ** (-2i / head_dim)
    dropout: float = 0.0  # on attention weights and sublayer outputs; 0 keeps the model deterministic
    mlp_ratio: int = 4  # hidden width of the MLP = mlp_ratio * d_model


class MultiHeadSelfAttention(nn.Module):
    """Multi-head self-attention with RoPE on q and k (pos_scheme "rope"), a causal mask and a KV cache."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        # TODO: ValueError unless d_model % n_heads == 0, and (for "rope") head_dim is even.
        # TODO: q_proj, k_proj, v_proj, out_proj = Linear(d_model, d_model, bias=False); a Dropout.
        raise NotImplementedError("write your solution here")

    def forward(
        self, x: torch.Tensor, positions: torch.Tensor | None = None, cache: KVCache | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, KVCache]:
        """x [B, T, d]; positions [T] or [B, T] (default P .. P + T - 1, P = cached length).

        Returns (output [B, T, d], weights [B, H, T, P + T], new cache (keys rotated, values) with
        P + T entries, each [B, H, P + T, head_dim]).
        """
        # TODO: q, k, v = projections of x, split into heads: [B, T, d] -> [B, T, H, hd] -> [B, H, T, hd].
        # TODO: RoPE: rotate q and k (never v) with apply_rope; positions as [..., 1, T] broadcast over heads.
        # TODO: append k, v to the cache [B, H, P + T, hd]; scores = q k^T / sqrt(hd) [B, H, T, P + T];
        #       if causal, new token i may attend to keys j <= P + i; softmax over the keys.
        # TODO: out = weights @ v [B, H, T, hd] -> heads side by side [B, T, d] -> out_proj.
        raise NotImplementedError("write your solution here")


class Block(nn.Module):
    """Pre-norm Transformer block: x + attn(norm1(x)), then + mlp(norm2(x))."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        # TODO: norm1, attn, norm2, mlp = Sequential(Linear(d, r d), GELU(), Linear(r d, d)); a Dropout.
        raise NotImplementedError("write your solution here")

    def forward(
        self, x: torch.Tensor, positions: torch.Tensor | None = None, cache: KVCache | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, KVCache]:
        """x [B, T, d] -> (x [B, T, d], attention weights [B, H, T, P + T], new cache)."""
        # TODO: residual around each sublayer; the LayerNorm is applied to the sublayer's input only.
        raise NotImplementedError("write your solution here")


class Transformer(nn.Module):
    """Token embedding + positional scheme + n_layers pre-norm blocks + final LayerNorm + LM head."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        # TODO: ValueError for an unknown pos_scheme. tok_emb; pos_emb (learned only); for sinusoidal
        #       register_buffer("pos_table", sinusoidal_encoding(max_len, d), persistent=False);
        #       blocks = ModuleList of n_layers Blocks; norm; lm_head (no bias); a Dropout.
        raise NotImplementedError("write your solution here")

    def forward(
        self,
        idx: torch.Tensor,
        positions: torch.Tensor | None = None,
        cache: list[KVCache] | None = None,
    ) -> tuple[torch.Tensor, list[KVCache], list[torch.Tensor]]:
        """idx [B, T] token ids; positions [T] or [B, T] (default P .. P + T - 1); cache from a previous call.

        Returns (logits [B, T, V], new cache: one (keys, values) per layer, attention weights: one
        [B, H, T, P + T] per layer). ValueError for positions outside [0, max_len) with a table scheme.
        """
        # TODO: default positions continue after the cache (P = cached length of layer 0).
        # TODO: x = tok_emb(idx) [B, T, d], plus the table rows at `positions` for learned / sinusoidal.
        # TODO: run the blocks, each with its own cache entry; final norm; lm_head -> [B, T, V].
        raise NotImplementedError("write your solution here")
