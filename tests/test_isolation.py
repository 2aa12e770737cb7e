"""Learner code that hangs, exits, crashes, floods output or fails at import fails only its own
exercise, with a one-line reason; the other exercise is graded normally. Real CLI, real processes."""

from __future__ import annotations

import json
import shutil
import time

import pytest
from conftest import ROOT, ropekit

RIGHT_ROPE = (ROOT / "solutions" / "rope.py").read_text()
HEADER = "import os, sys, time, signal, ctypes\nimport torch\n"


def rope_with(body: str) -> str:
    """A rope.py whose apply_rope runs `body` first (the other functions are correct)."""
    marker = "    dim = x.shape[-1]\n    r = dim if rotary_dim"
    source = RIGHT_ROPE.replace(
        "from __future__ import annotations\n", "from __future__ import annotations\n" + HEADER
    )
    return source.replace(marker, "".join(f"    {line}\n" for line in body.splitlines()) + marker)


def rope_then(code: str) -> str:
    """The correct rope.py followed by module-level `code` (runs at import)."""
    return rope_with("pass") + "\n" + code + "\n"


LIAR = """
class Liar(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        return True
    def __eq__(self, other):
        return True
"""

CASES = [
    # (case, rope.py source, words of the reason)
    ("infinite loop in a function", rope_with("while True: pass"), "did not finish within 2 s"),
    ("infinite loop at import", HEADER + "while True: pass\n", "importing your module took more than"),
    ("sys.exit at import", HEADER + "sys.exit(0)\n", "calls sys.exit() at import"),
    (
        "os._exit at import",
        HEADER + "os._exit(0)\n",
        "exited with status 0 (os._exit or exit in your code?) while importing",
    ),
    ("sys.exit in a function", rope_with("sys.exit(3)"), "called sys.exit()"),
    ("os._exit in a function", rope_with("os._exit(7)"), "exited with status 7"),
    ("SIGKILL itself", rope_with("os.kill(os.getpid(), signal.SIGKILL)"), "killed (SIGKILL)"),
    ("segfault", rope_with("ctypes.string_at(0)"), "crashed (SIGSEGV)"),
    ("50 MB printed", rope_with("sys.stdout.write('x' * 50_000_000)"), "printed more than 1 MiB"),
    ("syntax error", "def apply_rope(:\n", "import failed: SyntaxError"),
    ("import error", "import not_a_module_anywhere\n", "import failed: ModuleNotFoundError"),
    (
        "exception whose __str__ raises",
        HEADER + "class Bad(Exception):\n    def __str__(self): raise RuntimeError\n"
        "def apply_rope(*a, **k): raise Bad()\n",
        "raised Bad",
    ),
    (
        "reading the checks' stored fixtures",
        rope_then("import grader.checks.transformer as c\nopen(str(c.SNAPSHOT), 'rb').read()"),
        "tried reading",
    ),
    (
        "importing the solutions",
        rope_then("import importlib\nimportlib.import_module('solutions.rope')"),
        "tried reading",
    ),
    (
        "writing into the progress store",
        rope_with(
            "import sqlite3, grader.catalog as g\n"
            "sqlite3.connect(str(g.workspace_root() / '.ropekit' / 'progress.db'))"
        ),
        "tried sqlite3.connect",
    ),
    (
        "a tensor subclass that lies",
        rope_then(
            LIAR + "def apply_rope(x, positions, **kw):\n    return torch.zeros_like(x).as_subclass(Liar)"
        ),
        "the output is all zeros",
    ),
    (
        "memory without bound",
        rope_with("blocks = []\nwhile True: blocks.append(torch.empty(1 << 28))"),
        "ran out of memory",
    ),
]


@pytest.mark.parametrize("case, source, reason", CASES, ids=[c[0] for c in CASES])
def test_broken_submission_fails_only_its_exercise(workspace, tmp_path, case, source, reason):
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "rope.py").write_text(source)
    shutil.copy(ROOT / "solutions" / "sinusoidal.py", submission / "sinusoidal.py")
    started = time.monotonic()
    done = ropekit("grade", "--exercises", str(submission), "--json", "--time-limit", "2", root=workspace)
    assert time.monotonic() - started < 60
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)  # the report is intact, whatever was printed
    by_id = {e["id"]: e for e in report["exercises"]}
    assert by_id["sinusoidal"]["score"] == by_id["sinusoidal"]["max_score"] == 10
    rope = by_id["rope"]
    assert rope["score"] < rope["max_score"]
    messages = [c["message"] for c in rope["checks"] if not c["passed"]]
    assert any(reason in m for m in messages), messages
    if case == "a tensor subclass that lies":  # every check of apply_rope's values fails
        passed = {c["name"] for c in rope["checks"] if c["passed"]}
        assert not passed & {
            "position 0 is the identity (R_0 = I)",
            "each pair is rotated (norms preserved)",
            "relative position: <R_m q, R_n k> = <q, R_(n-m) k>",
        }
    assert all("\n" not in m for m in messages)  # one-line reasons, no traceback walls


def test_a_crash_in_one_check_does_not_fail_the_next(workspace, tmp_path):
    """os._exit inside apply_rope only when interleaved=True: checks that do not ask for it pass."""
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "rope.py").write_text(rope_with("if interleaved: os._exit(1)"))
    done = ropekit("check", "rope", "--exercises", str(submission), "--json", root=workspace)
    rope = json.loads(done.stdout)["exercises"][0]
    by_name = {c["name"]: c for c in rope["checks"]}
    assert not by_name["adjacent pairs (2i, 2i+1) when interleaved=True"]["passed"]
    assert by_name["half-split pairs (i, i + d/2) when interleaved=False"]["passed"]
    assert by_name["the base argument is used"]["passed"]  # the check after the crash ran normally


def test_no_process_outlives_the_run(workspace, tmp_path_factory):
    """A child spawned by learner code is killed with the exercise's process group."""
    tmp_path = tmp_path_factory.mktemp("outside-the-workspace")
    marker = tmp_path / "child.pid"
    body = (
        "import subprocess\n"
        f"p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
        f"open({str(marker)!r}, 'w').write(str(p.pid))\n"
        "while True: pass"
    )
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "rope.py").write_text(rope_with(body))
    ropekit("check", "rope", "--exercises", str(submission), "--time-limit", "2", root=workspace)
    pid = int(marker.read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.1)
    assert not _alive(pid), f"process {pid} spawned by the submission is still running"


def _alive(pid: int) -> bool:
    """True while pid runs (a zombie waiting to be reaped by init has ended)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
