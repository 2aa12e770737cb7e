"""`ropekit watch` in a real pseudo-terminal of 80 columns, as a learner leaves it running: it starts
at the first unfinished exercise, re-grades on save, moves on to the next exercise on a pass and says
so, and Ctrl-C stops it with nothing left running."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("pty")  # POSIX only
from pty_terminal import COLUMNS, Terminal, columns  # noqa: E402


def processes_in(root: Path) -> list[int]:
    """Processes whose environment points the kit at `root` (the watcher and its grading children)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if f"ROPEKIT_ROOT={root}".encode() in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_watch_follows_the_learner_to_the_next_exercise(workspace):
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env.update(ROPEKIT_ROOT=str(workspace), NO_COLOR="1", TERM="xterm")
    exe = str(Path(sys.executable).with_name("ropekit"))
    term = Terminal([exe, "watch"], env, cwd=workspace)
    term.expect(r"watching attention \(exercises/attention\.py\)")
    time.sleep(1.0)  # let the watcher start before the save
    shutil.copy(workspace / "solutions" / "attention.py", workspace / "exercises" / "attention.py")
    term.expect(r"attention changed")
    term.expect(r"all checks pass")
    term.expect(r"attention passes — on to absolute_vs_relative")
    term.expect(r"read notebooks/02_absolute_vs_relative\.ipynb")
    term.expect(r"score 0/10")  # the next exercise is graded at once
    term.expect(r"watching absolute_vs_relative \(exercises/absolute_vs_relative\.py\)")
    term.type("\x03")  # Ctrl-C
    status = term.wait()
    assert status == 0, term.text
    assert "Traceback" not in term.text
    assert max(columns(line) for line in term.text.splitlines()) <= COLUMNS
    if sys.platform.startswith("linux"):
        assert processes_in(workspace) == []


def test_solution_in_a_terminal_wraps_long_lines_instead_of_cutting_them(workspace):
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env.update(ROPEKIT_ROOT=str(workspace), NO_COLOR="1", TERM="xterm", PAGER="cat")  # the pager: cat
    exe = str(Path(sys.executable).with_name("ropekit"))
    term = Terminal([exe, "solution", "rope", "--yes"], env, cwd=workspace)
    status = term.wait()
    assert status == 0, term.text
    source = (workspace / "solutions" / "rope.py").read_text().splitlines()
    longest = max(source, key=len)
    assert len(longest) > COLUMNS - 10  # a line that cannot fit beside the line numbers
    shown = " ".join(term.text.split())
    assert longest.split()[-1] in shown  # its end is shown, not cropped
    assert max(columns(line) for line in term.text.splitlines()) <= COLUMNS
