# corpus: valid
# mistake: none: RoPE written by hand as complex multiplication of the half-split pairs x[i] + 1j x[i + d/2] by exp(1j p theta_i) (angles in float64, complex128), apply_rope imported but unused; heads by reshape + permute; mask by tril.
# evidence: agrees with _verify.py's float64 loop definition on all 24 checks: A on 3 shapes (float32 too); the gap at 12 (m, n) pairs (m == n included, base 500, float32); mla_project with [T] and per-row [B, T] positions, base 500 and 1000, float32; both attention functions on prefill, decode with a cache of 6 then 1 new token and of 4 then 3, per-row [B, T] positions with and without a cache, [T] positions with a cache, d_q == d_c, base 500 / 1000, float32 (out and the returned cache, inputs untouched), within 9.4e-16 (float64) / 3e-7 (float32); kv_cache_per_token Python ints (32768, 576) and three other configs.
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


def _rope(x: torch.Tensor, positions, base: float) -> torch.Tensor:
    """Half-split RoPE: pair (i, i + d/2) as the complex number x_i + 1j x_{i + d/2}, times exp(1j p theta_i)."""
    d = x.shape[-1]
    h = d // 2
    theta = base ** (-torch.arange(h, dtype=torch.float64, device=x.device) * 2 / d)
    angles = torch.as_tensor(positions, device=x.device).to(torch.float64)[..., None] * theta  # [..., T, d/2]
    z = torch.complex(x[..., :h].to(torch.float64), x[..., h:].to(torch.float64)) * torch.polar(torch.ones_like(angles), angles)
    return torch.cat((z.real, z.imag), dim=-1).to(x.dtype)


def _heads(x: torch.Tensor, n_heads: int) -> torch.Tensor:
    B, T, HD = x.shape
    return x.reshape(B, T, n_heads, HD // n_heads).permute(0, 2, 1, 3)


def _softmax_causal(s: torch.Tensor, P: int) -> torch.Tensor:
    T, S = s.shape[-2:]
    keep = torch.tril(torch.ones(T, S, dtype=torch.bool, device=s.device), diagonal=P)
    return torch.where(keep, s, torch.full_like(s, float("-inf"))).softmax(-1)


def _run(hidden, weights, n_heads, positions, past, base):
    B, T, _ = hidden.shape
    P = 0 if past is None else past[0].shape[1]
    pos = torch.arange(P, P + T) if positions is None else positions
    c_q, q_c, q_r, c_kv, k_rope = mla_project(hidden, weights, n_heads, pos, base=base)
    if past is not None:
        c_kv = torch.cat([past[0].to(hidden.dtype), c_kv], dim=1)
        k_rope = torch.cat([past[1].to(hidden.dtype), k_rope], dim=1)
    return c_q, q_c, q_r, c_kv, k_rope, P


def absorb_key_up_projection(w_uq: torch.Tensor, w_uk: torch.Tensor, n_heads: int) -> torch.Tensor:
    """The absorbed content-score matrices: A [H, d_q, d_c] with A[i] = W_UQ,i^T W_UK,i.

    w_uq: [H * d_h, d_q] (q_C = W_UQ c_Q), w_uk: [H * d_h, d_c] (k_C = W_UK c_KV); head i owns rows
    i * d_h .. (i + 1) * d_h - 1 of both. Then q_C,i . k_C,i = c_Q @ A[i] @ c_KV for any latents.
    """
    d_h = w_uq.shape[0] // n_heads
    uq = w_uq.reshape(n_heads, d_h, -1)
    uk = w_uk.reshape(n_heads, d_h, -1)
    return torch.bmm(uq.permute(0, 2, 1), uk)


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
    d_h = w_uq.shape[0] // n_heads
    q = (w_uq @ c_q).reshape(n_heads, d_h)
    k = (w_uk @ c_kv).reshape(n_heads, d_h)
    exact = (_rope(q, m, base) * _rope(k, n, base)).sum(-1)
    A = absorb_key_up_projection(w_uq, w_uk, n_heads)
    absorbed = ((c_q @ A) * c_kv).sum(-1)  # [H]
    return float(torch.max(torch.abs(exact - absorbed)))


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
    pos = torch.as_tensor(positions, device=hidden.device)
    c_q = hidden @ weights["w_dq"].T
    q_c = _heads(c_q @ weights["w_uq"].T, n_heads)
    q_r = _rope(_heads(c_q @ weights["w_qr"].T, n_heads), pos[:, None] if pos.dim() == 2 else pos, base)
    c_kv = hidden @ weights["w_dkv"].T
    k_rope = _rope(hidden @ weights["w_kr"].T, pos, base)
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
    c_q, q_c, q_r, c_kv, k_rope, P = _run(hidden, weights, n_heads, positions, past, base)
    scale = 1.0 / math.sqrt(q_c.shape[-1] + q_r.shape[-1])
    k_c = _heads(c_kv @ weights["w_uk"].T, n_heads)
    v = _heads(c_kv @ weights["w_uv"].T, n_heads)
    s = q_c @ k_c.mT + q_r @ k_rope.unsqueeze(1).mT
    o = _softmax_causal(s * scale, P) @ v
    out = o.permute(0, 2, 1, 3).reshape(B, T, -1) @ weights["w_o"].T
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
    c_q, q_c, q_r, c_kv, k_rope, P = _run(hidden, weights, H, positions, past, base)
    d_h = q_c.shape[-1]
    scale = 1.0 / math.sqrt(d_h + q_r.shape[-1])
    A = absorb_key_up_projection(weights["w_uq"], weights["w_uk"], H)  # [H, d_q, d_c]
    q_lat = c_q.unsqueeze(1) @ A  # [B, H, T, d_c]
    s = q_lat @ c_kv.unsqueeze(1).mT + q_r @ k_rope.unsqueeze(1).mT
    o_lat = _softmax_causal(s * scale, P) @ c_kv.unsqueeze(1)  # [B, H, T, d_c]
    w_uv = weights["w_uv"].reshape(H, d_h, -1)  # W_UV,i [d_h, d_c]
    o = o_lat @ w_uv.mT  # [B, H, T, d_h]
    out = o.permute(0, 2, 1, 3).reshape(B, T, -1) @ weights["w_o"].T
    return out, (c_kv, k_rope)


def kv_cache_per_token(n_heads: int, head_dim: int, latent_dim: int, rope_dim: int) -> tuple[int, int]:
    """Numbers cached per token and layer: (multi-head attention, MLA) = (2 H d_h, d_c + d_r).

    MHA caches a key and a value per head; MLA caches the latent c_KV and the shared rotary key k_R.
    DeepSeek-V2 (H = 128, d_h = 128, d_c = 512, d_r = 64): (32768, 576).
    """
    return n_heads * head_dim * 2, rope_dim + latent_dim
