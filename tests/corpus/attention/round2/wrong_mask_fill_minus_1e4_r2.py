# corpus: wrong
# mistake: forbidden scores are set to -1e4 (an fp16 habit) instead of -inf, so with large scores the masked keys keep a non-zero weight.
# evidence: q = -100 * (1 + rand), k = 100 * (1 + rand), d 4 (scores -2e4 .. -8e4), causal mask: the weights above the diagonal reach 1.000 instead of exactly 0 (reference: 0); unit-scale inputs are right.
"""Scaled dot-product attention, by hand (Vaswani et al. 2017, "Attention Is All You Need", 3.2.1).

Every query is compared with every key; the scores become a probability distribution over the keys,
which mixes the values:

    scores  = q @ k^T / sqrt(d)                 [..., Tq, Tk]
    weights = softmax(scores, over the keys)    [..., Tq, Tk], each row sums to 1
    output  = weights @ v                       [..., Tq, dv]

Why 1/sqrt(d): for q and k with independent unit-variance entries, q . k is a sum of d terms and has
variance d; dividing by sqrt(d) brings it back to 1, so the softmax does not saturate as d grows.

A boolean mask (True = "may attend", PyTorch's convention) is applied to the *scores* before the
softmax, by setting forbidden scores to -inf: their weight becomes exactly 0 and the row still sums
to 1. Zeroing weights after the softmax would leave rows that no longer sum to 1.

Nothing in this formula knows where a token sits in the sequence: permuting the tokens of a
self-attention layer permutes its outputs the same way (permutation equivariance). That is why a
Transformer needs positional information (interview question Q1).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch


def scaled_dot_product_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (output, weights) of softmax(q k^T / sqrt(d)) v.

    q: [..., Tq, d], k: [..., Tk, d], v: [..., Tk, dv]; leading dims (batch, heads) broadcast.
    mask: optional boolean, broadcastable to [..., Tq, Tk]; True means "query may attend to key".
    Returns output [..., Tq, dv] and weights [..., Tq, Tk] (each row sums to 1 over the keys), in the
    inputs' dtype (float32 in, float32 out), numerically stable for large scores (a softmax that
    subtracts each row's max, as torch.softmax does). The inputs are not modified.
    Written by hand: no torch.nn.functional.scaled_dot_product_attention, no nn.MultiheadAttention.
    """
    d = q.shape[-1]
    scores = q @ k.transpose(-2, -1) / math.sqrt(d)  # [..., Tq, Tk]
    if mask is not None:
        scores = scores.masked_fill(~mask.to(torch.bool), -1e4)
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights


def is_permutation_equivariant(
    layer: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    perm: torch.Tensor,
    atol: float = 1e-6,
) -> bool:
    """Does shuffling the tokens shuffle the outputs the same way: layer(x[perm]) == layer(x)[perm]?

    layer maps x [..., T, d] to [..., T, d']; perm is a permutation of range(T) applied to the token
    axis (-2, never the batch axis). Returns a Python bool (True within `atol`).
    Self-attention without positional information is equivariant for every perm; add positions (or
    a causal mask) and it is not.
    """
    perm = torch.as_tensor(perm, device=x.device)
    x_perm = x.index_select(-2, perm)
    out = layer(x)
    out_perm = layer(x_perm)
    return bool(torch.allclose(out_perm, out.index_select(-2, perm), rtol=0.0, atol=atol))
