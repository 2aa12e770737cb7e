"""RoPE for long text: long-term decay and the four context-extension rules interviewers ask about.

A model trained with RoPE on sequences of length L has seen, for pair i, only the angles
m * theta_i with m < L (theta_i = base ** (-2i / d)). Pairs whose wavelength 2 * pi / theta_i is
shorter than L have turned many full circles in training: every angle is familiar. Pairs whose
wavelength is longer than L have only seen part of the circle; past L they reach angles never seen,
and attention breaks. Each rule below changes positions or frequencies so that a longer context
stays (mostly) inside the trained angles:

- Position Interpolation, PI (Chen et al. 2023, arXiv 2306.15595): positions m -> m / s. Every angle
  stays in the trained range, but neighbouring tokens get closer (fast pairs lose resolution), so the
  model needs a short fine-tune.
- NTK-aware scaling (bloc97, 2023): base -> base * s ** (d / (d - 2)). The fastest pair (theta_0 = 1)
  is unchanged, the slowest (i = d/2 - 1) is divided by exactly s; pairs between are interpolated
  geometrically. Works without fine-tuning, better with it.
- YaRN (Peng et al. 2023, arXiv 2309.00071): "NTK-by-parts": pairs that turn more than beta_fast times
  in L tokens keep theta_i, pairs that turn fewer than beta_slow times get theta_i / s, a linear ramp
  in between; plus an attention temperature: q and k are scaled by 0.1 * ln(s) + 1.
- Llama 3.1 (Meta, 2024): the same idea by wavelength bands: short wavelengths kept, long ones divided
  by the factor, a smooth blend between L / high_freq_factor and L / low_freq_factor.

Long-term decay (RoFormer, Su et al. 2021, section 3.4.3): for the query at position m and the key at
position n, the score is Re sum_i h_i exp(1j * (m - n) * theta_i) with h_i = q_i * conj(k_i) (pair i as
a complex number). With r = m - n and Abel summation, |sum_i h_i exp(1j * r * theta_i)| is bounded by
(max_i |h_(i+1) - h_i|) * sum_j |S_j| with S_j = sum_(k < j) exp(1j * r * theta_k);
the relative bound mean_j |S_j| decays as r grows. S_j(-r) is the conjugate of S_j(r): only |r| matters.
"""

from __future__ import annotations

import math

import torch


def interpolate_positions(positions: torch.Tensor, scale: float) -> torch.Tensor:
    """Position Interpolation: return positions / scale as float64, same shape as positions.

    With scale s = L' / L, the positions 0 .. L' - 1 of the long context map into [0, L): every angle
    m / s * theta_i is one the model saw in training (up to the fractional positions in between).
    ValueError for scale <= 0.
    """
    # TODO: ValueError for scale <= 0; positions (any integer or float tensor) -> float64 / scale.
    raise NotImplementedError("write your solution here")


def ntk_scaled_base(base: float, scale: float, dim: int) -> float:
    """NTK-aware scaling: the new RoPE base, base * scale ** (dim / (dim - 2)), as a Python float.

    With theta_i = base' ** (-2i / dim): theta_0 = 1 is unchanged (the fastest pair still resolves
    neighbours) and theta_(dim/2 - 1) = base ** (-(dim - 2) / dim) / scale (the slowest pair is
    interpolated by exactly the scale, like PI). ValueError for an odd dim, dim < 4, or scale <= 0.
    """
    # TODO: ValueError for an odd dim, dim < 4 or scale <= 0; return base * scale ** (dim / (dim - 2)).
    raise NotImplementedError("write your solution here")


def yarn_inv_freq(
    dim: int,
    base: float,
    scale: float,
    original_max_position: int,
    *,
    beta_fast: float = 32.0,
    beta_slow: float = 1.0,
) -> tuple[torch.Tensor, float]:
    """YaRN's frequencies and attention factor: (inv_freq [dim/2] float64, attention_factor float).

    As YaRN's reference code (and Hugging Face) computes it, with L = original_max_position:
    pair i turns L * theta_i / (2 pi) times in L tokens; the pair index that turns R times is
        cd(R) = dim * ln(L / (2 pi R)) / (2 ln(base)).
    low = floor(cd(beta_fast)), high = ceil(cd(beta_slow)), clamped to [0, dim - 1] (high += 0.001
    if they are equal); ramp_i = clip((i - low) / (high - low), 0, 1) and
        inv_freq_i = (theta_i / scale) * ramp_i + theta_i * (1 - ramp_i)
    (ramp 0: fast pairs kept; ramp 1: slow pairs interpolated like PI). Attention factor
    ("temperature", multiplies q and k, or cos and sin): 0.1 * ln(scale) + 1, or 1 when scale <= 1.
    Example: dim 128, base 1e4, L 4096, scale 4 give low 20, high 46, factor 1.138629.
    ValueError for an odd dim or scale <= 0.
    """
    # TODO: ValueError for an odd dim or scale <= 0.
    # TODO: theta [dim/2] float64; low/high pair indices from cd(beta_fast), cd(beta_slow);
    #       ramp [dim/2] = clip((i - low) / (high - low), 0, 1); blend theta / scale and theta;
    #       attention_factor = 0.1 * ln(scale) + 1 (natural log; 1.0 when scale <= 1).
    raise NotImplementedError("write your solution here")


def llama3_inv_freq(
    dim: int,
    base: float,
    factor: float,
    original_max_position: int,
    *,
    low_freq_factor: float = 1.0,
    high_freq_factor: float = 4.0,
) -> torch.Tensor:
    """Llama 3.1's frequencies, [dim/2] float64 (Llama 3.1 itself: base 500000, factor 8, L 8192).

    With wavelength w_i = 2 pi / theta_i and L = original_max_position:
        w_i < L / high_freq_factor  -> theta_i            (short wavelengths kept)
        w_i > L / low_freq_factor   -> theta_i / factor   (long wavelengths interpolated)
        otherwise                   -> (1 - s) * theta_i / factor + s * theta_i,
                                       s = (L / w_i - low_freq_factor) / (high_freq_factor - low_freq_factor)
    s runs from 0 at w = L / low_freq_factor to 1 at w = L / high_freq_factor: the blend is continuous.
    ValueError for an odd dim or high_freq_factor <= low_freq_factor.
    """
    # TODO: theta [dim/2] float64, wavelengths 2 pi / theta; pick theta, theta / factor or the blend
    #       per pair by comparing the wavelength with L / high_freq_factor and L / low_freq_factor.
    raise NotImplementedError("write your solution here")


def long_term_decay_bound(dim: int, max_distance: int, base: float = 10000.0) -> torch.Tensor:
    """RoFormer's relative upper bound (section 3.4.3) for r = 0 .. max_distance: [max_distance + 1].

    bound(r) = (1 / (dim/2)) * sum_(j = 1 .. dim/2) |S_j|,  S_j = sum_(k = 0 .. j-1) exp(1j * r * theta_k),
    theta_k = base ** (-2k / dim); r = m - n is the offset of query m and key n (the score's phase is
    (m - n) * theta_k, and |S_j| is the same at -r: the bound depends on the distance only).
    At r = 0, |S_j| = j and the bound is (dim/2 + 1) / 2; it decays
    (with ripples) as r grows. float64. ValueError for an odd dim or max_distance < 0.
    """
    # TODO: ValueError for an odd dim or max_distance < 0; theta [dim/2]; phases exp(1j * r * theta)
    #       [R, dim/2] for r = 0 .. max_distance; S = cumulative sum over k; mean of |S| over j.
    raise NotImplementedError("write your solution here")
