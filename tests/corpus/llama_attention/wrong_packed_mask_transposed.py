# corpus: wrong
# mistake: packed_causal_mask has the causal part transposed (j >= i): each token sees itself and the later tokens of its document.
# evidence: doc_lengths [3]: the upper triangle, 6 of 9 entries differ from the same-document-and-j<=i definition.
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
        raise ValueError(f"n_rep must be >= 1, got {n_rep}")
    if n_rep == 1:
        return x
    b, h_kv, t, d = x.shape
    return x[:, :, None, :, :].expand(b, h_kv, n_rep, t, d).reshape(b, h_kv * n_rep, t, d)


def left_padding_position_ids(attention_mask: torch.Tensor) -> torch.Tensor:
    """Positions of a left-padded batch: attention_mask [B, S] is 1 (or True) for a real token, 0 for padding.

    Returns int64 [B, S]: a real token's position is the number of real tokens before it in its row, so
    every row's first real token is at position 0 whatever its padding. The values at padding entries
    are never read (those queries and keys are masked); any value is accepted there.
    """
    real = attention_mask.to(torch.int64)
    positions = real.cumsum(dim=-1) - 1
    return positions.clamp(min=0)


def packed_position_ids(doc_lengths: list[int]) -> torch.Tensor:
    """Positions of documents packed into one row: [n_1 + n_2 + ...] int64, 0 .. n_k - 1 for document k.

    doc_lengths: the documents' lengths, in order. ValueError for an empty list or a length < 1.
    """
    if len(doc_lengths) == 0:
        raise ValueError("doc_lengths is empty")
    if any(n < 1 for n in doc_lengths):
        raise ValueError(f"every document needs a length >= 1, got {doc_lengths}")
    return torch.cat([torch.arange(n, dtype=torch.int64) for n in doc_lengths])


def packed_causal_mask(doc_lengths: list[int]) -> torch.Tensor:
    """The block-diagonal causal mask of packed documents: bool [T, T] with T = sum(doc_lengths).

    True where query i may attend to key j: i and j in the same document and j <= i.
    ValueError for an empty list or a length < 1.
    """
    if len(doc_lengths) == 0:
        raise ValueError("doc_lengths is empty")
    if any(n < 1 for n in doc_lengths):
        raise ValueError(f"every document needs a length >= 1, got {doc_lengths}")
    doc_id = torch.repeat_interleave(torch.arange(len(doc_lengths)), torch.tensor(doc_lengths))
    idx = torch.arange(doc_id.numel())
    same_doc = doc_id[:, None] == doc_id[None, :]
    causal = idx[None, :] >= idx[:, None]
    return same_doc & causal


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
        raise ValueError(f"n_heads={n_heads} is not a multiple of n_kv_heads={n_kv_heads}")
    B, T, D = hidden.shape
    d = weights["q_proj"].shape[0] // n_heads
    n_rep = n_heads // n_kv_heads

    q = (hidden @ weights["q_proj"].T).view(B, T, n_heads, d).transpose(1, 2)
    k = (hidden @ weights["k_proj"].T).view(B, T, n_kv_heads, d).transpose(1, 2)
    v = (hidden @ weights["v_proj"].T).view(B, T, n_kv_heads, d).transpose(1, 2)

    P = 0 if past_kv is None else past_kv[0].shape[-2]
    if position_ids is None:
        position_ids = torch.arange(P, P + T, device=hidden.device)
    pos = position_ids[:, None, :] if position_ids.dim() == 2 else position_ids
    q = apply_rope(q, pos, base=base)
    k = apply_rope(k, pos, base=base)

    if past_kv is not None:
        k = torch.cat((past_kv[0], k), dim=-2)
        v = torch.cat((past_kv[1], v), dim=-2)
    S = P + T

    if attention_mask is not None and attention_mask.dim() == 4:
        allowed = attention_mask.bool()
    else:
        i = torch.arange(P, S, device=hidden.device)[:, None]
        j = torch.arange(S, device=hidden.device)[None, :]
        allowed = j <= i
        if sliding_window is not None:
            allowed = allowed & (j > i - sliding_window)
        allowed = allowed[None, None]
        if attention_mask is not None:
            allowed = allowed & attention_mask.bool()[:, None, None, :]

    k_rep = repeat_kv(k, n_rep)
    v_rep = repeat_kv(v, n_rep)
    scores = q @ k_rep.transpose(-1, -2) / math.sqrt(d)
    scores = scores.masked_fill(~allowed, torch.finfo(scores.dtype).min)
    probs = scores.softmax(dim=-1)
    out = probs @ v_rep
    out = out.transpose(1, 2).reshape(B, T, n_heads * d)
    return out @ weights["o_proj"].T, (k, v)
