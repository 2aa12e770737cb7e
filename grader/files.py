"""Writing into the learner's workspace without ever losing a version.

Every file the kit writes there (the quiz sheet, a reset exercise, regenerated stubs) is written to a
temporary file beside it and moved into place with `os.replace` (a full disk leaves the old file whole),
under a lock for read-modify-write (two `ropekit quiz` at once both keep their answers), and the
previous version is copied into `.ropekit/backups/` first. Before grading, the learner's files are
snapshotted there too when they changed since their last copy.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from .i18n import tr


class WorkspaceError(Exception):
    """A file of the workspace could not be read or written; the message is one line."""


def backups_folder() -> Path:
    from .catalog import workspace_root

    return workspace_root() / ".ropekit" / "backups"


def backup(path: Path, backups: Path | None = None) -> Path | None:
    """Copy `path` to `backups/<name>.<timestamp>` before it is replaced; returns the copy."""
    if not path.exists():
        return None
    backups = backups or backups_folder()
    try:
        backups.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = backups / f"{path.name}.{stamp}"
        counter = 1
        while target.exists():
            counter += 1
            target = backups / f"{path.name}.{stamp}-{counter}"
        shutil.copy2(path, target)
    except OSError as exc:
        raise WorkspaceError(
            tr(
                "could not back up {path} into {backups}: {value}",
                path=path,
                backups=backups,
                value=exc.strerror or exc,
            )
        ) from None
    return target


_STAMP = re.compile(r"(\d{4})(\d\d)(\d\d)-(\d\d)(\d\d)(\d\d)(?:-\d+)?")  # backup()'s suffix


def saved_copies(path: Path, backups: Path | None = None) -> list[tuple[str, Path]]:
    """The copies `backup` made of `path`, newest first, each with its time ("2026-12-02 04:00:21")."""
    backups = backups or backups_folder()
    copies = sorted(backups.glob(f"{path.name}.*"), reverse=True) if backups.is_dir() else []
    found = []
    for copy in copies:
        stamp = _STAMP.fullmatch(copy.name[len(path.name) + 1 :])
        if stamp and copy.is_file():
            year, month, day, hour, minute, second = stamp.groups()
            found.append((f"{year}-{month}-{day} {hour}:{minute}:{second}", copy))
    return found


def atomic_write(path: Path, text: str) -> None:
    """Replace `path` with `text` (UTF-8) in one step: the old file stays whole if anything fails."""
    path = Path(path)
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise WorkspaceError(
            tr("could not write {path}: {value}", path=path, value=exc.strerror or exc)
        ) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        if path.exists():
            shutil.copymode(path, temp)
        os.replace(temp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise WorkspaceError(
            tr("could not write {path}: {value}; the file is unchanged", path=path, value=exc.strerror or exc)
        ) from None


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock on `path` between processes (an advisory lock on `<path>.lock` in .ropekit)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock
        yield
        return
    folder = backups_folder().parent / "locks"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(folder / f"{Path(path).name}.lock", "a")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise WorkspaceError(
            tr("could not lock {path}: {value}", path=path, value=exc.strerror or exc)
        ) from None
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_text(path: Path) -> str:
    """The file as text, or a WorkspaceError naming what is wrong with it."""
    if path.is_dir():
        raise WorkspaceError(tr("{path} is a folder, not a file", path=path))
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise WorkspaceError(tr("{path} is not UTF-8 text", path=path)) from None
    except OSError as exc:
        raise WorkspaceError(
            tr("could not read {path}: {value}", path=path, value=exc.strerror or exc)
        ) from None


def snapshot(files: list[Path], backups: Path | None = None) -> list[Path]:
    """Copy each existing file into backups unless its newest copy there is identical; returns the copies.
    Run before grading, so that nothing a submission does to its own files can lose a version."""
    backups = backups or backups_folder()
    saved = []
    for path in files:
        if not path.is_file():
            continue
        copies = sorted(backups.glob(f"{path.name}.*")) if backups.is_dir() else []  # names carry the time
        try:
            if copies and copies[-1].read_bytes() == path.read_bytes():
                continue
        except OSError:
            pass
        try:
            copy = backup(path, backups)
        except WorkspaceError:
            continue  # an unwritable .ropekit must not stop grading; the store reports it
        if copy is not None:
            saved.append(copy)
    return saved
