"""Classroom mode: export the kit as an nbgrader course, and the runner its hidden test cells call.

`export(dest)` writes `dest/nbgrader_config.py` and `dest/source/<exercise id>/<exercise id>.ipynb`, one
nbgrader assignment per exercise (one notebook each: two exercises of the same kit notebook define the
same names, e.g. `apply_rope` in rope and rope_numpy, so they cannot share one namespace; and one
assignment per exercise makes the gradebook's maximum equal the catalog's points).

A notebook is built from `solutions/<module>.py`:

- the module docstring (the tutorial) becomes a markdown cell;
- each top-level definition becomes a code cell: an nbgrader solution cell when it holds a
  `### BEGIN SOLUTION` block (markers kept, so `nbgrader generate_assignment` strips the reference),
  otherwise a read-only cell;
- a sibling import (`from .rope import apply_rope` in transformer) is replaced by the sibling's own
  cells, as solution cells ("paste your solution of that assignment"), not graded again here;
- the quiz (module-level blocks, one per item) gets one solution cell per item; nbgrader turns each
  block into `raise NotImplementedError()` until the item is answered;
- then one autograder cell per hidden check, worth that check's points (nbgrader grades each cell all
  or nothing, so this gives partial credit). The cell holds only a call to `run_check` between
  `### BEGIN HIDDEN TESTS` / `### END HIDDEN TESTS`: nbgrader copies hidden test code into the
  feedback, so the check logic stays in grader/checks and only its message reaches the learner.

Exercises that need an optional package or a GPU (rope_triton) are left out of the export.
"""

from __future__ import annotations

import argparse
import ast
import re
from pathlib import Path

from .catalog import Exercise, get_exercise, load_catalog, workspace_root

BEGIN = "### BEGIN SOLUTION"
NBGRADER_SCHEMA = 3
EXCLUDED = {
    "rope_triton": "needs Triton and an NVIDIA GPU in the grading kernel; grade it with `ropekit check`",
}
SIBLING_IMPORT = re.compile(r"^from \.(\w+) import (.+)$", re.M)
QUIZ_SEPARATOR = "# " + "-" * 20


# ------------------------------------------------------------------------------------------------
# The runner of the hidden test cells


_LAST: dict = {}  # the last grading in this kernel: (exercise, namespace), cell number, outcomes by check


def _cell_number() -> int | None:
    """IPython's number of the running cell (None outside IPython)."""
    import sys

    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "execution_count", None)


def _outcomes(exercise: Exercise, checks: list, namespace: dict) -> list:
    from .isolation import run_isolated
    from .loading import from_namespace
    from .runner import guard_for, warm_up

    impl = from_namespace(namespace)
    warm_up()
    return run_isolated(
        lambda: impl.load(exercise.module),
        checks,
        time_limit=exercise.time_limit,
        guard=guard_for(exercise, impl),
        limit_memory=not exercise.gpu,
    )


def run_check(exercise_id: str, check_name: str, namespace: dict) -> None:
    """Run ONE hidden check of `exercise_id` on the names in `namespace` (isolated, as `ropekit check`).

    Raises AssertionError with the check's message when it fails (nbgrader then gives the cell 0).
    In IPython the first call grades every check of the exercise in one child and the following cells
    reuse those outcomes as long as only run_check cells ran in between (the autograder cells stand one
    after the other); any other cell run in between (an edited solution) means a fresh grading.
    """
    from .runner import checks_for

    exercise = get_exercise(exercise_id)
    missing = exercise.missing_requirements()
    if missing:
        raise AssertionError(f"{check_name}: not graded, the kernel lacks {', '.join(missing)}")
    checks = checks_for(exercise)
    names = [c.name for c in checks]
    if check_name not in names:
        raise LookupError(
            f"exercise {exercise_id!r} has no check called {check_name!r}; re-export the course"
        )
    cell = _cell_number()
    fresh = not (
        cell is not None
        and _LAST.get("key") == (exercise_id, id(namespace))
        and _LAST.get("cell") in (cell, cell - 1)
    )
    if fresh:
        _LAST.clear()
        if cell is None:  # not IPython: grade this check only
            checks = [checks[names.index(check_name)]]
        outcomes = dict(zip([c.name for c in checks], _outcomes(exercise, checks, namespace), strict=True))
        if cell is not None:
            _LAST.update(key=(exercise_id, id(namespace)), outcomes=outcomes)
    else:
        outcomes = _LAST["outcomes"]
    if cell is not None:
        _LAST["cell"] = cell
    outcome = outcomes[check_name]
    if not outcome.passed:
        raise AssertionError(f"{check_name}: {outcome.message}")
    print(f"passed: {check_name}")


# ------------------------------------------------------------------------------------------------
# Building the notebooks


