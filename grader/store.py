"""The progress store: every attempt and every hint taken, in SQLite under <workspace>/.ropekit/.

WAL mode and a busy timeout let two graders (watch + grade) write at once.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .catalog import workspace_root

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
CREATE INDEX IF NOT EXISTS attempts_by_exercise ON attempts (exercise, source, at);
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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        try:
            self._prepare(db)
            yield db
        finally:
            db.close()

    @staticmethod
    def _prepare(db: sqlite3.Connection) -> None:
        """WAL mode and the schema. Switching to WAL while another process creates the same new database
        fails at once with "database is locked" (no busy wait for that), so retry with a short backoff."""
        for attempt in range(40):
            try:
                if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    db.execute("PRAGMA journal_mode=WAL")
                db.executescript(SCHEMA)
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == 39:
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
