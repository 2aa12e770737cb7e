"""The exercise catalog (grader/catalog.toml) and the kit's paths."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .i18n import N_, gettext, gettext_in, language, tr

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
    title_en: str  # English, as in catalog.toml; its translations are in grader/locale
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
    def title_zh(self) -> str:
        return gettext_in("zh", self.title_en)

    @property
    def title(self) -> str:
        """The title in the learner's language: English with the Chinese beside it, or Chinese only."""
        return self.title_zh if language() == "zh" else f"{self.title_en} / {self.title_zh}"

    def hint(self, number: int) -> str:
        """Hint `number` (from 1) in the learner's language."""
        return gettext(self.hints[number - 1])

    @property
    def checks_module(self) -> str:
        return f"grader.checks.{self.module}"


class UnknownExercise(KeyError):
    def __str__(self) -> str:
        import difflib

        ids = [e.id for e in load_catalog()]
        close = difflib.get_close_matches(_as_id(str(self.args[0])), ids, n=1, cutoff=0.6)
        if close:
            return tr(
                "no exercise called {args!r}; did you mean {close!r}? (`ropekit list` shows all)",
                args=self.args[0],
                close=close[0],
            )
        return tr("no exercise called {args!r}; known: {join}", args=self.args[0], join=", ".join(ids))


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


def _as_id(text: str) -> str:
    """`exercises/rope.py`, `rope.py`, `./exercises/rope.py` -> `rope` (the module's name)."""
    name = text.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return name[: -len(".py")] if name.endswith(".py") else name


def get_exercise(exercise_id: str) -> Exercise:
    """The exercise named by its id, or by its file (`exercises/rope.py`, `rope.py`)."""
    for exercise in load_catalog():
        if exercise.id == exercise_id:
            return exercise
    for exercise in load_catalog():
        if exercise.module == _as_id(exercise_id):
            return exercise
    raise UnknownExercise(exercise_id)


ALL_PASS = N_("Every exercise passes.")


def next_exercise(solved: set[str], after: str | None = None) -> Exercise | None:
    """The first exercise in catalog order (after `after`'s place, wrapping round) not in `solved` and
    gradable here (an exercise whose optional packages are missing is skipped); None when all are done."""
    order = list(load_catalog())
    if after is not None:
        at = next((i for i, e in enumerate(order) if e.id == after), -1) + 1
        order = order[at:] + order[:at]
    for exercise in order:
        if exercise.id not in solved and exercise.id != after and not exercise.missing_requirements():
            return exercise
    return None


def notebook_path(exercise: Exercise) -> str:
    """The exercise's notebook in the learner's language (notebooks/zh/ holds the Chinese ones)."""
    return f"notebooks/{'zh/' if language() == 'zh' else ''}{exercise.notebook}"


def notebook_section(exercise: Exercise) -> str | None:
    """The heading of the notebook section that asks for `exercises/<module>.py`: the last heading at or
    before the first heading or "Exercise" line naming the file, read as JSON; None when there is none."""
    import json

    if not exercise.notebook:
        return None
    try:
        cells = json.loads((KIT_ROOT / notebook_path(exercise)).read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError):
        return None
    heading = None
    for cell in cells:
        if cell.get("cell_type") != "markdown":
            continue
        source = cell.get("source", "")
        exercise_said = False  # an "Exercise"/"练习" line of this cell, the file named on it or after
        for line in (source if isinstance(source, str) else "".join(source)).splitlines():
            if line.startswith("#"):
                heading = line.lstrip("#").strip()
            exercise_said = exercise_said or "Exercise" in line or "练习" in line
            if f"exercises/{exercise.module}.py" in line and (line.startswith("#") or exercise_said):
                return heading
    return None


def where_asked(exercise: Exercise, *, short: bool = False) -> str:
    """Where the exercise is asked for: its notebook and section (short: the section's number only),
    or its file when no notebook asks for it."""
    import re

    if not exercise.notebook:
        return f"exercises/{exercise.module}.py"
    section = notebook_section(exercise)
    if short:
        number = re.match(r"(\d+[a-z]?)\.", section or "")
        return notebook_path(exercise) + (f" §{number.group(1)}" if number else "")
    return notebook_path(exercise) + (f", “{section}”" if section else "")
