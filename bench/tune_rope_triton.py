"""Tile-size sweep for solutions/rope_triton.py on a GPU: which pairs-per-program, heads-per-program
and warp count move the most bytes per second for each dtype. Prints the best config per shape."""

from __future__ import annotations

import itertools

import torch
from gpu_rope import Timer, copy_bandwidth  # bench/ is on sys.path when a script here runs

import solutions.rope_triton as rt

SHAPES = [(1, 32, 4096, 128), (8, 32, 2048, 128), (4, 16, 8192, 64)]


def main():
    timer = Timer(reps=50)
    copy = copy_bandwidth(timer) * 1e9  # bytes/s
    print(f"copy {copy / 1e9:.0f} GB/s")
    for dtype in (torch.bfloat16, torch.float32):
        for shape in SHAPES:
            q = torch.randn(shape, device="cuda", dtype=dtype)
            k = torch.randn(shape, device="cuda", dtype=dtype)
            pos = torch.arange(shape[2], device="cuda")
            moved = 2 * (q.numel() + k.numel()) * q.element_size()
            results = []
            for pairs, block_h, warps in itertools.product(
                (1024, 2048, 4096, 8192, 16384), (1, 2, 4, 8), (4, 8, 16)
            ):
                half = shape[3] // 2
                block_t = max(1, pairs // (block_h * half))

                def config(
                    _half, _heads, _tokens, _size, block_t=block_t, block_h=block_h, warps=warps, half=half
                ):
                    return {"BLOCK_H": block_h, "BLOCK_T": block_t, "BLOCK_HALF": half, "num_warps": warps}

                rt._launch_config = config
                try:
                    seconds = timer.seconds(lambda q=q, k=k, pos=pos: rt.apply_rope_qk(q, k, pos))
                except Exception as exc:  # noqa: BLE001 - a config the compiler refuses
                    print("skip", pairs, block_h, warps, type(exc).__name__)
                    continue
                results.append((moved / seconds / copy, pairs, block_h, warps))
            results.sort(reverse=True)
            print(
                dtype, shape, "best:", [f"{r[0]:.1%} pairs={r[1]} h={r[2]} warps={r[3]}" for r in results[:4]]
            )


if __name__ == "__main__":
    main()
