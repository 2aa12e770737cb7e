# corpus: wrong
# mistake: llama3_inv_freq uses low_freq_factor / high_freq_factor for the band edges but the blend s is copied from Llama 3.1's constants, (L / w - 1) / (4 - 1), so non-default factors give a wrong (discontinuous) blend.
# evidence: dim 128, base 5e5, factor 8, L 8192, low_freq_factor 2, high_freq_factor 8: blended pairs differ from the docstring formula by up to 202 % of theta_i (default factors are exact).
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

Long-term decay (RoFormer, Su et al. 2021, section 3.4.3): with Abel summation the score
sum_i h_i exp(1j * r * theta_i) is bounded by (max_i |h_(i+1) - h_i|) * sum_j |S_j| with
S_j = sum_(k < j) exp(1j * r * theta_k); the relative bound mean_j |S_j| decays as r grows.
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
    if scale <= 0:
        raise ValueError(f"scale must be > 0, got {scale}")
    return torch.as_tensor(positions).to(torch.float64) / scale


def ntk_scaled_base(base: float, scale: float, dim: int) -> float:
    """NTK-aware scaling: the new RoPE base, base * scale ** (dim / (dim - 2)), as a Python float.

    With theta_i = base' ** (-2i / dim): theta_0 = 1 is unchanged (the fastest pair still resolves
    neighbours) and theta_(dim/2 - 1) = base ** (-(dim - 2) / dim) / scale (the slowest pair is
    interpolated by exactly the scale, like PI). ValueError for an odd dim, dim < 4, or scale <= 0.
    """
    if dim % 2 or dim < 4:
        raise ValueError(f"dim must be even and >= 4, got {dim}")
    if scale <= 0:
        raise ValueError(f"scale must be > 0, got {scale}")
    return float(base * scale ** (dim / (dim - 2)))


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
    if dim % 2:
        raise ValueError(f"dim must be even, got {dim}")
    if scale <= 0:
        raise ValueError(f"scale must be > 0, got {scale}")
    L = original_max_position
    i = torch.arange(dim // 2, dtype=torch.float64)
    theta = base ** (-2.0 * i / dim)

    def cd(rotations: float) -> float:
        return dim * math.log(L / (2 * math.pi * rotations)) / (2 * math.log(base))

    low = max(math.floor(cd(beta_fast)), 0)
    high = min(math.ceil(cd(beta_slow)), dim - 1)
    if low == high:
        high += 0.001
    ramp = ((i - low) / (high - low)).clamp(0.0, 1.0)
    inv_freq = (theta / scale) * ramp + theta * (1 - ramp)
    attention_factor = 0.1 * math.log(scale) + 1.0 if scale > 1 else 1.0
    return inv_freq, attention_factor


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
    if dim % 2:
        raise ValueError(f"dim must be even, got {dim}")
    if high_freq_factor <= low_freq_factor:
        raise ValueError("high_freq_factor must be larger than low_freq_factor")
    L = original_max_position
    theta = base ** (-2.0 * torch.arange(dim // 2, dtype=torch.float64) / dim)
    wavelen = 2 * math.pi / theta
    s = (L / wavelen - 1.0) / (4.0 - 1.0)  # Llama 3.1 constants
    blend = (1 - s) * theta / factor + s * theta
    out = torch.where(wavelen > L / low_freq_factor, theta / factor, blend)
    return torch.where(wavelen < L / high_freq_factor, theta, out)


def long_term_decay_bound(dim: int, max_distance: int, base: float = 10000.0) -> torch.Tensor:
    """RoFormer's relative upper bound (section 3.4.3) for r = 0 .. max_distance: [max_distance + 1].

    bound(r) = (1 / (dim/2)) * sum_(j = 1 .. dim/2) |S_j|,  S_j = sum_(k = 0 .. j-1) exp(1j * r * theta_k),
    theta_k = base ** (-2k / dim). At r = 0, |S_j| = j and the bound is (dim/2 + 1) / 2; it decays
    (with ripples) as r grows. float64. ValueError for an odd dim or max_distance < 0.
    """
    if dim % 2:
        raise ValueError(f"dim must be even, got {dim}")
    if max_distance < 0:
        raise ValueError(f"max_distance must be >= 0, got {max_distance}")
    theta = base ** (-2.0 * torch.arange(dim // 2, dtype=torch.float64) / dim)
    r = torch.arange(max_distance + 1, dtype=torch.float64)
    angles = r[:, None] * theta  # [R, dim/2]
    phases = torch.polar(torch.ones_like(angles), angles)
    partial = phases.cumsum(dim=-1)  # column j - 1 holds S_j = sum_(k < j)
    return partial.abs().mean(dim=-1)
