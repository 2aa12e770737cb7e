# corpus: wrong
# mistake: mla_attention folds the softmax scale 1/sqrt(d_h + d_r) into weights["w_dq"] with mul_: the output is right, but the caller's weights are modified (each call scales them again).
# evidence: mla_attention prefill: the first call's out is right (6.7e-16) but weights['w_dq'] comes back scaled by 1/sqrt(8) = 0.354; a second call with the same dict is off by 0.964.
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


def _split_heads(x: torch.Tensor, n_heads: int) -> torch.Tensor:
    """[B, T, H * d] -> [B, H, T, d]: head i owns features i * d .. (i + 1) * d - 1."""
    B, T, _ = x.shape
    return x.view(B, T, n_heads, -1).transpose(1, 2)


def _prepare(hidden, weights, n_heads, positions, past, base):
    """Projections of the new tokens and the full cache (past + new) for both attention versions."""
    P = 0 if past is None else past[0].shape[1]
    T = hidden.shape[1]
    if positions is None:
        positions = torch.arange(P, P + T, device=hidden.device)
    c_q, q_c, q_r, c_kv_new, k_rope_new = mla_project(hidden, weights, n_heads, positions, base=base)
    if past is not None:
        c_kv = torch.cat([past[0].to(hidden.dtype), c_kv_new], dim=1)
        k_rope = torch.cat([past[1].to(hidden.dtype), k_rope_new], dim=1)
    else:
        c_kv, k_rope = c_kv_new, k_rope_new
    return c_q, q_c, q_r, c_kv, k_rope, P


def _causal_softmax(scores: torch.Tensor, P: int) -> torch.Tensor:
    """Softmax over the keys; new token t (cache index P + t) sees keys 0 .. P + t."""
    T, S = scores.shape[-2:]
    i = torch.arange(T, device=scores.device)[:, None] + P
    j = torch.arange(S, device=scores.device)[None, :]
    scores = scores.masked_fill(j > i, float("-inf"))
    return torch.softmax(scores, dim=-1)


def absorb_key_up_projection(w_uq: torch.Tensor, w_uk: torch.Tensor, n_heads: int) -> torch.Tensor:
    """The absorbed content-score matrices: A [H, d_q, d_c] with A[i] = W_UQ,i^T W_UK,i.

    w_uq: [H * d_h, d_q] (q_C = W_UQ c_Q), w_uk: [H * d_h, d_c] (k_C = W_UK c_KV); head i owns rows
    i * d_h .. (i + 1) * d_h - 1 of both. Then q_C,i . k_C,i = c_Q @ A[i] @ c_KV for any latents.
    """
    H = n_heads
    d_h = w_uq.shape[0] // H
    uq = w_uq.reshape(H, d_h, w_uq.shape[1])  # [H, d_h, d_q]
    uk = w_uk.reshape(H, d_h, w_uk.shape[1])  # [H, d_h, d_c]
    return uq.transpose(1, 2) @ uk  # [H, d_q, d_c]


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
    H = n_heads
    d_h = w_uq.shape[0] // H
    q_c = (w_uq @ c_q).view(H, 1, d_h)  # each head as a sequence of one token
    k_c = (w_uk @ c_kv).view(H, 1, d_h)
    q_rot = apply_rope(q_c, torch.tensor([m]), base=base)
    k_rot = apply_rope(k_c, torch.tensor([n]), base=base)
    exact = (q_rot * k_rot).sum(-1).view(H)
    A = absorb_key_up_projection(w_uq, w_uk, H)
    absorbed = torch.einsum("q,hqc,c->h", c_q, A, c_kv)
    return float((exact - absorbed).abs().max())


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
    positions = torch.as_tensor(positions, device=hidden.device)
    c_q = hidden @ weights["w_dq"].T
    q_c = _split_heads(c_q @ weights["w_uq"].T, n_heads)
    q_r = _split_heads(c_q @ weights["w_qr"].T, n_heads)
    q_pos = positions[:, None, :] if positions.dim() == 2 else positions  # [B, 1, T] over the heads
    q_r = apply_rope(q_r, q_pos, base=base)
    c_kv = hidden @ weights["w_dkv"].T
    k_rope = apply_rope(hidden @ weights["w_kr"].T, positions, base=base)
    return c_q, q_c, q_r, c_kv, k_rope


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
    B, T, _ = hidden.shape
    H = n_heads
    d_h, d_r = weights["w_uq"].shape[0] // H, weights["w_qr"].shape[0] // H
    weights["w_dq"].mul_(1.0 / math.sqrt(d_h + d_r))  # fold the scale into the queries once
    c_q, q_c, q_r, c_kv, k_rope, P = _prepare(hidden, weights, H, positions, past, base)
    k_c = _split_heads(c_kv @ weights["w_uk"].T, H)  # [B, H, P + T, d_h]
    v = _split_heads(c_kv @ weights["w_uv"].T, H)
    k_r = k_rope[:, None]  # [B, 1, P + T, d_r], shared by the heads
    scores = q_c @ k_c.transpose(-1, -2) + q_r @ k_r.transpose(-1, -2)  # already scaled
    probs = _causal_softmax(scores, P)
    o = (probs @ v).transpose(1, 2).reshape(B, T, H * d_h)
    out = o @ weights["w_o"].T
    return out, (c_kv, k_rope)


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
    B, T, _ = hidden.shape
    H = n_heads
    c_q, q_c, q_r, c_kv, k_rope, P = _prepare(hidden, weights, H, positions, past, base)
    d_h, d_r = q_c.shape[-1], q_r.shape[-1]
    d_c = c_kv.shape[-1]
    A = absorb_key_up_projection(weights["w_uq"], weights["w_uk"], H)  # [H, d_q, d_c]
    q_lat = torch.einsum("btq,hqc->bhtc", c_q, A)  # [B, H, T, d_c]
    lat = c_kv[:, None]  # [B, 1, P + T, d_c]
    k_r = k_rope[:, None]
    scores = (q_lat @ lat.transpose(-1, -2) + q_r @ k_r.transpose(-1, -2)) / math.sqrt(d_h + d_r)
    probs = _causal_softmax(scores, P)
    o_lat = probs @ lat  # [B, H, T, d_c]
    w_uv = weights["w_uv"].view(H, d_h, d_c)
    o = torch.einsum("bhtc,hdc->bhtd", o_lat, w_uv)
    out = o.transpose(1, 2).reshape(B, T, H * d_h) @ weights["w_o"].T
    return out, (c_kv, k_rope)


def kv_cache_per_token(n_heads: int, head_dim: int, latent_dim: int, rope_dim: int) -> tuple[int, int]:
    """Numbers cached per token and layer: (multi-head attention, MLA) = (2 H d_h, d_c + d_r).

    MHA caches a key and a value per head; MLA caches the latent c_KV and the shared rotary key k_R.
    DeepSeek-V2 (H = 128, d_h = 128, d_c = 512, d_r = 64): (32768, 576).
    """
    return 2 * n_heads * head_dim, latent_dim + rope_dim
