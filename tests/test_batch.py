"""Grading a class: `ropekit grade --submissions DIR` with --jobs (workers forked from the warm judge)
and --shard I/N (one batch job each), joined by `ropekit classroom merge`; always the real CLI."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, ropekit


def _class(folder: Path, kinds: dict[str, str], modules=("sinusoidal", "rope")) -> Path:
    """One sub-folder per submission; kind "solutions" or "exercises" (the stub), or source to append
    to the reference of the first module."""
    for name, kind in kinds.items():
        (folder / name).mkdir(parents=True)
        for module in modules:
            source = ROOT / ("exercises" if kind == "exercises" else "solutions") / f"{module}.py"
            text = source.read_text(encoding="utf-8")
            if kind not in ("solutions", "exercises") and module == modules[0]:
                text += "\n" + kind + "\n"
            (folder / name / f"{module}.py").write_text(text, encoding="utf-8")
    return folder


def _popen(*args: str, root: Path = ROOT) -> subprocess.Popen:
    env = {**os.environ, "ROPEKIT_ROOT": str(root), "NO_COLOR": "1"}
    exe = Path(sys.executable).with_name("ropekit")
    return subprocess.Popen(
        [str(exe), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def test_jobs_and_merged_shards_give_the_lines_of_one_run(tmp_path):
    kinds = {
        "ada": "solutions",
        "bob": "exercises",
        "cy": "solutions",
        "dan": "exercises",
        "eve": "solutions",
    }
    folder = _class(tmp_path / "class", kinds)
    runs = {  # all at once: four processes, one per batch job
        "whole": ("grade", "sinusoidal", "rope", "--submissions", str(folder)),
        "jobs2": ("grade", "sinusoidal", "rope", "--submissions", str(folder), "--jobs", "2"),
        "shard1": ("grade", "sinusoidal", "rope", "--submissions", str(folder), "--shard", "1/2"),
        "shard2": (
            "grade",
            "sinusoidal",
            "rope",
            "--submissions",
            str(folder),
            "--shard",
            "2/2",
            "--jobs",
            "2",
        ),
    }
    procs = {name: _popen(*args) for name, args in runs.items()}
    done = {name: (p.communicate(timeout=180), p.returncode) for name, p in procs.items()}
    outs = {name: out for name, ((out, _), _) in done.items()}
    statuses = {name: rc for name, (_, rc) in done.items()}
    assert statuses == {"whole": 1, "jobs2": 1, "shard1": 0, "shard2": 1}, done  # shard 1: ada, cy, eve
    whole = [json.loads(line) for line in outs["whole"].splitlines()]
    full = whole[0]["max_score"]  # sinusoidal's and rope's points
    assert full > 0 and [(w["submission"], w["score"], w["max_score"]) for w in whole] == [
        (name, full if kind == "solutions" else 0, full) for name, kind in sorted(kinds.items())
    ]
    assert outs["jobs2"] == outs["whole"]  # the same lines, in the same order
    shards = [[json.loads(line) for line in outs[f"shard{i}"].splitlines()] for i in (1, 2)]
    assert [line["submission"] for line in shards[0]] == ["ada", "cy", "eve"]  # round-robin
    assert shards[1][0]["shard"] == {"index": 2, "count": 2, "total": 5}
    for i in (1, 2):
        (tmp_path / f"shard{i}.jsonl").write_text(outs[f"shard{i}"])
    merged = ropekit(
        "classroom",
        "merge",
        str(tmp_path / "report.json"),
        *(str(tmp_path / f"shard{i}.jsonl") for i in (2, 1)),
        root=ROOT,
    )
    assert merged.returncode == 1, merged.stderr  # some submissions fail, as the whole run says
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["count"] == 5 and report["submissions"] == whole


def test_a_hanging_or_crashing_submission_fails_only_itself_with_jobs(tmp_path):
    kinds = {
        "a-ok": "solutions",
        "b-hangs": "def sinusoidal_encoding(*args, **kwargs):\n    while True:\n        pass",
        "c-exits": "import os\nos._exit(7)",
        "d-kills-its-grader": "import os\nos.system(f'kill -9 {os.getppid()}')",  # past the guard
        "e-signals-its-grader": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)",  # refused
        "f-ok": "solutions",
    }
    folder = _class(tmp_path / "class", kinds, modules=("sinusoidal",))
    done = ropekit(
        "grade", "sinusoidal", "--submissions", str(folder), "--jobs", "2", "--time-limit", "1", root=ROOT
    )
    lines = {line["submission"]: line for line in map(json.loads, done.stdout.splitlines())}
    assert list(lines) == sorted(kinds) and done.returncode == 1, done.stderr
    assert lines["a-ok"]["score"] == lines["f-ok"]["score"] == 10
    messages = {name: line["exercises"][0]["checks"][0]["message"] for name, line in lines.items()}
    assert "did not finish within 1 s" in messages["b-hangs"]
    assert "exited with status 7" in messages["c-exits"]
    killed = lines["d-kills-its-grader"]
    assert killed["score"] == 0 and "grading worker died" in killed["error"]
    assert killed["max_score"] == 10 and all(not c["passed"] for c in killed["exercises"][0]["checks"])
    assert "signalling the grader is not allowed" in messages["e-signals-its-grader"]


@pytest.mark.parametrize("value", ["0/2", "3/2", "1/0", "a/b", "2", "-1/2", "1/2/3"])
def test_bad_shard_is_one_line_and_exit_2(tmp_path, value):
    done = ropekit("grade", "--submissions", str(tmp_path), f"--shard={value}", root=ROOT)
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and "1-based" in done.stderr


def test_bad_jobs_and_a_shard_without_submissions_are_one_line(tmp_path):
    for args in (("--jobs", "0", "--submissions", str(tmp_path)), ("--jobs", "0"), ("--shard", "1/2")):
        done = ropekit("grade", "sinusoidal", *args, root=ROOT)
        assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_exercises_graded_by_workers_give_the_report_of_one_process():
    """`ropekit grade` (no --submissions) grades its exercises from forked workers by default; the JSON
    report is the same as with --jobs 1, in the order asked for, stubs and solutions alike."""
    ids = ["sinusoidal", "rope_numpy", "attention", "derive_rope"]
    for source in ([], ["--solutions"]):
        reports = []
        for jobs in ("1", "2", "3"):
            done = ropekit("grade", *ids, *source, "--json", "--jobs", jobs, root=ROOT)
            assert done.returncode == (0 if source else 1), done.stderr
            report = json.loads(done.stdout)
            reports.append(
                [(e["id"], e["score"], [c["message"] for c in e["checks"]]) for e in report["exercises"]]
            )
        assert reports[0] == reports[1] == reports[2] and [r[0] for r in reports[0]] == ids


def _line(name: str, index: int, count: int = 2, total: int = 3) -> str:
    checks = [{"name": "c", "passed": True, "points": 1, "message": ""}]
    exercise = {"id": "sinusoidal", "score": 1, "max_score": 1, "passed": 1, "total": 1, "checks": checks}
    shard = {"index": index, "count": count, "total": total}
    return json.dumps(
        {"submission": name, "score": 1, "max_score": 1, "exercises": [exercise], "shard": shard}
    )


def test_merge_refuses_a_submission_graded_twice_and_a_missing_one(tmp_path):
    one, two = tmp_path / "1.jsonl", tmp_path / "2.jsonl"
    one.write_text(_line("ada", 1) + "\n" + _line("cy", 1) + "\n")
    two.write_text(_line("bob", 2) + "\n")
    out = tmp_path / "report.json"
    fine = ropekit("classroom", "merge", str(out), str(one), str(two), root=ROOT)
    assert fine.returncode == 0, fine.stderr
    assert [s["submission"] for s in json.loads(out.read_text())["submissions"]] == ["ada", "bob", "cy"]
    out.unlink()
    twice = ropekit("classroom", "merge", str(out), str(one), str(two), str(one), root=ROOT)
    assert twice.returncode == 2 and not out.exists()
    assert (
        twice.stderr.strip().splitlines() == [twice.stderr.strip()]
        and "'ada' is graded twice" in twice.stderr
    )
    two.write_text(_line("bob", 2) + "\n" + _line("ada", 2) + "\n")  # a shard that saw another folder
    assert "graded twice" in ropekit("classroom", "merge", str(out), str(one), str(two), root=ROOT).stderr
    missing = ropekit("classroom", "merge", str(out), str(one), root=ROOT)
    assert missing.returncode == 2 and not out.exists()
    assert "shard 2/2 has 0 of its 1 submissions" in missing.stderr


def _processes_of(root: Path) -> list[str]:
    """Processes whose environment has ROPEKIT_ROOT=root (Linux /proc)."""
    marker = f"ROPEKIT_ROOT={root}".encode()
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if marker in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                found.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:100])
        except OSError:
            continue
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ctrl_c_during_jobs_leaves_no_process_behind(workspace, tmp_path):
    """Two workers, each grading a submission that loops and has started a daemon in a new session."""
    daemon = (
        "import subprocess\nsubprocess.Popen(['sleep', '300'], start_new_session=True)\nwhile True:\n    pass"
    )
    folder = _class(tmp_path / "class", {n: daemon for n in "abcd"}, modules=("sinusoidal",))
    shutil.rmtree(workspace / "solutions")  # not needed: grading the class only
    proc = _popen("grade", "sinusoidal", "--submissions", str(folder), "--jobs", "2", root=workspace)
    deadline = time.monotonic() + 60
    while sum("sleep 300" in p for p in _processes_of(workspace)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)  # until both workers' children have started their daemons
    assert sum("sleep 300" in p for p in _processes_of(workspace)) == 2, _processes_of(workspace)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and err.strip() == "ropekit: interrupted", err
    time.sleep(0.2)
    assert _processes_of(workspace) == []
