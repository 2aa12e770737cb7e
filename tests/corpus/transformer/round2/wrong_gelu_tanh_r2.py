# corpus: wrong
# mistake: the MLP uses the tanh approximation of GELU (GPT-2's) instead of the exact erf GELU the docstring asks for.
# evidence: a Block with reference weights and inputs of scale 3: output (float64) differs from the reference by 1.4e-4, far above rounding noise (1e-15).
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
        super().__init__()
        if config.d_model % config.n_heads:
            raise ValueError(f"d_model {config.d_model} is not divisible by n_heads {config.n_heads}")
        self.n_heads = config.n_heads
        self.head_dim = config.d_model // config.n_heads
        if config.pos_scheme == "rope" and self.head_dim % 2:
            raise ValueError(f"RoPE needs an even head_dim, got {self.head_dim}")
        self.rope = config.pos_scheme == "rope"
        self.rope_base = config.rope_base
        self.causal = config.causal
        d = config.d_model
        self.q_proj = nn.Linear(d, d, bias=False)
        self.k_proj = nn.Linear(d, d, bias=False)
        self.v_proj = nn.Linear(d, d, bias=False)
        self.out_proj = nn.Linear(d, d, bias=False)
        self.dropout = nn.Dropout(config.dropout)

    def forward(
        self, x: torch.Tensor, positions: torch.Tensor | None = None, cache: KVCache | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, KVCache]:
        """x [B, T, d]; positions [T] or [B, T] (default P .. P + T - 1, P = cached length).

        Returns (output [B, T, d], weights [B, H, T, P + T], new cache (keys rotated, values) with
        P + T entries, each [B, H, P + T, head_dim]).
        """
        B, T, d = x.shape
        H, hd = self.n_heads, self.head_dim
        P = 0 if cache is None else cache[0].shape[-2]
        if positions is None:
            positions = torch.arange(P, P + T, device=x.device)
        positions = positions.to(x.device)
        q = self.q_proj(x).view(B, T, H, hd).transpose(1, 2)  # [B, H, T, hd]
        k = self.k_proj(x).view(B, T, H, hd).transpose(1, 2)
        v = self.v_proj(x).view(B, T, H, hd).transpose(1, 2)
        if self.rope:
            pos = positions[:, None, :] if positions.dim() == 2 else positions
            q = apply_rope(q, pos, base=self.rope_base)
            k = apply_rope(k, pos, base=self.rope_base)
        if cache is not None:
            k = torch.cat([cache[0], k], dim=2)
            v = torch.cat([cache[1], v], dim=2)
        scores = q @ k.transpose(-2, -1) / math.sqrt(hd)  # [B, H, T, P + T]
        if self.causal:
            query_index = torch.arange(P, P + T, device=x.device)[:, None]
            key_index = torch.arange(P + T, device=x.device)[None, :]
            scores = scores.masked_fill(key_index > query_index, float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        out = self.dropout(weights) @ v  # [B, H, T, hd]
        out = out.transpose(1, 2).reshape(B, T, d)
        return self.out_proj(out), weights, (k, v)


class Block(nn.Module):
    """Pre-norm Transformer block: x + attn(norm1(x)), then + mlp(norm2(x))."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        super().__init__()
        d = config.d_model
        self.norm1 = nn.LayerNorm(d)
        self.attn = MultiHeadSelfAttention(config)
        self.norm2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, config.mlp_ratio * d), nn.GELU(approximate="tanh"), nn.Linear(config.mlp_ratio * d, d))
        self.dropout = nn.Dropout(config.dropout)

    def forward(
        self, x: torch.Tensor, positions: torch.Tensor | None = None, cache: KVCache | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, KVCache]:
        """x [B, T, d] -> (x [B, T, d], attention weights [B, H, T, P + T], new cache)."""
        attn_out, weights, new_cache = self.attn(self.norm1(x), positions, cache)
        x = x + self.dropout(attn_out)
        x = x + self.dropout(self.mlp(self.norm2(x)))
        return x, weights, new_cache


class Transformer(nn.Module):
    """Token embedding + positional scheme + n_layers pre-norm blocks + final LayerNorm + LM head."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        super().__init__()
        if config.pos_scheme not in POS_SCHEMES:
            raise ValueError(f"unknown pos_scheme {config.pos_scheme!r}; expected one of {POS_SCHEMES}")
        self.config = config
        d = config.d_model
        self.tok_emb = nn.Embedding(config.vocab_size, d)
        if config.pos_scheme == "learned":
            self.pos_emb = nn.Embedding(config.max_len, d)
        elif config.pos_scheme == "sinusoidal":
            self.register_buffer("pos_table", sinusoidal_encoding(config.max_len, d), persistent=False)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layers))
        self.norm = nn.LayerNorm(d)
        self.lm_head = nn.Linear(d, config.vocab_size, bias=False)
        self.dropout = nn.Dropout(config.dropout)

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
        B, T = idx.shape
        P = cache[0][0].shape[-2] if cache else 0
        if positions is None:
            positions = torch.arange(P, P + T, device=idx.device)
        positions = positions.to(idx.device)
        x = self.tok_emb(idx)  # [B, T, d]
        scheme = self.config.pos_scheme
        if scheme in ("learned", "sinusoidal"):
            if positions.min() < 0 or positions.max() >= self.config.max_len:
                raise ValueError(f"positions must lie in [0, {self.config.max_len}) for pos_scheme {scheme!r}")
            table = self.pos_emb.weight if scheme == "learned" else self.pos_table
            x = x + table[positions.long()]
        x = self.dropout(x)
        new_cache, all_weights = [], []
        for i, block in enumerate(self.blocks):
            x, weights, layer_cache = block(x, positions, cache[i] if cache else None)
            new_cache.append(layer_cache)
            all_weights.append(weights)
        return self.lm_head(self.norm(x)), new_cache, all_weights
