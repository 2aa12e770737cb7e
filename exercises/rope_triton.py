"""Fused RoPE for q and k in one Triton kernel (the optional GPU track).

RoPE is element-wise: every output feature depends on two input features and one angle, so on a GPU its
speed is set by memory traffic, not arithmetic. The Hugging Face eager form

    q * cos + rotate_half(q) * sin        (and the same for k)

launches about ten kernels and moves q and k through memory several times (rotate_half builds a copy,
each product and the sum write a temporary): it reaches 10-16 % of the copy bandwidth on an H100. The
floor is one read and one write of q and k. This kernel does exactly that, for q AND k in ONE launch:

    bytes moved = (q.numel() + k.numel()) * element_size * 2     (+ T positions, + d/2 frequencies)

Program (i, j) of the grid owns a tile [BLOCK_H heads, BLOCK_T tokens, d/2 pairs] of one sequence b:
grid axis 0 walks (b, block of tokens), axis 1 walks the head blocks of q first, then those of k
(q may have more heads than k: grouped-query attention). The program computes the angles of its
tokens once, [BLOCK_T, d/2], and reuses them for all BLOCK_H heads. For a pair (x1, x2), angle a:

    x1' = x1 * cos(a) - x2 * sin(a)
    x2' = x2 * cos(a) + x1 * sin(a)

Layouts: interleaved=False pairs features (i, i + d/2) (Hugging Face, GPT-NeoX); interleaved=True pairs
(2i, 2i + 1) (the paper, Meta's Llama). Every address is built from the tensors' own strides, so views
such as x.view(B, T, H, d).transpose(1, 2) are read where they lie: no .contiguous() copy, and
inplace=True really writes into the caller's q and k.

Precision. Loads are converted to float32, all math is float32, only the store rounds to the output's
dtype. The angle is m * theta_i: theta_i = base ** (-2i / d) is computed once in float64 and stored as
float32 (Hugging Face's inv_freq buffer); the integer m is exact in float32 (below 2**24). theta's
rounding plus the product's give an angle error of at most 2**-23 * m rad: 0.007 rad at m = 60 000
(where one float32 ulp is 2**-8). That is what Hugging Face's float32 angles give, and what the CPU
reference accepts ("float32 or better"). Float64-accurate angles would need float64 math (slow on most
GPUs) or float64-built cos/sin tables read from memory (extra bytes in a memory-bound kernel). Never put
positions or angles in q's dtype: bf16 keeps 8 significant bits, so 60 000 becomes a multiple of 256.
tl.cos and tl.sin compile to CUDA's accurate cosf/sinf (libdevice), which reduce large arguments
correctly; fast-math approximations (__cosf) lose accuracy at 60 000 rad.
"""

from __future__ import annotations

import functools

import torch

try:
    import triton
    import triton.language as tl
except ImportError:  # the module still imports; apply_rope_qk then says how to install triton
    triton = tl = None

GPU_HINT = "pip install 'ropekit[gpu]' (or triton)"
FLOAT_TYPES = (torch.float16, torch.bfloat16, torch.float32)


@functools.lru_cache(maxsize=32)
def rope_inv_freq(dim: int, base: float, device: torch.device) -> torch.Tensor:
    """theta_i = base ** (-2i / dim), i = 0 .. dim/2 - 1, computed in float64, stored as float32 [dim/2].

    A constant of the model (Hugging Face keeps it as the `inv_freq` buffer): built once per device.
    """
    theta = base ** (-torch.arange(0, dim, 2, dtype=torch.float64) / dim)  # [dim/2]
    return theta.to(torch.float32).to(device)




def apply_rope_qk(
    q: torch.Tensor,
    k: torch.Tensor,
    positions: torch.Tensor,
    *,
    base: float = 10000.0,
    interleaved: bool = False,
    inplace: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Rotate q and k by RoPE in ONE Triton kernel launch; returns (q_out, k_out).

    q: [B, Hq, T, d], k: [B, Hk, T, d] (Hq may differ from Hk), float16, bfloat16 or float32, any
    strides; d even, any size (not only powers of two). positions: integers, [T] (shared by the
    batch) or [B, T] (one row per sequence).
    interleaved=False pairs features (i, i + d/2), interleaved=True pairs (2i, 2i + 1).
    inplace=False returns new tensors (q, k untouched); inplace=True writes into q and k and returns them.
    Math in float32; angles m * theta_i, theta_i = base ** (-2i / d). ValueError for bad shapes/dtypes.
    Without a GPU, set TRITON_INTERPRET=1 before importing this module: Triton's interpreter runs the
    kernel on the CPU with numpy (slow, exact semantics). ImportError if triton is not installed.
    """
    # TODO: ValueError unless q and k are 4-D, share B, T and an even d, have a dtype in FLOAT_TYPES,
    #       and positions is an integer tensor of shape [T] or [B, T].
    # TODO: above this function, under `if triton is not None:`, a @triton.jit kernel whose program
    #       rotates a tile [heads, tokens, d/2] of q or of k: load x1, x2 by the layout from the strides,
    #       convert to float32, angles positions[t] * rope_inv_freq(d, base)[i] in float32 (never in
    #       q's dtype), store x1*cos - x2*sin and x2*cos + x1*sin cast to the output's dtype.
    # TODO: outputs: torch.empty_like(q), torch.empty_like(k) (or q and k when inplace); one launch whose
    #       grid covers the head blocks of q AND of k; return (q_out, k_out).
    raise NotImplementedError("write your solution here")
