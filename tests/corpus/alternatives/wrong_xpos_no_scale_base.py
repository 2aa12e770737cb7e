# corpus: wrong
# mistake: the exponent is m, not m / scale_base: scale_base is ignored.
# evidence: xpos_scale(8, ...): pair 0 at position 5 is (0.4/1.4) ** 5 = 0.0019 instead of (0.4/1.4) ** (5/512) = 0.988.
"""The alternatives to RoPE an interviewer asks about: ALiBi, xPos and NoPE (Track E).

ALiBi (Press et al. 2022, "Train Short, Test Long", arXiv 2108.12409) adds no embedding at all: each
head h adds a fixed linear penalty to its scores, score(i, j) - m_h * (i - j) for a key j <= i, with
head-specific slopes m_h. For H a power of two the slopes are the geometric sequence that starts at
2^(-8/H) with ratio 2^(-8/H) (H = 8: 1/2, 1/4, ..., 1/256). For other H the paper's code takes the
slopes of the closest power of two below, 2^floor(log2 H), and fills the remaining heads with every
other slope of the sequence for twice that power (12 heads: the 8 slopes of H = 8, then the slopes 1, 3,
5, 7 (counted from 0) of H = 16).

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
    if n_heads < 1:
        raise ValueError(f"n_heads must be at least 1, got {n_heads}")

    def power_of_two(n: int) -> list[float]:
        start = 2.0 ** (-8.0 / n)  # first slope, also the ratio
        return [start ** (h + 1) for h in range(n)]

    if n_heads & (n_heads - 1) == 0:
        slopes = power_of_two(n_heads)
    else:
        p = 2 ** math.floor(math.log2(n_heads))
        slopes = power_of_two(p) + power_of_two(2 * p)[0::2][: n_heads - p]
    return torch.tensor(slopes, dtype=torch.float64)


def alibi_bias(n_heads: int, q_len: int, k_len: int) -> torch.Tensor:
    """ALiBi's additive score bias, float64 [n_heads, q_len, k_len]: -m_h * |i' - j|.

    Query i sits at key index i' = k_len - q_len + i (the queries are the last q_len tokens, as after a
    KV cache), key j at j. The bias is symmetric in i' - j; a causal model masks the keys j > i' as
    usual (the mask is not part of the bias). ValueError when q_len > k_len.
    """
    if q_len > k_len:
        raise ValueError(f"q_len ({q_len}) cannot exceed k_len ({k_len})")
    slopes = alibi_slopes(n_heads)  # [H]
    query_index = torch.arange(q_len, dtype=torch.float64) + (k_len - q_len)  # i' of each query
    key_index = torch.arange(k_len, dtype=torch.float64)
    distance = (query_index[:, None] - key_index[None, :]).abs()  # [q_len, k_len]
    return -slopes[:, None, None] * distance


def xpos_scale(
    dim: int, positions: torch.Tensor, *, gamma: float = 0.4, scale_base: float = 512.0
) -> torch.Tensor:
    """xPos's per-pair factor zeta_i ** (m / scale_base), float64 [*positions.shape, dim / 2].

    zeta_i = (2i / dim + gamma) / (1 + gamma), i = 0 .. dim/2 - 1; positions: integers (any shape).
    Queries are multiplied by this factor at their positions, keys by its inverse (positions -m).
    ValueError for an odd dim.
    """
    if dim % 2 != 0:
        raise ValueError(f"dim must be even, got {dim}")
    i = torch.arange(dim // 2, dtype=torch.float64)
    zeta = (2 * i / dim + gamma) / (1 + gamma)  # [dim/2]
    m = torch.as_tensor(positions).to(torch.float64)
    return zeta ** m[..., None]


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
    rotated = apply_rope(x, positions, base=base)
    m = torch.as_tensor(positions, device=x.device)
    factor = xpos_scale(x.shape[-1], -m if key else m, gamma=gamma, scale_base=scale_base)  # [..., T, d/2]
    factor = torch.cat((factor, factor), dim=-1)  # pair i = features i and i + d/2
    return (rotated.to(torch.float64) * factor).to(x.dtype)


def nope_position_signal(n_tokens: int) -> torch.Tensor:
    """What a causal layer without positional encoding reads at each position: float64 [n_tokens].

    Attention with all scores equal (q = 0), the causal mask (token t sees tokens 0 .. t) and values
    v_0 = 1 (the first token), v_j = 0 for j > 0. Compute it as attention: softmax of the masked
    scores, then the weighted sum of the values. ValueError for n_tokens < 1.
    """
    if n_tokens < 1:
        raise ValueError(f"n_tokens must be at least 1, got {n_tokens}")
    scores = torch.zeros(n_tokens, n_tokens, dtype=torch.float64)  # q = 0: every score is 0
    future = torch.ones(n_tokens, n_tokens, dtype=torch.bool).triu(diagonal=1)  # key j > query t
    weights = scores.masked_fill(future, float("-inf")).softmax(dim=-1)
    values = torch.zeros(n_tokens, dtype=torch.float64)
    values[0] = 1.0
    return weights @ values
