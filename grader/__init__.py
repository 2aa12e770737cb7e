"""ropekit's autograder: catalog -> load implementation -> run hidden checks in isolation -> report.

In a notebook: `from grader import check; check("rope")`; `set_language("zh")` shows every text of
the kit in Chinese from then on (`"en"`: English).
"""

from __future__ import annotations


def check(exercise_id: str, namespace: dict | None = None, *, record: bool = True):
    """Grade one exercise from a notebook; returns a result that renders as a table."""
    from .notebook import check as _check

    return _check(exercise_id, namespace, record=record)


def set_language(lang: str) -> str:
    """Show every text of the kit in `lang` ("zh" or "en") from now on; returns the language set."""
    from .i18n import set_language as _set_language

    return _set_language(lang)


def run_checks(exercise_id: str, namespace: dict):
    """Grade the names defined in `namespace` (nbgrader cells); raises AssertionError if any check fails."""
    from .notebook import run_checks as _run_checks

    return _run_checks(exercise_id, namespace)


def load(exercise_id: str):
    """A fresh import of your exercises/<module>.py (re-run the cell after editing the file).

    In IPython, a call to a function you have not written yet then shows one line, not a traceback, and
    the cell counts as run, so "Run All" goes on to the next cell.
    """
    from .catalog import get_exercise
    from .loading import learner_exercises
    from .notebook import show_unfinished_in_one_line

    show_unfinished_in_one_line()
    return learner_exercises().load(get_exercise(exercise_id).module, fresh=True)


__all__ = ["check", "load", "run_checks", "set_language"]
