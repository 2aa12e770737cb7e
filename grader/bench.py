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


def _wall(command: list[str], env: dict, cwd: Path | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(
        command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
    )
    return time.perf_counter() - started


def _interleaved_walls(
    commands: dict[str, list[str]], env: dict, repeats: int, cwd: Path | None = None
) -> dict[str, list[float]]:
    """Wall times of whole processes, run in turn so that drift hits all alike (the file cache warmed
    by one run of each first)."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for command in commands.values():
        _wall(command, env, cwd)
    for _ in range(repeats):
        for name, command in commands.items():
            times[name].append(_wall(command, env, cwd))
    return times


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
    times = _interleaved_walls(commands, env, repeats)
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
            "speedup_vshf_eager": round(eager / s, 2),
        }
        for name, s in seconds.items()
    ]


ROPE_CASES = (  # (what, shape [B, H, T, D], dtype, target speed-up over HF eager)
    ("prefill", (1, 32, 2048, 128), "float32", 2.0),
    ("prefill", (1, 32, 2048, 128), "bfloat16", 1.5),
    ("prefill", (8, 32, 512, 64), "bfloat16", 1.5),
    ("decode at position 1000", (1, 32, 1, 128), "float32", None),
)


def _interleaved_medians(forms: dict, calls: int, rounds: int) -> dict[str, float]:
    """Seconds per call, medians: each round times every form `calls` times in turn (drift hits all)."""
    for fn in forms.values():
        fn(), fn()
    samples: dict[str, list[float]] = {name: [] for name in forms}
    for _ in range(rounds):
        for name, fn in forms.items():
            for _ in range(calls):
                started = time.perf_counter()
                fn()
                samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(s) for name, s in samples.items()}


# glibc's malloc settings (other C libraries ignore them): where a new tensor's memory comes from
ALLOCATOR_REGIMES = {
    "reused": {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(1 << 50)},  # freed blocks, kept
    "fresh": {"MALLOC_MMAP_THRESHOLD_": str(1 << 20)},  # every block of 1 MiB or more newly mapped
}


def rope_cases(threads: int = 2, repeats: int = 15, cases=ROPE_CASES, *, compiled: bool = True) -> list[dict]:
    """The reference apply_rope against Hugging Face eager (`x * cos + rotate_half(x) * sin`, HF's
    float32 cos/sin table computed once and cached, cast to x's dtype as HF does), `torch.compile` of
    that same form (compile time excluded) and `x.clone()`, per shape and dtype. At decode (one token,
    [1, 32, 1, 128] at position 1000) both the plain call and the call with a precomputed table
    (`cos_sin=rope_cos_sin(positions, D, dtype=x.dtype)`, as a model shares it across layers).

    Every case runs twice, in a fresh process per allocator regime: with memory `reused` (freed
    blocks go back to the heap and serve the next tensor, as in a serving loop with a caching
    allocator) and with `fresh` memory (each tensor of 1 MiB or more gets new pages from the kernel
    and pays their page faults, which glibc's default does for blocks of 32 MiB and more, and for
    smaller ones only sometimes: left to the default, the prefill ratios swing by 3x between runs).
    """
    import json

    rows = []
    for regime, settings in ALLOCATOR_REGIMES.items():
        code = (
            "import json, sys; from grader.bench import _rope_case_seconds; "
            f"print(json.dumps(_rope_case_seconds({threads}, {repeats}, {list(cases)!r}, {compiled})))"
        )
        done = subprocess.run(
            [sys.executable, "-c", code],
            cwd=KIT_ROOT,
            env={**os.environ, **settings},
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise RuntimeError(f"the RoPE cases with {regime} memory failed: {last}")
        measured = json.loads(done.stdout.strip().splitlines()[-1])
        for case, (seconds, compiled_s) in zip(cases, measured, strict=True):
            rows += _rope_rows(*case, regime, seconds, compiled_s)
    return rows


def _rope_case_seconds(threads: int, repeats: int, cases, compiled: bool) -> list:
    """[(eager seconds per form, torch.compile seconds or why not)] per case, in this process.

    The eager forms of every case are timed first (interleaved), `torch.compile` after them all: once
    inductor has started in a process, eager cos/sin run many times slower on this CPU build, which
    would bill the reference for compile's side effects."""
    import torch

    torch.set_num_threads(threads)
    eager = [_rope_eager(*case[:3], repeats=repeats) for case in cases]
    if not compiled:
        return [(seconds, "not run") for seconds in eager]
    return [
        (seconds, _rope_compiled(*case[:3], repeats=repeats))
        for case, seconds in zip(cases, eager, strict=True)
    ]


def _rope_inputs(shape: tuple, dtype_name: str):
    """x, positions (0..T-1, or 1000 for one token), HF's cached cos/sin table and HF's eager form."""
    import torch

    def rotate_half(v):
        half = v.shape[-1] // 2
        return torch.cat((-v[..., half:], v[..., :half]), dim=-1)

    def hf_eager(v, cos, sin):
        return v * cos + rotate_half(v) * sin

    _, _, T, D = shape
    dtype = getattr(torch, dtype_name)
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(0)).to(dtype)
    positions = torch.arange(T) + (1000 if T == 1 else 0)
    inv_freq = 1.0 / (10000.0 ** (torch.arange(0, D, 2).float() / D))  # HF's table, float32
    freqs = positions.float()[:, None] * inv_freq  # [T, D/2]
    emb = torch.cat((freqs, freqs), dim=-1)
    return x, positions, emb.cos().to(dtype), emb.sin().to(dtype), hf_eager


def _calls_rounds(shape: tuple, repeats: int) -> tuple[int, int]:
    return (100, max(repeats, 3)) if shape[2] == 1 else (1, repeats)  # one token: µs, many calls


def _rope_eager(what: str, shape: tuple, dtype_name: str, *, repeats: int) -> dict[str, float]:
    import torch

    from solutions.rope import apply_rope, rope_cos_sin

    x, positions, cos, sin, hf_eager = _rope_inputs(shape, dtype_name)
    table = rope_cos_sin(positions, shape[3], dtype=x.dtype)
    forms = {
        "clone": lambda: x.clone(),
        "hf": lambda: hf_eager(x, cos, sin),
        "reference": lambda: apply_rope(x, positions),
    }
    if shape[2] == 1:
        forms["reference, precomputed table"] = lambda: apply_rope(x, positions, cos_sin=table)
    atol = 2e-2 if x.dtype == torch.bfloat16 else 1e-3  # HF's float32 angles are off at large positions
    for name in forms:
        if name.startswith("reference"):
            torch.testing.assert_close(forms[name](), forms["hf"](), atol=atol, rtol=atol)
    return _interleaved_medians(forms, *_calls_rounds(shape, repeats))


def _rope_compiled(what: str, shape: tuple, dtype_name: str, *, repeats: int) -> float | str:
    """Seconds per call of torch.compile(HF eager), compile time excluded; or why it is unavailable."""
    import torch

    x, _, cos, sin, hf_eager = _rope_inputs(shape, dtype_name)
    try:
        torch._dynamo.reset()  # a fresh compile per case
        compiled = torch.compile(hf_eager, dynamic=False)
        compiled(x, cos, sin)  # compiles here, outside the timing
    except Exception as exc:  # no C++ compiler, or no inductor for this platform: say so in the row
        return f"unavailable ({type(exc).__name__})"
    return _interleaved_medians({"compile": lambda: compiled(x, cos, sin)}, *_calls_rounds(shape, repeats))[
        "compile"
    ]


def _rope_rows(what, shape, dtype_name, target, regime, seconds: dict, compiled_s: float | str) -> list[dict]:
    unit, scale = ("us", 1e6) if shape[2] == 1 else ("ms", 1e3)
    compiled_ok = isinstance(compiled_s, float)
    rows = []
    for form in (f for f in seconds if f.startswith("reference")):
        s = seconds[form]
        goal = target if target else (1.0 if "table" in form else 0.5)
        speedup = seconds["hf"] / s
        rows.append(
            {
                "case": f"{what}, {list(shape)} {dtype_name}",
                "form": "apply_rope" + (" + cos_sin table" if "table" in form else ""),
                "memory": regime,
                "reference": f"{s * scale:.1f} {unit}",
                "HF eager": f"{seconds['hf'] * scale:.1f} {unit}",
                "torch.compile": f"{compiled_s * scale:.1f} {unit}" if compiled_ok else compiled_s,
                "x.clone()": f"{seconds['clone'] * scale:.1f} {unit}",
                "vs HF eager": f"{speedup:.2f}x",
                "share of clone": f"{seconds['clone'] / s:.0%}",
                "vs torch.compile": f"{compiled_s / s:.2f}x" if compiled_ok else "",
                "target": f">= {goal:g}x HF eager",
                "met": speedup >= goal,
            }
        )
    return rows


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


# ---------------------------------------------------------------------------------------------------
# Batch grading: a class from one warm judge (`ropekit grade --submissions`) against one process each


def _submissions(folder: Path, count: int) -> Path:
    """`count` submissions in `folder`: every module of the kit, the reference solutions in two of
    every three and the stubs in the third (a stub fails fast, a solution runs every check)."""
    folder.mkdir(parents=True)
    for k in range(count):
        source = KIT_ROOT / ("exercises" if k % 3 == 2 else "solutions")
        target = folder / f"sub-{k:04d}"
        target.mkdir()
        for path in source.glob("*.py"):
            shutil.copyfile(path, target / path.name)
    return folder


def batch_grading(*, quick: bool = False, jobs: int | None = None) -> list[dict]:
    """Seconds per submission of `ropekit grade IDS --submissions DIR --jobs J` (whole processes,
    start-up included, divided by N) against `ropekit check rope --exercises SUB` (or `ropekit grade
    CORE --exercises SUB`) once per submission. The separate processes are timed on the first 3
    submissions (the same 2:1 mix; 1 with --quick) and multiplied out for larger N: those rows say
    "extrapolated". Core N = 1000 is not run (it would take the bench past a few minutes); its row is
    extrapolated from N = 100 and says so."""
    exe = str(Path(sys.executable).with_name("ropekit"))
    env = {**os.environ, "NO_COLOR": "1"}
    jobs = jobs or machine()["cores"]
    core = [e.id for e in load_catalog() if not e.extra.get("training") and not e.requires]
    plans = [  # (name, ids, sizes, `ropekit` arguments that grade one submission, target s/submission)
        ("rope", ["rope"], (1, 10) if quick else (1, 10, 100, 1000), ["check", "rope"], 0.5),
        (f"core ({len(core)})", core, (1,) if quick else (1, 10, 100), ["grade", *core], 2.0),
    ]
    sampled = 1 if quick else 3
    rows = []
    with tempfile.TemporaryDirectory(prefix="ropekit-bench-batch-") as tmp:
        sample = _submissions(Path(tmp) / "sample", sampled)
        for name, ids, sizes, one, target in plans:
            alone = [_wall([exe, *one, "--exercises", str(sub)], env) for sub in sorted(sample.iterdir())]
            start_up = None  # N = 1: the start-up and one submission
            for n in sizes:
                folder = _submissions(Path(tmp) / f"{name.split()[0]}-{n}", n)
                for j in sorted({1, jobs}) if n == 100 and name == "rope" else (1 if n == 1 else jobs,):
                    batch = _wall([exe, "grade", *ids, "--submissions", str(folder), "--jobs", str(j)], env)
                    start_up = batch if n == 1 else start_up
                    separate = alone[0] if n == 1 else statistics.mean(alone)
                    measured = "measured" if n <= len(alone) else f"extrapolated from {len(alone)}"
                    row = _batch_row(name, n, j, batch / n, separate, measured, target)
                    if n > 1 and start_up is not None:  # what each submission after the first adds
                        row["after start-up s/submission"] = round((batch - start_up) / (n - 1), 3)
                    rows.append(row)
                shutil.rmtree(folder)
            if name.startswith("core") and not quick:  # N = 1000 would take too long: say so
                last = rows[-1]
                minutes = last["batch s/submission"] * 1000 / 60
                rows.append(
                    {
                        **last,
                        "N": 1000,
                        "note": f"not run (~{minutes:.0f} min): the N = 100 rates, extrapolated",
                    }
                )
    return rows


def _batch_row(name: str, n: int, jobs: int, batch: float, separate: float, measured: str, target: float):
    return {
        "exercises": name,
        "N": n,
        "jobs": jobs,
        "batch s/submission": round(batch, 3),
        "after start-up s/submission": None,
        "separate s/submission": round(separate, 3),
        "separate processes": measured,
        "speedup": round(separate / batch, 1),
        "target": f"<= {target:g} s" if n > 1 else "",  # a class's target; N = 1 is the start-up
        "met": batch <= target if n > 1 else None,
        "note": "" if n > 1 else "one submission: the start-up (import torch) is all of it",
    }


def nbgrader_autograde(repeats: int = 3) -> list[dict]:
    """One submission of `rope` (the reference notebook) graded by `nbgrader autograde` as a teacher runs
    it (whole process, the CLI), against `ropekit grade rope --submissions` of one submission folder:
    what a class of one costs each way. Empty when nbgrader is not installed."""
    bindir = Path(sys.executable).parent
    if shutil.which("nbgrader", path=str(bindir)) is None:
        return []
    env = {**os.environ, "NO_COLOR": "1", "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}"}
    nbgrader, exe = str(bindir / "nbgrader"), str(bindir / "ropekit")
    autograde = "nbgrader autograde rope (1 submission, CLI)"
    with tempfile.TemporaryDirectory(prefix="ropekit-bench-nbgrader-") as tmp:
        course = Path(tmp) / "course"
        subprocess.run(
            [exe, "classroom", "export", str(course), "--exercise", "rope"],
            env=env,
            check=True,
            capture_output=True,
        )
        for setup in (["db", "student", "add", "ada"], ["generate_assignment", "rope", "--force"]):
            subprocess.run([nbgrader, *setup], env=env, cwd=course, check=True, capture_output=True)
        submitted = course / "submitted" / "ada" / "rope"
        submitted.mkdir(parents=True)
        shutil.copyfile(course / "source" / "rope" / "rope.ipynb", submitted / "rope.ipynb")
        (submitted / "timestamp.txt").write_text("2026-01-01 12:00:00.000000 UTC")
        commands = {
            autograde: [nbgrader, "autograde", "rope", "--force"],
            "ropekit grade rope --submissions (1)": [
                exe,
                "grade",
                "rope",
                "--submissions",
                str(_submissions(Path(tmp) / "subs", 1)),
            ],
        }
        times = _interleaved_walls(commands, env, repeats, cwd=course)
        if not (course / "autograded" / "ada" / "rope" / "rope.ipynb").exists():  # a time of nothing graded
            raise RuntimeError("nbgrader autograde wrote no graded notebook: its time would mean nothing")
    nbgrader_s = statistics.median(times[autograde])
    return [
        {
            "command": name,
            "median s": round(statistics.median(v), 2),
            "× nbgrader": round(statistics.median(v) / nbgrader_s, 2),
        }
        for name, v in times.items()
    ]


def startup(repeats: int = 5) -> list[dict]:
    """What teachers' commands pay before any work, as whole processes beside `import torch`:
    `import nbformat` as it comes (jsonschema compiles rfc3987-syntax's grammar) and as the kit loads it
    (grader/_nbformat.py), and `ropekit classroom export` of one exercise (no torch: the checks' names
    and points are read from their source)."""
    exe = str(Path(sys.executable).with_name("ropekit"))
    env = {**os.environ, "NO_COLOR": "1"}
    with tempfile.TemporaryDirectory(prefix="ropekit-bench-export-") as tmp:
        commands = {
            'python -c "import torch"': [sys.executable, "-c", "import torch"],
            'python -c "import nbformat"': [sys.executable, "-c", "import nbformat"],
            "nbformat as the kit loads it": [
                sys.executable,
                "-c",
                "from grader._nbformat import load_nbformat; load_nbformat()",
            ],
            "ropekit classroom export (rope)": [
                exe,
                "classroom",
                "export",
                str(Path(tmp) / "course"),
                "--exercise",
                "rope",
                "--force",
            ],
        }
        times = _interleaved_walls(commands, env, repeats)
    torch_s = statistics.median(times['python -c "import torch"'])
    return [
        {
            "command": name,
            "median s": round(statistics.median(values), 2),
            "× import torch": round(statistics.median(values) / torch_s, 2),
        }
        for name, values in times.items()
    ]


def run(*, quick: bool = False) -> dict:
    report = {
        "machine": machine(),
        "grader_latency": grader_latency(3 if quick else 5),
        "rope_cpu": rope_cpu(repeats=5 if quick else 15),
        "rope_cases": rope_cases(repeats=5 if quick else 15),
        "startup": startup(3 if quick else 5),
        "nbgrader": nbgrader_autograde(1 if quick else 3),
    }
    report["rope_cpu_threads"] = 2
    if not quick:
        report["notebooks"] = notebooks_headless()
    report["classifier"] = classifier()
    report["batch_grading"] = batch_grading(quick=quick)
    return report
