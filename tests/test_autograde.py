"""`ropekit classroom autograde`: grades from the trusted judge, written into a real nbgrader gradebook.

nbgrader's own autograde runs the hidden cells in the student's kernel, where a student cell can
replace `run_check`: a forging submission then gets full marks there. The kit's autograde never runs
the notebook; it grades the solution cells with the judge, so the forger gets what its code earns.
"""

from __future__ import annotations

import json

import nbformat
import pytest
from conftest import ROOT, ropekit
from test_classroom import WRONG_WAY, _submit, nbgrader_api

from grader.catalog import get_exercise
from grader.classroom import export

FORGERY = (
    "import grader.classroom as _c\n"
    "_c.run_check = lambda *args, **kwargs: print('passed')  # every hidden cell now passes\n"
)


@pytest.mark.filterwarnings("ignore:Object of type:Warning")  # nbgrader's own SQLAlchemy session warnings
def test_autograde_writes_judge_scores_that_no_notebook_can_forge(tmp_path, monkeypatch):
    pytest.importorskip("nbgrader")
    course = tmp_path / "course"
    export(course, "ropekit-test", ["rope"])
    api = nbgrader_api(course, tmp_path / "exchange", monkeypatch)
    with api.gradebook as gradebook:
        for student in ("ada", "bob", "eve"):
            gradebook.add_student(student)
    assert api.generate_assignment("rope")["success"]
    source = nbformat.read(course / "source" / "rope" / "rope.ipynb", as_version=4)
    released = nbformat.read(course / "release" / "rope" / "rope.ipynb", as_version=4)
    forged = nbformat.read(course / "source" / "rope" / "rope.ipynb", as_version=4)
    solution_cells = [c for c in forged.cells if c.metadata.get("nbgrader", {}).get("solution")]
    for cell in solution_cells:  # a real mistake (rotation the wrong way) ...
        for old, new in WRONG_WAY:
            cell.source = cell.source.replace(old, new)
    solution_cells[-1].source += "\n" + FORGERY  # ... hidden behind a patched run_check
    for student, nb in (("ada", source), ("bob", released), ("eve", forged)):
        _submit(course, student, "rope", nb)

    # nbgrader's own autograde is fooled by the forger
    assert api.autograde("rope", "eve")["success"]
    points = get_exercise("rope").points
    with api.gradebook as gradebook:
        assert gradebook.find_submission("rope", "eve").score == points

    done = ropekit("classroom", "autograde", str(course), "rope", root=ROOT, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = {line["student"]: line for line in map(json.loads, done.stdout.splitlines())}
    assert set(lines) == {"ada", "bob", "eve"}
    assert lines["ada"]["score"] == points
    assert lines["bob"]["score"] == 0
    assert 0 < lines["eve"]["score"] < points
    assert any("wrong way" in c["message"] for c in lines["eve"]["checks"])
    with api.gradebook as gradebook:
        scores = {s: gradebook.find_submission("rope", s).score for s in ("ada", "bob", "eve")}
        cells = {g.name: g.score for g in gradebook.find_submission_notebook("rope", "rope", "eve").grades}
    assert scores == {"ada": points, "bob": 0, "eve": lines["eve"]["score"]}
    failed = sum(not c["passed"] for c in lines["eve"]["checks"])
    assert sum(score == 0 for name, score in cells.items() if name.startswith("rope-check-")) == failed


def test_autograde_errors_are_one_line(tmp_path):
    pytest.importorskip("nbgrader")
    done = ropekit("classroom", "autograde", str(tmp_path / "nowhere"), "rope", root=ROOT)
    assert done.returncode == 2
    assert done.stdout.strip().startswith("ropekit: ") and len(done.stdout.strip().splitlines()) == 1


@pytest.mark.filterwarnings("ignore:Object of type:Warning")  # nbgrader's own SQLAlchemy session warnings
def test_autograde_jobs_and_merged_shards_write_the_scores_of_one_run(tmp_path, monkeypatch):
    """--jobs 2 writes the gradebook scores --jobs 1 writes; --shard writes none, and `classroom merge
    --course` writes the shards' lines into it with the same scores again."""
    pytest.importorskip("nbgrader")
    course = tmp_path / "course"
    export(course, "ropekit-test", ["rope"])
    api = nbgrader_api(course, tmp_path / "exchange", monkeypatch)
    students = ("ada", "bob", "eve")
    with api.gradebook as gradebook:
        for student in students:
            gradebook.add_student(student)
    assert api.generate_assignment("rope")["success"]
    wrong = nbformat.read(course / "source" / "rope" / "rope.ipynb", as_version=4)
    for cell in wrong.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            for old, new in WRONG_WAY:
                cell.source = cell.source.replace(old, new)
    for student, folder in (("ada", "source"), ("bob", "release"), ("eve", None)):
        nb = wrong if folder is None else nbformat.read(course / folder / "rope" / "rope.ipynb", as_version=4)
        _submit(course, student, "rope", nb)

    def scores() -> dict:
        """Each student's autograder cells' scores; then cleared, for the next run to fill again."""
        with api.gradebook as gradebook:
            found = {}
            for student in students:
                grades = gradebook.find_submission_notebook("rope", "rope", student).grades
                found[student] = sorted((g.name, g.auto_score) for g in grades)
                for grade in grades:
                    grade.auto_score = None
            gradebook.db.commit()
        return found

    def autograde(*args: str) -> str:
        done = ropekit("classroom", "autograde", str(course), "rope", *args, root=ROOT, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    one = autograde("--jobs", "1")
    expected = scores()
    assert {s: sum(score for _, score in cells) for s, cells in expected.items()} == {
        "ada": get_exercise("rope").points,
        "bob": 0,
        "eve": json.loads(one.splitlines()[2])["score"],
    }
    assert autograde("--jobs", "2") == one and scores() == expected
    for i in (1, 2):
        (tmp_path / f"{i}.jsonl").write_text(autograde("--shard", f"{i}/2"))
    with api.gradebook as gradebook:  # a shard writes nothing into the gradebook
        assert gradebook.find_submission_notebook("rope", "rope", "ada").score == 0
    shards = [str(tmp_path / f"{i}.jsonl") for i in (1, 2)]
    report = tmp_path / "report.json"
    done = ropekit("classroom", "merge", str(report), *shards, "--course", str(course), "rope", root=ROOT)
    assert done.returncode == 1, done.stderr  # bob and eve fail checks
    assert [json.dumps(line) for line in json.loads(report.read_text())["submissions"]] == one.splitlines()
    assert scores() == expected