def _meta(kind: str, grade_id: str, points: int = 0) -> dict:
    base = {"schema_version": NBGRADER_SCHEMA, "grade_id": grade_id}
    if kind == "solution":
        return {**base, "grade": False, "solution": True, "locked": False, "task": False}
    if kind == "tests":
        return {**base, "grade": True, "solution": False, "locked": True, "task": False, "points": points}
    return {**base, "grade": False, "solution": False, "locked": True, "task": False}  # read-only


def _code(source: str, kind: str | None = None, grade_id: str = "", points: int = 0):
    from ._nbformat import load_nbformat

    nbformat = load_nbformat()

    cell = nbformat.v4.new_code_cell(source.strip("\n"))
    if kind:
        cell.metadata["nbgrader"] = _meta(kind, grade_id, points)
        cell.metadata["deletable"] = kind == "solution"
        cell.metadata["editable"] = kind == "solution"
    return cell


def _markdown(text: str):
    from ._nbformat import load_nbformat

    nbformat = load_nbformat()

    return nbformat.v4.new_markdown_cell(text.strip("\n"))


def _split_module(source: str) -> tuple[str, list[str]]:
    """(docstring, code chunks): one chunk per top-level def/class (with the comments above it),
    consecutive other statements (imports, constants) together. Sibling imports are dropped."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    body = list(tree.body)
    docstring = ""
    start_line = 1
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
        docstring = ast.get_docstring(tree) or ""
        start_line = body[0].end_lineno + 1
        body = body[1:]
    starts = []  # 1-based first line of each statement, with its decorators and the comments above it
    for node in body:
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        while first - 1 > start_line and lines[first - 2].startswith("#"):
            first -= 1
        starts.append(first)
    chunks: list[list[str]] = []
    previous_was_def = True
    for i, node in enumerate(body):
        stop = starts[i + 1] - 1 if i + 1 < len(body) else len(lines)
        text = "".join(lines[starts[i] - 1 : stop])
        is_def = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        if is_def or previous_was_def or not chunks:
            chunks.append([text])
        else:
            chunks[-1].append(text)
        previous_was_def = is_def
    texts = [re.sub(r"\n{3,}", "\n\n", "".join(chunk)).strip("\n") for chunk in chunks]
    return docstring, [text for text in texts if text.strip()]


def _solution_source(module: str) -> str:
    return (workspace_root() / "solutions" / f"{module}.py").read_text(encoding="utf-8")


def _siblings(source: str) -> list[str]:
    return [m.group(1) for m in SIBLING_IMPORT.finditer(source)]


def _dependencies(module: str) -> list[str]:
    """The sibling modules `module` imports, transitively, each before the modules that use it."""
    order: list[str] = []

    def visit(name: str) -> None:
        for sibling in _siblings(_solution_source(name)):
            if sibling not in order:
                visit(sibling)
                order.append(sibling)

    visit(module)
    return order


def _module_cells(module: str, prefix: str, *, markdown: bool) -> list:
    docstring, chunks = _split_module(SIBLING_IMPORT.sub("", _solution_source(module)))
    cells = [_markdown(docstring)] if docstring and markdown else []
    for i, chunk in enumerate(chunks):
        kind = "solution" if BEGIN in chunk else "readonly"
        cells.append(_code(chunk, kind, f"{prefix}-{i:02d}"))
    return cells


def _code_cells(exercise_id: str, module: str, prefix: str) -> list:
    """The cells of one solution module (a markdown tutorial, then its code), after the cells of the
    sibling modules it imports (solution cells: the learner pastes the work of those assignments)."""
    cells = []
    for sibling in _dependencies(module):
        cells.append(
            _markdown(
                f"### Needed from the `{sibling}` assignment\n\n"
                f"This exercise uses your `{sibling}` code: paste your solution from that assignment into "
                "the cells below (it is graded there, not here)."
            )
        )
        cells += _module_cells(sibling, f"{prefix}-{sibling}", markdown=False)
    return cells + _module_cells(module, f"{prefix}-code", markdown=True)


def _quiz_cells(module: str, prefix: str) -> list:
    """One solution cell per quiz item (the items are module-level blocks separated by rule lines)."""
    source = _solution_source(module)
    docstring = ast.get_docstring(ast.parse(source)) or ""
    parts = source.split(QUIZ_SEPARATOR)
    header = parts[0]
    header_code = header[header.index('"""', 3) + 3 :] if docstring else header
    cells = [_markdown(docstring), _code(header_code, "readonly", f"{prefix}-header")]
    for i, part in enumerate(parts[1:]):
        text = part.split("\n", 1)[1] if "\n" in part else part  # the rest of the rule line
        kind = "solution" if BEGIN in text else "readonly"
        cells.append(_code(text, kind, f"{prefix}-item-{i:02d}"))
    return cells


