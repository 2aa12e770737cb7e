"""What a hidden check is made of: the @check decorator, Mistake, tolerances, calling learner code.

A check is a function `test_<name>(impl)` in `grader/checks/<module>.py`, decorated with
`@check(points, "short name")`. It reaches the learner's functions only through `impl` (a module or a
namespace) and fails by raising `Mistake("what was expected, what was seen, the likely mistake")`.
The functions are plain pytest tests too (grader/checks/conftest.py provides `impl`).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .i18n import N_, gettext, tr

# One place for tolerances, per dtype name: (rtol, atol). float32 allows for angles computed in
# float32; bf16/fp16 for one rounding of each factor.
TOLERANCES: dict[str, tuple[float, float]] = {
    "float64": (1e-10, 1e-10),
    "float32": (1e-5, 1e-5),
    "float16": (2e-3, 2e-3),
    "bfloat16": (1.6e-2, 1.6e-2),
}


OUT_OF_MEMORY = N_("ran out of memory (the limit is 2 GiB): a huge tensor, or memory growing in a loop?")


class Mistake(AssertionError):
    """A failed check; its text is shown to the learner as is.

    `cause` names the one thing the check found wrong ("angles", "positions"...), when the evidence
    shows it; a later check that fails with the same cause says so, so that the learner fixes one
    thing, not five.
    """

    def __init__(self, message: str, cause: str | None = None, *, unfinished: bool = False) -> None:
        super().__init__(message)
        self.cause = cause
        self.unfinished = unfinished  # the function is missing or not written yet (see unfinished())


@dataclass(frozen=True)
class Check:
    name: str
    points: int
    func: Callable[[Any], None]


def check(points: int, name: str) -> Callable:
    """Mark `func(impl)` as a hidden check worth `points`, shown to the learner as `name`."""

    def mark(func: Callable) -> Callable:
        func.ropekit_check = Check(name=name, points=points, func=func)
        return func

    return mark


def checks_of(module: Any) -> list[Check]:
    """The checks defined in a checks module, in definition order."""
    return [obj.ropekit_check for obj in vars(module).values() if hasattr(obj, "ropekit_check")]


def fail_unfinished(message: str, **fields: Any) -> None:
    """fail() for a function that is missing or not written yet (`unfinished` tells the checks)."""
    raise Mistake(tr(message, **fields), unfinished=True)


def fail(message: str, cause: str | None = None, **fields: Any) -> None:
    """Fail the check: `message` is an English `str.format` template, marked for translation (named
    fields, `{{` for a literal brace), shown in the learner's language with `fields` filled in."""
    raise Mistake(tr(message, **fields), cause)


def same_cause(names: list[str], messages: list[str], causes: list[str | None]) -> list[str]:
    """Messages of checks failing for a cause an earlier check already showed, with a pointer to
    the first such check (one fix, not five)."""
    first: dict[str, str] = {}
    out = []
    for name, message, cause in zip(names, messages, causes, strict=True):
        if cause and cause in first:
            message = tr(
                "{message_} (probably the same cause as '{name}')",
                message_=message,
                name=gettext(first[cause]).split(" (")[0].split("（")[0],
            )
        elif cause:
            first[cause] = name
        out.append(message)
    return out


def unfinished(exc: Mistake) -> bool:
    """Whether a Mistake from `call` says the function is missing or not written yet (its message is
    then the one to show, not a guess built on top of it)."""
    return bool(getattr(exc, "unfinished", False))


def describe_exception(exc: BaseException) -> str:
    """`Type: message (file:line)` for an exception raised by learner code, never raising itself."""
    description = getattr(exc, "ropekit_description", None)
    if isinstance(description, str) and description:  # described in the learner's process
        return description
    if isinstance(exc, SyntaxError) and isinstance(exc.lineno, int):
        return _describe_syntax_error(exc)
    try:
        text = str(exc)
    except Exception:  # an exception whose __str__ raises
        text = "<unprintable message>"
    text = text.strip().splitlines()[0][:200] if text.strip() else ""
    where = ""
    frames = [  # walk_tb reads no source file (cheap, and safe when memory has run out)
        (frame.f_code.co_filename, line)
        for frame, line in traceback.walk_tb(exc.__traceback__)
        if not any(part in frame.f_code.co_filename for part in ("/grader/", "/importlib/", "\\importlib\\"))
        and not frame.f_code.co_filename.startswith("<frozen")
    ]
    if frames:
        filename, line = frames[-1]
        where = f" (at {filename.rsplit('/', 1)[-1]}:{line})"
    name = type(exc).__name__
    return f"{name}: {text}{where}" if text else f"{name}{where}"


