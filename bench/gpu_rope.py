"""GPU benchmark of RoPE on q and k: the fused Triton kernel against the memory-copy limit and torch.compile.

    python bench/gpu_rope.py [--json OUT.json] [--reps 100] [--impl solutions.rope_triton]

Measured in one run on one CUDA device (KIT_SPEC, "Targets", optional GPU track):
- copy: a large device-to-device `copy_` (1 GiB); bandwidth = bytes read + written / time: the limit;
- eager: Hugging Face style `x * cos + rotate_half(x) * sin` for q and for k (cos/sin tables built once,
  outside the timing, as a model does once per forward for all its layers);
- compile: `torch.compile` of that same function;
- triton, triton_inplace: `apply_rope_qk` (q and k in one launch), out of place and in place,
at [1,32,4096,128], [8,32,2048,128], [4,16,8192,64] (q and k of that shape), bf16 and fp32.

Bytes counted = q and k read and written, plus what else each method must read: the cos and sin tables
[T, d] for eager and compile, the positions [T] and theta [d/2] for triton. GB/s = bytes / time; "% copy"
divides by the copy's GB/s; "x compile" = compile's time / this method's time. Each time is the median
of --reps runs on CUDA events after warm-up; before each run a 512 MiB buffer is zeroed (not timed) so
that nothing is served from L2 and the launch cost on the CPU overlaps GPU work.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repo, for solutions/ and exercises/

SHAPES = [(1, 32, 4096, 128), (8, 32, 2048, 128), (4, 16, 8192, 64)]
DTYPES = [torch.bfloat16, torch.float32]
TARGET_COPY_SHARE, TARGET_VS_COMPILE = 0.90, 1.0


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def hf_rope_qk(q, k, cos, sin):
    """Hugging Face Llama's apply_rotary_pos_emb: cos, sin [1, 1, T, d] in q's dtype."""
    return q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin


def cos_sin_tables(T: int, d: int, dtype, device) -> tuple[torch.Tensor, torch.Tensor]:
    theta = 10000.0 ** (-torch.arange(0, d, 2, dtype=torch.float64, device=device) / d)
    angles = torch.arange(T, dtype=torch.float64, device=device)[:, None] * theta  # [T, d/2]
    angles = torch.cat((angles, angles), dim=-1)[None, None]  # [1, 1, T, d]
    return angles.cos().to(dtype), angles.sin().to(dtype)


class Timer:
    """Median GPU time of fn() in ms: CUDA events around each call, an L2 flush before each."""

    def __init__(self, reps: int, warmup: int = 5):
        self.reps, self.warmup = reps, warmup
        self.flush = torch.empty(512 << 20, dtype=torch.uint8, device="cuda")

    def __call__(self, fn) -> float:
        for _ in range(self.warmup):
            fn()
        torch.cuda.synchronize()
        starts = [torch.cuda.Event(enable_timing=True) for _ in range(self.reps)]
        ends = [torch.cuda.Event(enable_timing=True) for _ in range(self.reps)]
        for start, end in zip(starts, ends, strict=True):
            self.flush.zero_()
            start.record()
            fn()
            end.record()
        torch.cuda.synchronize()
        return statistics.median(s.elapsed_time(e) for s, e in zip(starts, ends, strict=True))

    def seconds(self, fn) -> float:
        return self(fn) * 1e-3


def copy_bandwidth(timer: Timer) -> float:
    """GB/s of a 1 GiB device-to-device copy_, counting bytes read + written."""
    src = torch.empty(1 << 30, dtype=torch.uint8, device="cuda").random_(0, 255)
    dst = torch.empty_like(src)
    ms = timer(lambda: dst.copy_(src))
    return 2 * (1 << 30) / (ms * 1e-3) / 1e9


def bench_case(shape, dtype, apply_rope_qk, compiled, timer: Timer, copy_gbps: float) -> list[dict]:
    B, H, T, d = shape
    g = torch.Generator(device="cuda").manual_seed(0)
    q = torch.randn(shape, generator=g, device="cuda", dtype=torch.float32).to(dtype)
    k = torch.randn(shape, generator=g, device="cuda", dtype=torch.float32).to(dtype)
    positions = torch.arange(T, device="cuda")
    cos, sin = cos_sin_tables(T, d, dtype, "cuda")
    qk_bytes = 2 * (q.numel() + k.numel()) * q.element_size()  # read + written
    table_bytes = 2 * cos.numel() * cos.element_size()
    triton_extra = positions.numel() * positions.element_size() + d // 2 * 4

    # correctness first: the Triton kernel against the eager form (float64 angles there)
    ref_q, ref_k = hf_rope_qk(q.float(), k.float(), *cos_sin_tables(T, d, torch.float32, "cuda"))
    out_q, out_k = apply_rope_qk(q, k, positions)
    error = max((out_q.float() - ref_q).abs().max().item(), (out_k.float() - ref_k).abs().max().item())
    del ref_q, ref_k, out_q, out_k

    q_in, k_in = q.clone(), k.clone()
    methods = {
        "eager": (lambda: hf_rope_qk(q, k, cos, sin), qk_bytes + table_bytes),
        "compile": (lambda: compiled(q, k, cos, sin), qk_bytes + table_bytes),
        "triton": (lambda: apply_rope_qk(q, k, positions), qk_bytes + triton_extra),
        "triton_inplace": (
            lambda: apply_rope_qk(q_in, k_in, positions, inplace=True),
            qk_bytes + triton_extra,
        ),
    }
    rows = []
    for name, (fn, nbytes) in methods.items():
        ms = timer(fn)
        gbps = nbytes / (ms * 1e-3) / 1e9
        rows.append(
            {
                "shape": list(shape),
                "dtype": str(dtype).replace("torch.", ""),
                "method": name,
                "ms": ms,
                "bytes": nbytes,
                "GBps": gbps,
                "pct_copy": 100 * gbps / copy_gbps,
                "max_abs_error_vs_fp32_eager": error if name.startswith("triton") else None,
            }
        )
    compile_ms = next(r["ms"] for r in rows if r["method"] == "compile")
    for row in rows:
        row["vs_compile"] = compile_ms / row["ms"]
    return rows


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", metavar="OUT.json", help="also write the results as JSON")
    parser.add_argument("--reps", type=int, default=100, help="timed runs per method and case (median)")
    parser.add_argument("--impl", default="solutions.rope_triton", help="module with apply_rope_qk")
    args = parser.parse_args(argv)

    if not torch.cuda.is_available():
        print(
            "bench/gpu_rope.py needs a CUDA GPU (torch.cuda.is_available() is False on this machine); "
            "the CPU benchmark is `ropekit bench`",
            file=sys.stderr,
        )
        return 2
    try:
        import triton
    except ImportError:
        print("bench/gpu_rope.py needs triton: pip install 'ropekit[gpu]' (or triton)", file=sys.stderr)
        return 2
    apply_rope_qk = importlib.import_module(args.impl).apply_rope_qk
    if hasattr(torch._dynamo.config, "cache_size_limit"):
        torch._dynamo.config.cache_size_limit = max(torch._dynamo.config.cache_size_limit, 32)
    compiled = torch.compile(hf_rope_qk, dynamic=False)

    started = time.perf_counter()
    timer = Timer(args.reps)
    copy_gbps = copy_bandwidth(timer)
    machine = {
        "device": torch.cuda.get_device_name(),
        "torch": torch.__version__,
        "triton": triton.__version__,
        "cuda": torch.version.cuda,
        "python": platform.python_version(),
        "impl": args.impl,
        "reps": args.reps,
    }
    m = machine
    print(f"{m['device']} · torch {m['torch']} · triton {m['triton']} · CUDA {m['cuda']}")
    print(f"copy bandwidth (1 GiB copy_, read + written): {copy_gbps:.0f} GB/s")
    header = (
        f"{'shape':<18} {'dtype':<9} {'method':<15} {'time us':>9} {'GB/s':>7} {'% copy':>7} "
        f"{'x compile':>9} {'max err':>8}"
    )
    print(header)
    print("-" * len(header))
    rows = []
    for shape in SHAPES:
        for dtype in DTYPES:
            case = bench_case(shape, dtype, apply_rope_qk, compiled, timer, copy_gbps)
            for r in case:
                err = (
                    ""
                    if r["max_abs_error_vs_fp32_eager"] is None
                    else f"{r['max_abs_error_vs_fp32_eager']:.1e}"
                )
                print(
                    f"{str(tuple(shape)):<18} {r['dtype']:<9} {r['method']:<15} {1000 * r['ms']:>9.1f} "
                    f"{r['GBps']:>7.0f} {r['pct_copy']:>6.1f}% {r['vs_compile']:>8.2f}x {err:>8}"
                )
            rows.extend(case)
            torch.cuda.empty_cache()
    triton_rows = [r for r in rows if r["method"].startswith("triton")]
    worst_share = min(r["pct_copy"] for r in triton_rows) / 100
    worst_ratio = min(r["vs_compile"] for r in triton_rows)
    summary = {
        "copy_GBps": copy_gbps,
        "triton_worst_pct_copy": 100 * worst_share,
        "triton_worst_vs_compile": worst_ratio,
        "target_pct_copy_met": worst_share >= TARGET_COPY_SHARE,
        "target_vs_compile_met": worst_ratio >= TARGET_VS_COMPILE,
        "seconds": time.perf_counter() - started,
    }
    print(
        f"triton (out of place and in place), worst case: {100 * worst_share:.1f}% of copy "
        f"(target >= {100 * TARGET_COPY_SHARE:.0f}%: {_met(summary['target_pct_copy_met'])}), "
        f"{worst_ratio:.2f}x torch.compile (target >= {TARGET_VS_COMPILE:.1f}x: "
        f"{_met(summary['target_vs_compile_met'])}); {summary['seconds']:.0f} s"
    )
    if args.json:
        Path(args.json).write_text(
            json.dumps({"machine": machine, "summary": summary, "results": rows}, indent=2)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
