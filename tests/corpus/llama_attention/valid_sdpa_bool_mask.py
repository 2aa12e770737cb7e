# corpus: valid
# mistake: none: torch.nn.functional.scaled_dot_product_attention with an explicit boolean attn_mask (default scale 1/sqrt(d)); rows with no visible key are unmasked to avoid NaN (their values are free); positions broadcast to [B, T] first; padding positions set to -1.
# evidence: agrees with _verify.py's float64 loop definition on all 16 attention inputs (GQA, MQA, decode and chunk with a cache, left padding 2-D mask with and without cache, sliding window with cache and padding, packed 4-D mask, non-causal 4-D mask, base 500 with per-row positions, [T] positions, d != D / H, float32) within 1.3e-15 (float64) / 2.1e-7 (float32), padding query rows ignored; repeat_kv, both position helpers, the packed mask and every ValueError right.
"""Llama attention as a serving model runs it: GQA, the KV cache, left padding, a sliding window and
packed sequences (Track E). Checked against Hugging Face transformers' own LlamaAttention and
MistralAttention on the same weights.

One layer of Llama's self-attention (no biases):

    q = hidden @ q_proj.T  -> [B, T, H, d]     -> [B, H, T, d]
    k = hidden @ k_proj.T  -> [B, T, H_kv, d]  -> [B, H_kv, T, d]     (v the same with v_proj)
    q, k = RoPE(q, positions), RoPE(k, positions)          half-split pairs (i, i + d/2)
    k, v = cat(past k, k), cat(past v, v)  along the cache axis: the KV cache, keys stored rotated
    scores = q @ repeat_kv(k)^T / sqrt(d), masked; softmax over the keys; @ repeat_kv(v)
    out = heads concatenated [B, T, H * d] @ o_proj.T

Grouped-query attention (GQA; Ainslie et al. 2023, arXiv 2305.13245) gives H_kv < H key/value heads:
query head h reads KV head h // (H / H_kv). RoPE is applied to the H_kv key heads *before* they are
repeated, so each KV head is rotated once and the cache holds H_kv heads, not H: GQA's saving is the
cache's size (H / H_kv times smaller), and repeating heads before caching would throw it away.

Positions are per row: in a left-padded batch the first real token of each row is at position 0, so
the position of a real token is the number of real tokens before it (what transformers' generate
computes from the attention mask). The causal mask and a sliding window (Mistral; Jiang et al. 2023,
arXiv 2310.06825) are defined on cache indices: the query at cache index i sees the keys j with
i - W < j <= i (itself and the W - 1 before it), and padding keys are never seen.

Packed sequences: several documents concatenated into one row of length T (training without padding).
Each document's positions restart at 0 and a block-diagonal causal mask keeps the documents apart;
then each document's outputs equal those of running it alone.
"""

from __future__ import annotations

import math

import torch

from .rope import apply_rope


def repeat_kv(x: torch.Tensor, n_rep: int) -> torch.Tensor:
    """Repeat each key/value head n_rep times: [B, H_kv, T, d] -> [B, H_kv * n_rep, T, d].

    Head h of the result is x[:, h // n_rep]: KV head j serves query heads j * n_rep .. (j + 1) * n_rep
    - 1 (consecutive copies, as Hugging Face's repeat_kv; not the whole stack tiled n_rep times).
    n_rep = 1 returns x's values. ValueError for n_rep < 1.
    """
    if n_rep < 1:
        raise ValueError(f"n_rep must be >= 1 (got {n_rep})")
    b, h, t, d = x.shape
    return x.unsqueeze(2).expand(b, h, n_rep, t, d).reshape(b, h * n_rep, t, d)


def left_padding_position_ids(attention_mask: torch.Tensor) -> torch.Tensor:
    """Positions of a left-padded batch: attention_mask [B, S] is 1 (or True) for a real token, 0 for padding.

    Returns int64 [B, S]: a real token's position is the number of real tokens before it in its row, so
    every row's first real token is at position 0 whatever its padding. The values at padding entries
    are never read (those queries and keys are masked); any value is accepted there.
    """
    real = attention_mask.long()
    return (real.cumsum(-1) - 1).masked_fill(real == 0, -1)


def packed_position_ids(doc_lengths: list[int]) -> torch.Tensor:
    """Positions of documents packed into one row: [n_1 + n_2 + ...] int64, 0 .. n_k - 1 for document k.

    doc_lengths: the documents' lengths, in order. ValueError for an empty list or a length < 1.
    """
    if not doc_lengths:
        raise ValueError("empty doc_lengths")
    if min(doc_lengths) < 1:
        raise ValueError("document lengths must be positive")
    return torch.cat([torch.arange(n) for n in doc_lengths]).to(torch.int64)


