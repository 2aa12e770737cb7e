"""Classroom mode: `ropekit classroom export` and a real nbgrader round trip (skipped without nbgrader).

The round trip drives nbgrader's Python API in this process (each CLI call would cost seconds): add the
students, generate_assignment, place three submissions (the reference solution, the untouched release,
the reference with one deliberate mistake), autograde, generate_feedback, then read the gradebook.
"""

from __future__ import annotations

import html
import json
import os
import re
import sys
import time
from pathlib import Path

import nbformat
import pytest

from grader.catalog import get_exercise, load_catalog
from grader.classroom import EXCLUDED, export
from grader.runner import checks_for

# The deliberate mistake: RoPE rotating the wrong way (the same edit as in test_mistakes_caught.py).
WRONG_WAY = [("signs = torch.tensor([-1.0, 1.0]", "signs = torch.tensor([1.0, -1.0]")]
# Text of the checks' code that must never reach a learner (released notebook or feedback).
CHECK_LOGIC = ["def test_", "fail(", "tensor_result", "from grader.checks", "grader/checks"]


def _cells(nb, kind: str) -> list:
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get(kind)]


def _text_of(html_text: str) -> str:
    """Visible text of an HTML page: tags (ANSI colour spans too) removed, entities decoded."""
    text = re.sub(r"<[^>]+>", "", html_text)
    return re.sub(r"\s+", " ", html.unescape(text))


# ------------------------------------------------------------------------------------------------
# The export alone (no nbgrader needed)


def test_export_writes_one_assignment_per_exercise(tmp_path):
    written = export(tmp_path / "course", course_id="demo")
    config = (tmp_path / "course" / "nbgrader_config.py").read_text()
    assert "c.CourseDirectory.course_id = 'demo'" in config
    expected = [e for e in load_catalog() if e.id not in EXCLUDED]
    assert len(written) == 1 + len(expected)
    for exercise in expected:
        path = tmp_path / "course" / "source" / exercise.id / f"{exercise.id}.ipynb"
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        tests = _cells(nb, "grade")
        checks = checks_for(exercise)
        # one autograder cell per check, worth its points: the catalog's points in all
        assert [c.metadata["nbgrader"]["points"] for c in tests] == [c.points for c in checks]
        assert sum(c.metadata["nbgrader"]["points"] for c in tests) == exercise.points
        for cell, item in zip(tests, checks, strict=True):
            hidden = cell.source.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0]
            assert f"run_check({exercise.id!r}, {item.name!r}, globals())" in hidden
            assert not any(word in cell.source for word in CHECK_LOGIC)
        solutions = _cells(nb, "solution")
        assert solutions and all("### BEGIN SOLUTION" in c.source for c in solutions)
        ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "nbgrader" in c.metadata]
        assert len(ids) == len(set(ids))
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        assert "from ." not in code  # sibling imports are replaced by the siblings' cells


def test_export_imports_neither_torch_nor_the_iri_grammar(tmp_path):
    """`classroom export` reads the checks' names and points from their source (no torch) and loads
    nbformat without compiling rfc3987-syntax's grammar (grader/_nbformat.py); the export is the same."""
    import subprocess

    probe = (
        "import sys; from grader.cli import main; code = main(['classroom', 'export', sys.argv[1], "
        "'--course-id', 'x']); print(code, 'torch' in sys.modules, 'rfc3987_syntax' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path / "course")], capture_output=True, text=True, timeout=120
    )
    assert done.stdout.split()[-3:] == ["0", "False", "False"], done.stdout + done.stderr
    for exercise in load_catalog():
        if exercise.id in EXCLUDED:
            continue
        nb = nbformat.read(tmp_path / "course" / "source" / exercise.id / f"{exercise.id}.ipynb", 4)
        graded = [
            (c.source.split("run_check(")[1], c.metadata["nbgrader"]["points"]) for c in _cells(nb, "points")
        ]
        assert [
            (f"{exercise.id!r}, {c.name!r}, globals())\n### END HIDDEN TESTS", c.points)
            for c in checks_for(exercise)
        ] == graded


def test_export_rejects_an_excluded_exercise(tmp_path, capsys):
    from grader.classroom import main

    with pytest.raises(ValueError, match="rope_triton"):
        export(tmp_path, exercises=["rope_triton"])
    assert main([str(tmp_path / "c"), "--exercise", "rope_triton"]) == 2
    assert main([str(tmp_path / "c"), "--course-id", "x", "--exercise", "sinusoidal"]) == 0
    assert (tmp_path / "c" / "source" / "sinusoidal" / "sinusoidal.ipynb").is_file()
    assert "wrote" in capsys.readouterr().out


