"""`ropekit classroom autograde COURSE ASSIGNMENT`: grades no notebook can forge, into nbgrader's gradebook.

nbgrader's own autograde runs the hidden test cells in the student's kernel, after the student's
cells: a student cell can replace `run_check` (or anything else) and every check passes. Here the
student's notebook is never executed. From each collected notebook the solution cells are taken
(read-only cells come from the teacher's source notebook, as nbgrader restores them), joined into the
exercise's module in a private folder, and graded by the trusted judge exactly as `ropekit check`
grades a file. The score of each autograder cell (`<exercise>-check-NN`) is written into the
gradebook through nbgrader's API; one JSON line per submission is printed.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from .catalog import get_exercise


class AutogradeError(Exception):
    """A one-line reason the course or a submission could not be graded."""


def _cells(path: Path) -> list:
    import nbformat

    try:
        return nbformat.read(path, as_version=4).cells
    except (OSError, ValueError) as exc:
        raise AutogradeError(f"{path}: not a readable notebook ({exc})") from None


def _grade_id(cell) -> str:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")


def module_source(source_cells: list, submitted_cells: list, exercise_id: str) -> str:
    """The exercise's module as the student completed it: the source notebook's code cells in order,
    each solution cell replaced by the student's cell of the same grade id (a missing one stays the
    stub); no self-check and no autograder cell."""
    submitted = {_grade_id(c): c.source for c in submitted_cells if c.cell_type == "code" and _grade_id(c)}
    parts = []
    for cell in source_cells:
        grade_id = _grade_id(cell)
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code" or grade_id.startswith(f"{exercise_id}-check-"):
            continue
        if grade_id == f"{exercise_id}-self-check":
            continue
        parts.append(submitted.get(grade_id, cell.source) if meta.get("solution") else cell.source)
    return "\n\n".join(parts) + "\n"


def autograde(course: Path, assignment: str, students: list[str] | None = None) -> list[dict]:
    """Grade every collected submission of `assignment` (or only `students`); returns one dict each."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    from .loading import from_folder
    from .runner import grade_exercise

    course = Path(course).resolve()
    exercise = get_exercise(assignment)
    source = course / "source" / assignment / f"{assignment}.ipynb"
    if not source.is_file():
        raise AutogradeError(f"{source} does not exist: run `ropekit classroom export` first")
    source_cells = [_released(c) for c in _cells(source)]
    submitted_root = course / "submitted"
    found = sorted(p.parent.parent.name for p in submitted_root.glob(f"*/{assignment}/{assignment}.ipynb"))
    chosen = [s for s in found if not students or s in students]
    missing = sorted(set(students or []) - set(found))
    if missing:
        raise AutogradeError(
            f"no collected {assignment} notebook for {', '.join(missing)} in {submitted_root}"
        )
    config_file = course / "nbgrader_config.py"
    config = (
        PyFileConfigLoader(config_file.name, path=str(course)).load_config()
        if config_file.is_file()
        else Config()
    )
    extra = Config()
    extra.CourseDirectory.root = str(course)
    config.merge(extra)
    api = NbGraderAPI(config=config)
    lines = []
    with tempfile.TemporaryDirectory(prefix="ropekit-autograde-") as scratch, api.gradebook as gradebook:
        for student in chosen:
            notebook = submitted_root / student / assignment / f"{assignment}.ipynb"
            folder = Path(scratch) / student
            folder.mkdir()
            text = module_source(source_cells, _cells(notebook), assignment)
            (folder / f"{exercise.module}.py").write_text(text, encoding="utf-8")
            result = grade_exercise(exercise, from_folder(folder, label=f"{student}/{assignment}"))
            try:
                gradebook.find_submission(assignment, student)
            except Exception:  # noqa: BLE001 - nbgrader raises MissingEntry
                gradebook.add_submission(assignment, student)
            for i, check in enumerate(result.checks):
                grade = gradebook.find_grade(f"{assignment}-check-{i:02d}", assignment, assignment, student)
                grade.auto_score = float(check.points if check.passed else 0)
            gradebook.db.commit()
            line = {"student": student, **result.to_dict()}
            lines.append(line)
            print(json.dumps(line), flush=True)
    return lines


def _released(cell):
    """A source cell as the student received it: solution blocks stubbed out."""
    from .stubs import strip_solutions

    if cell.cell_type == "code" and cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
        cell = cell.copy()
        cell.source = strip_solutions(cell.source)
    return cell
