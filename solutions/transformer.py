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
        ### BEGIN SOLUTION
        if config.d_model % config.n_heads != 0:
            raise ValueError(f"d_model={config.d_model} must be divisible by n_heads={config.n_heads}")
        self.n_heads = config.n_heads
        self.head_dim = config.d_model // config.n_heads
        if config.pos_scheme == "rope" and self.head_dim % 2 != 0:
            raise ValueError(f"RoPE rotates feature pairs: head_dim={self.head_dim} must be even")
        self.rope = config.pos_scheme == "rope"
        self.rope_base = config.rope_base
        self.causal = config.causal
        self.q_proj = nn.Linear(config.d_model, config.d_model, bias=False)
        self.k_proj = nn.Linear(config.d_model, config.d_model, bias=False)
        self.v_proj = nn.Linear(config.d_model, config.d_model, bias=False)
        self.out_proj = nn.Linear(config.d_model, config.d_model, bias=False)
        self.attn_dropout = nn.Dropout(config.dropout)
        ### END SOLUTION

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
        ### BEGIN SOLUTION
        B, T, C = x.shape
        past = 0 if cache is None else cache[0].shape[-2]
        if positions is None:
            positions = torch.arange(past, past + T, device=x.device)  # (T,): after the cached tokens
        q = self.q_proj(x).view(B, T, self.n_heads, self.head_dim).transpose(1, 2)  # (B, H, T, hd)
        k = self.k_proj(x).view(B, T, self.n_heads, self.head_dim).transpose(1, 2)  # (B, H, T, hd)
        v = self.v_proj(x).view(B, T, self.n_heads, self.head_dim).transpose(1, 2)  # (B, H, T, hd)
        if self.rope:
            pos = torch.as_tensor(positions, device=x.device).unsqueeze(-2)  # (1, T) or (B, 1, T)
            q = apply_rope(q, pos, base=self.rope_base)  # (B, H, T, hd): R(m) q
            k = apply_rope(k, pos, base=self.rope_base)  # (B, H, T, hd): R(n) k, cached as is
        if cache is not None:
            k = torch.cat((cache[0], k), dim=-2)  # (B, H, P + T, hd)
            v = torch.cat((cache[1], v), dim=-2)  # (B, H, P + T, hd)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)  # (B, H, T, P + T)
        if self.causal:
            allowed = torch.ones(T, past + T, dtype=torch.bool, device=x.device).tril(diagonal=past)
            scores = scores.masked_fill(~allowed, float("-inf"))  # (B, H, T, P + T): j <= P + i
        weights = torch.softmax(scores, dim=-1)  # (B, H, T, P + T): each row sums to 1
        y = self.attn_dropout(weights) @ v  # (B, H, T, hd)
        y = y.transpose(1, 2).reshape(B, T, C)  # (B, T, d): heads side by side again
        return self.out_proj(y), weights, (k, v)
        ### END SOLUTION


class Block(nn.Module):
    """Pre-norm Transformer block: x + attn(norm1(x)), then + mlp(norm2(x))."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        # TODO: norm1, attn, norm2, mlp = Sequential(Linear(d, r d), GELU(), Linear(r d, d)); a Dropout.
        ### BEGIN SOLUTION
        d = config.d_model
        self.norm1 = nn.LayerNorm(d)
        self.attn = MultiHeadSelfAttention(config)
        self.norm2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(
            nn.Linear(d, config.mlp_ratio * d), nn.GELU(), nn.Linear(config.mlp_ratio * d, d)
        )
        self.dropout = nn.Dropout(config.dropout)
        ### END SOLUTION

    def forward(
        self, x: torch.Tensor, positions: torch.Tensor | None = None, cache: KVCache | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, KVCache]:
        """x [B, T, d] -> (x [B, T, d], attention weights [B, H, T, P + T], new cache)."""
        # TODO: residual around each sublayer; the LayerNorm is applied to the sublayer's input only.
        ### BEGIN SOLUTION
        attended, weights, cache = self.attn(self.norm1(x), positions, cache)  # (B, T, d)
        x = x + self.dropout(attended)  # (B, T, d)
        x = x + self.dropout(self.mlp(self.norm2(x)))  # (B, T, d)
        return x, weights, cache
        ### END SOLUTION


class Transformer(nn.Module):
    """Token embedding + positional scheme + n_layers pre-norm blocks + final LayerNorm + LM head."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        # TODO: ValueError for an unknown pos_scheme. tok_emb; pos_emb (learned only); for sinusoidal
        #       register_buffer("pos_table", sinusoidal_encoding(max_len, d), persistent=False);
        #       blocks = ModuleList of n_layers Blocks; norm; lm_head (no bias); a Dropout.
        ### BEGIN SOLUTION
        if config.pos_scheme not in POS_SCHEMES:
            raise ValueError(f"pos_scheme must be one of {POS_SCHEMES}, got {config.pos_scheme!r}")
        self.config = config
        self.tok_emb = nn.Embedding(config.vocab_size, config.d_model)
        if config.pos_scheme == "learned":
            self.pos_emb = nn.Embedding(config.max_len, config.d_model)
        if config.pos_scheme == "sinusoidal":
            table = sinusoidal_encoding(config.max_len, config.d_model)  # (max_len, d)
            self.register_buffer("pos_table", table, persistent=False)
        self.dropout = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layers))
        self.norm = nn.LayerNorm(config.d_model)
        self.lm_head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        ### END SOLUTION

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
        ### BEGIN SOLUTION
        B, T = idx.shape
        past = 0 if cache is None else cache[0][0].shape[-2]
        if positions is None:
            positions = torch.arange(past, past + T, device=idx.device)  # (T,)
        positions = torch.as_tensor(positions, device=idx.device)
        x = self.tok_emb(idx)  # (B, T, d)
        scheme = self.config.pos_scheme
        if scheme in ("learned", "sinusoidal"):
            if int(positions.min()) < 0 or int(positions.max()) >= self.config.max_len:
                raise ValueError(
                    f"a {scheme} table has positions 0 .. {self.config.max_len - 1}; got up to "
                    f"{int(positions.max())} (absolute tables cannot go past their length)"
                )
            table = self.pos_emb(positions) if scheme == "learned" else self.pos_table[positions]
            x = x + table  # (B, T, d): (T, d) or (B, T, d) broadcast over the batch
        x = self.dropout(x)
        new_cache, weights = [], []
        for i, block in enumerate(self.blocks):
            x, w, layer_cache = block(x, positions, None if cache is None else cache[i])  # (B, T, d)
            new_cache.append(layer_cache)
            weights.append(w)  # (B, H, T, P + T)
        logits = self.lm_head(self.norm(x))  # (B, T, V)
        return logits, new_cache, weights
        ### END SOLUTION