def _describe_syntax_error(exc: SyntaxError) -> str:
    """Python's own form: `SyntaxError: msg (file, line N)`, then the line and a caret under the spot."""
    where = f"{str(exc.filename or '?').replace(chr(92), '/').rsplit('/', 1)[-1]}, line {exc.lineno}"
    lines = [f"{type(exc).__name__}: {exc.msg} ({where})"]
    text = (exc.text or "").rstrip("\n")
    if text.strip():
        indent = len(text) - len(text.lstrip())
        lines.append("    " + text.strip()[:200])
        if isinstance(exc.offset, int) and exc.offset > indent:
            start = exc.offset - 1 - indent
            end = getattr(exc, "end_offset", None)
            width = (
                end - exc.offset
                if isinstance(end, int) and end > exc.offset and exc.end_lineno == exc.lineno
                else 1
            )
            lines.append("    " + " " * start + "^" * max(1, min(width, 200 - start)))
    return "\n".join(lines)


def unfinished_module(func: Any, exc: BaseException) -> str | None:
    """The file of another learner module that raised NotImplementedError under `func`, if any
    (transformer.py calling an unwritten rope.py), so the message can name the exercise to finish."""
    import sys
    import types

    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/grader/" not in f.filename]
    if not frames:
        return None
    if isinstance(func, types.ModuleType):
        own = getattr(func, "__file__", None)
    else:
        owner = getattr(func, "__self__", None)  # a bound method: the module of its object's class
        if owner is not None and not isinstance(owner, type):
            name = type(owner).__module__
        elif isinstance(func, type) or callable(func) and hasattr(func, "__code__"):
            name = getattr(func, "__module__", None)
        else:  # an object called directly (a model): the module of its class
            name = type(func).__module__
        module = sys.modules.get(name or "")
        code = getattr(func, "__code__", None)
        own = getattr(module, "__file__", None) or getattr(code, "co_filename", None)
    raised_in = frames[-1].filename
    if own is None or raised_in == own or not raised_in.endswith(".py"):
        return None
    return raised_in.rsplit("/", 1)[-1]


def call_function(what: str, func: Callable, *args: Any, **kwargs: Any) -> Any:
    """Call learner code `func` (named `what` in messages); turn any exception into a Mistake."""
    try:
        return func(*args, **kwargs)
    except NotImplementedError as exc:
        other = getattr(exc, "ropekit_unfinished", None) or unfinished_module(func, exc)
        if other:
            fail_unfinished(
                "{what} uses your {other}, which is not implemented yet: finish the {other2} exercise first",
                what=what,
                other=other,
                other2=other[:-3],
            )
        fail_unfinished("{what} is not implemented yet (it raises NotImplementedError)", what=what)
    except Mistake:
        raise
    except SystemExit:
        fail("{what} called sys.exit(); return a value instead", what=what)
    except MemoryError:
        fail("{what} {out_of_memory}", what=what, out_of_memory=OUT_OF_MEMORY)
    except Exception as exc:
        kind = getattr(exc, "ropekit_kind", "")
        if kind == "exit":
            fail("{what} called sys.exit(); return a value instead", what=what)
        text = describe_exception(exc)
        if kind == "memory" or "can't allocate memory" in text:  # torch's allocator under the limit
            fail("{what} {out_of_memory}", what=what, out_of_memory=OUT_OF_MEMORY)
        if "automatic differentiation" in text:
            fail(
                "{what} raised {text}: functions with out= arguments do not support autograd; when "
                "gradients are needed, compute the result with plain operations",
                what=what,
                text=text,
            )
        fail("{what} raised {text}", what=what, text=text)


