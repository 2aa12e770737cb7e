"""Precision and the base at long context: what float32 does to angles, and how large the base must be.

Angles in low precision. RoPE's angle for pair i at position m is m * theta_i, theta_i = base ** (-2i / d).
A model computes it in some dtype: the position is rounded to that dtype, theta_i too, and so is their
product. In float32 (24 significant bits) the spacing of numbers near 10**6 is 2**-4 = 0.0625, so the
fastest pair's angle (theta_0 = 1) at a position near a million is off by up to a few hundredths of a
radian, and every score that uses it with it. In bfloat16 (8 significant bits) even the positions
collide: above 256 not every integer exists (257 rounds to 256), so neighbouring tokens get the same
rotation. This is why Hugging Face computes cos and sin in float32 with autocast disabled, even in a
bfloat16 model, and why long-context code keeps positions in float32 or wider.

Why the base is raised. Xiong et al. 2023 ("Effective Long-Context Scaling of Foundation Models",
arXiv 2309.16039) raised Llama 2's base from 10 000 to 500 000 before training at 32 768 tokens
("adjusted base frequency"): smaller angles, less decay of attention to distant tokens; Llama 3 ships
with 500 000. Men et al. 2024 ("Base of RoPE Bounds Context Length", arXiv 2405.14591) turned this into
a bound. For a query q and a similar key k* = q + eps (eps small and independent), compared with a random
key k, the expected score gap at distance m is 2 sigma**2 * B(m) with

    B(m) = sum_(i = 0 .. d/2 - 1) cos(m * theta_i),

and the model can only prefer similar tokens at distance m while B(m) >= 0. A context of L tokens has
the distances 0 .. L - 1, so it needs B(m) >= 0 for all of them: that gives a lower bound on the base
for each context length (about 4e3 for 1 024 tokens at d = 128 and base 10 000 supports fewer than
2 000; the paper's figure 1 fits the bound as 0.0424 * L ** 1.628).

Everything is float64 except the angles that `angle_error` computes in a lower precision on purpose;
no function changes its inputs.
"""

from __future__ import annotations

import torch


def _inv_freq(dim: int, base: float) -> torch.Tensor:
    """theta_i = base ** (-2i / dim) for i = 0 .. dim/2 - 1, float64 (optional helper: change it freely)."""
    return base ** (-torch.arange(0, dim, 2, dtype=torch.float64) / dim)


def angle_error(
    positions: torch.Tensor, dim: int, base: float = 10000.0, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """|angle computed in dtype - exact angle| for each position and pair: float64 [*positions.shape, dim/2].

    Exact: positions (integers) times theta_i = base ** (-2i / dim), both in float64. In dtype: the
    positions rounded to dtype, theta_i computed in float64 and rounded once to dtype, and their product
    computed in dtype. Rounding is torch's conversion, positions.to(dtype) and theta.to(dtype).
    ValueError for an odd dim.
    """
    # TODO: ValueError; theta in float64; exact = m * theta; low = m.to(dtype) * theta.to(dtype); abs diff.
    ### BEGIN SOLUTION
    if dim % 2 != 0:
        raise ValueError(f"dim must be even, got {dim}")
    theta = _inv_freq(dim, base)
    m = torch.as_tensor(positions)[..., None]
    exact = m.to(torch.float64) * theta
    low = m.to(dtype) * theta.to(dtype)
    return (low.to(torch.float64) - exact).abs()
    ### END SOLUTION


def max_exact_integer(dtype: torch.dtype) -> int:
    """The largest N such that every integer 0, 1, ..., N is exactly representable in the float dtype.

    A float with p significant bits (the stored mantissa bits plus the implicit one) holds every integer
    up to 2 ** p and not 2 ** p + 1: 2 ** 24 for float32, 2 ** 8 for bfloat16. A Python int.
    """
    # TODO: torch.finfo(dtype).eps is 2 ** -(p - 1).
    ### BEGIN SOLUTION
    return round(2 / torch.finfo(dtype).eps)
    ### END SOLUTION


def similar_token_margin(distances: torch.Tensor, dim: int, base: float = 10000.0) -> torch.Tensor:
    """Men et al.'s B(m) = sum_(i = 0 .. dim/2 - 1) cos(m * theta_i), float64 [*distances.shape].

    theta_i = base ** (-2i / dim); distances: integers m (any shape). ValueError for an odd dim.
    """
    # TODO: ValueError; angles m[..., None] * theta in float64; cos; sum over the pairs.
    ### BEGIN SOLUTION
    if dim % 2 != 0:
        raise ValueError(f"dim must be even, got {dim}")
    m = torch.as_tensor(distances).to(torch.float64)[..., None]
    return torch.cos(m * _inv_freq(dim, base)).sum(dim=-1)
    ### END SOLUTION


def supported_context(dim: int, base: float, max_distance: int) -> int:
    """The first distance m in 0 .. max_distance with B(m) < 0, or max_distance + 1 if there is none.

    A context of L tokens has the distances 0 .. L - 1, so this is the longest context (up to
    max_distance + 1) in which B(m) >= 0 at every distance. A Python int.
    """
    # TODO: B over torch.arange(max_distance + 1); the index of the first negative value, if any.
    ### BEGIN SOLUTION
    margin = similar_token_margin(torch.arange(max_distance + 1), dim, base)
    negative = torch.nonzero(margin < 0)
    return int(negative[0, 0]) if len(negative) else max_distance + 1
    ### END SOLUTION


def base_lower_bound(context_length: int, dim: int, bases) -> float:
    """The smallest base among the candidates with B(m) >= 0 for every m = 0 .. context_length - 1.

    bases: candidate bases (a sequence or 1-D tensor, in any order); returns that base as a Python
    float. ValueError when no candidate reaches context_length.
    """
    # TODO: for each candidate, supported_context(dim, base, context_length - 1) >= context_length.
    ### BEGIN SOLUTION
    for base in sorted(float(b) for b in bases):
        if supported_context(dim, base, context_length - 1) >= context_length:
            return base
    raise ValueError(f"no candidate base keeps B(m) >= 0 up to m = {context_length - 1}")
    ### END SOLUTION
