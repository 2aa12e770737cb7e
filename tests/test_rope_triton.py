"""The GPU track's exercise rope_triton: the fused Triton kernel is graded under Triton's interpreter.

The reference passes every check, the stub fails every check, each realistic wrong kernel fails the
check meant for it with a message naming the mistake, and without triton the exercise fails with a
message that says so (never passes). Tests that run kernels are skipped when triton is missing.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest
import torch
from conftest import ROOT, mutate, solution_source

import grader.checks.rope_triton as checks  # first: sets TRITON_INTERPRET=1 when there is no GPU
from grader.catalog import get_exercise
from grader.isolation import run_isolated
from grader.loading import from_folder
from grader.runner import checks_for, grade_exercise
from grader.stubs import strip_solutions

HAS_TRITON = importlib.util.find_spec("triton") is not None
needs_triton = pytest.mark.skipif(
    not HAS_TRITON, reason="triton is not installed: pip install 'ropekit[gpu]'"
)

LAUNCH = """    rope_qk_kernel[grid](
        q, k, q_out, k_out, positions, inv_freq,
        T, HQ, HK, D // 2,
        *q.stride(), *k.stride(), *q_out.stride(), *k_out.stride(),
        sp_b, positions.stride(1),
        INTERLEAVED=interleaved, **config,
    )  # fmt: skip
