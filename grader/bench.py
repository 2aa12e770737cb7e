"""`ropekit bench`: the performance targets of the kit, each a ratio measured side by side in one run.

- grader latency: `ropekit check rope` and `ropekit grade --solutions` against `python -c "import torch"`;
- RoPE on the CPU at [1, 32, 2048, 128] fp32 with 2 threads: the reference `apply_rope` against the
  Hugging Face eager form `x * cos + rotate_half(x) * sin` and the explicit-matrix form, with the same
  run's memory-copy bandwidth as the limit: an out-of-place op must also get fresh memory for its
  result, so the limit is `x.clone()`; a copy into a buffer already in use is shown beside it;
- notebooks: all of them executed headless against the reference solutions.
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .catalog import KIT_ROOT, load_catalog


def machine() -> dict:
    import torch

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": platform.processor() or platform.machine(),
        "cores": cores,
        "python": platform.python_version(),
        "torch": torch.__version__,
    }


def _wall(command: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started


def grader_latency(repeats: int = 5) -> list[dict]:
    """Whole processes, interleaved so that drift hits all three alike; medians."""
    exe = str(Path(sys.executable).with_name("ropekit"))
    env = {**os.environ, "NO_COLOR": "1"}
    # the target covers the core kit: not training exercises, not optional tracks (triton's interpreter)
    heavy = [e.id for e in load_catalog() if not e.extra.get("training") and not e.requires]
    commands = {
        'python -c "import torch"': [sys.executable, "-c", "import torch"],
        "ropekit check rope --solutions": [exe, "check", "rope", "--solutions"],
        "ropekit grade --solutions (all but training, optional)": [exe, "grade", *heavy, "--solutions"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for command in commands.values():  # warm the file cache once
        _wall(command, env)
    for _ in range(repeats):
        for name, command in commands.items():
            times[name].append(_wall(command, env))
    base = statistics.median(times['python -c "import torch"'])
    targets = {
        "ropekit check rope --solutions": 1.5,
        "ropekit grade --solutions (all but training, optional)": 2.5,
    }
    rows = []
    for name, samples in times.items():
        median = statistics.median(samples)
        target = targets.get(name)
        rows.append(
            {
                "what": name,
                "seconds": round(median, 3),
                "ratio_to_import_torch": round(median / base, 2),
                "target": f"<= {target} x" if target else "",
                "met": None if target is None else median / base <= target,
            }
        )
    return rows


def _median_seconds(fn, repeats: int) -> float:
    for _ in range(3):
        fn()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def rope_cpu(shape=(1, 32, 2048, 128), threads: int = 2, repeats: int = 15) -> list[dict]:
    import torch

    from solutions.rope import apply_rope, rope_cos_sin

    torch.set_num_threads(threads)
    B, H, T, D = shape
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(0))
    positions = torch.arange(T)
    cos, sin = rope_cos_sin(positions, D)  # [T, D] half-split tables, as a model caches them

    def rotate_half(v):
        half = v.shape[-1] // 2
        return torch.cat((-v[..., half:], v[..., :half]), dim=-1)

    theta = 10000.0 ** (-torch.arange(0, D, 2, dtype=torch.float64) / D)
    angles = positions[:, None].double() * theta  # [T, D/2]
    matrices = torch.zeros(T, D, D, dtype=torch.float64)  # [T, D, D], half-split pairs
    i = torch.arange(D // 2)
    matrices[:, i, i], matrices[:, i, i + D // 2] = angles.cos(), -angles.sin()
    matrices[:, i + D // 2, i], matrices[:, i + D // 2, i + D // 2] = angles.sin(), angles.cos()
    matrices = matrices.float()
    out = torch.empty_like(x)

    forms = {
        "memory copy into a new tensor (the limit)": lambda: x.clone(),
        "memory copy into an existing buffer": lambda: out.copy_(x),
        "reference apply_rope": lambda: apply_rope(x, positions),
        "Hugging Face eager (x*cos + rotate_half(x)*sin)": lambda: x * cos + rotate_half(x) * sin,
        "explicit [T, D, D] matrices": lambda: torch.einsum("tij,bhtj->bhti", matrices, x),
    }
    torch.testing.assert_close(
        forms["reference apply_rope"](), forms["Hugging Face eager (x*cos + rotate_half(x)*sin)"]()
    )
    seconds = {name: _median_seconds(fn, repeats) for name, fn in forms.items()}
    moved = 2 * x.numel() * x.element_size()  # x read once, the result written once
    copy = seconds["memory copy into a new tensor (the limit)"]
    eager = seconds["Hugging Face eager (x*cos + rotate_half(x)*sin)"]
    return [
        {
            "what": name,
            "ms": round(s * 1e3, 2),
            "GB/s": round(moved / s / 1e9, 2),
            "share_of_copy_bandwidth": f"{copy / s:.0%}",
            "speedup_vs_hf_eager": round(eager / s, 2),
        }
        for name, s in seconds.items()
    ]


def classifier(threads: int = 2) -> list[dict]:
    """The order task (scripts/ablation.py's setup): RoPE vs no positions, test accuracy and train time."""
    import importlib.util

    import torch

    spec = importlib.util.spec_from_file_location("ropekit_ablation", KIT_ROOT / "scripts" / "ablation.py")
    ablation = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ablation)
    torch.set_num_threads(threads)
    report = ablation.run(schemes=("rope", "none"))
    rope, none = report["results"]["rope"], report["results"]["none"]
    return [
        {
            "model": "RoPE",
            "test_accuracy": f"{rope['accuracy'][0]:.1%}",
            "train_seconds": round(rope["seconds"], 1),
            "target": ">= 95 % in <= 30 s",
            "met": rope["accuracy"][0] >= 0.95 and rope["seconds"] <= 30,
        },
        {
            "model": "no positions",
            "test_accuracy": f"{none['accuracy'][0]:.1%}",
            "train_seconds": round(none["seconds"], 1),
            "target": "<= 60 %",
            "met": none["accuracy"][0] <= 0.60,
        },
    ]


def notebooks_headless() -> dict:
    import nbformat
    from nbclient import NotebookClient

    paths = sorted((KIT_ROOT / "notebooks").glob("*.ipynb"))
    with tempfile.TemporaryDirectory(prefix="ropekit-bench-") as tmp:
        shutil.copytree(KIT_ROOT / "solutions", Path(tmp) / "exercises")
        shutil.copytree(KIT_ROOT / "solutions", Path(tmp) / "solutions")
        old = os.environ.get("ROPEKIT_ROOT")
        os.environ["ROPEKIT_ROOT"] = tmp
        try:
            started = time.perf_counter()
            for path in paths:
                nb = nbformat.read(path, as_version=4)
                NotebookClient(
                    nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": tmp}}
                ).execute()
            seconds = time.perf_counter() - started
        finally:
            if old is None:
                os.environ.pop("ROPEKIT_ROOT", None)
            else:
                os.environ["ROPEKIT_ROOT"] = old
    return {
        "notebooks": len(paths),
        "seconds": round(seconds, 1),
        "target": "<= 180 s on 2 cores",
        "met": seconds <= 180,
    }


def run(*, quick: bool = False) -> dict:
    report = {
        "machine": machine(),
        "grader_latency": grader_latency(3 if quick else 5),
        "rope_cpu": rope_cpu(repeats=5 if quick else 15),
    }
    report["rope_cpu_threads"] = 2
    if not quick:
        report["notebooks"] = notebooks_headless()
    report["classifier"] = classifier()
    return report
