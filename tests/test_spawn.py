"""Isolation without fork: a fresh interpreter per exercise (grader/_spawn_child.py), forced on Linux
with ROPEKIT_ISOLATION=spawn, keeps what the fork path guarantees (tests/test_isolation.py,
tests/test_judge.py): time limits, crash isolation, the output cap, the memory limit, the file-system
guard, no process left behind, and the same verdicts. Each spawned child imports torch (~2 s), so the
cases share children: one run of many small checks against one learner module."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from conftest import ROOT, mutate, ropekit, solution_source
from test_isolation import _alive

from grader import isolation
from grader.catalog import get_exercise
from grader.checking import Check, Mistake, call
from grader.loading import from_folder, reference_solutions
from grader.runner import grade_exercise, guard_for


@pytest.fixture(autouse=True)
def spawn(monkeypatch):
    monkeypatch.setenv("ROPEKIT_ISOLATION", "spawn")
    monkeypatch.setattr(isolation, "MAX_STRIKES", 10)  # every case below gets its check run


LEARNER = """
import ctypes, os, subprocess, sys
import torch

def where():
    return sys.argv[0]

def add(a, b):
    print("adding")
    return a + b

def loop():
    while True:
        pass

def exit7():
    os._exit(7)

def segfault():
    ctypes.string_at(0)

def flood():
    sys.stdout.write("x" * 50_000_000)

def leave():
    sys.exit(3)

def stub():
    raise NotImplementedError

def hog():
    blocks = []
    while True:
        blocks.append(torch.empty(1 << 28))

def daemon(marker):
    sleep = [sys.executable, "-c", "import time; time.sleep(120)"]
    p = subprocess.Popen(sleep, start_new_session=True)
    open(marker, "w").write(str(p.pid))
