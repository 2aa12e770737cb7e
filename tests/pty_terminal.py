"""A program in a real pseudo-terminal, driven the way a person drives it (POSIX only)."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import termios
import time
import unicodedata
from pathlib import Path

COLUMNS = 80


class Terminal:
    """A program on the slave side of a pseudo-terminal of COLUMNS x 24; we hold the master side."""

    def __init__(self, argv: list[str], env: dict, cwd: Path) -> None:
        pid, fd = pty.fork()
        if pid == 0:  # the child: its controlling terminal is the pty; size it before the program starts
            try:
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, COLUMNS, 0, 0))
                os.chdir(cwd)
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self.raw = b""
        self.seen = 0  # how much of the output `expect` has consumed

    @property
    def text(self) -> str:
        """What the terminal shows, without its style escapes (bold, dim: NO_COLOR keeps those)."""
        return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", self.raw.decode("utf-8", errors="replace"))

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:  # EIO: the program closed the terminal
            return False
        self.raw += chunk
        return bool(chunk)

    def expect(self, pattern: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not re.search(pattern, self.text[self.seen :]):
            if time.monotonic() > deadline or not self._read(0.2):
                raise AssertionError(
                    f"{pattern!r} never shown; the terminal shows:\n{self.text[self.seen :]}"
                )
        self.seen += re.search(pattern, self.text[self.seen :]).end()

    def type(self, keys: str) -> None:
        os.write(self.fd, keys.encode("utf-8"))

    def wait(self, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._read(0.2):
            pass
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status)


def columns(line: str) -> int:
    """Terminal columns a line takes (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)
