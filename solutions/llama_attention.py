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
    # TODO: ValueError; [B, H_kv, 1, T, d] expanded to [B, H_kv, n_rep, T, d], then merge the two head axes.
    ### BEGIN SOLUTION
    if n_rep < 1:
        raise ValueError(f"n_rep must be >= 1, got {n_rep}")
    if n_rep == 1:
        return x
    batch, kv_heads, tokens, dim = x.shape
    copies = x[:, :, None].expand(batch, kv_heads, n_rep, tokens, dim)  # [B, H_kv, n_rep, T, d]
    return copies.reshape(batch, kv_heads * n_rep, tokens, dim)
    ### END SOLUTION


def left_padding_position_ids(attention_mask: torch.Tensor) -> torch.Tensor:
    """Positions of a left-padded batch: attention_mask [B, S] is 1 (or True) for a real token, 0 for padding.

    Returns int64 [B, S]: a real token's position is the number of real tokens before it in its row, so
    every row's first real token is at position 0 whatever its padding. The values at padding entries
    are never read (those queries and keys are masked); any value is accepted there.
    """
    # TODO: count the real tokens so far along each row, minus one.
    ### BEGIN SOLUTION
    real = attention_mask.to(torch.int64)
    return (real.cumsum(-1) - 1).clamp(min=0)  # padding before the first real token: 0
    ### END SOLUTION


def packed_position_ids(doc_lengths: list[int]) -> torch.Tensor:
    """Positions of documents packed into one row: [n_1 + n_2 + ...] int64, 0 .. n_k - 1 for document k.

    doc_lengths: the documents' lengths, in order. ValueError for an empty list or a length < 1.
    """
    # TODO: ValueError; one arange per document, concatenated.
    ### BEGIN SOLUTION
    if not doc_lengths or min(doc_lengths) < 1:
        raise ValueError(f"doc_lengths must be a non-empty list of lengths >= 1, got {doc_lengths}")
    return torch.cat([torch.arange(n) for n in doc_lengths])
    ### END SOLUTION


def packed_causal_mask(doc_lengths: list[int]) -> torch.Tensor:
    """The block-diagonal causal mask of packed documents: bool [T, T] with T = sum(doc_lengths).

    True where query i may attend to key j: i and j in the same document and j <= i.
    ValueError for an empty list or a length < 1.
    """
    # TODO: a document id per token; same document AND causal.
    ### BEGIN SOLUTION
    if not doc_lengths or min(doc_lengths) < 1:
        raise ValueError(f"doc_lengths must be a non-empty list of lengths >= 1, got {doc_lengths}")
    doc = torch.repeat_interleave(torch.arange(len(doc_lengths)), torch.tensor(doc_lengths))
    tokens = doc.shape[0]
    causal = torch.ones(tokens, tokens, dtype=torch.bool).tril()
    return causal & (doc[:, None] == doc[None, :])
    ### END SOLUTION


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
    # TODO: ValueError; project and split heads: [B, T, H * d] -> [B, H, T, d] (view, then transpose).
    # TODO: default positions P + arange(T); RoPE on q and k ([B, T] positions -> [B, 1, T]).
    # TODO: append to the cache; build the mask on cache indices (causal, window, padding) unless a
    #       4-D mask is given; repeat_kv; softmax(q k^T / sqrt(d) masked) v; merge heads; o_proj.
    ### BEGIN SOLUTION
    if n_kv_heads < 1 or n_heads % n_kv_heads != 0:
        raise ValueError(f"n_heads ({n_heads}) must be a multiple of n_kv_heads ({n_kv_heads})")
    batch, tokens, _ = hidden.shape
    head_dim = weights["q_proj"].shape[0] // n_heads

    def heads(w: torch.Tensor, count: int) -> torch.Tensor:  # [B, T, count * d] -> [B, count, T, d]
        return (hidden @ w.T).view(batch, tokens, count, head_dim).transpose(1, 2)

    q = heads(weights["q_proj"], n_heads)
    k = heads(weights["k_proj"], n_kv_heads)
    v = heads(weights["v_proj"], n_kv_heads)

    past = 0 if past_kv is None else past_kv[0].shape[-2]
    if position_ids is None:
        position_ids = torch.arange(past, past + tokens, device=hidden.device)
    positions = position_ids[:, None, :] if position_ids.dim() == 2 else position_ids  # [B, 1, T] or [T]
    q = apply_rope(q, positions, base=base)
    k = apply_rope(k, positions, base=base)  # H_kv heads, rotated once each
    if past_kv is not None:
        k = torch.cat((past_kv[0], k), dim=-2)
        v = torch.cat((past_kv[1], v), dim=-2)

    if attention_mask is not None and attention_mask.dim() == 4:
        allowed = attention_mask.to(torch.bool)
    else:
        query_index = torch.arange(past, past + tokens, device=hidden.device)[:, None]  # cache indices
        key_index = torch.arange(past + tokens, device=hidden.device)[None, :]
        allowed = key_index <= query_index
        if sliding_window is not None:
            allowed = allowed & (key_index > query_index - sliding_window)
        allowed = allowed[None, None]  # [1, 1, T, P + T]
        if attention_mask is not None:
            allowed = allowed & attention_mask.to(torch.bool)[:, None, None, :]

    n_rep = n_heads // n_kv_heads
    scores = q @ repeat_kv(k, n_rep).transpose(-2, -1) / math.sqrt(head_dim)
    scores = scores.masked_fill(~allowed, torch.finfo(scores.dtype).min)  # a padding row stays finite
    probs = torch.softmax(scores, dim=-1, dtype=torch.promote_types(scores.dtype, torch.float32))
    mixed = probs.to(hidden.dtype) @ repeat_kv(v, n_rep)  # [B, H, T, d]
    out = mixed.transpose(1, 2).reshape(batch, tokens, n_heads * head_dim) @ weights["o_proj"].T
    return out, (k, v)
    ### END SOLUTION
