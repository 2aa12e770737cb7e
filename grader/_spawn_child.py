"""The body of a spawned grading child: `python -m grader._spawn_child JUDGE_PID` (see SpawnWorker in
grader/isolation.py), for systems without fork.

A forked child inherits the judge's memory: torch, the checks, the guard, the loader closure. A fresh
interpreter is told them as plain data instead (the `setup` message), imports the same modules, and then
serves the learner's module with the very code a forked child runs (`_serve_learner`). The protocol
arrives on stdin and leaves on stdout; both move to other descriptors first thing, so that fd 1 and 2
(and sys.stdout, sys.stderr) are the output pipe the judge drains and caps.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from typing import Any


def _move_standard_streams() -> tuple[int, int]:
    """The protocol's descriptors (not inherited by processes the learner starts); fd 0 becomes the
    null device and fd 1 the output pipe, which fd 2 already is."""
    to_child, to_judge = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    sys.stdin = open(0, closefd=False)
    sys.stdout = open(1, "w", buffering=1, closefd=False, errors="replace")
    sys.stderr = open(2, "w", buffering=1, closefd=False, errors="replace")
    return to_child, to_judge


def _start() -> tuple[int, int, Callable[[], Any], Any]:
    """Everything a forked child would have inherited; returns the protocol's descriptors and setup."""
    from .isolation import die_with_parent

    die_with_parent(int(sys.argv[1]), 0)  # Linux; elsewhere a closed pipe ends this process
    to_child, to_judge = _move_standard_streams()
    from .remote import Peer

    channel = Peer(to_child, to_judge)
    setup = channel.receive()[0]["setup"]  # the judge sends nothing else before our first message
    sys.path[:] = setup["path"]  # the learner's module imports what it would in a forked child
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)

    import importlib
    from pathlib import Path

    import numpy  # noqa: F401
    import torch

    from .guard import Guard
    from .isolation import _limit_memory
    from .loading import Implementation

    torch.set_num_threads(1)
    for name in setup["modules"]:  # the checks, whose probes and functions the judge sends by name
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the judge imported it; a failure here shows as a failed check
            pass
    if setup["limit_memory"]:
        _limit_memory()  # what torch mapped, plus the same allowance a forked child gets
    guard = Guard(**setup["guard"]) if setup["guard"] else None
    impl = Implementation(label=setup["label"], folder=Path(setup["folder"]))
    channel.send({"started": True}, [])  # the judge starts the import time limit now
    return to_child, to_judge, lambda: impl.load(setup["module"]), guard


def main() -> None:
    """Never returns: exit status 3 when something failed, as in a forked child."""
    try:
        to_child, to_judge, load, guard = _start()
    except BaseException:  # noqa: BLE001 - no learner code has run yet: say why (the judge shows it)
        import traceback

        traceback.print_exc()
        sys.stderr.flush()
        os._exit(3)
    try:
        from .isolation import _serve_learner

        _serve_learner(to_child, to_judge, load, guard)
    except BaseException:  # noqa: BLE001 - as a forked child: no traceback into the learner's output
        os._exit(3)
    os._exit(0)


if __name__ == "__main__":
    main()
