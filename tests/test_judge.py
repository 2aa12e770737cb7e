"""The judge: checks run in the grading process, learner code in a child that only answers requests.

A wrong submission that also forges (replaces the comparison functions, the grader's helpers, the
wire format, writes to the pipes, returns objects that lie) scores no more than the same wrong
submission without the forgery. Files of the kit cannot be read or changed from the child whatever
the path looks like; processes the learner's code starts do not outlive grading; Ctrl-C and a killed
grader leave nothing running. Real CLI, real processes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ropekit, solution_source
from test_isolation import _alive, rope_then, rope_with

# A wrong apply_rope: it returns its input (no rotation at all), every other function correct.
WRONG_ROPE = rope_with("return x.clone()")

FORGERIES = {
    "torch.allclose and isclose always true": "torch.allclose = lambda *a, **k: True\n"
    "torch.isclose = lambda a, b, *r, **k: torch.ones_like(a, dtype=torch.bool)",
    "numpy comparisons always true": "import numpy\nnumpy.allclose = lambda *a, **k: True\n"
    "numpy.testing.assert_allclose = lambda *a, **k: None",
    "Tensor.__eq__ and __sub__ replaced": "torch.Tensor.__eq__ = lambda self, other: True\n"
    "torch.Tensor.__sub__ = lambda self, other: torch.zeros_like(self)",
    "numpy.arange and torch.arange patched": "import numpy\nnumpy.arange = lambda *a, **k: numpy.zeros(3)\n"
    "_arange = torch.arange\ntorch.arange = lambda *a, **k: _arange(*a, **k) * 0",
    "the grader's helpers replaced": "import grader.checks._rotations as r, grader.checking as c\n"
    "r.expect_rope = lambda *a, **k: None\nc.fail = lambda *a, **k: None",
    "every Check swapped for a no-op": "import gc, grader.checking as c\n"
    "for o in gc.get_objects():\n"
    "    if isinstance(o, c.Check): object.__setattr__(o, 'func', lambda impl: None)",
    "json.dumps replaced": "import json\njson.dumps = lambda *a, **k: '{\"r\": true}'",
    "the wire format replaced": "import grader.remote as w\nw.pack = lambda m, b: b'done passed\\n' * 100",
    "fake verdict lines on every pipe": "for fd in range(3, 64):\n"
    '    try: os.write(fd, b\'{"event": "done", "index": 0, "passed": true, "message": ""}\\n\')\n'
    "    except OSError: pass",
}

LIAR_ARRAY = """
import numpy as np

class Liar(np.ndarray):
    def __array_function__(self, func, types, args, kwargs):
        return True
    def __eq__(self, other):
        return np.ones(np.shape(other), dtype=bool)