"""


def _equal(value, wanted) -> None:
    if value != wanted:
        raise Mistake(f"expected {wanted!r}, got {value!r}")


def _adds(impl) -> None:
    _equal(impl.add(torch.ones(3), torch.ones(3)).tolist(), [2.0, 2.0, 2.0])


def _run(folder: Path, module: str, checks: list[tuple[str, object]], guard=None) -> list:
    """run_isolated on `folder/module.py`, as grade_exercise calls it; no process may be left over."""
    before = isolation._children()
    impl = from_folder(folder)
    outcomes = isolation.run_isolated(
        lambda: pytest.fail("the spawn path must not call load() in the judge"),
        [Check(name, 1, func) for name, func in checks],
        time_limit=2.0,
        guard=guard,
        spec=(impl, module),
    )
    assert isolation._children() == before, "a grading child outlived the run"
    return outcomes


def test_each_failure_costs_only_its_check(tmp_path, capfd):
    (tmp_path / "learner.py").write_text(LEARNER)
    marker = tmp_path / "daemon.pid"
    cases = [  # (check, what it does, words of the outcome's message; "" = passes)
        ("spawned", lambda impl: _equal("_spawn_child" in impl.where(), True), ""),
        ("adds", _adds, ""),
        ("infinite loop", lambda impl: impl.loop(), "did not finish within 2 s"),
        ("adds after the loop", _adds, ""),
        ("os._exit", lambda impl: impl.exit7(), "the process exited with status 7 (os._exit"),
        ("segfault", lambda impl: impl.segfault(), "the process crashed (SIGSEGV)"),
        ("50 MB printed", lambda impl: impl.flood(), "printed more than 1 MiB of output"),
        ("sys.exit", lambda impl: call(impl, "leave"), "`leave` called sys.exit()"),
        ("memory without bound", lambda impl: call(impl, "hog"), "`hog` ran out of memory (the limit is"),
        ("a stub", lambda impl: call(impl, "stub"), "`stub` is not implemented yet"),
        ("a daemon", lambda impl: impl.daemon(str(marker)), ""),
        ("adds at the end", _adds, ""),
    ]
    outcomes = _run(tmp_path, "learner", [(name, func) for name, func, _ in cases])
    for (name, _, words), outcome in zip(cases, outcomes, strict=True):
        assert outcome.passed == (not words), (name, outcome.message)
        assert words in outcome.message, (name, outcome.message)
    assert outcomes[1].output == "adding\n"
    assert len(outcomes[6].output) == isolation.OUTPUT_LIMIT  # captured, capped
    pid = int(marker.read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.1)
    assert not _alive(pid), f"the daemon {pid} outlived grading"
    printed = capfd.readouterr()
    assert "adding" not in printed.out + printed.err and "xxxx" not in printed.out + printed.err


@pytest.mark.parametrize(
    "source, reason",
    [
        ("while True:\n    pass\n", "importing your module took more than 4 s"),
        ("import sys\nsys.exit(0)\n", "your module calls sys.exit() at import"),
        ("import os\nos._exit(0)\n", "exited with status 0 (os._exit or exit in your code?) while importing"),
    ],
    ids=["infinite loop", "sys.exit", "os._exit"],
)
def test_a_failure_at_import_fails_every_check(tmp_path, source, reason):
    (tmp_path / "learner.py").write_text(source)
    outcomes = _run(tmp_path, "learner", [("one", _adds), ("two", _adds)])
    assert [o.passed for o in outcomes] == [False, False]
    assert all(o.message == outcomes[0].message for o in outcomes) and reason in outcomes[0].message


def test_the_guard_is_installed_before_the_import(workspace):
    sibling = workspace / "exercises" / "sinusoidal.py"
    before = sibling.read_bytes()
    root = f"from pathlib import Path\nROOT = Path({str(workspace)!r})\n"
    (workspace / "exercises" / "snoop.py").write_text(
        root
        + "try:\n    open(str(ROOT / 'solutions' / 'rope.py')).read()\nexcept PermissionError:\n    pass\n"
        + "def write_sibling():\n    try:\n        open(str(ROOT / 'exercises' / 'sinusoidal.py'), 'w')\n"
        + "    except PermissionError:\n        pass\n"
        + "def fine():\n    return 1\n"
    )
    impl = from_folder(workspace / "exercises")
    checks = [
        ("after the import", lambda impl: _equal(impl.fine(), 1)),
        ("writes a sibling", lambda impl: impl.write_sibling()),
        ("fine", lambda impl: _equal(impl.fine(), 1)),
    ]
    read, write, fine = _run(
        workspace / "exercises", "snoop", checks, guard=guard_for(get_exercise("rope"), impl)
    )
    assert not read.passed and "your code tried reading" in read.message and "solutions" in read.message
    assert not write.passed and "your code tried writing" in write.message
    assert "is not allowed while grading" in write.message
    assert fine.passed
    assert sibling.read_bytes() == before


def _verdicts(impl) -> list[tuple]:
    return [(c.name, c.passed, c.message) for c in grade_exercise(get_exercise("rope"), impl).checks]


def test_a_real_exercise_gets_the_verdicts_of_the_fork_path(tmp_path, monkeypatch):
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    (wrong / "rope.py").write_text(
        mutate(solution_source("rope"), [("theta = base ** (", "theta = 10000.0 ** (")])
    )
    impls = {
        "solution": reference_solutions(),
        "stub": from_folder(ROOT / "exercises"),
        "wrong": from_folder(wrong),
    }
    spawned = {name: _verdicts(impl) for name, impl in impls.items()}
    monkeypatch.setenv("ROPEKIT_ISOLATION", "fork")
    forked = {name: _verdicts(impl) for name, impl in impls.items()}
    assert spawned == forked
    assert all(passed for _, passed, _ in spawned["solution"])
    assert all(not passed and "is not implemented yet" in message for _, passed, message in spawned["stub"])
    assert any(not passed for _, passed, _ in spawned["wrong"]) and any(p for _, p, _ in spawned["wrong"])


def test_the_cli_grades_with_spawned_children(workspace):
    done = ropekit(
        "check", "rope", "--solutions", "--json", root=workspace, env={"ROPEKIT_ISOLATION": "spawn"}
    )
    assert done.returncode == 0, done.stderr
    rope = json.loads(done.stdout)["exercises"][0]
    assert rope["score"] == rope["max_score"] > 0


def test_the_child_dies_with_a_killed_grader(workspace, tmp_path_factory):
    marker = tmp_path_factory.mktemp("outside") / "child.pid"
    (workspace / "exercises" / "sinusoidal.py").write_text(
        "import os\n"
        "def sinusoidal_encoding(length, d_model, base=10000.0):\n"
        f"    open({str(marker)!r}, 'w').write(str(os.getpid()))\n"
        "    while True:\n        pass\n"
    )
    env = {**os.environ, "ROPEKIT_ROOT": str(workspace), "ROPEKIT_ISOLATION": "spawn"}
    exe = Path(sys.executable).with_name("ropekit")
    grader = subprocess.Popen(
        [str(exe), "grade", "sinusoidal", "--time-limit", "60"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (marker.exists() and marker.read_text()):
            time.sleep(0.1)
        pid = int(marker.read_text())  # the spawned child, inside the learner's loop
        assert "_spawn_child" in Path(f"/proc/{pid}/cmdline").read_text()
    finally:
        grader.kill()
        grader.wait(timeout=10)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.1)
    assert not _alive(pid), f"the grading child {pid} outlived the killed grader"