def build_notebook(exercise: Exercise):
    """The nbgrader source notebook of one exercise."""
    from ._nbformat import load_nbformat

    nbformat = load_nbformat()

    from .runner import declared_checks

    prefix = exercise.id
    checks = declared_checks(exercise)  # (name, points): the checks themselves are not imported
    cells = [
        _markdown(
            f"# {exercise.title_en}\n# {exercise.title_zh}\n\n"
            f"{exercise.points} points in {len(checks)} hidden checks (one graded cell each). Complete every "
            "cell that says `raise NotImplementedError()`, then run the self-check cell near the end: it "
            "runs the same checks as the autograder and tells you what is wrong.\n\n"
            "Hints:\n\n" + "\n".join(f"{n}. {hint}" for n, hint in enumerate(exercise.hints, start=1))
        )
    ]
    if exercise.module == "quiz":
        cells += _quiz_cells(exercise.module, prefix)
    else:
        cells += _code_cells(exercise.id, exercise.module, prefix)
    cells.append(_markdown("## Self-check / 自测\n\nThe same hidden checks, shown as a table."))
    cells.append(
        _code(
            f"from grader import check\n\ncheck({exercise.id!r}, globals())",
            "readonly",
            f"{prefix}-self-check",
        )
    )
    cells.append(_markdown("## Autograder cells / 自动评分\n\nOne cell per hidden check."))
    for i, (name, points) in enumerate(checks):
        cells.append(
            _code(
                f"# hidden check: {name} ({points} point{'s' if points != 1 else ''})\n"
                "### BEGIN HIDDEN TESTS\n"
                "from grader.classroom import run_check\n\n"
                f"run_check({exercise.id!r}, {name!r}, globals())\n"
                "### END HIDDEN TESTS",
                "tests",
                f"{prefix}-check-{i:02d}",
                points,
            )
        )
    for i, cell in enumerate(cells):  # stable ids: the same export gives the same file
        cell.id = f"{prefix}-{i:03d}"
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


CONFIG_TEMPLATE = """\
# nbgrader configuration written by `ropekit classroom export`.
c = get_config()  # noqa: F821

c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.assignment_id = ""
# The kit's checks run in the kernel: it must import `grader` (pip install ropekit[classroom]).
# per cell: the first autograder cell of a notebook grades every check (each within its own time limit)
c.Execute.timeout = {timeout}
c.Execute.kernel_name = "python3"
# A teacher's gradebook on a server: c.CourseDirectory.db_url = "postgresql://user:password@host/ropekit"
"""


def _cell_timeout(exercise: Exercise) -> int:
    """Seconds one cell may take: importing (twice the time limit) plus every check's time limit."""
    from .runner import declared_checks

    return int(exercise.time_limit * (len(declared_checks(exercise)) + 2)) + 60


def exportable(exercises: list[str] | None = None) -> list[Exercise]:
    if exercises:
        chosen = [get_exercise(e) for e in exercises]
        for exercise in chosen:
            if exercise.id in EXCLUDED:
                raise ValueError(f"{exercise.id} cannot be exported: {EXCLUDED[exercise.id]}")
        return chosen
    return [e for e in load_catalog() if e.id not in EXCLUDED]


class WouldOverwrite(ValueError):
    pass


def export(
    dest: Path, course_id: str = "ropekit", exercises: list[str] | None = None, *, force: bool = False
) -> list[Path]:
    """Write an nbgrader course directory; returns the files written.

    A file already there with other content (the teacher's own config, an edited source notebook) is
    not overwritten unless `force`; then it is first copied to DIR/.ropekit-backups/<time>/."""
    import shutil
    import time

    from ._nbformat import load_nbformat

    nbformat = load_nbformat()

    from .files import atomic_write

    dest = Path(dest)
    chosen = exportable(exercises)
    timeout = max(_cell_timeout(e) for e in chosen) if chosen else 120
    planned = {dest / "nbgrader_config.py": CONFIG_TEMPLATE.format(course_id=course_id, timeout=timeout)}
    for exercise in chosen:
        nb = build_notebook(exercise)
        nbformat.validate(nb)
        planned[dest / "source" / exercise.id / f"{exercise.id}.ipynb"] = nbformat.writes(nb)
    changed = [p for p, text in planned.items() if p.exists() and p.read_text(encoding="utf-8") != text]
    if changed and not force:
        names = ", ".join(str(p.relative_to(dest)) for p in changed[:3]) + (
            " ..." if len(changed) > 3 else ""
        )
        raise WouldOverwrite(
            f"{len(changed)} file(s) in {dest} differ from the export and would be overwritten ({names}); "
            "nothing was written. --force overwrites them after backing them up"
        )
    if changed:
        backups = dest / ".ropekit-backups" / time.strftime("%Y%m%d-%H%M%S")
        for path in changed:
            target = backups / path.relative_to(dest)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    written = []
    for path, text in planned.items():
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, text)
        written.append(path)
    return written


