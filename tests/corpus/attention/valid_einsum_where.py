# corpus: valid
# mistake: einsum with broadcast ellipsis, torch.where(mask, scores, -inf); the check indexes x[..., perm, :] and compares the max abs difference
# evidence: float64 q,k,v in 2-D/3-D/4-D with broadcast k,v and causal/padding masks: max diff to the definition 4.4e-16; all permutation verdicts agree
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
    scores = torch.einsum("...qd,...kd->...qk", q, k) / math.sqrt(d)
    if mask is not None:
        scores = torch.where(mask.bool(), scores, torch.full_like(scores, float("-inf")))
    weights = scores.softmax(-1)
    output = torch.einsum("...qk,...kv->...qv", weights, v)
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
    shuffled = layer(x[..., perm, :])
    reference = layer(x)[..., perm, :]
    if shuffled.shape != reference.shape:
        return False
    diff = (shuffled - reference).abs()
    if diff.numel() == 0:
        return True
    return bool(diff.max() <= atol)  # NaN compares False
