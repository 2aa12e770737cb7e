"""No learner file, answer or result is ever lost, whatever the disk or the store does; every failure
is one line. Real CLI, real files, a real SQLite store, real process limits (a full disk is a file-size
limit: writes fail with EFBIG as they would with ENOSPC)."""

from __future__ import annotations

import json
import resource
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from conftest import ROOT, ropekit, solution_source

from grader.files import locked

QUIZ_ITEMS = ("q1_role_of_pe", "q3_core_idea")  # single choice: the answer "a" is well-formed


def _full_disk(limit: int = 512):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failing write, not a killed process
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def _ropekit_limited(root: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    import os

    exe = Path(sys.executable).with_name("ropekit")
    env = {**os.environ, "ROPEKIT_ROOT": str(root), "NO_COLOR": "1", "COLUMNS": "160"}
    return subprocess.run(
        [str(exe), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        preexec_fn=_full_disk(),
    )


def _no_temp_files(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_reset_on_a_full_disk_keeps_the_file(workspace):
    target = workspace / "exercises" / "rope.py"
    target.write_text("# my work\n" * 200)
    before = target.read_bytes()
    done = _ropekit_limited(workspace, "reset", "rope", "--yes")
    assert done.returncode == 2, done.stdout + done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert target.read_bytes() == before
    assert _no_temp_files(target.parent)


def test_reset_errors_are_one_line_and_keep_the_file(workspace):
    target = workspace / "exercises" / "rope.py"
    target.write_bytes(b"# caf\xe9 in latin-1\n")
    done = ropekit("reset", "rope", "--yes", root=workspace)
    assert done.returncode == 0, done.stderr  # not UTF-8: still backed up byte for byte, then reset
    backups = list((workspace / ".ropekit" / "backups").glob("rope.py.*"))
    assert [b.read_bytes() for b in backups] == [b"# caf\xe9 in latin-1\n"]

    target.write_text("# mine\n")
    (workspace / ".ropekit" / "backups").rename(workspace / ".ropekit" / "old-backups")
    (workspace / ".ropekit" / "backups").write_text("a file where the folder should be")
    done = ropekit("reset", "rope", "--yes", root=workspace)
    assert done.returncode == 2 and done.stderr.startswith("ropekit: could not back up")
    assert target.read_text() == "# mine\n"

    target.unlink()
    target.mkdir()
    done = ropekit("reset", "rope", "--yes", root=workspace)
    assert done.returncode == 2 and "is a folder" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_two_quiz_sessions_at_once_keep_both_answers(workspace):
    """Both sessions are started while the sheet's lock is held, so their writes meet; both answers
    must be in the sheet afterwards."""
    import os

    sheet = workspace / "exercises" / "quiz.py"
    exe = Path(sys.executable).with_name("ropekit")
    env = {**os.environ, "ROPEKIT_ROOT": str(workspace), "NO_COLOR": "1"}
    with locked(sheet):
        sessions = [
            subprocess.Popen(
                [str(exe), "quiz", item, "--lang", "en"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            for item in QUIZ_ITEMS
        ]
        for session in sessions:
            session.stdin.write("a\n")
            session.stdin.close()
        time.sleep(3)  # both have their answers and wait for the lock
    for session in sessions:
        assert session.wait(timeout=60) == 0, session.stderr.read()
    text = sheet.read_text()
    for item in QUIZ_ITEMS:
        assert f'ANSWERS["{item}"] = "a"' in text, item


def test_quiz_on_a_full_disk_keeps_the_sheet(workspace):
    sheet = workspace / "exercises" / "quiz.py"
    before = sheet.read_bytes()
    done = _ropekit_limited(workspace, "quiz", QUIZ_ITEMS[0], "--lang", "en", stdin="a\n")
    assert done.returncode == 2, done.stdout + done.stderr
    assert sheet.read_bytes() == before
    assert _no_temp_files(sheet.parent)


def test_a_corrupt_store_is_kept_aside_and_replaced(workspace):
    store = workspace / ".ropekit" / "progress.db"
    store.parent.mkdir()
    store.write_bytes(b"not a database at all " * 100)
    (workspace / "exercises" / "sinusoidal.py").write_text(solution_source("sinusoidal"))
    done = ropekit("check", "sinusoidal", root=workspace)
    assert done.returncode == 0 and "score 10/10" in done.stdout
    assert "could not be read" in done.stderr and "Traceback" not in done.stderr
    kept = list(store.parent.glob("progress.db.unreadable-*"))
    assert len(kept) == 1 and kept[0].read_bytes().startswith(b"not a database")
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT exercise, score FROM attempts").fetchall() == [("sinusoidal", 10)]


def test_an_older_store_is_migrated(workspace):
    store = workspace / ".ropekit" / "progress.db"
    store.parent.mkdir()
    with sqlite3.connect(store) as db:  # the first schema: no source, duration or code_hash
        db.executescript(
            "CREATE TABLE attempts (id INTEGER PRIMARY KEY, exercise TEXT NOT NULL, at REAL NOT NULL,"
            " checks_passed INTEGER NOT NULL, checks_total INTEGER NOT NULL, score INTEGER NOT NULL,"
            " max_score INTEGER NOT NULL);"
            "INSERT INTO attempts (exercise, at, checks_passed, checks_total, score, max_score)"
            " VALUES ('rope', 1.0, 20, 20, 32, 32);"
        )
    done = ropekit("list", root=workspace)
    assert done.returncode == 0 and not done.stderr, done.stderr
    from grader.catalog import get_exercise

    assert f"{get_exercise('rope').points}/" in done.stdout  # the old attempt counts: rope passed
    (workspace / "exercises" / "sinusoidal.py").write_text(solution_source("sinusoidal"))
    done = ropekit("check", "sinusoidal", root=workspace)
    assert done.returncode == 0 and not done.stderr, done.stderr
    with sqlite3.connect(store) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] >= 2
        assert db.execute("SELECT COUNT(*) FROM attempts WHERE code_hash IS NOT NULL").fetchone()[0] == 1


def test_a_busy_store_costs_only_the_record(workspace):
    (workspace / "exercises" / "sinusoidal.py").write_text(solution_source("sinusoidal"))
    assert ropekit("check", "sinusoidal", root=workspace).returncode == 0  # creates the store
    holder = sqlite3.connect(workspace / ".ropekit" / "progress.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        done = ropekit("check", "sinusoidal", root=workspace)
        assert time.monotonic() - started < 30
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert done.returncode == 0 and "score 10/10" in done.stdout
    assert done.stderr.startswith("ropekit: progress not saved:") and "busy" in done.stderr


def test_every_graded_version_is_in_the_backups(workspace):
    target = workspace / "exercises" / "sinusoidal.py"
    versions = [solution_source("sinusoidal"), solution_source("sinusoidal") + "\n# v2\n"]
    for text in versions:
        target.write_text(text)
        ropekit("check", "sinusoidal", root=workspace)
        ropekit("check", "sinusoidal", root=workspace)  # unchanged: no second copy
    copies = sorted((workspace / ".ropekit" / "backups").glob("sinusoidal.py.*"))
    assert [c.read_text() for c in copies] == versions


def test_a_terminal_that_is_not_utf8_gets_ascii(workspace):
    (workspace / "exercises" / "sinusoidal.py").write_text(solution_source("sinusoidal"))
    for args in (("list",), ("check", "sinusoidal"), ("grade", "rope")):
        done = ropekit(*args, root=workspace, env={"PYTHONIOENCODING": "ascii"})
        assert done.returncode in (0, 1), (args, done.stderr)
        assert "Traceback" not in done.stderr and "UnicodeEncodeError" not in done.stderr
        done.stdout.encode("ascii")
    assert "score 10/10" in ropekit("check", "sinusoidal", root=workspace, env={"LANG": "C"}).stdout


def test_export_keeps_a_teachers_edits_unless_forced(tmp_path):
    course = tmp_path / "course"
    assert ropekit("classroom", "export", str(course), "--exercise", "sinusoidal", root=ROOT).returncode == 0
    config = course / "nbgrader_config.py"
    notebook = course / "source" / "sinusoidal" / "sinusoidal.ipynb"
    config.write_text(config.read_text() + "c.Exchange.root = '/srv/exchange'  # the teacher's\n")
    edited = json.loads(notebook.read_text())
    edited["cells"][0]["source"] = "# My own introduction"
    notebook.write_text(json.dumps(edited))
    mine = (config.read_bytes(), notebook.read_bytes())

    done = ropekit("classroom", "export", str(course), "--exercise", "sinusoidal", root=ROOT)
    assert done.returncode == 2 and "--force" in done.stdout and len(done.stdout.strip().splitlines()) == 1
    assert (config.read_bytes(), notebook.read_bytes()) == mine

    done = ropekit("classroom", "export", str(course), "--exercise", "sinusoidal", "--force", root=ROOT)
    assert done.returncode == 0
    assert config.read_bytes() != mine[0]
    backups = list((course / ".ropekit-backups").glob("*"))
    assert len(backups) == 1
    assert (backups[0] / "nbgrader_config.py").read_bytes() == mine[0]
    assert (backups[0] / "source" / "sinusoidal" / "sinusoidal.ipynb").read_bytes() == mine[1]
    again = ropekit("classroom", "export", str(course), "--exercise", "sinusoidal", root=ROOT)
    assert again.returncode == 0  # the same export again: nothing differs, nothing to refuse