# ------------------------------------------------------------------------------------------------
# Command line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dest", type=Path, help="the course directory to write (created if missing)")
    parser.add_argument("--course-id", default="ropekit", help="nbgrader course id (default: ropekit)")
    parser.add_argument(
        "--exercise", action="append", dest="exercises", metavar="ID", help="only this exercise (repeatable)"
    )
    parser.add_argument(
        "--force", action="store_true", help="overwrite files that differ (after backing them up)"
    )


def add_autograde_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("course", type=Path, help="the nbgrader course directory")
    parser.add_argument("assignment", help="the assignment (exercise id) to grade")
    parser.add_argument(
        "--student", action="append", dest="students", metavar="ID", help="only this student (repeatable)"
    )
    batch_arguments(parser)


def batch_arguments(parser: argparse.ArgumentParser) -> None:
    from .batch import jobs_count, shard_spec

    parser.add_argument(
        "--jobs",
        type=jobs_count,
        default=1,
        metavar="N",
        help="N worker processes forked from this one, each grading whole submissions (default 1)",
    )
    parser.add_argument(
        "--shard",
        type=shard_spec,
        metavar="I/N",
        help="grade only shard I of N (1-based, round-robin over the sorted students) and write nothing "
        "into the gradebook: `ropekit classroom merge --course` does",
    )


def add_merge_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", type=Path, metavar="OUT.json", help="the report to write")
    parser.add_argument("shards", type=Path, nargs="+", metavar="SHARD.jsonl", help="what each shard printed")
    parser.add_argument(
        "--course",
        nargs=2,
        metavar=("DIR", "ID"),
        help="also write the scores of assignment ID into the gradebook of the nbgrader course DIR",
    )


def _missing_extra(exc: ModuleNotFoundError) -> str:
    return f"ropekit: {exc.name} is missing: pip install 'ropekit[classroom]' (nbgrader and nbformat)"


def _merge_main(args: argparse.Namespace) -> int:
    """`ropekit classroom merge OUT.json SHARD.jsonl... [--course DIR ID]`; 1 when a line has an error
    or a failed check (as `grade --submissions`), 2 when nothing could be merged."""
    import sys

    from .autograde import AutogradeError, merge
    from .catalog import UnknownExercise

    course, assignment = (Path(args.course[0]), args.course[1]) if args.course else (None, None)
    try:
        report = merge(args.out, args.shards, course, assignment)
    except ModuleNotFoundError as exc:
        print(_missing_extra(exc), file=sys.stderr)
        return 2
    except (AutogradeError, UnknownExercise) as exc:
        print(f"ropekit: {exc}", file=sys.stderr)
        return 2
    lines = report["submissions"]
    print(f"merged {len(lines)} submissions into {args.out}", file=sys.stderr)
    failed = ["error" in line or line["score"] < line["max_score"] for line in lines]
    return 1 if any(failed) else 0


def _autograde_main(args: argparse.Namespace) -> int:
    import sys

    from .autograde import AutogradeError, autograde

    try:
        lines = autograde(args.course, args.assignment, args.students, jobs=args.jobs, shard=args.shard)
    except ModuleNotFoundError as exc:
        print(_missing_extra(exc))
        return 2
    except AutogradeError as exc:
        print(f"ropekit: {exc}")
        return 2
    if not lines and not args.shard:  # a shard may be empty (more shards than students)
        print(f"ropekit: no collected {args.assignment} notebook in {args.course / 'submitted'}")
        return 2
    for line in lines:
        if "error" in line:
            print(f"ropekit: {line['student']}: {line['error']} (not in the gradebook)", file=sys.stderr)
    return 1 if any("error" in line for line in lines) else 0


def main(args: argparse.Namespace | list[str] | None = None) -> int:
    if not isinstance(args, argparse.Namespace):
        parser = argparse.ArgumentParser(prog="ropekit classroom export")
        add_arguments(parser)
        args = parser.parse_args(args)
    if getattr(args, "classroom_command", "export") == "autograde":
        return _autograde_main(args)
    if getattr(args, "classroom_command", "export") == "merge":
        return _merge_main(args)
    try:
        written = export(args.dest, args.course_id, args.exercises, force=args.force)
    except ModuleNotFoundError as exc:
        print(_missing_extra(exc))
        return 2
    except ValueError as exc:
        print(f"ropekit: {exc}")
        return 2
    for path in written:
        print(f"wrote {path}")
    for exercise_id, why in EXCLUDED.items():
        if not args.exercises:
            print(f"left out {exercise_id}: {why}")
    print(
        f"next: cd {args.dest} && nbgrader generate_assignment <id> (one assignment per exercise); "
        "the grading kernel must be able to `import grader`"
    )
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
