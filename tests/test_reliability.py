"""No false pass, no flake, nothing lost: determinism, the progress store under concurrent writers and
SIGKILL, and every version of a learner's file recoverable after reset."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

from conftest import mutate, ropekit, solution_source

from grader.catalog import get_exercise
from grader.loading import from_folder, reference_solutions
from grader.runner import grade_exercise
from grader.store import Store


def test_grading_is_deterministic_20_times(tmp_path):
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    (wrong / "rope.py").write_text(
        mutate(solution_source("rope"), [("theta = base ** (", "theta = 10000.0 ** (")])
    )
    for impl in (reference_solutions(), from_folder(wrong)):
        runs = {
            tuple((c.name, c.passed, c.message) for c in grade_exercise(get_exercise("rope"), impl).checks)
            for _ in range(20)
        }
        assert len(runs) == 1


WRITER = """
import sys, time
from grader.store import Store
from grader.runner import ExerciseResult, CheckResult
store = Store()
for n in range(int(sys.argv[1])):
    store.record_attempt(ExerciseResult(id=sys.argv[2], checks=[CheckResult("c", True, 1, "")]))
    print(n, flush=True)
"""


def _writer(root, count, exercise):
    env = {**os.environ, "ROPEKIT_ROOT": str(root)}
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(count), exercise], env=env, stdout=subprocess.PIPE, text=True
    )


def test_two_writers_at_once_lose_nothing(tmp_path):
    writers = [_writer(tmp_path, 150, "a"), _writer(tmp_path, 150, "b")]
    for w in writers:
        assert w.wait(timeout=120) == 0
    store = Store(tmp_path / ".ropekit" / "progress.db")
    assert len(store.attempts("a")) == 150 and len(store.attempts("b")) == 150
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_writer_killed_mid_write_leaves_every_committed_attempt(tmp_path):
    writer = _writer(tmp_path, 100000, "k")
    committed = -1
    deadline = time.monotonic() + 60
    while committed < 200 and time.monotonic() < deadline:
        committed = int(writer.stdout.readline())
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    store = Store(tmp_path / ".ropekit" / "progress.db")
    assert len(store.attempts("k")) >= committed + 1  # every attempt reported as written is there
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store.record_attempt(grade_exercise(get_exercise("sinusoidal"), reference_solutions()))
    assert store.latest()["sinusoidal"].solved  # still writable


def test_every_version_of_a_learner_file_is_recoverable(workspace):
    target = workspace / "exercises" / "rope.py"
    versions = []
    for n in range(3):
        text = target.read_text() + f"\n# attempt {n}\n"
        target.write_text(text)
        versions.append(text)
        assert ropekit("reset", "rope", "--yes", root=workspace).returncode == 0
    subprocess.run(
        [sys.executable, "-m", "grader.stubs"],
        env={**os.environ, "ROPEKIT_ROOT": str(workspace)},
        check=True,
        capture_output=True,
    )
    backups = sorted((workspace / ".ropekit" / "backups").glob("rope.py.*"))
    saved = {b.read_text() for b in backups}
    assert all(v in saved for v in versions)


def test_stub_regeneration_backs_up_a_changed_file(workspace):
    target = workspace / "exercises" / "sinusoidal.py"
    target.write_text(target.read_text() + "\n# my notes\n")
    done = subprocess.run(
        [sys.executable, "-m", "grader.stubs"],
        capture_output=True,
        text=True,
        env={**os.environ, "ROPEKIT_ROOT": str(workspace)},
        check=True,
    )
    assert "previous version saved as" in done.stdout
    backups = list((workspace / ".ropekit" / "backups").glob("sinusoidal.py.*"))
    assert backups and "# my notes" in backups[0].read_text()
