# corpus: valid
# mistake: PI via torch.true_divide on a float64 copy, NTK through exp/log, YaRN with a Python loop over pairs, Llama 3.1 as one clamped blend s in [0, 1] (no band masks), and the decay bound with real cos/sin cumulative sums and hypot.
# evidence: several dims, bases, scales (0.5, 1, 4, 16), L values and factor pairs: every output matches the reference within 1e-12 relative, the docstring example (dim 128, base 1e4, L 4096, scale 4) gives factor 1.138629, and all documented ValueErrors are raised.
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
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    return torch.true_divide(torch.as_tensor(positions).to(dtype=torch.float64), float(scale))


def ntk_scaled_base(base: float, scale: float, dim: int) -> float:
    """NTK-aware scaling: the new RoPE base, base * scale ** (dim / (dim - 2)), as a Python float.

    With theta_i = base' ** (-2i / dim): theta_0 = 1 is unchanged (the fastest pair still resolves
    neighbours) and theta_(dim/2 - 1) = base ** (-(dim - 2) / dim) / scale (the slowest pair is
    interpolated by exactly the scale, like PI). ValueError for an odd dim, dim < 4, or scale <= 0.
    """
    if dim % 2 != 0 or dim < 4 or not scale > 0:
        raise ValueError(f"need an even dim >= 4 and scale > 0, got dim={dim}, scale={scale}")
    return float(base) * math.exp(dim / (dim - 2) * math.log(scale))


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
    if dim % 2 != 0:
        raise ValueError(f"dim must be even, got {dim}")
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    L = float(original_max_position)
    two_ln_base = 2.0 * math.log(base)
    low = math.floor(dim * math.log(L / (2 * math.pi * beta_fast)) / two_ln_base)
    high = math.ceil(dim * math.log(L / (2 * math.pi * beta_slow)) / two_ln_base)
    low, high = max(0, low), min(high, dim - 1)  # as Hugging Face's find_correction_range
    span = (high - low) if high != low else 0.001
    values = []
    for i in range(dim // 2):
        theta = base ** (-2.0 * i / dim)
        ramp = min(1.0, max(0.0, (i - low) / span))
        values.append(theta / scale * ramp + theta * (1.0 - ramp))
    factor = 1.0 if scale <= 1 else 1.0 + 0.1 * math.log(scale)
    return torch.tensor(values, dtype=torch.float64), factor


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
    if dim % 2 != 0:
        raise ValueError(f"dim must be even, got {dim}")
    if not high_freq_factor > low_freq_factor:
        raise ValueError("need high_freq_factor > low_freq_factor")
    theta = torch.pow(float(base), -torch.arange(0, dim, 2, dtype=torch.float64) / dim)
    wavelength = 2 * math.pi / theta
    # s is 1 at w = L / high_freq_factor and 0 at w = L / low_freq_factor; clamping it to [0, 1]
    # reproduces the two outer bands (theta kept, theta / factor) without masks.
    s = ((original_max_position / wavelength - low_freq_factor) / (high_freq_factor - low_freq_factor)).clamp(0, 1)
    return theta * (s + (1 - s) / factor)


def long_term_decay_bound(dim: int, max_distance: int, base: float = 10000.0) -> torch.Tensor:
    """RoFormer's relative upper bound (section 3.4.3) for r = 0 .. max_distance: [max_distance + 1].

    bound(r) = (1 / (dim/2)) * sum_(j = 1 .. dim/2) |S_j|,  S_j = sum_(k = 0 .. j-1) exp(1j * r * theta_k),
    theta_k = base ** (-2k / dim). At r = 0, |S_j| = j and the bound is (dim/2 + 1) / 2; it decays
    (with ripples) as r grows. float64. ValueError for an odd dim or max_distance < 0.
    """
    if dim % 2 != 0:
        raise ValueError(f"dim must be even, got {dim}")
    if max_distance < 0:
        raise ValueError(f"max_distance must be >= 0, got {max_distance}")
    half = dim // 2
    theta = base ** (-torch.arange(0, dim, 2, dtype=torch.float64) / dim)
    r = torch.arange(0, max_distance + 1, dtype=torch.float64).unsqueeze(1)
    re = torch.cos(r * theta).cumsum(dim=1)
    im = torch.sin(r * theta).cumsum(dim=1)
    return torch.hypot(re, im).sum(dim=1) / half
