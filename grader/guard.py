"""Inside a grading child: notice learner code that tampers with the checks, reads the grader's or the
solutions' files, or writes into the kit. It catches honest shortcuts, not determined attackers (ctypes
can get around anything here): this is not a security sandbox.

Two mechanisms:
- an audit hook (PEP 578) refuses, while a frame of the learner's folder is on the stack, opening files
  of grader/ or solutions/, and writing, renaming or deleting anything inside the kit or the workspace;
- a snapshot of the functions the checks rely on (torch/numpy comparisons, builtins, the grader's own
  modules), compared after the learner's module is imported and after every check.
"""

from __future__ import annotations

import builtins
import os
import sys
from pathlib import Path

_WATCHED = {
    "builtins": [
        "__import__",
        "isinstance",
        "abs",
        "max",
        "min",
        "len",
        "float",
        "getattr",
        "callable",
        "type",
        "open",
        "all",
        "any",
        "round",
        "sum",
    ],
    "torch": ["allclose", "equal", "isclose", "eq", "abs", "isfinite", "randn", "tensor", "arange"],
    "torch.testing": ["assert_close"],
    "numpy": ["allclose", "isclose", "array_equal", "abs", "max", "isfinite", "arctan2", "asarray"],
    "numpy.testing": ["assert_allclose", "assert_array_equal"],
}
_TENSOR_METHODS = [
    "__eq__",
    "__ne__",
    "__sub__",
    "__mul__",
    "__getitem__",
    "allclose",
    "equal",
    "eq",
    "isclose",
    "numpy",
    "tolist",
    "item",
    "to",
    "detach",
    "as_subclass",
    "norm",
    "sum",
    "abs",
    "max",
    "double",
    "float",
    "clone",
]
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_PATH_EVENTS = {
    "os.remove",
    "os.rename",
    "os.rmdir",
    "shutil.rmtree",
    "os.truncate",
    "os.mkdir",
    "os.chmod",
    "shutil.move",
    "shutil.copyfile",
    "sqlite3.connect",
}


class Tampering(Exception):
    pass


def _describe(obj) -> tuple:
    code = getattr(obj, "__code__", None)
    return (id(obj), id(code) if code is not None else None)


class Guard:
    def __init__(
        self,
        learner_folder: Path | None,
        protected: list[Path],
        no_write: list[Path],
        grader_modules: list[str],
    ) -> None:
        self.learner = str(learner_folder) + os.sep if learner_folder else None
        self.protected = [str(p) + os.sep for p in protected]
        self.no_write = [str(p) + os.sep for p in no_write]
        self.grader_modules = grader_modules
        self.refused: list[str] = []
        self.snapshot: dict = {}

    def _learner_on_stack(self) -> bool:
        if self.learner is None:
            return False
        frame = sys._getframe(2)
        while frame is not None:
            if frame.f_code.co_filename.startswith(self.learner):
                return True
            frame = frame.f_back
        return False

    def _refuse(self, what: str) -> None:
        self.refused.append(what)
        raise PermissionError(f"ropekit: {what} is not allowed while grading")

    def _hook(self, event: str, args: tuple) -> None:
        if event == "open":
            path, mode, flags = args
            if isinstance(path, int) or path is None:
                return
            target = os.path.abspath(os.fsdecode(path))
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                mode is None and isinstance(flags, int) and flags & _WRITE_FLAGS
            )
            if any(target.startswith(p) for p in self.protected) and self._learner_on_stack():
                self._refuse(f"reading {target}")
            if writing and any(target.startswith(p) for p in self.no_write) and self._learner_on_stack():
                self._refuse(f"writing {target}")
        elif event in _PATH_EVENTS:
            for path in args[:2]:
                if isinstance(path, (str, bytes, os.PathLike)):
                    target = os.path.abspath(os.fsdecode(path))
                    if any(target.startswith(p) for p in self.no_write) and self._learner_on_stack():
                        self._refuse(f"{event} on {target}")

    def _take(self) -> dict:
        import torch

        state: dict = {}
        for module_name, names in _WATCHED.items():
            module = sys.modules.get(module_name) or builtins
            for name in names:
                state[f"{module_name}.{name}"] = _describe(getattr(module, name, None))
        for name in _TENSOR_METHODS:
            state[f"torch.Tensor.{name}"] = _describe(torch.Tensor.__dict__.get(name))
        for module_name in self.grader_modules:
            module = sys.modules.get(module_name)
            state[module_name] = id(module)
            for name, value in vars(module).items() if module else ():
                state[f"{module_name}.{name}"] = _describe(value)
        return state

    def install(self) -> None:
        self.snapshot = self._take()
        sys.addaudithook(self._hook)

    def check(self) -> None:
        """Raise Tampering naming what changed since install()."""
        if self.refused:
            raise Tampering(
                f"your code tried {self.refused[0]}: reading the grader's or the solutions' "
                "files, or writing into the kit, is tampering; the checks were not trusted"
            )
        now = self._take()
        changed = [name for name, value in self.snapshot.items() if now.get(name) != value]
        if changed:
            raise Tampering(
                f"tampering detected: your code replaced {changed[0]}; the checks were not trusted and fail"
            )
