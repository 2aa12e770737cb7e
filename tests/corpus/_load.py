"""Import one corpus case as if it were `exercises/<module>.py`.

A case file is a complete module for one exercise. Its relative imports (`from .rope import
apply_rope` in transformer.py) resolve to the reference solutions, so a transformer case carries
only its own mistake. Used by the corpus writers' verification scripts, never by the grader.
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_count = itertools.count()


def load_case(path: str | Path, module: str | None = None):
    """The case at `path` imported as module `module` (default: its folder's name, the exercise id)."""
    path = Path(path).resolve()
    here = Path(__file__).resolve().parent
    folder = next(p for p in path.parents if p.parent == here)  # tests/corpus/<exercise>[/round2]
    module = module or folder.name
    package = f"_corpus_case_{next(_count)}"
    spec = importlib.machinery.ModuleSpec(package, None, is_package=True)
    pkg = importlib.util.module_from_spec(spec)
    pkg.__path__ = [str(ROOT / "solutions")]
    sys.modules[package] = pkg
    spec = importlib.util.spec_from_file_location(f"{package}.{module}", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def load_reference(module: str):
    """The reference solution of `module`, for numeric comparison only."""
    return importlib.import_module(f"solutions.{module}")


def cases(exercise: str, kind: str | None = None) -> list[Path]:
    """The case files of one exercise (kind "wrong" or "valid" to filter)."""
    folder = Path(__file__).resolve().parent / exercise
    return sorted(
        p
        for p in folder.glob("*.py")
        if not p.name.startswith("_") and (kind is None or p.name.startswith(kind + "_"))
    )
