"""ropekit's autograder: catalog -> load implementation -> run hidden checks in isolation -> report.

In a notebook: `from grader import check; check("rope")`.
"""

from __future__ import annotations


def check(exercise_id: str, namespace: dict | None = None, *, record: bool = True):
    """Grade one exercise from a notebook; returns a result that renders as a table."""
    from .notebook import check as _check

    return _check(exercise_id, namespace, record=record)


def run_checks(exercise_id: str, namespace: dict):
    """Grade the names defined in `namespace` (nbgrader cells); raises AssertionError if any check fails."""
    from .notebook import run_checks as _run_checks

    return _run_checks(exercise_id, namespace)


def load(exercise_id: str):
    """A fresh import of your exercises/<module>.py (re-run the cell after editing the file).

    In IPython, a call to a function you have not written yet then shows one line, not a traceback.
    """
    from .catalog import get_exercise
    from .loading import learner_exercises

    _short_not_implemented_in_ipython()
    return learner_exercises().load(get_exercise(exercise_id).module, fresh=True)


def _short_not_implemented_in_ipython() -> None:
    import sys

    if "IPython" not in sys.modules:
        return
    shell = sys.modules["IPython"].get_ipython()
    if shell is None:
        return

    def handler(shell, etype, value, tb, tb_offset=None):
        import traceback

        frame = traceback.extract_tb(tb)[-1]
        where = f"{frame.name}() in {frame.filename.rsplit('/', 1)[-1]}"
        print(f"Not implemented yet: {where}. Write it, save the file, then re-run this cell.")

    shell.set_custom_exc((NotImplementedError,), handler)


__all__ = ["check", "load", "run_checks"]
