"""The exercise catalog (grader/catalog.toml) and the kit's paths."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CATALOG_FILE = Path(__file__).with_name("catalog.toml")
KIT_ROOT = Path(__file__).resolve().parent.parent


def workspace_root() -> Path:
    """The folder holding exercises/, solutions/ and .ropekit/ (ROPEKIT_ROOT overrides it)."""
    return Path(os.environ.get("ROPEKIT_ROOT", KIT_ROOT)).resolve()


@dataclass(frozen=True)
class Exercise:
    id: str
    module: str
    title_en: str
    title_zh: str
    seed: tuple[str, ...]
    track: str
    difficulty: int
    points: int
    notebook: str
    hints: tuple[str, ...]
    time_limit: float = 10.0
    requires: tuple[str, ...] = ()  # optional packages; without them the exercise is skipped, not failed
    gpu: bool = False  # may use CUDA: no address-space limit in the grading child (CUDA maps a lot)
    extra: dict = field(default_factory=dict, compare=False)

    def missing_requirements(self) -> list[str]:
        import importlib.util

        def missing(name: str) -> bool:
            try:
                return importlib.util.find_spec(name) is None
            except (ImportError, ValueError):
                return True

        return [name for name in self.requires if missing(name)]

    @property
    def checks_module(self) -> str:
        return f"grader.checks.{self.module}"


class UnknownExercise(KeyError):
    def __str__(self) -> str:
        known = ", ".join(e.id for e in load_catalog())
        return f"no exercise called {self.args[0]!r}; known: {known}"


@lru_cache(maxsize=1)
def load_catalog() -> tuple[Exercise, ...]:
    data = tomllib.loads(CATALOG_FILE.read_text(encoding="utf-8"))
    fields = set(Exercise.__dataclass_fields__) - {"extra"}
    exercises = []
    for entry in data["exercise"]:
        known = {k: v for k, v in entry.items() if k in fields}
        known["seed"] = tuple(known.get("seed", ()))
        known["hints"] = tuple(known.get("hints", ()))
        known["requires"] = tuple(known.get("requires", ()))
        extra = {k: v for k, v in entry.items() if k not in fields}
        exercises.append(Exercise(**known, extra=extra))
    return tuple(exercises)


def get_exercise(exercise_id: str) -> Exercise:
    for exercise in load_catalog():
        if exercise.id == exercise_id:
            return exercise
    raise UnknownExercise(exercise_id)
