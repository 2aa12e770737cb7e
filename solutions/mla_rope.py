"""DeepSeek-V2's multi-head latent attention (MLA) and its decoupled RoPE (Track E).

DeepSeek-V2 (DeepSeek-AI 2024, arXiv 2405.04434, section 2.1) caches one small latent vector per token
instead of H keys and H values. Per token t with layer input h_t (weights as nn.Linear, y = W x):

    c_Q = W_DQ h_t                    [d_q]     query latent
    c_KV = W_DKV h_t                  [d_c]     key/value latent: this is what the cache stores
    q_C,i = (W_UQ c_Q)_i, k_C,i = (W_UK c_KV)_i, v_i = (W_UV c_KV)_i     [d_h] per head i

Absorption. The content score q_C,i . k_C,i = c_Q^T (W_UQ,i^T W_UK,i) c_KV: the product of the two
up-projections is one fixed [d_q, d_c] matrix per head, computed once, so at inference the cached
latents are scored directly and no per-head key is ever rebuilt (W_UV is absorbed into the output
projection the same way).

RoPE breaks it. Rotating the content parts gives q_C,i^T R(m)^T R(n) k_C,i = c_Q^T W_UQ,i^T R(n - m)
W_UK,i c_KV: a rotation that depends on the two positions sits between W_UQ,i and W_UK,i, so no single
matrix can be precomputed and every cached key would have to be rebuilt at every step.

Decoupled RoPE. Position goes into a separate, small part that carries RoPE (half-split pairs here):
per-head rotary queries q_R,i = RoPE((W_QR c_Q)_i) [d_r] and one rotary key shared by all heads,
k_R = RoPE(W_KR h_t) [d_r]. Head i scores [q_C,i; q_R,i] . [k_C,i; k_R] / sqrt(d_h + d_r), so the cache
holds c_KV and k_R: d_c + d_r numbers per token and layer, against 2 H d_h for multi-head attention
(DeepSeek-V2: d_c = 512, d_r = 64, H = 128, d_h = 128). The paper's RMSNorms on the latents are left
out here; they change nothing in the argument.
"""

from __future__ import annotations

import math

import torch

from .rope import apply_rope


def absorb_key_up_projection(w_uq: torch.Tensor, w_uk: torch.Tensor, n_heads: int) -> torch.Tensor:
    """The absorbed content-score matrices: A [H, d_q, d_c] with A[i] = W_UQ,i^T W_UK,i.

    w_uq: [H * d_h, d_q] (q_C = W_UQ c_Q), w_uk: [H * d_h, d_c] (k_C = W_UK c_KV); head i owns rows
    i * d_h .. (i + 1) * d_h - 1 of both. Then q_C,i . k_C,i = c_Q @ A[i] @ c_KV for any latents.
    """
    # TODO: split the rows into heads ([H, d_h, d_q] and [H, d_h, d_c]); A[i] = w_uq_i^T @ w_uk_i.
    ### BEGIN SOLUTION
    w_uq = w_uq.reshape(n_heads, -1, w_uq.shape[-1])  # [H, d_h, d_q]
    w_uk = w_uk.reshape(n_heads, -1, w_uk.shape[-1])  # [H, d_h, d_c]
    return w_uq.transpose(1, 2) @ w_uk
    ### END SOLUTION


def rope_absorption_gap(
    c_q: torch.Tensor,
    c_kv: torch.Tensor,
    w_uq: torch.Tensor,
    w_uk: torch.Tensor,
    n_heads: int,
    m: int,
    n: int,
    *,
    base: float = 10000.0,
) -> float:
    """What absorption gets wrong once RoPE rotates the content parts, as a Python float.

    c_q: [d_q], one query latent at position m; c_kv: [d_c], one key latent at position n. Per head i,
    the exact score with RoPE on the content parts is RoPE(q_C,i, m) . RoPE(k_C,i, n) (your apply_rope,
    d = d_h); the absorbed score is c_q @ A[i] @ c_kv (absorb_key_up_projection, no positions).
    Returns the largest |exact - absorbed| over the heads: ~0 when m == n (R(m)^T R(m) = I), not
    otherwise.
    """
    # TODO: q_C = w_uq @ c_q and k_C = w_uk @ c_kv split into heads; rotate at m and n; compare per head.
    ### BEGIN SOLUTION
    q = (w_uq @ c_q).reshape(n_heads, 1, -1)  # [H, 1, d_h]: one token per head
    k = (w_uk @ c_kv).reshape(n_heads, 1, -1)
    exact = (apply_rope(q, torch.tensor([m]), base=base) * apply_rope(k, torch.tensor([n]), base=base)).sum(
        (-2, -1)
    )
    absorbed = c_q @ absorb_key_up_projection(w_uq, w_uk, n_heads) @ c_kv  # [H]
    return float((exact - absorbed).abs().max())
    ### END SOLUTION


