"""The real `ropekit` command, run as a subprocess on a private copy of the workspace."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, mutate, ropekit, ropekit_json, solution_source

from grader.catalog import get_exercise, load_catalog


def test_grade_solutions_full_marks_and_json_shape(workspace):
    code, report = ropekit_json("grade", "--solutions", root=workspace)
    assert code == 0
    assert set(report) == {"score", "max_score", "exercises"}
    assert report["score"] == report["max_score"] > 0
    ids = [e["id"] for e in report["exercises"]]
    assert ids == [e.id for e in load_catalog()]  # in catalog order
    for exercise in report["exercises"]:
        assert set(exercise) - {"skipped"} == {"id", "score", "max_score", "passed", "total", "checks"}
        assert exercise["passed"] == exercise["total"]
        for item in exercise["checks"]:
            assert set(item) == {"name", "passed", "points", "message"}


def test_check_stub_fails_with_exit_1_and_says_not_implemented(workspace):
    done = ropekit("check", "rope", root=workspace)
    assert done.returncode == 1
    assert "not implemented yet" in done.stdout
    assert f"0/{get_exercise('rope').points}" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_check_a_wrong_folder_names_the_mistake(workspace, tmp_path):
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    (wrong / "rope.py").write_text(
        mutate(solution_source("rope"), [("theta = base ** (", "theta = 10000.0 ** (")])
    )
    done = ropekit("check", "rope", "--exercises", str(wrong), root=workspace)
    assert done.returncode == 1
    assert "`base` argument is ignored" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_report_file_and_usage_errors(workspace, tmp_path):
    report = tmp_path / "report.json"
    done = ropekit("grade", "sinusoidal", "--solutions", "--report", str(report), root=workspace)
    assert done.returncode == 0
    assert json.loads(report.read_text())["exercises"][0]["id"] == "sinusoidal"
    unknown = ropekit("check", "nope", root=workspace)
    assert unknown.returncode == 2 and "no exercise called 'nope'" in unknown.stderr
    assert ropekit("grade", "--bogus", root=workspace).returncode == 2
    assert ropekit("check", "rope", "--exercises", str(tmp_path / "missing"), root=workspace).returncode == 2
    both = ropekit("grade", "--solutions", "--exercises", str(tmp_path), root=workspace)
    assert both.returncode == 2


def test_list_shows_catalog_and_progress_from_the_store(workspace):
    before = ropekit(root=workspace)
    assert before.returncode == 0
    total = sum(e.points for e in load_catalog() if not e.missing_requirements())  # as `grade` counts
    for text in ("sinusoidal", "rope", "正弦位置编码", "not started", f"0/{total} points"):
        assert text in before.stdout
    shutil.copy(workspace / "solutions" / "sinusoidal.py", workspace / "exercises" / "sinusoidal.py")
    assert ropekit("check", "sinusoidal", root=workspace).returncode == 0
    assert ropekit("check", "rope", root=workspace).returncode == 1
    after = ropekit("list", root=workspace).stdout
    assert "passed" in after and "failing" in after and f"10/{total} points" in after
    (workspace / "exercises" / "sinusoidal.py").write_text("# edited\n")
    assert "edited since" in ropekit(root=workspace).stdout


def test_hints_come_one_level_at_a_time(workspace):
    first = ropekit("hint", "rope", root=workspace).stdout
    assert "hint 1/4" in first and "hint 2/4" not in first
    second = ropekit("hint", "rope", root=workspace).stdout
    assert "hint 1/4" in second and "hint 2/4" in second
    for _ in range(3):
        last = ropekit("hint", "rope", root=workspace).stdout
    assert "hint 4/4" in last and "last hint" in last


def test_solution_asks_before_the_exercise_is_passed(workspace):
    refused = ropekit("solution", "rope", root=workspace, stdin="n\n")
    assert refused.returncode == 1 and "def apply_rope" not in refused.stdout
    shown = ropekit("solution", "rope", root=workspace, stdin="y\n")
    assert shown.returncode == 0 and "def apply_rope" in shown.stdout
    shutil.copy(workspace / "solutions" / "rope.py", workspace / "exercises" / "rope.py")
    assert ropekit("check", "rope", root=workspace).returncode == 0
    free = ropekit("solution", "rope", root=workspace, stdin="")
    assert free.returncode == 0 and "def apply_rope" in free.stdout


def test_reset_backs_up_the_learner_file_first(workspace):
    target = workspace / "exercises" / "rope.py"
    stub = target.read_text()
    target.write_text(stub + "\n# my work in progress\n")
    kept = ropekit("reset", "rope", root=workspace, stdin="n\n")
    assert kept.returncode == 1 and "my work in progress" in target.read_text()
    done = ropekit("reset", "rope", root=workspace, stdin="y\n")
    assert done.returncode == 0
    assert target.read_text() == stub
    backups = list((workspace / ".ropekit" / "backups").glob("rope.py.*"))
    assert len(backups) == 1 and "my work in progress" in backups[0].read_text()
    assert str(backups[0]) in done.stdout


def test_verify_passes_on_the_repository():
    done = ropekit("verify", root=ROOT)
    assert done.returncode == 0, done.stdout
    assert "verified" in done.stdout


def test_verify_catches_a_stub_out_of_sync(workspace):
    stub = workspace / "exercises" / "sinusoidal.py"
    stub.write_text(stub.read_text() + "\n# drift\n")
    done = ropekit("verify", "sinusoidal", root=workspace)
    assert done.returncode == 1 and "differs from the stub" in done.stdout


def test_verify_catches_a_check_that_a_stub_passes(workspace):
    """Validation moved out of the solution block: the stub now passes the ValueError check."""
    solution = workspace / "solutions" / "sinusoidal.py"
    text = solution.read_text()
    validation = text[text.index("    if d_model % 2 != 0:") : text.index("    position = torch.arange")]
    text = text.replace(validation, "").replace(
        "    ### BEGIN SOLUTION\n", validation + "    ### BEGIN SOLUTION\n"
    )
    solution.write_text(text)
    done = ropekit("verify", "sinusoidal", root=workspace)
    assert done.returncode == 1
    assert "the stub passes 'ValueError for odd d_model or length < 1'" in done.stdout


def test_watch_regrades_when_the_file_is_saved(workspace):
    env_root = workspace
    exe = str(Path(sys.executable).with_name("ropekit"))
    proc = subprocess.Popen(
        [exe, "watch", "sinusoidal", "--max-runs", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "ROPEKIT_ROOT": str(env_root), "COLUMNS": "160", "NO_COLOR": "1"},
    )
    try:
        seen = ""
        deadline = time.monotonic() + 60
        while "watching" not in seen and time.monotonic() < deadline:
            seen += proc.stdout.readline()
        assert "0/10" in seen
        time.sleep(1.0)  # let the watcher start before the save
        shutil.copy(workspace / "solutions" / "sinusoidal.py", workspace / "exercises" / "sinusoidal.py")
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert "sinusoidal changed" in out and "10/10" in out


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    command = readme.split("**Run the tests**")[1].split("```bash\n")[1].split("\n```")[0]
    assert command in (ROOT / ".ci" / "run").read_text()


def test_quiz_in_the_terminal_records_answers_and_keeps_a_backup(workspace):
    from grader.quiz import load_items

    first = load_items()[0]
    assert first.kind == "single"
    done = ropekit("quiz", first.id, "--lang", "en", root=workspace, stdin=f"{first.answer}\n")
    assert done.returncode == 0 and "correct!" in done.stdout and "recorded 1 answer" in done.stdout
    sheet = (workspace / "exercises" / "quiz.py").read_text()
    assert f'ANSWERS["{first.id}"] = "{first.answer}"' in sheet
    assert list((workspace / ".ropekit" / "backups").glob("quiz.py.*"))
    report = json.loads(ropekit("check", "quiz", "--json", root=workspace).stdout)
    checks = report["exercises"][0]["checks"]
    assert sum(c["passed"] for c in checks) == 1


def test_an_exercise_whose_package_is_missing_is_skipped_not_failed(workspace):
    """rope_triton needs triton: without it grade says so, exits 0, and verify still passes."""
    without_triton = {"PYTHONPATH": str(Path(__file__).parent / "support" / "without_triton")}
    done = ropekit(
        "grade", "rope_triton", "sinusoidal", "--solutions", "--json", root=workspace, env=without_triton
    )
    verify = ropekit("verify", "sinusoidal", "rope_triton", root=workspace, env=without_triton)
    assert done.returncode == 0
    report = json.loads(done.stdout)
    triton = next(e for e in report["exercises"] if e["id"] == "rope_triton")
    assert "needs triton" in triton["skipped"] and triton["max_score"] == 0
    assert report["score"] == report["max_score"] == 10
    assert verify.returncode == 0 and "skipped (needs triton)" in verify.stdout.replace("\n", " ")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_readme_example_is_what_check_prints(workspace, dtype):
    """The README's sinusoidal example: frequencies that multiply instead of divide get the same named
    message whether the learner computes the angles in float32 or float64."""
    source = (ROOT / "solutions" / "sinusoidal.py").read_text()
    wrong = source.replace("omega = base ** (-torch", "omega = base ** (torch")
    (workspace / "exercises" / "sinusoidal.py").write_text(wrong.replace("torch.float64", f"torch.{dtype}"))
    readme = (ROOT / "README.md").read_text()
    block = readme.split("gets a message of its own):")[1].split("```\n")[1].split("\n```")[0]
    width = max(len(line) for line in block.splitlines())
    out = ropekit("check", "sinusoidal", root=workspace, env={"COLUMNS": str(width)}).stdout

    def lines(text: str) -> list[str]:
        return [re.sub(r"checks, [\d.]+ s\)", "checks, T s)", line.rstrip()) for line in text.splitlines()]

    assert lines(out)[: len(lines(block))] == lines(block)


def test_grade_submissions_one_json_line_each_and_one_line_errors(workspace, tmp_path):
    """Each sub-folder is one submission; only the exercises it holds are graded."""
    submissions = tmp_path / "class"
    for name, source in (("ada", "solutions"), ("bob", "exercises")):
        (submissions / name).mkdir(parents=True)
        shutil.copy(workspace / source / "sinusoidal.py", submissions / name / "sinusoidal.py")
    done = ropekit("grade", "--submissions", str(submissions), root=workspace)
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(line["submission"], line["score"], line["max_score"]) for line in lines] == [
        ("ada", 10, 10),
        ("bob", 0, 10),
    ]
    assert [e["id"] for e in lines[0]["exercises"]] == ["sinusoidal"] and done.returncode == 1
    missing = ropekit("grade", "--submissions", str(tmp_path / "nowhere"), root=workspace)
    assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1
