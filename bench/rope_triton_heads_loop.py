"""Experiment: rotate every head of a token block in one program, computing cos/sin once per block.

Measured on an H100 (README, Performance): better for bf16 on the two larger shapes, worse for fp32.

Compares against solutions/rope_triton.apply_rope_qk (one head per program, cos/sin per head) on the
benchmark shapes; prints % of copy bandwidth and the max difference between the two outputs.
"""

from __future__ import annotations

import itertools

import torch
import triton
import triton.language as tl
from gpu_rope import Timer, copy_bandwidth  # bench/ is on sys.path when a script here runs

import solutions.rope_triton as rt

SHAPES = [(1, 32, 4096, 128), (8, 32, 2048, 128), (4, 16, 8192, 64)]


@triton.jit
def _heads_loop_kernel(
    q_ptr, k_ptr, qo_ptr, ko_ptr, pos_ptr, inv_freq_ptr, T, HQ, HK, HALF,
    sq_b, sq_h, sq_t, sq_d, sk_b, sk_h, sk_t, sk_d,
    sqo_b, sqo_h, sqo_t, sqo_d, sko_b, sko_h, sko_t, sko_d, sp_b, sp_t,
    BLOCK_T: tl.constexpr, BLOCK_HALF: tl.constexpr, STAGES: tl.constexpr,
):  # fmt: skip
    pid = tl.program_id(0)
    n_t = tl.cdiv(T, BLOCK_T)
    b = (pid // n_t).to(tl.int64)
    t = (pid % n_t) * BLOCK_T + tl.arange(0, BLOCK_T)
    i = tl.arange(0, BLOCK_HALF)
    m = tl.load(pos_ptr + b * sp_b + t * sp_t, mask=t < T, other=0).to(tl.float32)
    theta = tl.load(inv_freq_ptr + i, mask=i < HALF, other=0.0)
    angle = m[:, None] * theta[None, :]
    cos, sin = tl.cos(angle), tl.sin(angle)  # [BT, BI], once for all heads
    mask = (t[:, None] < T) & (i[None, :] < HALF)
    t2, i2 = t[:, None], i[None, :]
    for h in tl.range(0, HQ, num_stages=STAGES):
        x = q_ptr + b * sq_b + h * sq_h + t2 * sq_t
        o = qo_ptr + b * sqo_b + h * sqo_h + t2 * sqo_t
        x1 = tl.load(x + i2 * sq_d, mask=mask, other=0.0).to(tl.float32)
        x2 = tl.load(x + (i2 + HALF) * sq_d, mask=mask, other=0.0).to(tl.float32)
        tl.store(o + i2 * sqo_d, (x1 * cos - x2 * sin).to(qo_ptr.dtype.element_ty), mask=mask)
        tl.store(o + (i2 + HALF) * sqo_d, (x2 * cos + x1 * sin).to(qo_ptr.dtype.element_ty), mask=mask)
    for h in tl.range(0, HK, num_stages=STAGES):
        x = k_ptr + b * sk_b + h * sk_h + t2 * sk_t
        o = ko_ptr + b * sko_b + h * sko_h + t2 * sko_t
        x1 = tl.load(x + i2 * sk_d, mask=mask, other=0.0).to(tl.float32)
        x2 = tl.load(x + (i2 + HALF) * sk_d, mask=mask, other=0.0).to(tl.float32)
        tl.store(o + i2 * sko_d, (x1 * cos - x2 * sin).to(ko_ptr.dtype.element_ty), mask=mask)
        tl.store(o + (i2 + HALF) * sko_d, (x2 * cos + x1 * sin).to(ko_ptr.dtype.element_ty), mask=mask)


def heads_loop(q, k, positions, block_t, warps, stages):
    B, HQ, T, D = q.shape
    HK = k.shape[1]
    qo, ko = torch.empty_like(q), torch.empty_like(k)
    pos = positions[None, :]
    inv_freq = rt.rope_inv_freq(D, 10000.0, q.device)
    grid = (B * triton.cdiv(T, block_t),)
    _heads_loop_kernel[grid](
        q, k, qo, ko, pos, inv_freq, T, HQ, HK, D // 2,
        *q.stride(), *k.stride(), *qo.stride(), *ko.stride(), 0, pos.stride(1),
        BLOCK_T=block_t, BLOCK_HALF=triton.next_power_of_2(D // 2), STAGES=stages, num_warps=warps,
    )  # fmt: skip
    return qo, ko


def main():
    timer = Timer(reps=50)
    copy = copy_bandwidth(timer) * 1e9  # bytes/s
    for dtype in (torch.bfloat16, torch.float32):
        for shape in SHAPES:
            q = torch.randn(shape, device="cuda", dtype=dtype)
            k = torch.randn(shape, device="cuda", dtype=dtype)
            pos = torch.arange(shape[2], device="cuda")
            moved = 2 * (q.numel() + k.numel()) * q.element_size()
            ref = rt.apply_rope_qk(q, k, pos)
            base = moved / timer.seconds(lambda q=q, k=k, pos=pos: rt.apply_rope_qk(q, k, pos)) / copy
            best = []
            for block_t, warps, stages in itertools.product((2, 4, 8, 16), (2, 4, 8), (1, 2, 3)):
                try:
                    out = heads_loop(q, k, pos, block_t, warps, stages)
                    err = max(
                        float((a.float() - r.float()).abs().max()) for a, r in zip(out, ref, strict=True)
                    )
                    run = lambda q=q, k=k, pos=pos, b=block_t, w=warps, s=stages: heads_loop(
                        q, k, pos, b, w, s
                    )  # noqa: E731
                    share = moved / timer.seconds(run) / copy
                except Exception as exc:  # noqa: BLE001
                    print("skip", block_t, warps, stages, type(exc).__name__)
                    continue
                best.append((share, block_t, warps, stages, err))
            best.sort(reverse=True)
            print(
                str(dtype),
                shape,
                f"current {base:.1%}",
                "heads loop best:",
                [f"{s:.1%} bt={b} w={w} st={st} err={e:.1g}" for s, b, w, st, e in best[:3]],
                flush=True,
            )


if __name__ == "__main__":
    main()
