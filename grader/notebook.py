"""`check("rope")` in a notebook: the same isolated grading, shown as a table."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from .catalog import get_exercise
from .i18n import tr
from .loading import from_namespace, learner_exercises
from .report import to_html, to_text
from .runner import ExerciseResult, grade_exercise
from .store import Store


@dataclass
class Verdict:
    result: ExerciseResult
    title: str
    next: str = ""  # after a pass: what comes next, one line

    def _repr_html_(self) -> str:
        html = to_html(self.result, self.title)
        return html + f"<div>{escape(self.next)}</div>" if self.next else html

    def __repr__(self) -> str:
        return to_text(self.result, self.title) + (f"\n{self.next}" if self.next else "")

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
            print(tr("progress not saved: {exc}", exc=exc))
    upcoming = _next_after(exercise.id) if record and namespace is None and result.all_passed else ""
    return Verdict(result, exercise.title, upcoming)


def _next_after(exercise_id: str) -> str:
    from .catalog import ALL_PASS, next_exercise, where_asked
    from .files import WorkspaceError

    try:
        solved = Store().solved() | {exercise_id}
    except WorkspaceError:
        solved = {exercise_id}
    upcoming = next_exercise(solved, after=exercise_id)
    if upcoming is None:
        return ALL_PASS
    return f"Next: {upcoming.id} ({where_asked(upcoming, short=True)})"


def run_checks(exercise_id: str, namespace: dict) -> Verdict:
    """For nbgrader's hidden test cells: raise AssertionError listing failed checks."""
    verdict = check(exercise_id, namespace, record=False)
    if not verdict.all_passed:
        failed = [f"{c.name}: {c.message}" for c in verdict.result.checks if not c.passed]
        raise AssertionError("\n".join(failed))
    return verdict


# An unwritten stub in a notebook: one line instead of a traceback, and "Run All" goes on.
#
# IPython hands a NotImplementedError to the custom handler (set_custom_exc) instead of printing a
# traceback, and records it in the cell's ExecutionResult.error_in_exec. ipykernel (ipkernel.py,
# do_execute) triggers the post_run_cell callbacks with that result and only then replies
# status = "ok" if result.success (no error_before_exec, no error_in_exec), else "error"; front ends
# stop "Run All" on "error". So the callback clears error_in_exec, for a stub's exception only.

_UNFINISHED = "_ropekit_unfinished_exercise"  # set on an exception the handler showed in one line


def show_unfinished_in_one_line() -> None:
    """In IPython: a cell stopped by an unwritten exercise prints one line and counts as run.

    Only a NotImplementedError raised in a file of exercises/ (directly, or through a sibling such as
    transformer.py calling an unwritten rope.py) counts; any other exception keeps its traceback and the
    cell still fails, so Run All stops on real bugs.
    """
    import sys

    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython else None
    if shell is None:
        return
    shell.set_custom_exc((NotImplementedError,), _one_line_if_unfinished)
    if _count_unfinished_as_run not in shell.events.callbacks["post_run_cell"]:
        shell.events.register("post_run_cell", _count_unfinished_as_run)


def unfinished_where(tb) -> str | None:
    """'apply_rope() in exercises/rope.py' if the traceback `tb` ends in a learner's exercise file."""
    from pathlib import Path

    folder = learner_exercises().folder
    frames = []
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    mine = [f for f in frames if Path(f.f_code.co_filename).resolve().parent == folder]
    if not frames or not mine or mine[-1] is not frames[-1]:
        return None  # raised outside exercises/ (torch, the notebook itself, nbgrader cells): a real error
    code = frames[-1].f_code
    where = f"{getattr(code, 'co_qualname', code.co_name)}() in exercises/{Path(code.co_filename).name}"
    caller = Path(mine[0].f_code.co_filename).name
    if caller != Path(code.co_filename).name:
        where += f" (your {caller} uses it)"
    return where


def _one_line_if_unfinished(shell, etype, value, tb, tb_offset=None):
    where = unfinished_where(tb)
    if where is None:
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        return None
    print(tr("Not implemented yet: {where}. Write it, save the file, then re-run this cell.", where=where))
    setattr(value, _UNFINISHED, True)
    import sys

    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None and "inline" in plt.get_backend():
        plt.close("all")  # the cell's half-drawn figures: inline closes every figure after a cell anyway
    return None


def _count_unfinished_as_run(result) -> None:
    """post_run_cell: a cell stopped only by an unwritten exercise replies "ok"."""
    if result is not None and getattr(result.error_in_exec, _UNFINISHED, False):
        result.error_in_exec = None
