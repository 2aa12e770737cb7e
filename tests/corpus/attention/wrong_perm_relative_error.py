# corpus: wrong
# mistake: compares the relative error with atol: tiny outputs fail and huge outputs hide absolute differences
# evidence: layer 1e-9*(x + position index) (abs diff 5e-9 < atol 1e-6) returns False, definition True; layer 1e7 + x + position index (abs diff 5) returns True, definition False
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
    Returns output [..., Tq, dv] and weights [..., Tq, Tk] (each row sums to 1 over the keys).
    Written by hand: no torch.nn.functional.scaled_dot_product_attention, no nn.MultiheadAttention.
    """
    d = q.shape[-1]
    scores = q @ k.transpose(-2, -1) / math.sqrt(d)  # [..., Tq, Tk]
    if mask is not None:
        scores = scores.masked_fill(~mask.bool(), float("-inf"))
    weights = torch.softmax(scores, dim=-1)  # over the keys
    output = weights @ v  # [..., Tq, dv]
    return output, weights


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
    perm = torch.as_tensor(perm, dtype=torch.long, device=x.device)
    out = layer(x)
    out_perm = layer(x.index_select(-2, perm))
    expected = out.index_select(-2, perm)
    if out_perm.shape != expected.shape:
        return False
    rel = (out_perm - expected).abs() / expected.abs().clamp_min(1e-30)
    return bool(rel.max() <= atol)
