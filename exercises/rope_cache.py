"""RoPE and the KV cache: moving cached keys, attention sinks, and Dynamic NTK (Track E).

A serving model caches every layer's keys already rotated: the key of the token at position m is
stored as k_m = R(m) k (rope.py's `apply_rope`, half-split pairs, theta_i = base ** (-2i / d)), and its
pre-RoPE value k is thrown away. Values are cached as they are (never rotated).

Moving a cached key. Rotations by angles that add compose: R(m + delta) = R(delta) R(m). So a key
cached at position m moves to m + delta by one more rotation, R(delta) k_m, without its pre-RoPE value
and without recomputing the layer. That is how a long-running chat drops old tokens and keeps going:
llama.cpp's context shift rotates the cached keys by a per-token delta; StreamingLLM (Xiao et al.
2023, arXiv 2309.17453) keeps the first few tokens ("attention sinks") plus a window of recent ones
and gives the kept tokens their positions inside the cache, 0, 1, 2, ..., not in the original text.

Dynamic NTK (the `dynamic` rope type of Hugging Face transformers): once the sequence is longer than
the trained length L = max_position_embeddings, the base grows with the current length s,

    base' = base * (factor * s / L - (factor - 1)) ** (d / (d - 2)),   s = max(s, L),

with d the rotary dimension. Every key cached under the old base now carries angles m * theta_i(base)
while new queries use theta_i(base'): the score of query n and key m is no longer a function of n - m,
so the cached keys are wrong, not just stale. Re-rotating them, R_base'(m) R_base(-m) k_m, fixes them at
the cost of one more rotation of every cached key in every layer and KV head, O(P * d) per layer and
head for P cached tokens, each time the base changes. Hugging Face recomputes the base as the length
grows and leaves the keys it cached under earlier bases as they are (transformers issue #25104: the
exact fix was judged too slow); its SinkCache, StreamingLLM's cache, does re-rotate the keys it moves.

Shapes: keys and values [..., P, d], e.g. [B, H_kv, P, d] for a cache of P tokens.
"""

from __future__ import annotations

import torch

from .rope import apply_rope


def shift_keys(k: torch.Tensor, delta: int | torch.Tensor, *, base: float = 10000.0) -> torch.Tensor:
    """Move keys cached at positions m (already rotated, half-split pairs) to positions m + delta.

    k: [..., P, d], the cached R(m) k for whatever positions m; delta: an int, or integers broadcastable
    to k.shape[:-1] = [..., P] (one delta per cached token, e.g. [P] or [B, 1, P]; negative moves back).
    Returns R(delta) applied to k: exactly the keys that rotating the pre-RoPE keys at m + delta would
    give, in k's shape and dtype; k itself is not modified. base: the RoPE base the keys were rotated
    with (theta_i = base ** (-2i / d)). Use your apply_rope.
    """
    # TODO: one more rotation by delta (as a position), broadcast over the cached tokens.
    raise NotImplementedError("write your solution here")


def evict_middle(
    k: torch.Tensor, v: torch.Tensor, n_sink: int, n_recent: int, *, base: float = 10000.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """StreamingLLM's cache: keep the first n_sink tokens and the last n_recent, drop the ones between.

    k, v: [..., P, d], one layer's cache; the key at cache index j was rotated at position j (positions
    inside the cache, 0 .. P - 1). Returns (k', v') of length n_sink + n_recent where the kept tokens
    again sit at positions 0, 1, 2, ...: the sinks stay as they are, the recent keys move back by the
    number of evicted tokens (P - n_sink - n_recent), the values are kept unchanged (they are never
    rotated). When P <= n_sink + n_recent nothing is evicted: (k, v) come back as they are.
    Raises ValueError for a negative n_sink or n_recent, and when k and v differ in shape.
    """
    # TODO: ValueErrors; nothing to evict -> (k, v); keep [:n_sink] and [P - n_recent:] along the
    #       cache axis; shift the recent keys back by the evicted count; values never rotate.
    raise NotImplementedError("write your solution here")


def dynamic_ntk_base(
    base: float, dim: int, seq_len: int, max_position_embeddings: int, factor: float
) -> float:
    """Hugging Face's `dynamic` rope type: the base for the current length, as a Python float.

    base * (factor * s / L - (factor - 1)) ** (dim / (dim - 2)) with s = max(seq_len,
    max_position_embeddings) and L = max_position_embeddings; dim is the rotary dimension. Up to the
    trained length the base is unchanged. ValueError for an odd dim or dim < 4, factor < 1, or
    max_position_embeddings < 1.
    """
    # TODO: ValueErrors; clamp s to at least L; the formula above.
    raise NotImplementedError("write your solution here")


def rerotate_keys(k: torch.Tensor, positions: torch.Tensor, old_base: float, new_base: float) -> torch.Tensor:
    """Keys cached under old_base, re-rotated as if they had been rotated under new_base.

    k: [..., P, d], cached keys R_old(m) k at `positions` (integers broadcastable to k.shape[:-1]);
    returns R_new(m) R_old(-m) applied to them: R_new(m) k, without the pre-RoPE keys. In k's shape and
    dtype; k is not modified. The rotation is computed in float64 or float32 (not in bf16).
    """
    # TODO: undo the old rotation (R_old(-m) = rotate by -positions under old_base), then rotate by
    #       positions under new_base; work in float32 or better, cast back to k's dtype.
    raise NotImplementedError("write your solution here")
