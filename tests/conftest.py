"""Shared helpers: a private copy of the workspace, the real CLI as a subprocess, wrong versions."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WRONG = Path(__file__).resolve().parent / "wrong"

# The tests read the kit's English texts, whatever the machine's locale (tests/test_i18n.py sets zh)
os.environ["ROPEKIT_LANG"] = "en"


def solution_source(module: str) -> str:
    return (ROOT / "solutions" / f"{module}.py").read_text(encoding="utf-8")


def mutate(source: str, replacements: list[tuple[str, str]]) -> str:
    """Apply (old, new) text replacements; each `old` must occur in the source."""
    for old, new in replacements:
        assert old in source, f"mutation target not found: {old!r}"
        source = source.replace(old, new)
    return source


def grade_wrong(folder: Path, exercise_id: str, source: str):
    """Grade `source` as the learner's module of `exercise_id`, from `folder`, as a learner would be."""
    from grader.catalog import get_exercise
    from grader.loading import from_folder
    from grader.runner import grade_exercise

    (folder / f"{get_exercise(exercise_id).module}.py").write_text(source, encoding="utf-8")
    return grade_exercise(get_exercise(exercise_id), from_folder(folder))


def assert_caught(result, check_name: str, words: str) -> None:
    """The check whose name starts with `check_name` failed, and its message contains `words`."""
    failed = {c.name: c.message for c in result.checks if not c.passed}
    assert failed, "the wrong version passed every check"
    matching = [name for name in failed if name.startswith(check_name)]
    assert matching, f"check '{check_name}...' passed; failures: {failed}"
    assert words in failed[matching[0]], f"message does not name the mistake: {failed[matching[0]]!r}"


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """A copy of exercises/ and solutions/ in tmp_path; ROPEKIT_ROOT points the kit at it."""
    for folder in ("exercises", "solutions"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setenv("ROPEKIT_ROOT", str(tmp_path))
    return tmp_path


def ropekit(
    *args: str, root: Path, stdin: str = "", timeout: float = 120, env: dict | None = None
) -> subprocess.CompletedProcess:
    """Run the real `ropekit` console script (`env` adds variables)."""
    env = {**os.environ, "ROPEKIT_ROOT": str(root), "COLUMNS": "160", "NO_COLOR": "1", **(env or {})}
    exe = Path(sys.executable).with_name("ropekit")
    return subprocess.run(
        [str(exe), *args], input=stdin, capture_output=True, text=True, env=env, timeout=timeout
    )


def ropekit_json(*args: str, root: Path) -> tuple[int, dict]:
    done = ropekit(*args, "--json", root=root)
    return done.returncode, json.loads(done.stdout)