def test_exported_reference_passes_in_a_namespace(tmp_path):
    """Every exported notebook's code, run top to bottom in one namespace, passes its own checks
    (the same grading as the autograder cells, without a kernel)."""
    from grader.loading import from_namespace
    from grader.runner import grade_exercise

    export(tmp_path)
    for exercise in (e for e in load_catalog() if e.id not in EXCLUDED):
        nb = nbformat.read(tmp_path / "source" / exercise.id / f"{exercise.id}.ipynb", as_version=4)
        namespace: dict = {"__name__": "__main__"}
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and not meta["grade"] and not meta["grade_id"].endswith("check"):
                exec(compile(cell.source, f"<{exercise.id} cell>", "exec"), namespace)
        result = grade_exercise(exercise, from_namespace(namespace))
        assert result.score == exercise.points, [c for c in result.checks if not c.passed]


def _rope_namespace(wrong: bool = False) -> dict:
    source = (Path(__file__).resolve().parent.parent / "solutions" / "rope.py").read_text()
    for old, new in WRONG_WAY if wrong else []:
        source = source.replace(old, new)
    namespace: dict = {"__name__": "__main__"}
    exec(compile(source, "<rope cell>", "exec"), namespace)
    return namespace


def test_run_check_reuses_a_grading_only_while_nothing_else_ran(monkeypatch):
    """In IPython, the autograder cells that follow one another share one grading; a cell run in
    between (an edited solution) means a fresh one. Outside IPython each call grades its own check."""
    from grader import classroom

    name = "half-split pairs (i, i + d/2) when interleaved=False"
    namespace = _rope_namespace()
    classroom.run_check("rope", name, namespace)  # outside IPython: this check alone
    cell = iter([10, 11, 13])
    monkeypatch.setattr(classroom, "_cell_number", lambda: next(cell))
    monkeypatch.setattr(classroom, "_LAST", {})
    classroom.run_check("rope", name, namespace)  # cell 10: grades every check
    namespace.update(_rope_namespace(wrong=True))  # the solution changes in the same namespace
    classroom.run_check("rope", name, namespace)  # cell 11, right after: the same grading
    with pytest.raises(AssertionError, match="wrong way"):
        classroom.run_check("rope", name, namespace)  # cell 13: cell 12 ran in between
    with pytest.raises(LookupError, match="no check called"):
        classroom.run_check("rope", "no such check", namespace)


# ------------------------------------------------------------------------------------------------
# The nbgrader round trip


def _blocks(source: str) -> list[str]:
    """The reference code between the solution markers of one cell."""
    return [part.split("### END SOLUTION")[0] for part in source.split("### BEGIN SOLUTION")[1:]]