"""
ANGLE = "angle = m[:, None] * theta[None, :]  # [BT, BI]"
POSITIONS = "m = tl.load(pos_ptr + b * sp_b + t * sp_t, mask=t < T, other=0).to(tl.float32)"

# (wrong version, replacements in solutions/rope_triton.py, check that must fail, words its message must hold)
MISTAKES = [
    (
        "only q rotated (k returned as it came)",
        [
            ("k_out = k if inplace else torch.empty_like(k)", "k_out = k if inplace else k.clone()"),
            (
                'n_h_blocks = -(-HQ // config["BLOCK_H"]) + -(-HK // config["BLOCK_H"])',
                'n_h_blocks = -(-HQ // config["BLOCK_H"])',  # every q head block, no k block
            ),
        ],
        "q AND k rotated",
        "k is returned unrotated",
    ),
    (
        "sin sign swapped (rotation the wrong way)",
        [
            ("out1 = x1 * cos - x2 * sin", "out1 = x1 * cos + x2 * sin"),
            ("out2 = x2 * cos + x1 * sin", "out2 = x2 * cos - x1 * sin"),
        ],
        "q AND k rotated",
        "wrong way",
    ),
    (
        "interleaved ignored (half-split always)",
        [("if INTERLEAVED:", "if False:")],
        "adjacent pairs",
        "rotates half-split pairs",
    ),
    (
        "adjacent pairs when half-split is asked",
        [("if INTERLEAVED:", "if not INTERLEAVED:")],
        "q AND k rotated",
        "rotates adjacent pairs",
    ),
    (
        "angles rounded to bf16",
        [(ANGLE, "angle = (m[:, None] * theta[None, :]).to(tl.bfloat16).to(tl.float32)")],
        "angles precise at positions ~60 000",
        "low precision",
    ),
    (  # via float32: the interpreter (triton 3.9) casts int64 to bf16 by reinterpreting bits
        "positions rounded to q's dtype",
        [
            (
                POSITIONS,
                POSITIONS.replace(
                    ".to(tl.float32)", ".to(tl.float32).to(q_ptr.dtype.element_ty).to(tl.float32)"
                ),
            )
        ],
        "angles precise at positions ~60 000",
        "low precision",
    ),
    (
        "strides ignored (q and k assumed contiguous)",
        [
            (
                "*q.stride(), *k.stride(), *q_out.stride(), *k_out.stride(),",
                "*q.contiguous().stride(), *k.contiguous().stride(), *q_out.contiguous().stride(), "
                "*k_out.contiguous().stride(),",
            )
        ],
        "non-contiguous q and k",
        "through the strides",
    ),
    (
        ".contiguous() copies (in place rotates the copy)",
        [("    if triton is None:\n", "    q, k = q.contiguous(), k.contiguous()\n    if triton is None:\n")],
        "inplace=True",
        "unchanged",
    ),
    (
        "inplace ignored",
        [
            ("q_out = q if inplace else torch.empty_like(q)", "q_out = torch.empty_like(q)"),
            ("k_out = k if inplace else torch.empty_like(k)", "k_out = torch.empty_like(k)"),
        ],
        "inplace=True",
        "unchanged",
    ),
    (
        "positions [B, T]: row 0 for every sequence",
        [("sp_b = positions.stride(0) if positions.shape[0] > 1 else 0", "sp_b = 0")],
        "positions [B, T]",
        "row b of positions",
    ),
    (
        "block over d/2 pairs not a power of two",
        [("block_half = 1 << max(half - 1, 0).bit_length()", "block_half = half")],
        "head dims that are not a power of two",
        "next_power_of_2",
    ),
    ("q and k in two launches", [(LAUNCH, LAUNCH + LAUNCH)], "q and k in ONE", "launched 2 Triton kernels"),
    (
        "q_out and k_out returned swapped",
        [("    return q_out, k_out\n    ### END SOLUTION", "    return k_out, q_out\n    ### END SOLUTION")],
        "q AND k rotated",
        "swapped",
    ),
    (
        "float32 outputs for bf16 inputs",
        [
            (
                "q_out = q if inplace else torch.empty_like(q)",
                "q_out = torch.empty_like(q, dtype=torch.float32)",
            )
        ],
        "random q, k",
        "keep q's dtype",
    ),
    (
        "base ignored",
        [("rope_inv_freq(D, float(base), q.device)", "rope_inv_freq(D, 10000.0, q.device)")],
        "angles m * theta_i",
        "`base` argument is ignored",
    ),
    (
        "odd d accepted",
        [("if D % 2 != 0:", "if False:")],
        "ValueError for odd d",
        "odd d 7: expected ValueError",
    ),
]


def _grade(tmp_path, source: str):
    (tmp_path / "rope_triton.py").write_text(source, encoding="utf-8")
    return grade_exercise(get_exercise("rope_triton"), from_folder(tmp_path))


@needs_triton
def test_reference_solution_passes_every_check(tmp_path):
    result = _grade(tmp_path, solution_source("rope_triton"))
    assert result.all_passed, [(c.name, c.message) for c in result.checks if not c.passed]
    assert result.score == get_exercise("rope_triton").points


@needs_triton
def test_stub_fails_every_check(tmp_path):
    result = _grade(tmp_path, strip_solutions(solution_source("rope_triton")))
    assert result.passed == 0, [c.name for c in result.checks if c.passed]


@needs_triton
@pytest.mark.parametrize("name, replacements, check_name, words", MISTAKES, ids=[m[0] for m in MISTAKES])
def test_mistake_is_caught(tmp_path, name, replacements, check_name, words):
    """Runs only the check meant for the mistake (isolated as in grading): the whole file stays fast."""
    (tmp_path / "rope_triton.py").write_text(mutate(solution_source("rope_triton"), replacements))
    exercise, impl = get_exercise("rope_triton"), from_folder(tmp_path)
    selected = [c for c in checks_for(exercise) if c.name.startswith(check_name)]
    assert len(selected) == 1, f"no single check named '{check_name}...'"
    (outcome,) = run_isolated(lambda: impl.load("rope_triton"), selected, time_limit=exercise.time_limit)
    assert not outcome.passed, f"check '{selected[0].name}' passed the wrong version"
    assert words in outcome.message, f"message does not name the mistake: {outcome.message!r}"


@needs_triton
def test_hf_style_float32_theta_is_accepted(tmp_path):
    """theta in float32 as Hugging Face computes it (1 / base ** (arange / d)): float32 angles, full marks."""
    hf_theta = "1.0 / (base ** (torch.arange(0, D, 2, dtype=torch.int64).float().to(q.device) / D))"
    source = mutate(solution_source("rope_triton"), [("rope_inv_freq(D, float(base), q.device)", hf_theta)])
    result = _grade(tmp_path, source)
    assert result.all_passed, [(c.name, c.message) for c in result.checks if not c.passed]


def test_without_triton_every_check_fails_saying_so(tmp_path, monkeypatch):
    """No triton: the reference itself scores 0, each check saying how to install triton."""
    monkeypatch.setitem(
        sys.modules, "triton", None
    )  # `import triton` raises ImportError, here and in the child
    result = _grade(tmp_path, solution_source("rope_triton"))
    assert result.passed == 0
    assert all(c.message == checks.TRITON_MISSING for c in result.checks), [c.message for c in result.checks]


def test_module_imports_without_triton():
    code = (
        "import sys; sys.modules['triton'] = None\n"
        "import torch, solutions.rope_triton as m\n"
        "q = torch.zeros(1, 1, 2, 4)\n"
        "try:\n    m.apply_rope_qk(q, q, torch.arange(2))\nexcept ImportError as e:\n    print('IMPORT', e)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "IMPORT triton is not installed: pip install 'ropekit[gpu]'" in done.stdout


@needs_triton
def test_reference_agrees_with_the_cpu_reference():
    """The Triton kernel (interpreted) equals solutions/rope.py's apply_rope, GQA, both layouts, bf16."""
    import solutions.rope as rope
    import solutions.rope_triton as fused

    g = torch.Generator().manual_seed(0)
    positions = torch.tensor([[0, 5, 9, 4000, 60000], [1, 2, 3, 4, 5]])  # [B, T]
    for dtype in (torch.float32, torch.bfloat16):
        for interleaved in (False, True):
            q = torch.randn(2, 4, 5, 32, generator=g).to(dtype)
            k = torch.randn(2, 2, 5, 32, generator=g).to(dtype)
            q_out, k_out = fused.apply_rope_qk(q, k, positions, interleaved=interleaved)
            for out, x in ((q_out, q), (k_out, k)):
                expected = rope.apply_rope(x.double(), positions[:, None, :], interleaved=interleaved)
                assert out.dtype == dtype
                torch.testing.assert_close(out.double(), expected, rtol=0.02, atol=0.03)


def test_gpu_benchmark_says_it_needs_cuda():
    if torch.cuda.is_available():
        pytest.skip("a GPU is present: the benchmark would run")
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "gpu_rope.py"), "--json", "/dev/null"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "needs a CUDA GPU" in done.stderr
