"""`check("rope")` in a notebook: the same isolated grading, shown as a table."""

from __future__ import annotations

from dataclasses import dataclass

from .catalog import get_exercise
from .loading import from_namespace, learner_exercises
from .report import to_html, to_text
from .runner import ExerciseResult, grade_exercise
from .store import Store


@dataclass
class Verdict:
    result: ExerciseResult
    title: str

    def _repr_html_(self) -> str:
        return to_html(self.result, self.title)

    def __repr__(self) -> str:
        return to_text(self.result, self.title)

    @property
    def score(self) -> int:
        return self.result.score

    @property
    def all_passed(self) -> bool:
        return self.result.all_passed


def check(exercise_id: str, namespace: dict | None = None, *, record: bool = True) -> Verdict:
    """Grade exercises/<module>.py (or the functions in `namespace`) and return a table."""
    exercise = get_exercise(exercise_id)
    impl = learner_exercises() if namespace is None else from_namespace(namespace)
    if namespace is None:
        from .files import snapshot

        snapshot([impl.source_file(exercise.module)])
    result = grade_exercise(exercise, impl)
    if record and namespace is None:
        from .files import WorkspaceError

        try:
            Store().record_attempt(result)
        except WorkspaceError as exc:  # the verdict still shows
            print(f"progress not saved: {exc}")
    return Verdict(result, f"{exercise.title_en} / {exercise.title_zh}")


def run_checks(exercise_id: str, namespace: dict) -> Verdict:
    """For nbgrader's hidden test cells: raise AssertionError listing failed checks."""
    verdict = check(exercise_id, namespace, record=False)
    if not verdict.all_passed:
        failed = [f"{c.name}: {c.message}" for c in verdict.result.checks if not c.passed]
        raise AssertionError("\n".join(failed))
    return verdict
