"""Inside a grading child: the file system rules. Learner code may not read the reference solutions or
the checks' stored fixtures, and may not write, rename or delete anything in the kit's folders
or the progress store; nor send a signal to any process but itself and those it started (a SIGKILL to
the grader would end the grading of a whole class).

The verdict does not depend on this guard: checks run in the judge (grader/isolation.py), so replacing
functions in the child's memory changes only the child's answers. What the guard protects is the disk
the child shares with the judge. An audit hook (PEP 578) sees every `open` and path operation; paths are
compared after `os.path.realpath` (symlinks, `//`, `..`), whatever code is on the stack. It cannot be
removed by Python code; native code (ctypes) can still get around it.
"""

from __future__ import annotations

import os
from pathlib import Path

from .i18n import N_, tr

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_PATH_EVENTS = {  # audit events whose first one or two arguments are paths the operation changes
    "os.remove",
    "os.rename",
    "os.rmdir",
    "os.mkdir",
    "os.chmod",
    "os.chown",
    "os.link",
    "os.symlink",
    "os.truncate",
    "os.utime",
    "shutil.rmtree",
    "shutil.move",
    "shutil.copyfile",
    "shutil.copytree",
    "sqlite3.connect",
}


class Guard:
    def __init__(self, no_read: list[Path], no_write: list[Path]) -> None:
        self.no_read = [os.path.realpath(p) for p in no_read]
        self.no_write = [os.path.realpath(p) for p in no_write]
        self.refused: list[tuple[str, dict]] = []  # (English template, fields), translated when shown

    @staticmethod
    def _inside(target: str, folders: list[str]) -> bool:
        return any(target == f or target.startswith(f + os.sep) for f in folders)

    def _refuse(self, what: str, **fields: object) -> None:
        # no translation here: the hook runs inside open(), and a first gettext lookup opens a file
        self.refused.append((what, fields))
        raise PermissionError("ropekit: " + what.format(**fields) + " is not allowed while grading")

    def _hook(self, event: str, args: tuple) -> None:
        if event == "open":
            path, mode, flags = args
            if isinstance(path, int) or path is None:
                return
            target = os.path.realpath(os.fsdecode(path))
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                mode is None and isinstance(flags, int) and flags & _WRITE_FLAGS
            )
            if self._inside(target, self.no_read):
                self._refuse(N_("reading {target}"), target=target)
            if (writing or os.path.isdir(target)) and self._inside(target, self.no_write):
                # a directory descriptor of the kit would let dir_fd= operations write in it
                self._refuse(
                    N_("writing {target}") if writing else N_("opening the folder {target}"), target=target
                )
        elif event in ("os.kill", "os.killpg"):
            target, sig = args[0], args[1]
            own = os.getpgrp() if event == "os.killpg" else os.getpid()
            if isinstance(target, int) and target != own and not self._own_child(event, target):
                self._refuse(
                    N_("sending signal {sig} to process group {target}")
                    if event == "os.killpg"
                    else N_("sending signal {sig} to process {target}"),
                    sig=sig,
                    target=target,
                )
        elif event in _PATH_EVENTS:
            for path in args[:2]:
                if isinstance(path, (str, bytes, os.PathLike)):
                    target = os.path.realpath(os.fsdecode(path))
                    if self._inside(target, self.no_write):
                        self._refuse(N_("{event} on {target}"), event=event, target=target)

    @staticmethod
    def _own_child(event: str, target: int) -> bool:
        """A process the child started itself (its parent is the child), or the child's own group."""
        if event == "os.killpg" or target <= 0:
            return target in (0, -os.getpgrp())
        try:
            with open(f"/proc/{target}/stat", "rb") as stat:
                return int(stat.read().rsplit(b")", 1)[1].split()[1]) == os.getpid()
        except (OSError, ValueError, IndexError):
            return False  # not Linux, or gone: only the child itself may be signalled

    def install(self) -> None:
        import sys

        sys.addaudithook(self._hook)

    def message(self) -> str:
        what, fields = self.refused[0]
        refused = tr(what, **fields)
        if what.startswith("sending signal"):
            return tr(
                "your code tried {refused}: signalling the grader is not allowed (it was refused)",
                refused=refused,
            )
        return tr(
            "your code tried {refused}: reading the solutions or the checks, or writing into "
            "the kit, is not allowed while grading (it was refused)",
            refused=refused,
        )

    def report(self) -> list[str]:
        """The refusals since the last report, as messages (the judge asks after every check)."""
        if not self.refused:
            return []
        text = self.message()
        self.refused.clear()
        return [text]
