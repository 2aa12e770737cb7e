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

import contextlib
import json
import tempfile
from pathlib import Path

from .catalog import get_exercise


class AutogradeError(Exception):
    """A one-line reason the course or a submission could not be graded."""


def _cells(path: Path) -> list:
    from ._nbformat import load_nbformat

    nbformat = load_nbformat()
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


def autograde(
    course: Path,
    assignment: str,
    students: list[str] | None = None,
    *,
    jobs: int = 1,
    shard: tuple[int, int] | None = None,
) -> list[dict]:
    """Grade every collected submission of `assignment` (or only `students`); returns one dict each,
    printed as one JSON line each in the order of the students' ids.

    jobs > 1: that many workers forked from this warm process grade the students (grader/batch.py
    grade_in_workers); the gradebook is written here only, one student at a time. shard=(I, N): only
    shard I (1-based) of N of the sorted students, and nothing is written into the gradebook (many
    machines must not write one SQLite file): `ropekit classroom merge --course` writes the shards'
    scores. A notebook that cannot be read or graded gives that student a line with "error" (every
    check failed, nothing written for them); the others go on."""
    from ._nbformat import load_nbformat

    load_nbformat()  # before nbgrader imports it (see grader/_nbformat.py)

    from .batch import grade_in_workers, take_shard
    from .loading import from_folder
    from .runner import checks_for, failed_result, grade_exercise, warm_up

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
    total = len(chosen)
    chosen = take_shard(chosen, shard)
    lines: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="ropekit-autograde-") as scratch:

        def impl(student: str):
            return from_folder(Path(scratch) / student, label=f"{student}/{assignment}")

        def work(student: str) -> dict:
            notebook = submitted_root / student / assignment / f"{assignment}.ipynb"
            folder = Path(scratch) / student
            folder.mkdir()
            text = module_source(source_cells, _cells(notebook), assignment)
            (folder / f"{exercise.module}.py").write_text(text, encoding="utf-8")
            return {"student": student, **grade_exercise(exercise, impl(student)).to_dict()}

        def on_error(student: str, reason: str) -> dict:
            return {
                "student": student,
                "error": reason,
                **failed_result(exercise, impl(student), reason).to_dict(),
            }

        def prepare() -> None:
            warm_up()
            checks_for(exercise)

        with contextlib.ExitStack() as stack:
            gradebook = None if shard else stack.enter_context(open_gradebook(course))

            def emit(_: int, line: dict) -> None:
                if shard:
                    line["shard"] = {"index": shard[0], "count": shard[1], "total": total}
                elif "error" not in line:
                    record_scores(gradebook, assignment, line["student"], line["checks"])
                lines.append(line)
                print(json.dumps(line), flush=True)

            grade_in_workers(chosen, work, on_error, emit, jobs=jobs, prepare=prepare)
    return lines


@contextlib.contextmanager
def open_gradebook(course: Path):
    """The course's nbgrader gradebook (its nbgrader_config.py read, as nbgrader would)."""
    from ._nbformat import load_nbformat

    load_nbformat()  # before nbgrader imports it (see grader/_nbformat.py)
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    config_file = course / "nbgrader_config.py"
    config = (
        PyFileConfigLoader(config_file.name, path=str(course)).load_config()
        if config_file.is_file()
        else Config()
    )
    extra = Config()
    extra.CourseDirectory.root = str(course)
    config.merge(extra)
    with NbGraderAPI(config=config).gradebook as gradebook:
        yield gradebook


def record_scores(gradebook, assignment: str, student: str, checks: list[dict]) -> None:
    """Write one student's check results ({"passed", "points"}, in order) into the autograder cells
    `<assignment>-check-NN` of the gradebook, and commit."""
    try:
        gradebook.find_submission(assignment, student)
    except Exception:  # noqa: BLE001 - nbgrader raises MissingEntry
        gradebook.add_submission(assignment, student)
    for i, check in enumerate(checks):
        grade = gradebook.find_grade(f"{assignment}-check-{i:02d}", assignment, assignment, student)
        grade.auto_score = float(check["points"] if check["passed"] else 0)
    gradebook.db.commit()


_SHARD = ("index", "count", "total")