def nbgrader_api(course: Path, exchange: Path, monkeypatch):
    """nbgrader's Python API for an exported course, run from inside it."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    # nbgrader creates a new gradebook by running `alembic` by bare name: the environment's bin first
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.chdir(course)
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    extra = Config()
    extra.CourseDirectory.root = str(course)
    extra.Exchange.root = str(exchange)
    config.merge(extra)
    return NbGraderAPI(config=config)


def _submit(course: Path, student: str, assignment: str, nb) -> None:
    folder = course / "submitted" / student / assignment
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / f"{assignment}.ipynb")
    (folder / "timestamp.txt").write_text("2026-01-01 12:00:00.000000 UTC")


@pytest.mark.filterwarnings("ignore:Object of type:Warning")  # nbgrader's own SQLAlchemy session warnings
def test_nbgrader_round_trip(tmp_path, monkeypatch):
    """rope: reference (full), untouched release (zero), one mistake (partial, message in the feedback);
    quiz (module-level solution blocks) and transformer (sibling rope/sinusoidal cells): reference full,
    quiz's untouched release zero."""
    pytest.importorskip("nbgrader")
    from grader.loading import from_folder
    from grader.runner import grade_exercise

    timings: dict[str, float] = {}

    def timed(step: str, func, *args, **kwargs):
        started = time.perf_counter()
        result = func(*args, **kwargs)
        timings[step] = timings.get(step, 0.0) + time.perf_counter() - started
        if isinstance(result, dict) and not result.get("success", True):
            pytest.fail(f"nbgrader {step} failed:\n{result.get('error')}\n{result.get('log')}")
        return result

    assignments = ["rope", "quiz", "transformer"]
    course = tmp_path / "course"
    timed("export", export, course, "ropekit-test", assignments)
    api = timed("NbGraderAPI", nbgrader_api, course, tmp_path / "exchange", monkeypatch)

    def add_students() -> None:
        with api.gradebook as gradebook:  # the first use creates gradebook.db (runs alembic)
            for student in ("ada", "bob", "cyd"):
                gradebook.add_student(student)

    timed("create gradebook + add 3 students", add_students)

    sources, releases = {}, {}
    for assignment in assignments:
        timed("generate_assignment", api.generate_assignment, assignment)
        source = nbformat.read(course / "source" / assignment / f"{assignment}.ipynb", as_version=4)
        released = nbformat.read(course / "release" / assignment / f"{assignment}.ipynb", as_version=4)
        sources[assignment], releases[assignment] = source, released
        # released: no hidden tests, no runner call, no reference code, no check logic
        released_code = "\n".join(c.source for c in released.cells)
        for banned in ["BEGIN HIDDEN TESTS", "run_check", "### BEGIN SOLUTION", *CHECK_LOGIC]:
            assert banned not in released_code, (assignment, banned)
        blocks = [block for cell in _cells(source, "solution") for block in _blocks(cell.source)]
        assert blocks and not [block for block in blocks if block.strip() in released_code]
        stubs = sum(c.source.count("raise NotImplementedError()") for c in _cells(released, "solution"))
        assert stubs == len(blocks)

    mistaken = nbformat.read(course / "source" / "rope" / "rope.ipynb", as_version=4)
    for cell in mistaken.cells:
        for old, new in WRONG_WAY:
            cell.source = cell.source.replace(old, new)
    assert nbformat.writes(mistaken) != nbformat.writes(sources["rope"])
    submissions = [
        ("ada", "rope", sources["rope"]),
        ("bob", "rope", releases["rope"]),
        ("cyd", "rope", mistaken),
        ("ada", "quiz", sources["quiz"]),
        ("bob", "quiz", releases["quiz"]),
        ("ada", "transformer", sources["transformer"]),
    ]
    for student, assignment, nb in submissions:
        _submit(course, student, assignment, nb)
    for student, assignment, _ in submissions:
        timed(f"autograde {assignment}", api.autograde, assignment, student)
    for student, assignment, _ in submissions:
        timed("generate_feedback", api.generate_feedback, assignment, student)

    started = time.perf_counter()
    with api.gradebook as gb:
        scores = {(s, a): gb.find_submission(a, s).score for s, a, _ in submissions}
        max_scores = {a: gb.find_assignment(a).max_score for a in assignments}
        cells = {g.name: g.score for g in gb.find_submission_notebook("rope", "rope", "cyd").grades}
    timings["read gradebook"] = time.perf_counter() - started
    print("nbgrader step times (s):", json.dumps({k: round(v, 2) for k, v in timings.items()}))

    for assignment in assignments:
        assert max_scores[assignment] == get_exercise(assignment).points
        assert scores["ada", assignment] == get_exercise(assignment).points, assignment
    assert scores["bob", "rope"] == 0
    assert scores["bob", "quiz"] == 0

    # the mistake costs exactly the checks that the kit's own grader fails for it
    exercise = get_exercise("rope")
    text = (Path(__file__).resolve().parent.parent / "solutions" / "rope.py").read_text()
    for old, new in WRONG_WAY:
        text = text.replace(old, new)
    (tmp_path / "wrong").mkdir()
    (tmp_path / "wrong" / "rope.py").write_text(text)
    kit = grade_exercise(exercise, from_folder(tmp_path / "wrong"))
    failed = [c for c in kit.checks if not c.passed]
    assert failed and 0 < kit.score < exercise.points
    assert scores["cyd", "rope"] == kit.score
    assert sum(cells.values()) == kit.score
    assert sum(score == 0 for name, score in cells.items() if "-check-" in name) == len(failed)

    shown = _text_of((course / "feedback" / "cyd" / "rope" / "rope.html").read_text())
    assert "wrong way" in shown
    for check in failed:
        assert re.sub(r"\s+", " ", check.message) in shown, check.name
    for student, assignment, _ in submissions:
        page = _text_of((course / "feedback" / student / assignment / f"{assignment}.html").read_text())
        for banned in CHECK_LOGIC:
            assert banned not in page, (student, assignment, banned)
        if student == "bob":  # the untouched release's feedback shows no reference code either
            blocks = [b for c in _cells(sources[assignment], "solution") for b in _blocks(c.source)]
            assert not [b for b in blocks if re.sub(r"\s+", " ", b).strip() in page]