def mla_project(
    hidden: torch.Tensor,
    weights: dict[str, torch.Tensor],
    n_heads: int,
    positions: torch.Tensor,
    *,
    base: float = 10000.0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The projections of MLA with decoupled RoPE for T new tokens: (c_q, q_c, q_r, c_kv, k_rope).

    hidden: [B, T, D]. weights (nn.Linear layout, no biases): "w_dq" [d_q, D], "w_uq" [H * d_h, d_q],
    "w_qr" [H * d_r, d_q], "w_dkv" [d_c, D], "w_uk" [H * d_h, d_c], "w_uv" [H * d_h, d_c], "w_kr"
    [d_r, D], "w_o" [D, H * d_h]; H = n_heads, head i owns rows i * d_h .. (i + 1) * d_h - 1 of w_uq,
    w_uk, w_uv (and rows i * d_r .. (i + 1) * d_r - 1 of w_qr).
    Returns c_q = hidden @ w_dq.T [B, T, d_q]; q_c [B, H, T, d_h] (c_q @ w_uq.T split into heads, not
    rotated); q_r [B, H, T, d_r] (c_q @ w_qr.T split into heads, rotated); c_kv = hidden @ w_dkv.T
    [B, T, d_c] (never rotated); k_rope = RoPE(hidden @ w_kr.T) [B, T, d_r], one rotary key shared by
    every head. RoPE: your apply_rope (half-split pairs, d = d_r) at positions, int [B, T] or [T].
    All in hidden's dtype; the inputs are not modified.
    """
    # TODO: a helper that splits [B, T, H * d] into [B, H, T, d] (view, then transpose(1, 2)).
    # TODO: rotate q_r with [B, T] positions as [B, 1, T] (over the heads); k_rope with positions as given.
    ### BEGIN SOLUTION
    batch, tokens, _ = hidden.shape

    def heads(x: torch.Tensor) -> torch.Tensor:  # [B, T, H * d] -> [B, H, T, d]
        return x.view(batch, tokens, n_heads, -1).transpose(1, 2)

    c_q = hidden @ weights["w_dq"].T
    q_c = heads(c_q @ weights["w_uq"].T)
    head_positions = positions[:, None, :] if positions.dim() == 2 else positions
    q_r = apply_rope(heads(c_q @ weights["w_qr"].T), head_positions, base=base)
    c_kv = hidden @ weights["w_dkv"].T
    k_rope = apply_rope(hidden @ weights["w_kr"].T, positions, base=base)  # shared by every head
    return c_q, q_c, q_r, c_kv, k_rope
    ### END SOLUTION


def mla_attention(
    hidden: torch.Tensor,
    weights: dict[str, torch.Tensor],
    n_heads: int,
    *,
    positions: torch.Tensor | None = None,
    past: tuple[torch.Tensor, torch.Tensor] | None = None,
    base: float = 10000.0,
) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """Causal MLA with decoupled RoPE, keys and values rebuilt from the cache. Returns (out, (c_kv, k_rope)).

    hidden: [B, T, D]; weights and n_heads as in mla_project (use it). Per head i: q_C,i, q_R,i from
    mla_project; k_C,i = (c_KV @ w_uk.T)_i and v_i = (c_KV @ w_uv.T)_i rebuilt from every cached latent;
    the rotary key k_R shared by all heads.
    Score of head i: (q_C,i . k_C,i + q_R,i . k_R) / sqrt(d_h + d_r); causal softmax over the keys;
    mix v_i; heads concatenated [B, T, H * d_h] @ w_o.T.
    past: (c_kv [B, P, d_c], k_rope [B, P, d_r]) of P earlier tokens, k_rope already rotated; the new
    ones are appended (axis 1) and returned: c_kv [B, P + T, d_c], k_rope [B, P + T, d_r] (rotated), in
    hidden's dtype. positions: int [B, T] or [T], default P .. P + T - 1; the causal mask is on cache
    indices (new token t is at P + t and sees keys 0 .. P + t). out: [B, T, D] in hidden's dtype.
    The inputs are not modified.
    """
    # TODO: latents c_Q, c_KV; q_C, q_R per head ([B, H, T, d]); k_R shared; RoPE on q_R and k_R only.
    # TODO: append c_KV and k_R to the cache; rebuild k_C and v per head from all cached latents.
    # TODO: scores = (q_C k_C^T + q_R k_R^T) / sqrt(d_h + d_r), causal on cache indices; softmax; mix; w_o.
    ### BEGIN SOLUTION
    batch, tokens, _ = hidden.shape
    past_len = 0 if past is None else past[0].shape[1]
    if positions is None:
        positions = torch.arange(past_len, past_len + tokens, device=hidden.device)
    _, q_c, q_r, c_kv, k_rope = mla_project(hidden, weights, n_heads, positions, base=base)
    if past is not None:
        c_kv = torch.cat((past[0], c_kv), dim=1)
        k_rope = torch.cat((past[1], k_rope), dim=1)
    keys = c_kv.shape[1]
    k_c = (c_kv @ weights["w_uk"].T).view(batch, keys, n_heads, -1).transpose(1, 2)  # [B, H, P + T, d_h]
    v = (c_kv @ weights["w_uv"].T).view(batch, keys, n_heads, -1).transpose(1, 2)
    scores = q_c @ k_c.transpose(-2, -1) + q_r @ k_rope[:, None].transpose(-2, -1)  # [B, H, T, P + T]
    scores = scores / math.sqrt(q_c.shape[-1] + q_r.shape[-1])
    query_index = torch.arange(past_len, past_len + tokens, device=hidden.device)[:, None]
    causal = torch.arange(keys, device=hidden.device)[None, :] <= query_index  # on cache indices
    probs = torch.softmax(scores.masked_fill(~causal, float("-inf")), dim=-1)
    out = (probs @ v).transpose(1, 2).reshape(batch, tokens, -1) @ weights["w_o"].T
    return out, (c_kv, k_rope)
    ### END SOLUTION


def mla_attention_absorbed(
    hidden: torch.Tensor,
    weights: dict[str, torch.Tensor],
    n_heads: int,
    *,
    positions: torch.Tensor | None = None,
    past: tuple[torch.Tensor, torch.Tensor] | None = None,
    base: float = 10000.0,
) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """The same layer as mla_attention, the way inference runs it: scores against the cached latents.

    Same arguments and results as mla_attention (equal up to rounding). The content score is
    (c_Q @ A[i]) . c_KV with A = absorb_key_up_projection(w_uq, w_uk, H), the rotary part q_R,i . k_R as
    before, and head i's output is (probs_i @ c_KV) @ W_UV,i^T: no per-head key or value is built for
    the cached tokens.
    """
    # TODO: q_lat = c_Q @ A ([B, H, T, d_c]); scores = q_lat @ c_KV^T + q_R @ k_R^T, scaled and masked as
    #       in mla_attention; o_lat = probs @ c_KV; head i's output o_lat_i @ W_UV,i^T; then w_o.
    ### BEGIN SOLUTION
    batch, tokens, _ = hidden.shape
    past_len = 0 if past is None else past[0].shape[1]
    if positions is None:
        positions = torch.arange(past_len, past_len + tokens, device=hidden.device)
    c_q, q_c, q_r, c_kv, k_rope = mla_project(hidden, weights, n_heads, positions, base=base)
    if past is not None:
        c_kv = torch.cat((past[0], c_kv), dim=1)
        k_rope = torch.cat((past[1], k_rope), dim=1)
    absorbed = absorb_key_up_projection(weights["w_uq"], weights["w_uk"], n_heads)  # [H, d_q, d_c]
    q_latent = c_q[:, None] @ absorbed  # [B, H, T, d_c]: the content query, against latents
    scores = q_latent @ c_kv[:, None].transpose(-2, -1) + q_r @ k_rope[:, None].transpose(-2, -1)
    scores = scores / math.sqrt(q_c.shape[-1] + q_r.shape[-1])
    query_index = torch.arange(past_len, past_len + tokens, device=hidden.device)[:, None]
    causal = torch.arange(c_kv.shape[1], device=hidden.device)[None, :] <= query_index
    probs = torch.softmax(scores.masked_fill(~causal, float("-inf")), dim=-1)
    o_latent = probs @ c_kv[:, None]  # [B, H, T, d_c]
    w_uv = weights["w_uv"].reshape(n_heads, -1, weights["w_uv"].shape[-1])  # [H, d_h, d_c]
    heads = o_latent @ w_uv.transpose(1, 2)  # [B, H, T, d_h]
    out = heads.transpose(1, 2).reshape(batch, tokens, -1) @ weights["w_o"].T
    return out, (c_kv, k_rope)
    ### END SOLUTION


def kv_cache_per_token(n_heads: int, head_dim: int, latent_dim: int, rope_dim: int) -> tuple[int, int]:
    """Numbers cached per token and layer: (multi-head attention, MLA) = (2 H d_h, d_c + d_r).

    MHA caches a key and a value per head; MLA caches the latent c_KV and the shared rotary key k_R.
    DeepSeek-V2 (H = 128, d_h = 128, d_c = 512, d_r = 64): (32768, 576).
    """
    # TODO: two Python ints.
    ### BEGIN SOLUTION
    return 2 * n_heads * head_dim, latent_dim + rope_dim
    ### END SOLUTION
