"""Messages name a cause only when the output shows it.

Each case is a reference solution with one mistake that an earlier grader answered with the wrong cause
(a wrong exponent called "low precision", an inverse permutation called "the batch axis", cache
positions off by one called "restart at 0", ...). Every failing message must keep clear of the wrong
cause, and the mistake must still be found, named or described.
"""

from __future__ import annotations

import shutil

import pytest
from conftest import ROOT, mutate, solution_source

from grader.catalog import get_exercise
from grader.loading import from_folder
from grader.runner import grade_exercise

# (exercise, what is wrong, replacements in its solution, words no failing message may hold,
#  words some failing message must hold)
CASES = [
    (
        "rope",
        "exponent -i/d, computed in float64",
        [
            ("arange(0, dim, 2, dtype=torch.float64", "arange(0, dim // 2, dtype=torch.float64"),
            ("arange(0, r, 2, dtype=torch.float64", "arange(0, r // 2, dtype=torch.float64"),
        ],
        ["low precision"],
        "exponent is -2i/d",
    ),
    (
        "rope",
        "pass-through features zeroed",
        [("torch.cat((out, x[..., r:]), dim=-1)", "torch.cat((out, torch.zeros_like(x[..., r:])), dim=-1)")],
        ["rotary_dim ignored", "is rotary_dim ignored"],
        "come out as zeros",
    ),
    (
        "attention",
        "output shuffled by the inverse permutation",
        [
            (
                "shuffled_after = layer(x)[..., perm, :]",
                "shuffled_after = layer(x)[..., torch.argsort(perm), :]",
            )
        ],
        ["batch axis"],
        "shuffle the unshuffled run's output by the same perm",
    ),
    (
        "transformer",
        "cache positions off by one (P + 1, ...)",
        [
            (
                "positions = torch.arange(past, past + T, device=x.device)",
                "positions = torch.arange(past + (past > 0), past + (past > 0) + T, device=x.device)",
            ),
            (
                "positions = torch.arange(past, past + T, device=idx.device)",
                "positions = torch.arange(past + (past > 0), past + (past > 0) + T, device=idx.device)",
            ),
        ],
        ["restart at 0"],
        "off by one (they are P + 1",
    ),
    (
        "transformer",
        "heads merged without the transpose",
        [("y = y.transpose(1, 2).reshape(B, T, C)", "y = y.reshape(B, T, C)")],
        ["causal mask", "look at add"],
        "heads are merged along the wrong axis",
    ),
    (
        "transformer",
        "RoPE inside attention with the other pair layout",
        [
            (
                "q = apply_rope(q, pos, base=self.rope_base)",
                "q = apply_rope(q, pos, base=self.rope_base, interleaved=True)",
            ),
            (
                "k = apply_rope(k, pos, base=self.rope_base)",
                "k = apply_rope(k, pos, base=self.rope_base, interleaved=True)",
            ),
        ],
        ["keys are not rotated", "must hold the keys already rotated"],
        "half-split",
    ),
    (
        "transformer",
        "sinusoidal table not added",
        [
            (
                'table = self.pos_emb(positions) if scheme == "learned" else self.pos_table[positions]',
                'table = self.pos_emb(positions) if scheme == "learned" else 0.0 * self.pos_table[positions]',
            )
        ],
        ["look at add"],
        "this run depends on the rows of your sinusoidal_encoding",
    ),
    (
        "long_context",
        "decay bound ignores base",
        [
            (
                "theta = base ** (-torch.arange(0, dim, 2, dtype=torch.float64) / dim)  # [dim/2]\n    r = ",
                "theta = 1e4 ** (-torch.arange(0, dim, 2, dtype=torch.float64) / dim)  # [dim/2]\n    r = ",
            )
        ],
        ["could not be checked", "did not match"],
        "`base` argument is ignored",
    ),
]


def _grade(tmp_path, exercise_id: str, source: str):
    for module in (ROOT / "solutions").glob("*.py"):
        shutil.copy(module, tmp_path / module.name)
    (tmp_path / f"{get_exercise(exercise_id).module}.py").write_text(source, encoding="utf-8")
    return grade_exercise(get_exercise(exercise_id), from_folder(tmp_path))


@pytest.mark.parametrize(
    ("exercise", "what", "replacements", "never", "named"), CASES, ids=[c[1] for c in CASES]
)
def test_no_message_names_a_cause_the_output_does_not_show(
    tmp_path, exercise, what, replacements, never, named
):
    result = _grade(tmp_path, exercise, mutate(solution_source(exercise), replacements))
    failed = {c.name: c.message for c in result.checks if not c.passed}
    assert failed, f"{what}: full marks"
    for name, message in failed.items():
        for words in never:
            assert words not in message, f"{what}: check {name!r} says {message!r}"
    assert any(named in message for message in failed.values()), (what, failed)


def test_the_odd_dim_of_yarn_fails_only_the_value_error_check(tmp_path):
    source = mutate(
        solution_source("long_context"),
        [
            (
                '    if dim % 2 != 0:\n        raise ValueError(f"dim must be even, got {dim}")\n    if not',
                "    if not",
            )
        ],
    )
    result = _grade(tmp_path, "long_context", source)
    assert [c.name for c in result.checks if not c.passed] == ["ValueError for every documented bad argument"]


def test_rotary_dim_zero_is_left_open(tmp_path):
    """The docstring lets rotary_dim=0 rotate nothing: a version that accepts it keeps full marks."""
    source = mutate(solution_source("rope"), [("if not 0 < r <= dim:", "if not 0 <= r <= dim:")])
    result = _grade(tmp_path, "rope", source)
    assert result.all_passed, [c.message for c in result.checks if not c.passed]
