"""Where an implementation comes from: a folder of modules (exercises/, solutions/, any folder) or a
namespace (a notebook's globals). Loading happens in the isolated child, never in the grader."""

from __future__ import annotations

import hashlib
import importlib
import importlib.machinery
import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from .catalog import workspace_root


def code_hash_of(source: bytes) -> str:
    """The hash the progress store records for a version of a learner's file."""
    return hashlib.sha256(source).hexdigest()[:16]


@dataclass(frozen=True)
class Implementation:
    """A set of exercise modules: `folder` holds `<module>.py` files, or `namespace` holds names."""

    label: str
    folder: Path | None = None
    namespace: dict | None = field(default=None, compare=False)

    def source_file(self, module: str) -> Path | None:
        return None if self.folder is None else self.folder / f"{module}.py"

    def code_hash(self, module: str) -> str | None:
        path = self.source_file(module)
        if path is None or not path.is_file():
            return None
        return code_hash_of(path.read_bytes())

    def load(self, module: str, *, fresh: bool = False) -> Any:
        """Import the learner's module (raises whatever the module raises at import).

        fresh=True drops earlier imports of this folder's modules first, so edits are seen (notebooks).
        """
        if self.namespace is not None:
            return SimpleNamespace(**self.namespace)
        path = self.source_file(module)
        if not path.is_file():
            raise FileNotFoundError(f"{path} does not exist")
        package = "_ropekit_impl_" + hashlib.sha1(str(self.folder).encode()).hexdigest()[:10]
        if package not in sys.modules:
            spec = importlib.machinery.ModuleSpec(package, None, is_package=True)
            pkg = importlib.util.module_from_spec(spec)
            pkg.__path__ = [str(self.folder)]
            sys.modules[package] = pkg
        if fresh:  # drop this folder's modules, so edits to siblings (rope.py for transformer) count too
            for name in [n for n in sys.modules if n.startswith(package + ".")]:
                del sys.modules[name]
        return importlib.import_module(f"{package}.{module}")


def from_folder(folder: str | Path, label: str | None = None) -> Implementation:
    folder = Path(folder).resolve()
    return Implementation(label=label or str(folder), folder=folder)


def learner_exercises() -> Implementation:
    return from_folder(workspace_root() / "exercises", label="exercises")


def reference_solutions() -> Implementation:
    return from_folder(workspace_root() / "solutions", label="solutions")


def from_namespace(namespace: dict, label: str = "notebook") -> Implementation:
    return Implementation(label=label, namespace=dict(namespace))