def _name(line: dict):
    """Whose result a line is: "submission" (grade --submissions) or "student" (classroom autograde)."""
    return line.get("submission", line.get("student"))


def read_shards(paths: list[Path]) -> list[dict]:
    """The JSON lines that shards printed (`ropekit grade --submissions ... --shard I/N` or
    `ropekit classroom autograde ... --shard I/N`), checked and joined: sorted by submission (or
    student) name, the "shard" key dropped, so the result equals one run over the whole folder.

    AutogradeError (nothing is written) for a line that is not a result, a submission in two lines
    (two shards, or one shard's output given twice), shards that saw different folders, and a shard
    with fewer lines than its share (it did not finish, or its file is missing)."""
    seen: dict[str, str] = {}
    lines, shards = [], {}
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise AutogradeError(f"{path}: {exc.strerror or exc}") from None
        for number, raw in enumerate(text.splitlines(), start=1):
            if not raw.strip():
                continue
            where = f"{path}:{number}"
            try:
                line = json.loads(raw)
            except ValueError:
                line = None
            name = _name(line) if isinstance(line, dict) else None
            if not isinstance(name, str):
                raise AutogradeError(
                    f"{where}: not a result line of `ropekit grade --submissions` or autograde"
                )
            if name in seen:
                raise AutogradeError(
                    f"{name!r} is graded twice ({seen[name]} and {where}): give each shard's output once; "
                    "nothing written"
                )
            seen[name] = where
            shard = line.pop("shard", None)
            if shard is not None:
                index, count, total = (shard.get(k) if isinstance(shard, dict) else None for k in _SHARD)
                if not all(type(v) is int for v in (index, count, total)):
                    raise AutogradeError(f'{where}: "shard" is not {{"index", "count", "total"}}')
                shards.setdefault((count, total), {}).setdefault(index, []).append(name)
            lines.append(line)
    if len(shards) > 1:
        found = ", ".join(f"{count} shards of {total}" for count, total in sorted(shards))
        raise AutogradeError(f"the shards do not agree on the folder they split ({found}); nothing written")
    for (count, total), graded in shards.items():
        for index in range(1, count + 1):
            share = len(range(index - 1, total, count))
            got = len(graded.get(index, []))
            if got < share:
                raise AutogradeError(
                    f"shard {index}/{count} has {got} of its {share} submissions (not finished, or its "
                    "output not given); nothing written"
                )
    return sorted(lines, key=_name)


def merge(out: Path, paths: list[Path], course: Path | None = None, assignment: str | None = None) -> dict:
    """Join the shards' lines into one report {"count", "submissions": [line, ...]} written to `out`;
    with `course` and `assignment`, also write each submission's scores into the gradebook as
    `autograde` does (a line with "error" is left out of the gradebook and named on stderr)."""
    import sys

    from .files import atomic_write

    lines = read_shards(paths)
    checks = {}
    if course is not None:
        get_exercise(assignment)
        for line in lines:
            name = _name(line)
            if "exercises" in line:  # from `ropekit grade --submissions`: this assignment's exercise
                entry = next((e for e in line["exercises"] if e.get("id") == assignment), None)
                if entry is None:
                    raise AutogradeError(f"{name!r} has no result for {assignment}; nothing written")
                checks[name] = entry["checks"]
            else:
                checks[name] = line["checks"]
    report = {"count": len(lines), "submissions": lines}
    try:
        atomic_write(Path(out), json.dumps(report, ensure_ascii=False, indent=1) + "\n")
    except OSError as exc:
        raise AutogradeError(f"{out}: {exc.strerror or exc}") from None
    if course is not None:
        with open_gradebook(Path(course).resolve()) as gradebook:
            for line in lines:
                name = _name(line)
                if "error" in line:
                    print(
                        f"ropekit: {name}: not written into the gradebook: {line['error']}", file=sys.stderr
                    )
                    continue
                record_scores(gradebook, assignment, name, checks[name])
    return report


def _released(cell):
    """A source cell as the student received it: solution blocks stubbed out."""
    from .stubs import strip_solutions

    if cell.cell_type == "code" and cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
        cell = cell.copy()
        cell.source = strip_solutions(cell.source)
    return cell
