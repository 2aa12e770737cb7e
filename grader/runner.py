"""Grade exercises: catalog entry + implementation -> isolated checks -> ExerciseResult."""

from __future__ import annotations

import importlib
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .catalog import Exercise
from .checking import GRADING_STATE, Check, checks_of, same_cause
from .isolation import run_isolated
from .loading import Implementation


@dataclass
class CheckResult:
    name: str
    passed: bool
    points: int
    message: str
    output: str = field(default="", repr=False)  # what the learner's code printed during the check


@dataclass
class ExerciseResult:
    id: str
    checks: list[CheckResult]
    duration: float = 0.0
    code_hash: str | None = None
    source: str = ""
    skipped: str | None = None  # why the exercise was not graded (a missing optional package)
    import_error: str | None = None  # why the learner's module did not import (then no check ran)
    max_score: int = field(init=False)

    def __post_init__(self) -> None:
        self.max_score = sum(c.points for c in self.checks)

    @property
    def score(self) -> int:
        return sum(c.points for c in self.checks if c.passed)

    @property
    def passed(self) -> int:
        return sum(c.passed for c in self.checks)

    @property
    def total(self) -> int:
        return len(self.checks)

    @property
    def all_passed(self) -> bool:
        """True when no check failed (a skipped exercise has no failing check)."""
        return self.passed == self.total

    def to_data(self) -> dict:
        """Every field as plain JSON data, for a result that crosses from a grading worker."""
        data = asdict(self)
        del data["max_score"]  # recomputed from the checks
        return data

    @classmethod
    def from_data(cls, data: dict) -> ExerciseResult:
        return cls(**{**data, "checks": [CheckResult(**c) for c in data["checks"]]})

    def to_dict(self) -> dict:
        extra = {"skipped": self.skipped} if self.skipped else {}
        if self.import_error:
            extra["import_error"] = self.import_error
        return {
            "id": self.id,
            **extra,
            "score": self.score,
            "max_score": self.max_score,
            "passed": self.passed,
            "total": self.total,
            "checks": [{k: v for k, v in asdict(c).items() if k != "output"} for c in self.checks],
        }


def visible(text: str) -> str:
    """Learner-supplied text made safe for a terminal and a report: control characters (an escape
    sequence that would clear the screen) and unpaired surrogates are shown as escapes."""
    out = []
    for ch in text:
        code = ord(ch)
        if (code < 32 and ch != "\t") or 0x7F <= code < 0xA0 or 0xD800 <= code < 0xE000:
            out.append(ch.encode("unicode_escape", "backslashreplace").decode("ascii"))
        else:
            out.append(ch)
    return "".join(out)


def _visible_lines(text: str) -> str:
    """`visible`, keeping the line breaks (a syntax error's caret line, printed output)."""
    return "\n".join(visible(line) for line in text.splitlines())


def _import_error(outcomes: list) -> str | None:
    if not outcomes or not outcomes[0].import_failed:
        return None
    text = outcomes[0].message
    return _visible_lines(text[len("import failed: ") :] if text.startswith("import failed: ") else text)


def checks_for(exercise: Exercise) -> list[Check]:
    return checks_of(importlib.import_module(exercise.checks_module))


def declared_checks(exercise: Exercise) -> list[tuple[str, int]]:
    """(name, points) of the exercise's checks, in order, read from the `@check(points, "name")` lines
    of grader/checks/<module>.py without importing it (it imports torch); a module whose checks are
    built at import (the quiz's, from grader/quiz.toml: no torch) is imported."""
    import ast

    path = Path(__file__).with_name("checks") / f"{exercise.module}.py"
    declared = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        for decorator in getattr(node, "decorator_list", []):
            if (
                isinstance(decorator, ast.Call)
                and getattr(decorator.func, "id", None) == "check"
                and len(decorator.args) == 2
                and all(isinstance(a, ast.Constant) for a in decorator.args)
            ):
                points, name = (a.value for a in decorator.args)
                declared.append((name, points))
    return declared or [(c.name, c.points) for c in checks_for(exercise)]


def warm_up(exercises=()) -> None:
    """Import what every child needs once, in the grader, so that forked children start warm; and the
    checks of `exercises` (those whose requirements are present), before grading workers are forked."""
    import numpy  # noqa: F401
    import torch  # noqa: F401

    from .i18n import translation

    translation()  # the learner's language's catalog, read before children fork (and their guard starts)
    for exercise in exercises:
        if not exercise.missing_requirements():
            checks_for(exercise)


def guard_for(exercise: Exercise, impl: Implementation):
    """The file-system rules of the child while grading `impl` (see grader/guard.py)."""
    from .catalog import KIT_ROOT, workspace_root
    from .guard import Guard

    grader_dir = Path(__file__).resolve().parent
    # not grader/checks: torch formats stack traces through the checks' probes (linecache reads them),
    # and the verdict no longer depends on the checks being unseen
    no_read = {grader_dir / "fixtures", KIT_ROOT / "solutions", workspace_root() / "solutions"}
    if impl.folder is not None:
        no_read.discard(impl.folder)  # grading the solutions themselves
    # the kit's own folders and the progress store; not the repository root, where tools such as
    # Triton's compiler may drop build files when it is the working directory
    no_write = {
        root / name
        for root in (KIT_ROOT, workspace_root())
        for name in ("grader", "solutions", "exercises", "notebooks", "tests", ".ropekit")
    }
    return Guard(sorted(no_read), sorted(no_write))


def grade_exercise(
    exercise: Exercise, impl: Implementation, *, time_limit: float | None = None, fail_fast: bool = False
) -> ExerciseResult:
    missing = exercise.missing_requirements()
    if missing:
        reason = f"skipped: needs {', '.join(missing)} (pip install 'ropekit[gpu]')"
        return ExerciseResult(id=exercise.id, checks=[], source=impl.label, skipped=reason)
    warm_up()
    checks = checks_for(exercise)
    GRADING_STATE.clear()
    started = time.perf_counter()
    outcomes = run_isolated(
        lambda: impl.load(exercise.module),
        checks,
        time_limit=time_limit or exercise.time_limit,
        guard=guard_for(exercise, impl),
        fail_fast=fail_fast,
        limit_memory=not exercise.gpu,
        spec=(impl, exercise.module),
    )
    messages = same_cause(
        [c.name for c in checks], [o.message for o in outcomes], [o.cause for o in outcomes]
    )
    return ExerciseResult(
        id=exercise.id,
        checks=[
            CheckResult(c.name, o.passed, c.points, visible(message), _visible_lines(o.output))
            for c, o, message in zip(checks, outcomes, messages, strict=True)
        ],
        import_error=_import_error(outcomes),
        duration=time.perf_counter() - started,
        code_hash=impl.code_hash(exercise.module),
        source=impl.label,
    )


def failed_result(exercise: Exercise, impl: Implementation, reason: str) -> ExerciseResult:
    """An exercise that could not be graded: every check failed with `reason` (worth its points)."""
    if exercise.missing_requirements():
        return grade_exercise(exercise, impl)  # skipped, as when graded
    checks = [CheckResult(c.name, False, c.points, visible(reason)) for c in checks_for(exercise)]
    return ExerciseResult(id=exercise.id, checks=checks, source=impl.label)