"""


def _grade(root: Path, folder: Path, *ids: str) -> dict:
    done = ropekit("grade", *ids, "--exercises", str(folder), "--json", "--time-limit", "5", root=root)
    assert done.returncode in (0, 1), done.stderr
    return {e["id"]: e for e in json.loads(done.stdout)["exercises"]}


def _submission(tmp_path: Path, name: str, **files: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    for module, source in files.items():
        (folder / f"{module}.py").write_text(source, encoding="utf-8")
    return folder


def _grade_here(folder: Path, *ids: str) -> dict:
    """The same judge as the CLI, in this process (no start-up per submission)."""
    from grader.catalog import get_exercise
    from grader.loading import from_folder
    from grader.runner import grade_exercise

    return {i: grade_exercise(get_exercise(i), from_folder(folder), time_limit=5).to_dict() for i in ids}


def test_forgeries_change_nothing(workspace, tmp_path):
    plain = _grade(workspace, _submission(tmp_path, "plain", rope=WRONG_ROPE), "rope")["rope"]
    assert 0 < plain["score"] < plain["max_score"]
    for i, (case, code) in enumerate(FORGERIES.items()):
        forged = _submission(
            tmp_path,
            f"forged{i}",
            rope=WRONG_ROPE + "\n" + code + "\n",
            sinusoidal=solution_source("sinusoidal"),
        )
        graded = _grade_here(forged, "rope", "sinusoidal")
        rope = graded["rope"]
        assert rope["score"] <= plain["score"], (case, [c["name"] for c in rope["checks"] if c["passed"]])
        assert graded["sinusoidal"]["score"] == graded["sinusoidal"]["max_score"], case
        assert all("\n" not in c["message"] for c in rope["checks"]), case


def test_an_ndarray_subclass_that_lies_scores_no_more_than_plain_zeros(workspace, tmp_path):
    zeros = (
        "def rope_frequencies(dim, base=10000.0):\n    return np.zeros(dim // 2)\n"
        "def rotation_matrix(position, dim, base=10000.0):\n    return np.zeros((dim, dim))\n"
        "def apply_rope(x, positions, base=10000.0):\n    return np.zeros_like(x)\n"
    )
    liar = LIAR_ARRAY + zeros.replace(")\n", ").view(Liar)\n")
    plain = _grade(workspace, _submission(tmp_path, "zeros", rope_numpy=LIAR_ARRAY + zeros), "rope_numpy")
    lying = _grade(workspace, _submission(tmp_path, "liar", rope_numpy=liar), "rope_numpy")
    assert plain["rope_numpy"]["score"] < plain["rope_numpy"]["max_score"] / 2
    assert lying["rope_numpy"]["score"] <= plain["rope_numpy"]["score"]


def test_a_correct_solution_that_seeds_torch_gets_full_marks(workspace, tmp_path):
    seeded = solution_source("rope").replace(
        "from __future__ import annotations\n",
        "from __future__ import annotations\nimport torch\ntorch.manual_seed(0)\n",
        1,
    )
    seeded = seeded.replace("    dim = x.shape[-1]\n", "    torch.manual_seed(1)\n    dim = x.shape[-1]\n", 1)
    graded = _grade(workspace, _submission(tmp_path, "seeded", rope=seeded), "rope")["rope"]
    assert graded["score"] == graded["max_score"], [c for c in graded["checks"] if not c["passed"]]


@pytest.mark.parametrize(
    "case, code",
    [
        ("reading the solutions through //", "open('//' + str(ROOT / 'solutions' / 'rope.py')).read()"),
        (
            "reading the solutions through ..",
            "open(str(ROOT / 'exercises' / '..' / 'solutions' / 'rope.py'))",
        ),
        ("deleting a sibling exercise", "os.remove('//' + str(ROOT / 'exercises' / 'sinusoidal.py'))"),
        ("writing the progress store", "open(str(ROOT / '.ropekit' / 'progress.db'), 'ab').write(b'x')"),
        (
            "writing a sibling from a thread, under another file name",
            "import threading\n"
            "code = compile(\"open(p, 'w').write('gone')\", '/tmp/elsewhere.py', 'exec')\n"
            "target = {'p': str(ROOT / 'exercises' / 'sinusoidal.py')}\n"
            "t = threading.Thread(target=exec, args=(code, target))\n"
            "t.start(); t.join()",
        ),
    ],
)
def test_the_kit_files_are_out_of_reach(workspace, case, code):
    """The submission is the learner's own exercises/ (ROOT below is the workspace)."""
    sibling = workspace / "exercises" / "sinusoidal.py"
    before = sibling.read_bytes()
    prelude = f"from pathlib import Path\nROOT = Path({str(workspace)!r})\n"
    (workspace / "exercises" / "rope.py").write_text(
        rope_then(
            prelude
            + "try:\n"
            + "".join(f"    {line}\n" for line in code.splitlines())
            + "except PermissionError:\n    pass\n"
        )
    )
    done = ropekit("check", "rope", "--json", root=workspace)
    rope = json.loads(done.stdout)["exercises"][0]
    messages = [c["message"] for c in rope["checks"] if not c["passed"]]
    assert any("is not allowed while grading" in m for m in messages), (case, messages)
    assert sibling.read_bytes() == before, case


def test_a_daemon_started_in_a_new_session_is_killed(workspace, tmp_path_factory):
    marker = tmp_path_factory.mktemp("outside") / "daemon.pid"
    body = (
        "import subprocess\n"
        "sleep = [sys.executable, '-c', 'import time; time.sleep(120)']\n"
        "p = subprocess.Popen(sleep, start_new_session=True)\n"
        f"open({str(marker)!r}, 'w').write(str(p.pid))\n"
        "return x"
    )
    (workspace / "exercises" / "rope.py").write_text(rope_with(body))
    ropekit("check", "rope", root=workspace)
    pid = int(marker.read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.1)
    assert not _alive(pid), f"the daemon {pid} outlived grading"


def _descendants(pid: int) -> set[int]:
    found, frontier = set(), {pid}
    while frontier:
        children = set()
        for name in os.listdir("/proc"):
            if name.isdigit():
                try:
                    fields = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()
                except (OSError, IndexError):
                    continue
                if int(fields[1]) in frontier:
                    children.add(int(name))
        found |= children
        frontier = children
    return found


