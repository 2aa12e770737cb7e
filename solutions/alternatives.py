"""The alternatives to RoPE an interviewer asks about: ALiBi, xPos and NoPE (Track E).

ALiBi (Press et al. 2022, "Train Short, Test Long", arXiv 2108.12409) adds no embedding at all: each
head h adds a fixed linear penalty to its scores, score(i, j) - m_h * (i - j) for a key j <= i, with
head-specific slopes m_h. For H a power of two the slopes are the geometric sequence that starts at
2^(-8/H) with ratio 2^(-8/H) (H = 8: 1/2, 1/4, ..., 1/256). For other H the paper's code takes the
slopes of the closest power of two below, 2^floor(log2 H), and fills the remaining heads with every
other slope of the sequence for twice that power (12 heads: the 8 slopes of H = 8, then the slopes 0, 2,
4, 6 (counted from 0) of H = 16).

xPos (Sun et al. 2022, "A Length-Extrapolatable Transformer", arXiv 2212.10554) is RoPE with a decay:
pair i of a query at position m is also multiplied by zeta_i ** (m / scale_base) and pair i of a key
at position n by zeta_i ** (-n / scale_base), zeta_i = (2i / d + gamma) / (1 + gamma) (gamma = 0.4,
scale_base = 512 in its code). The score of pair i gains the factor zeta_i ** ((m - n) / scale_base):
still a function of m - n, and below 1 for m > n, smallest for the fastest-turning pairs (small i),
whose RoPE scores oscillate most at long range.

NoPE (no positional encoding; Haviv et al. 2022, Kazemnejad et al. 2023): a causal decoder without any
encoding still knows positions, because the causal mask makes token t average over exactly t + 1
tokens. With all scores equal and a value of 1 on the first token only, token t reads 1 / (t + 1).
"""

from __future__ import annotations

import math

import torch

from .rope import apply_rope


def alibi_slopes(n_heads: int) -> torch.Tensor:
    """ALiBi's head slopes, as the paper's code computes them: float64 [n_heads].

    n_heads a power of two: m_h = 2 ** (-8 (h + 1) / n_heads), h = 0 .. n_heads - 1. Otherwise the
    slopes for p = 2 ** floor(log2(n_heads)) heads, then slopes 0, 2, 4, ... of those for 2p heads, as
    many as needed (n_heads - p). ValueError for n_heads < 1.
    """
    # TODO: ValueError; a helper for a power of two; the closest power below plus every other slope of 2p.
    ### BEGIN SOLUTION
    if n_heads < 1:
        raise ValueError(f"n_heads must be >= 1, got {n_heads}")

    def power_of_two(n: int) -> list[float]:
        return [2.0 ** (-8.0 * (h + 1) / n) for h in range(n)]

    p = 2 ** math.floor(math.log2(n_heads))
    slopes = power_of_two(p) + power_of_two(2 * p)[0::2][: n_heads - p]
    return torch.tensor(slopes, dtype=torch.float64)
    ### END SOLUTION


def alibi_bias(n_heads: int, q_len: int, k_len: int) -> torch.Tensor:
    """ALiBi's additive score bias, float64 [n_heads, q_len, k_len]: -m_h * |i' - j|.

    Query i sits at key index i' = k_len - q_len + i (the queries are the last q_len tokens, as after a
    KV cache), key j at j. The bias is symmetric in i' - j; a causal model masks the keys j > i' as
    usual (the mask is not part of the bias). ValueError when q_len > k_len.
    """
    # TODO: ValueError; distances |i' - j| [q_len, k_len]; times -slopes[:, None, None].
    ### BEGIN SOLUTION
    if q_len > k_len:
        raise ValueError(f"q_len ({q_len}) must be <= k_len ({k_len})")
    query = torch.arange(k_len - q_len, k_len, dtype=torch.float64)[:, None]
    distance = (query - torch.arange(k_len, dtype=torch.float64)[None, :]).abs()
    return -alibi_slopes(n_heads)[:, None, None] * distance
    ### END SOLUTION


def xpos_scale(
    dim: int, positions: torch.Tensor, *, gamma: float = 0.4, scale_base: float = 512.0
) -> torch.Tensor:
    """xPos's per-pair factor zeta_i ** (m / scale_base), float64 [*positions.shape, dim / 2].

    zeta_i = (2i / dim + gamma) / (1 + gamma), i = 0 .. dim/2 - 1; positions: integers (any shape).
    Queries are multiplied by this factor at their positions, keys by its inverse (positions -m).
    ValueError for an odd dim.
    """
    # TODO: ValueError; zeta [dim/2] in float64; zeta ** (positions[..., None] / scale_base).
    ### BEGIN SOLUTION
    if dim % 2 != 0:
        raise ValueError(f"dim must be even, got {dim}")
    zeta = (torch.arange(0, dim, 2, dtype=torch.float64) / dim + gamma) / (1 + gamma)  # [dim/2]
    return zeta ** (torch.as_tensor(positions).to(torch.float64)[..., None] / scale_base)
    ### END SOLUTION


def apply_xpos(
    x: torch.Tensor,
    positions: torch.Tensor,
    *,
    key: bool = False,
    base: float = 10000.0,
    gamma: float = 0.4,
    scale_base: float = 512.0,
) -> torch.Tensor:
    """xPos: RoPE (your apply_rope, half-split pairs) times zeta_i ** (+-m / scale_base) per pair.

    x: [..., T, d] queries (key=False: factor xpos_scale(d, positions)) or keys (key=True: factor at
    -positions); positions broadcastable to x.shape[:-1] as in apply_rope. Pair i is features i and
    i + d/2: both get pair i's factor. Returns a new tensor in x's dtype and shape (factors computed in
    float64); x is not modified.
    """
    # TODO: rotated = apply_rope(x, positions); factor = xpos_scale at +-positions, duplicated to [..., d].
    ### BEGIN SOLUTION
    positions = torch.as_tensor(positions, device=x.device)
    factor = xpos_scale(x.shape[-1], -positions if key else positions, gamma=gamma, scale_base=scale_base)
    factor = torch.cat((factor, factor), dim=-1).to(x.device)  # half-split: pair i in columns i, i + d/2
    return (apply_rope(x, positions, base=base).to(torch.float64) * factor).to(x.dtype)
    ### END SOLUTION


def nope_position_signal(n_tokens: int) -> torch.Tensor:
    """What a causal layer without positional encoding reads at each position: float64 [n_tokens].

    Attention with all scores equal (q = 0), the causal mask (token t sees tokens 0 .. t) and values
    v_0 = 1 (the first token), v_j = 0 for j > 0. Compute it as attention: softmax of the masked
    scores, then the weighted sum of the values. ValueError for n_tokens < 1.
    """
    # TODO: ValueError; scores zeros [T, T] masked above the diagonal with -inf; softmax; @ values.
    ### BEGIN SOLUTION
    if n_tokens < 1:
        raise ValueError(f"n_tokens must be >= 1, got {n_tokens}")
    scores = torch.zeros(n_tokens, n_tokens, dtype=torch.float64)
    causal = torch.ones(n_tokens, n_tokens, dtype=torch.bool).tril()
    weights = torch.softmax(scores.masked_fill(~causal, float("-inf")), dim=-1)
    values = torch.zeros(n_tokens, dtype=torch.float64)
    values[0] = 1.0
    return weights @ values  # 1 / (t + 1): the position, recoverable without any encoding
    ### END SOLUTION
