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


### BEGIN SOLUTION
if triton is not None:  # the kernel needs triton; without it apply_rope_qk says how to get it

    @triton.jit
    def _rotate_heads(
        x_ptr, out_ptr, b, h0, H, t, i, cos, sin, T, HALF,
        sx_b, sx_h, sx_t, sx_d, so_b, so_h, so_t, so_d,
        INTERLEAVED: tl.constexpr, BLOCK_H: tl.constexpr,
    ):  # fmt: skip
        """Rotate heads h0 .. h0 + BLOCK_H - 1 of sequence b, tokens t: one [BLOCK_H, BLOCK_T, d/2] tile."""
        h = h0 + tl.arange(0, BLOCK_H)  # [BH]
        h3, t3, i3 = h[:, None, None], t[None, :, None], i[None, None, :]  # [BH,1,1] [1,BT,1] [1,1,BI]
        mask = (h3 < H) & (t3 < T) & (i3 < HALF)  # [BH, BT, BI]
        if INTERLEAVED:
            d1, d2 = 2 * i3, 2 * i3 + 1  # pair i = features (2i, 2i+1)
        else:
            d1, d2 = i3, i3 + HALF  # pair i = features (i, i + d/2)
        x_row = x_ptr + b * sx_b + h3 * sx_h + t3 * sx_t  # [BH, BT, 1] pointers, from x's own strides
        o_row = out_ptr + b * so_b + h3 * so_h + t3 * so_t
        x1 = tl.load(x_row + d1 * sx_d, mask=mask, other=0.0).to(tl.float32)  # [BH, BT, BI]
        x2 = tl.load(x_row + d2 * sx_d, mask=mask, other=0.0).to(tl.float32)
        out1 = x1 * cos - x2 * sin  # x1' = x1 cos - x2 sin
        out2 = x2 * cos + x1 * sin  # x2' = x2 cos + x1 sin
        tl.store(o_row + d1 * so_d, out1.to(out_ptr.dtype.element_ty), mask=mask)
        tl.store(o_row + d2 * so_d, out2.to(out_ptr.dtype.element_ty), mask=mask)

    @triton.jit
    def rope_qk_kernel(
        q_ptr, k_ptr, q_out_ptr, k_out_ptr, pos_ptr, inv_freq_ptr,
        T, HQ, HK, HALF,
        sq_b, sq_h, sq_t, sq_d, sk_b, sk_h, sk_t, sk_d,
        sqo_b, sqo_h, sqo_t, sqo_d, sko_b, sko_h, sko_t, sko_d,
        sp_b, sp_t,
        INTERLEAVED: tl.constexpr, BLOCK_H: tl.constexpr, BLOCK_T: tl.constexpr, BLOCK_HALF: tl.constexpr,
    ):  # fmt: skip
        """One program: sequence b, BLOCK_T tokens, BLOCK_H heads of q or of k."""
        pid_bt, pid_h = tl.program_id(0), tl.program_id(1)
        n_t_blocks = tl.cdiv(T, BLOCK_T)
        b = (pid_bt // n_t_blocks).to(tl.int64)  # int64: b * stride may pass 2**31 elements
        t = (pid_bt % n_t_blocks) * BLOCK_T + tl.arange(0, BLOCK_T)  # [BT] token indices
        i = tl.arange(0, BLOCK_HALF)  # [BI] pair indices (padded to a power of two, masked)

        # angles [BT, BI] in float32: exact integer position times float32 theta_i (one rounding)
        m = tl.load(pos_ptr + b * sp_b + t * sp_t, mask=t < T, other=0).to(tl.float32)  # [BT]
        theta = tl.load(inv_freq_ptr + i, mask=i < HALF, other=0.0)  # [BI]
        angle = m[:, None] * theta[None, :]  # [BT, BI]
        cos = tl.cos(angle)[None, :, :]  # [1, BT, BI]: shared by the BLOCK_H heads
        sin = tl.sin(angle)[None, :, :]

        n_q_blocks = tl.cdiv(HQ, BLOCK_H)
        if pid_h < n_q_blocks:  # this program rotates BLOCK_H heads of q ...
            _rotate_heads(
                q_ptr, q_out_ptr, b, pid_h * BLOCK_H, HQ, t, i, cos, sin, T, HALF,
                sq_b, sq_h, sq_t, sq_d, sqo_b, sqo_h, sqo_t, sqo_d, INTERLEAVED, BLOCK_H,
            )  # fmt: skip
        else:  # ... or BLOCK_H heads of k
            _rotate_heads(
                k_ptr, k_out_ptr, b, (pid_h - n_q_blocks) * BLOCK_H, HK, t, i, cos, sin, T, HALF,
                sk_b, sk_h, sk_t, sk_d, sko_b, sko_h, sko_t, sko_d, INTERLEAVED, BLOCK_H,
            )  # fmt: skip


def _launch_config(half: int, heads: int, tokens: int, element_size: int) -> dict:
    """Tile sizes from a sweep on an H100 (bench/tune_rope_triton.py): about 1024 pairs per program, one
    head per program (many small programs hide memory latency best), 4 warps for 2-byte types, 8 for fp32."""
    block_half = 1 << max(half - 1, 0).bit_length()  # next power of two >= d/2 (tl.arange needs one)
    block_h = 1
    block_t = max(1, min(1 << max(tokens - 1, 0).bit_length(), 1024 // (block_h * block_half)))
    warps = 4 if element_size <= 2 else 8
    return {"BLOCK_H": block_h, "BLOCK_T": block_t, "BLOCK_HALF": block_half, "num_warps": warps}


### END SOLUTION


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
    ### BEGIN SOLUTION
    if q.dim() != 4 or k.dim() != 4:
        raise ValueError(f"q and k must be [B, H, T, d], got shapes {tuple(q.shape)} and {tuple(k.shape)}")
    B, HQ, T, D = q.shape  # q: [B, Hq, T, d]
    HK = k.shape[1]  # k: [B, Hk, T, d]
    if (k.shape[0], k.shape[2], k.shape[3]) != (B, T, D):
        raise ValueError(f"q {tuple(q.shape)} and k {tuple(k.shape)} must share B, T and d")
    if D % 2 != 0:
        raise ValueError(f"head dim d must be even (features are rotated in pairs), got {D}")
    if q.dtype not in FLOAT_TYPES or k.dtype not in FLOAT_TYPES:
        raise ValueError(f"q and k must be float16, bfloat16 or float32, got {q.dtype} and {k.dtype}")
    positions = torch.as_tensor(positions, device=q.device)
    if positions.is_floating_point() or positions.is_complex() or positions.dtype == torch.bool:
        raise ValueError(f"positions must be integers, got {positions.dtype}")
    if positions.dim() == 1:
        positions = positions[None, :]  # [1, T]: shared by the batch
    if positions.dim() != 2 or positions.shape[1] != T or positions.shape[0] not in (1, B):
        raise ValueError(
            f"positions must have shape [T] or [B, T] = [{B}, {T}], got {tuple(positions.shape)}"
        )
    if triton is None:
        raise ImportError(f"triton is not installed: {GPU_HINT}")
    q_out = q if inplace else torch.empty_like(q)  # empty_like keeps q's memory layout
    k_out = k if inplace else torch.empty_like(k)
    if B * T * D == 0:
        return q_out, k_out
    inv_freq = rope_inv_freq(D, float(base), q.device)  # [d/2] float32
    config = _launch_config(D // 2, max(HQ, HK), T, q.element_size())
    n_t_blocks = -(-T // config["BLOCK_T"])
    n_h_blocks = -(-HQ // config["BLOCK_H"]) + -(-HK // config["BLOCK_H"])  # q's head blocks, then k's
    grid = (B * n_t_blocks, n_h_blocks)
    sp_b = positions.stride(0) if positions.shape[0] > 1 else 0  # [T] positions: same row for every b
    rope_qk_kernel[grid](
        q, k, q_out, k_out, positions, inv_freq,
        T, HQ, HK, D // 2,
        *q.stride(), *k.stride(), *q_out.stride(), *k_out.stride(),
        sp_b, positions.stride(1),
        INTERLEAVED=interleaved, **config,
    )  # fmt: skip
    return q_out, k_out
    ### END SOLUTION