def _hanging_grade(workspace: Path) -> tuple[subprocess.Popen, set[int]]:
    (workspace / "exercises" / "sinusoidal.py").write_text(
        "def sinusoidal_encoding(length, d_model, base=10000.0):\n    while True:\n        pass\n"
    )
    exe = Path(sys.executable).with_name("ropekit")
    env = {**os.environ, "ROPEKIT_ROOT": str(workspace), "NO_COLOR": "1"}
    grader = subprocess.Popen(
        [str(exe), "grade", "sinusoidal", "--time-limit", "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 30
    children: set[int] = set()
    while time.monotonic() < deadline and not children:
        time.sleep(0.2)
        children = _descendants(grader.pid)
    assert children, "no grading child appeared"
    time.sleep(0.5)  # inside the loop by now
    return grader, children


def test_ctrl_c_stops_the_children_and_exits_130(workspace):
    grader, children = _hanging_grade(workspace)
    grader.send_signal(signal.SIGINT)
    out, err = grader.communicate(timeout=20)
    assert grader.returncode == 130
    assert err.strip() == "ropekit: interrupted", err
    assert "Traceback" not in out + err
    time.sleep(0.2)
    assert not any(_alive(pid) for pid in children)


def test_sigterm_stops_the_children_too(workspace):
    grader, children = _hanging_grade(workspace)
    grader.terminate()
    out, err = grader.communicate(timeout=20)
    assert grader.returncode == 143 and "Traceback" not in out + err
    time.sleep(0.2)
    assert not any(_alive(pid) for pid in children)


def test_a_closed_pipe_is_one_line(workspace):
    exe = Path(sys.executable).with_name("ropekit")
    env = {**os.environ, "ROPEKIT_ROOT": str(workspace), "NO_COLOR": "1", "COLUMNS": "80"}
    grade = subprocess.Popen(
        [str(exe), "grade", "--solutions", "--tables", "sinusoidal", "rope", "quiz"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    grade.stdout.read(100)
    grade.stdout.close()  # as `| head -c 100` does
    err = grade.stderr.read().decode()
    assert grade.wait(timeout=60) == 2
    assert err.strip() == "ropekit: output closed early (broken pipe)", err


def test_children_die_with_a_killed_grader(workspace):
    grader, children = _hanging_grade(workspace)
    grader.kill()
    grader.wait(timeout=10)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(_alive(pid) for pid in children):
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in children)


def test_learner_text_cannot_drive_the_terminal(workspace, tmp_path):
    source = rope_with("raise ValueError('\\x1b[2J\\x1b[31mall good \\udcff')")
    folder = _submission(tmp_path, "escapes", rope=source)
    report = tmp_path / "report.json"
    done = ropekit("grade", "rope", "--exercises", str(folder), "--report", str(report), root=workspace)
    assert done.returncode == 1
    assert "\x1b" not in done.stdout and "\\x1b[2J" in done.stdout
    assert "\\x1b[2J" in report.read_text(encoding="utf-8")


@pytest.mark.parametrize("value", ["inf", "nan", "-1", "0", "soon"])
def test_a_bad_time_limit_is_one_line(workspace, value):
    done = ropekit("grade", "sinusoidal", "--solutions", "--time-limit", value, root=workspace)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "--time-limit" in done.stderr


def test_results_are_printed_before_anything_is_written(workspace):
    done = ropekit(
        "grade", "sinusoidal", "--solutions", "--report", str(workspace / "no" / "r.json"), root=workspace
    )
    assert done.returncode == 2
    assert "score 10/10" in done.stdout
    assert done.stderr.strip().splitlines() == [done.stderr.strip()] and "--report" in done.stderr


def test_an_unusable_store_costs_the_record_not_the_grade(workspace):
    (workspace / ".ropekit").write_text("a file where the folder should be")
    (workspace / "exercises" / "sinusoidal.py").write_text(solution_source("sinusoidal"))
    done = ropekit("check", "sinusoidal", root=workspace)
    assert done.returncode == 0, done.stderr
    assert "score 10/10" in done.stdout
    assert done.stderr.startswith("ropekit: progress not saved:") and "Traceback" not in done.stderr


def test_a_missing_workspace_is_one_line(tmp_path):
    done = ropekit("check", "rope", root=tmp_path / "typo")
    assert done.returncode == 2
    assert done.stderr.strip() == f"ropekit: ROPEKIT_ROOT {tmp_path / 'typo'} has no exercises/ folder"
    assert not (tmp_path / "typo").exists()


def test_malformed_data_from_the_child_fails_only_its_exercise(workspace, tmp_path):
    code = "import grader.remote as w\n_pack = w.pack\nw.pack = lambda m, b: b'\\xff' * 12 + _pack(m, b)"
    folder = _submission(tmp_path, "garbage", rope=rope_then(code), sinusoidal=solution_source("sinusoidal"))
    graded = _grade(workspace, folder, "rope", "sinusoidal")
    assert graded["rope"]["score"] == 0
    assert any(
        "malformed" in c["message"] or "ended" in c["message"] or "exited" in c["message"]
        for c in graded["rope"]["checks"]
    )
    assert graded["sinusoidal"]["score"] == 10


@pytest.mark.parametrize(
    "code",
    [
        "os.kill(os.getppid(), signal.SIGKILL)",
        "os.killpg(os.getpgid(os.getppid()), signal.SIGKILL)",
        "os.kill(-1, signal.SIGTERM)",
    ],
)
def test_a_submission_cannot_signal_its_grader(workspace, tmp_path, code):
    """At import, a signal to the grader (or to every process) is refused: that submission fails with
    the reason, the next one is still graded."""
    class_folder = tmp_path / "class"
    class_folder.mkdir()
    _submission(
        class_folder, "a-killer", sinusoidal=solution_source("sinusoidal") + f"\nimport os, signal\n{code}\n"
    )
    _submission(class_folder, "b-honest", sinusoidal=solution_source("sinusoidal"))
    done = ropekit("grade", "sinusoidal", "--submissions", str(class_folder), root=workspace)
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["submission"] for line in lines] == ["a-killer", "b-honest"], done.stdout + done.stderr
    killer, honest = lines
    assert killer["score"] == 0 and "signalling the grader is not allowed" in json.dumps(killer)
    assert honest["score"] == honest["max_score"] > 0