def call(impl: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    """Call the learner's function `name`; turn a missing function or any exception into a Mistake."""
    func = getattr(impl, name, None)
    if not callable(func):
        fail_unfinished("`{name}` is missing: define it with the signature given in the exercise", name=name)
    return call_function(f"`{name}`", func, *args, **kwargs)


def call_unchanged(impl: Any, name: str, *args: Any, what: str, names: tuple = (), **kwargs: Any) -> Any:
    """call(impl, name, ...), then fail if the call changed in place a tensor it was given; `names`
    names the positional arguments in the message."""
    import torch

    given = list(enumerate(args)) + list(kwargs.items())
    saved = [(key, value.clone()) for key, value in given if isinstance(value, torch.Tensor)]
    out = call(impl, name, *args, **kwargs)
    for key, before in saved:
        now = args[key] if isinstance(key, int) else kwargs[key]
        if not torch.equal(now, before) and not (now.isnan() & before.isnan()).any():
            label = key if isinstance(key, str) else names[key] if key < len(names) else f"argument {key + 1}"
            fail("{what} changed its input {label} in place; return a new tensor", what=what, label=label)
    return out


def call_inside(probe: Callable, impl: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    """`probe(func, *args, **kwargs)` run in the learner's process, where `func` is the learner's
    function `name` (see `inside`); exceptions of the learner's code become a Mistake as in `call`."""
    func = getattr(impl, name, None)
    if not callable(func):
        fail_unfinished("`{name}` is missing: define it with the signature given in the exercise", name=name)
    return call_function(f"`{name}`", inside, probe, func, *args, **kwargs)


def expect_raises(exc_type: type, impl: Any, name: str, *args: Any, why: str, **kwargs: Any) -> None:
    """The learner's `name(*args)` must raise `exc_type`; `why` says which input it should reject."""
    func = getattr(impl, name, None)
    if not callable(func):
        fail_unfinished("`{name}` is missing: define it with the signature given in the exercise", name=name)
    try:
        func(*args, **kwargs)
    except NotImplementedError:
        fail_unfinished("`{name}` is not implemented yet (it raises NotImplementedError)", name=name)
    except exc_type:
        return
    except Exception as exc:
        if getattr(exc, "ropekit_kind", "") == "exit":
            fail(
                "{why}: expected {name}, but `{name2}` called sys.exit()",
                why=why,
                name=exc_type.__name__,
                name2=name,
            )
        fail(
            "{why}: expected {name}, got {describe_exception}",
            why=why,
            name=exc_type.__name__,
            describe_exception=describe_exception(exc),
        )
    fail(
        "{why}: expected {name}, but `{name2}` returned normally", why=why, name=exc_type.__name__, name2=name
    )


def tensor_result(value: Any, what: str) -> Any:
    """The learner's return value as a plain torch.Tensor, or a Mistake naming what came back."""
    import torch

    if not isinstance(value, torch.Tensor):
        fail("{what} should be a torch.Tensor, got {type_name}", what=what, type_name=type_name(value))
    with torch._C.DisableTorchFunctionSubclass():  # a subclass's overrides cannot answer for it
        return torch.Tensor.as_subclass(value, torch.Tensor).detach().clone()


def float64_result(value: Any, what: str, shape: tuple) -> Any:
    """The learner's return value as a float64 numpy array of `shape`, or a Mistake naming what differs."""
    import torch

    out = tensor_result(value, what)
    if tuple(out.shape) != tuple(shape):
        fail(
            "{what} has shape {out_shape}, expected {shape}",
            what=what,
            out_shape=tuple(out.shape),
            shape=tuple(shape),
        )
    if out.dtype != torch.float64:
        fail("{what} is {out_dtype}; return float64", what=what, out_dtype=out.dtype)
    return out.numpy()


def tolerance(dtype: Any) -> tuple[float, float]:
    return TOLERANCES[str(dtype).replace("torch.", "")]


# ---------------------------------------------------------------------------------------------------
# Learner objects that live in the child (grader/remote.py); each helper also works on local objects
# (pytest on grader/checks, systems without fork).


def _peer_of(values: Any) -> Any:
    from .remote import Remote

    stack = [values]
    while stack:
        value = stack.pop()
        if isinstance(value, Remote):
            return object.__getattribute__(value, "_peer")
        if isinstance(value, (list, tuple)):
            stack.extend(value)
        elif isinstance(value, dict):
            stack.extend(value.values())
    return None


def inside(func: Callable, *args: Any, **kwargs: Any) -> Any:
    """Run `func` (a module-level function of grader/) in the learner's process, where `args` live,
    and return its result as plain data. For what must happen next to learner objects (a backward pass,
    setting a model's weights, a TorchFunctionMode around a call); the judge still compares the values
    it returns, as it would any learner output."""
    peer = _peer_of([args, kwargs])
    if peer is None:
        return func(*args, **kwargs)
    return peer.call(func, args, kwargs)


def is_instance(value: Any, cls: type) -> bool:
    """isinstance, asked of the learner's process for a learner object."""
    peer = _peer_of(value)
    if peer is None:
        return isinstance(value, cls)
    return peer.request("isinstance", value, cls) is True


def type_name(value: Any) -> str:
    """The name of the type of `value`, a learner object or a plain one (for messages)."""
    peer = _peer_of(value)
    if peer is None:
        return type(value).__name__
    name = peer.request("typename", value)
    return name[:80] if isinstance(name, str) else "object"


def seed_learner(impl: Any, seed: int) -> None:
    """Seed the global random generators where the learner's code runs (before it builds a model)."""
    peer = _peer_of(impl)
    if peer is None:
        import torch

        torch.manual_seed(seed)
    else:
        peer.request("seed", seed)


GRADING_STATE: dict = {}  # results shared by the checks of one grading (reset for each exercise)