def packed_causal_mask(doc_lengths: list[int]) -> torch.Tensor:
    """The block-diagonal causal mask of packed documents: bool [T, T] with T = sum(doc_lengths).

    True where query i may attend to key j: i and j in the same document and j <= i.
    ValueError for an empty list or a length < 1.
    """
    if not doc_lengths:
        raise ValueError("empty doc_lengths")
    if min(doc_lengths) < 1:
        raise ValueError("document lengths must be positive")
    ids = torch.cat([torch.full((n,), k) for k, n in enumerate(doc_lengths)])
    n_tok = ids.numel()
    causal = torch.tril(torch.ones(n_tok, n_tok, dtype=torch.bool))
    return causal & ids.unsqueeze(0).eq(ids.unsqueeze(1))


def llama_attention(
    hidden: torch.Tensor,
    weights: dict[str, torch.Tensor],
    n_heads: int,
    n_kv_heads: int,
    *,
    position_ids: torch.Tensor | None = None,
    attention_mask: torch.Tensor | None = None,
    past_kv: tuple[torch.Tensor, torch.Tensor] | None = None,
    sliding_window: int | None = None,
    base: float = 10000.0,
) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """One Llama self-attention layer with GQA and a KV cache. Returns (out, (k_cache, v_cache)).

    hidden: [B, T, D], the layer's input for T new tokens. weights: nn.Linear weights (y = x @ W.T, no
    biases) "q_proj" [H * d, D], "k_proj" [H_kv * d, D], "v_proj" [H_kv * d, D], "o_proj" [D, H * d],
    with H = n_heads, H_kv = n_kv_heads and the head size d = q_proj.shape[0] // n_heads (d need not be
    D / H). Head h takes rows h * d .. (h + 1) * d - 1 of the projections.
    RoPE (your apply_rope: half-split pairs, theta_i = base ** (-2i / d)) rotates q and the H_kv key
    heads at position_ids before the key heads are repeated; query head h uses KV head h // (H / H_kv).
    Scores are scaled by 1 / sqrt(d).
    past_kv: the cache of P earlier tokens, (k, v) each [B, H_kv, P, d], keys already rotated; None means
    P = 0. The new keys and values are appended after them (cache axis -2) and the result is returned:
    k_cache, v_cache [B, H_kv, P + T, d] in hidden's dtype, keys rotated, H_kv heads (not repeated).
    position_ids: int [B, T] or [T]; default P, P + 1, ..., P + T - 1 for every row.
    attention_mask: None; or [B, P + T] with 1 for a real token and 0 for padding (padding keys are never
    attended; combined with the causal mask and the window); or a bool [B or 1, 1, T, P + T] mask, True
    = may attend, used as it is (nothing added: e.g. packed_causal_mask(...)[None, None]).
    Causal mask and sliding_window W act on cache indices: new token t sits at cache index P + t and
    sees the keys j with P + t - W < j <= P + t (W = None: no window).
    out: [B, T, D] in hidden's dtype. Rows that may attend to no key (a padding query) may hold any value.
    The inputs are not modified. ValueError when n_heads is not a multiple of n_kv_heads.
    """
    if n_heads % n_kv_heads != 0:
        raise ValueError(f"n_heads ({n_heads}) must be divisible by n_kv_heads ({n_kv_heads})")
    F = torch.nn.functional
    B, T, D = hidden.shape
    d = weights["q_proj"].shape[0] // n_heads
    q = F.linear(hidden, weights["q_proj"]).view(B, T, n_heads, d).transpose(1, 2)
    k = F.linear(hidden, weights["k_proj"]).view(B, T, n_kv_heads, d).transpose(1, 2)
    v = F.linear(hidden, weights["v_proj"]).view(B, T, n_kv_heads, d).transpose(1, 2)

    P = 0 if past_kv is None else past_kv[0].size(-2)
    if position_ids is None:
        position_ids = torch.arange(P, P + T)
    position_ids = torch.broadcast_to(position_ids, (B, T))
    q = apply_rope(q, position_ids.unsqueeze(1), base=base)
    k = apply_rope(k, position_ids.unsqueeze(1), base=base)
    if past_kv is not None:
        k = torch.cat((past_kv[0], k), dim=-2)
        v = torch.cat((past_kv[1], v), dim=-2)
    S = k.size(-2)

    if attention_mask is not None and attention_mask.dim() == 4:
        mask = attention_mask.bool()
    else:
        cache_index = torch.arange(S)
        query_index = cache_index[P:, None]
        mask = cache_index[None, :] <= query_index
        if sliding_window is not None:
            mask = mask & (query_index - cache_index[None, :] < sliding_window)
        mask = mask.expand(B, 1, T, S)
        if attention_mask is not None:
            mask = mask & attention_mask.bool()[:, None, None, :]
    mask = mask.expand(B, n_heads, T, S)
    mask = mask | ~mask.any(dim=-1, keepdim=True)  # rows that see nothing: any value is allowed, avoid NaN

    n_rep = n_heads // n_kv_heads
    att = F.scaled_dot_product_attention(q, repeat_kv(k, n_rep), repeat_kv(v, n_rep), attn_mask=mask)
    out = F.linear(att.transpose(1, 2).reshape(B, T, n_heads * d), weights["o_proj"])
    return out, (k, v)
