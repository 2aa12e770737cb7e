"""The progress store: every attempt and every hint taken, in SQLite under <workspace>/.ropekit/.

WAL mode and a short busy timeout let two graders (watch + grade) write at once. The schema is
versioned (PRAGMA user_version): an older database gains the columns added since. A database that
cannot be read is moved aside (kept, never deleted) and a new one is started. Every failure is a
StoreError with a one-line reason: the caller prints the grade anyway.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .catalog import workspace_root
from .files import WorkspaceError

INDEXES = "CREATE INDEX IF NOT EXISTS attempts_by_exercise ON attempts (exercise, source, at);"
SCHEMA_VERSION = 2
BUSY_SECONDS = 3.0  # how long a write waits for another process's lock before giving up
# Columns added after a table was first shipped: (table, column, declaration with a default).
ADDED_COLUMNS = [
    ("attempts", "source", "TEXT NOT NULL DEFAULT 'exercises'"),
    ("attempts", "duration", "REAL NOT NULL DEFAULT 0"),
    ("attempts", "code_hash", "TEXT"),
]


class StoreError(WorkspaceError):
    """The progress store could not be used; the message says why in one line."""


SCHEMA = """
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY,
    exercise TEXT NOT NULL,
    at REAL NOT NULL,
    source TEXT NOT NULL,
    checks_passed INTEGER NOT NULL,
    checks_total INTEGER NOT NULL,
    score INTEGER NOT NULL,
    max_score INTEGER NOT NULL,
    duration REAL NOT NULL,
    code_hash TEXT
);
CREATE TABLE IF NOT EXISTS hints (
    id INTEGER PRIMARY KEY,
    exercise TEXT NOT NULL,
    level INTEGER NOT NULL,
    at REAL NOT NULL
);
"""


@dataclass(frozen=True)
class Attempt:
    exercise: str
    at: float
    checks_passed: int
    checks_total: int
    score: int
    max_score: int
    code_hash: str | None

    @property
    def solved(self) -> bool:
        return self.checks_passed == self.checks_total and self.checks_total > 0


class Store:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or workspace_root() / ".ropekit" / "progress.db"

    @contextmanager
    def _connect(self):
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = self._open()
        except OSError as exc:
            raise StoreError(f"{self.path.parent} is not a writable folder ({exc.strerror or exc})") from None
        try:
            yield db
        except sqlite3.OperationalError as exc:
            raise StoreError(self._reason(exc)) from None
        finally:
            db.close()

    def _open(self) -> sqlite3.Connection:
        """A prepared connection; an unreadable database is moved aside once and a new one started."""
        for attempt in range(2):
            db = sqlite3.connect(self.path, timeout=BUSY_SECONDS, isolation_level=None)
            try:
                self._prepare(db)
                return db
            except sqlite3.DatabaseError as exc:
                db.close()
                if isinstance(exc, sqlite3.OperationalError) or attempt:
                    raise StoreError(self._reason(exc)) from None
                self._move_aside(exc)
        raise AssertionError("unreachable")

    def _reason(self, exc: Exception) -> str:
        text = str(exc)
        if "locked" in text or "busy" in text:
            return f"{self.path} is busy: another process held its lock for more than {BUSY_SECONDS:g} s"
        return f"{self.path}: {text}"

    def _move_aside(self, exc: Exception) -> None:
        import sys

        stamp = time.strftime("%Y%m%d-%H%M%S")
        kept = self.path.with_name(f"{self.path.name}.unreadable-{stamp}")
        for suffix in ("", "-wal", "-shm"):
            part = self.path.with_name(self.path.name + suffix)
            if part.exists():
                part.rename(kept.with_name(kept.name + suffix))
        print(
            f"ropekit: the progress store could not be read ({exc}); it is kept as {kept}, and a new one "
            "is started",
            file=sys.stderr,
        )

    @staticmethod
    def _prepare(db: sqlite3.Connection) -> None:
        """WAL mode, the schema and its migrations. Switching to WAL while another process creates the
        same new database fails at once with "database is locked" (no busy wait for that), so retry
        with a short backoff."""
        for attempt in range(40):
            try:
                if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    db.execute("PRAGMA journal_mode=WAL")
                if db.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
                    db.executescript(SCHEMA)
                    for table, column, declaration in ADDED_COLUMNS:
                        have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
                        if column not in have:
                            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
                    db.executescript(INDEXES)
                    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                return
            except sqlite3.OperationalError as exc:
                if ("locked" not in str(exc) and "duplicate column" not in str(exc)) or attempt == 39:
                    raise
                time.sleep(0.01 * (attempt + 1))

    def record_attempt(self, result, source: str = "exercises") -> None:
        with self._connect() as db:
            db.execute(
                "INSERT INTO attempts (exercise, at, source, checks_passed, checks_total, score,"
                " max_score, duration, code_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    result.id,
                    time.time(),
                    source,
                    result.passed,
                    result.total,
                    result.score,
                    result.max_score,
                    result.duration,
                    result.code_hash,
                ),
            )

    def latest(self, source: str = "exercises") -> dict[str, Attempt]:
        """The latest attempt of each exercise, graded from `source`."""
        if not self.path.exists():
            return {}
        with self._connect() as db:
            rows = db.execute(
                "SELECT exercise, MAX(at), checks_passed, checks_total, score, max_score, code_hash"
                " FROM attempts WHERE source = ? GROUP BY exercise",
                (source,),
            ).fetchall()
        return {row[0]: Attempt(*row) for row in rows}

    def solved(self, source: str = "exercises") -> set[str]:
        """The exercises whose latest attempt passed every check."""
        return {exercise for exercise, attempt in self.latest(source).items() if attempt.solved}

    def ever_solved(self, exercise: str) -> bool:
        if not self.path.exists():
            return False
        with self._connect() as db:
            row = db.execute(
                "SELECT 1 FROM attempts WHERE exercise = ? AND checks_passed = checks_total"
                " AND checks_total > 0 LIMIT 1",
                (exercise,),
            ).fetchone()
        return row is not None

    def attempts(self, exercise: str | None = None) -> list[tuple]:
        if not self.path.exists():
            return []
        with self._connect() as db:
            query = "SELECT exercise, at, source, checks_passed, checks_total, score FROM attempts"
            args: tuple = ()
            if exercise:
                query, args = query + " WHERE exercise = ?", (exercise,)
            return db.execute(query + " ORDER BY id", args).fetchall()

    def scores_by_hash(self, exercise: str) -> dict[str, tuple[int, int]]:
        """The latest (score, max_score) of each version of the exercise's file, by its code hash."""
        if not self.path.exists():
            return {}
        with self._connect() as db:
            rows = db.execute(
                "SELECT code_hash, score, max_score FROM attempts WHERE exercise = ? AND code_hash IS NOT"
                " NULL ORDER BY id",
                (exercise,),
            ).fetchall()
        return {code_hash: (score, max_score) for code_hash, score, max_score in rows}

    def hints_taken(self, exercise: str) -> int:
        if not self.path.exists():
            return 0
        with self._connect() as db:
            row = db.execute("SELECT MAX(level) FROM hints WHERE exercise = ?", (exercise,)).fetchone()
        return row[0] or 0

    def record_hint(self, exercise: str, level: int) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT INTO hints (exercise, level, at) VALUES (?, ?, ?)", (exercise, level, time.time())
            )
