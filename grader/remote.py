"""The boundary between the judge and the learner's process: plain data and remote handles.

The judge is the grading process: it runs every check and every comparison and never executes learner
code. The learner's module lives in a forked child that only answers requests (get an attribute, call
a function, index an object...). Values cross the boundary as plain data that the receiver rebuilds
from bytes: None, bool, int, float, complex, str, bytes, tuple, list, dict, set, slices, torch dtypes
and devices, and tensors and numpy arrays of plain dtypes (so no subclass, lazy object or overridden
method survives the trip). Anything else stays where it lives and crosses as a handle: a learner's
model is a `Remote` in the judge; a function of the judge passed to learner code (a layer to test) is
called back in the judge, on plain data.

The judge decodes what the child sends with a strict decoder (JSON for structure, raw bytes for
tensors, checked against their declared dtype and shape); it never unpickles anything. Whatever the
child sends is a claim about values, and the checks compare those values: a submission can change its
score only by computing the right ones.
"""

from __future__ import annotations

import importlib
import json
import os
import select
import struct
import sys
import time
from typing import Any

from .i18n import tr

MAX_HEADER = 64 << 20  # bytes of JSON structure in one message
MAX_BUFFER = 1 << 31  # bytes of one tensor or array
MAX_BUFFERS = 100_000
MAX_ITEMS = 1_000_000  # elements of a remote iterable listed at once
TEXT_LIMIT = 2000  # characters of a remote repr
# Modules whose functions and classes cross by name (resolved by import on the other side).
TRUSTED_MODULES = ("torch", "numpy", "builtins", "math", "grader")
# Dunder attributes a Remote forwards; the rest are answered locally (numpy, torch and copy probe them).
FORWARDED_DUNDERS = {"__name__", "__qualname__", "__module__", "__doc__", "__file__", "__wrapped__"}
TENSOR_DTYPES = (
    "float64 float32 float16 bfloat16 complex128 complex64 int64 int32 int16 int8 uint8 bool"
).split()


class Malformed(Exception):
    """The other side sent something that is not a message of this protocol."""


class ChildGone(BaseException):
    """The learner's process died, timed out, flooded its output or broke the protocol.

    A BaseException, so that no `except Exception` in a check can swallow it: the check fails with
    `reason`, and the next check starts a new child."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# ---------------------------------------------------------------------------------------------------
# Values <-> JSON structure + buffers


def _global_ref(obj: Any) -> list | None:
    """["g", module, qualname] for a function or class of a trusted module that resolves back to obj."""
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str) or "<" in qualname:
        return None
    if module.split(".")[0] not in TRUSTED_MODULES:
        return None
    try:
        if _resolve(module, qualname) is obj:
            return ["g", module, qualname]
    except Exception:  # noqa: BLE001 - not importable by name: not a global
        return None
    return None


def _resolve(module: str, qualname: str) -> Any:
    if module.split(".")[0] not in TRUSTED_MODULES:
        raise Malformed(tr("refusing a reference into module {module!r}", module=module))
    obj: Any = sys.modules.get(module) or importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def encode(value: Any, buffers: list, fallback, depth: int = 0) -> Any:
    """The JSON structure of `value`; tensors and arrays go to `buffers`; `fallback(obj)` encodes the rest."""
    import numpy as np
    import torch

    if depth > 64:
        raise ValueError("the value is nested more than 64 levels deep")
    if value is None or isinstance(value, (bool, str)):
        return str(value) if isinstance(value, str) and type(value) is not str else value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, torch.Tensor):
        return _encode_tensor(value, buffers)
    if isinstance(value, np.ndarray) or isinstance(value, np.generic):
        array = np.asarray(value)
        if array.dtype.kind not in "biufc":
            return fallback(value)
        buffers.append(np.ascontiguousarray(array).tobytes())
        tag = "A" if isinstance(value, np.ndarray) else "N"
        return [tag, array.dtype.str, list(array.shape), len(buffers) - 1]
    if isinstance(value, complex):
        return ["c", value.real, value.imag]
    if isinstance(value, (bytes, bytearray)):
        buffers.append(bytes(value))
        return ["b", len(buffers) - 1]
    if isinstance(value, torch.Size):
        return ["sz", *[int(n) for n in value]]
    if isinstance(value, tuple):
        return ["t", *[encode(v, buffers, fallback, depth + 1) for v in value]]
    if isinstance(value, list):
        return ["l", *[encode(v, buffers, fallback, depth + 1) for v in value]]
    if isinstance(value, dict):
        items = []
        for k, v in value.items():
            items += [encode(k, buffers, fallback, depth + 1), encode(v, buffers, fallback, depth + 1)]
        return ["d", *items]
    if isinstance(value, (set, frozenset)):
        tag = "fs" if isinstance(value, frozenset) else "s"
        return [tag, *[encode(v, buffers, fallback, depth + 1) for v in value]]
    if isinstance(value, torch.dtype):
        return ["dt", str(value).replace("torch.", "")]
    if isinstance(value, torch.device):
        return ["dv", str(value)]
    if isinstance(value, np.dtype) and value.kind in "biufc":
        return ["nd", value.str]
    if isinstance(value, slice):
        return [
            "sl",
            *[encode(v, buffers, fallback, depth + 1) for v in (value.start, value.stop, value.step)],
        ]
    if isinstance(value, range):
        return ["rg", value.start, value.stop, value.step]
    if value is Ellipsis:
        return ["E"]
    if isinstance(value, OnDevice):
        encoded = _encode_tensor(value.tensor, buffers)
        return [*encoded[:5], value.device]
    if isinstance(value, (Remote, JudgeObject)):
        return fallback(value)
    ref = _global_ref(value)
    if ref is not None:
        return ref
    return fallback(value)


def _encode_tensor(value: Any, buffers: list) -> list:
    import torch

    with torch._C.DisableTorchFunctionSubclass():
        t = torch.Tensor.as_subclass(value, torch.Tensor)
        requires_grad = bool(t.requires_grad)
        t = t.detach()
        if t.layout != torch.strided:
            t = t.to_dense()
        if t.is_conj():
            t = t.resolve_conj()
        if t.is_neg():
            t = t.resolve_neg()
        name = str(t.dtype).replace("torch.", "")
        if name not in TENSOR_DTYPES:
            raise TypeError(f"tensors of dtype {t.dtype} cannot be graded")
        flat = t.cpu().contiguous().reshape(-1)
        buffers.append(flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b"")
        return ["T", name, list(t.shape), len(buffers) - 1, requires_grad]


class OnDevice:
    """A judge-side tensor to be rebuilt on `device` in the child (the judge itself stays on the CPU,
    so that forking children keeps working with CUDA)."""

    def __init__(self, tensor: Any, device: str) -> None:
        self.tensor, self.device = tensor, device


def _shape(shape: Any) -> tuple:
    if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape) or len(shape) > 32:
        raise Malformed(tr("bad shape"))
    return tuple(shape)


def decode(node: Any, buffers: list, handle, depth: int = 0, trusted: bool = False) -> Any:
    """Rebuild a value from `encode`'s structure; `handle(tag, id)` rebuilds handles. Strict: anything
    unexpected raises Malformed. `trusted` (the child decoding the judge's messages) also accepts
    requires_grad flags and functions sent by value."""
    import numpy as np
    import torch

    if depth > 70:
        raise Malformed(tr("nested too deep"))
    if node is None or type(node) in (bool, int, float, str):
        return node
    if type(node) is not list or not node or type(node[0]) is not str:
        raise Malformed(tr("bad node"))
    tag, rest = node[0], node[1:]
    sub = lambda v: decode(v, buffers, handle, depth + 1, trusted)  # noqa: E731
    if tag == "t":
        return tuple(sub(v) for v in rest)
    if tag == "l":
        return [sub(v) for v in rest]
    if tag == "d":
        if len(rest) % 2:
            raise Malformed(tr("odd dict"))
        return {sub(rest[i]): sub(rest[i + 1]) for i in range(0, len(rest), 2)}
    if tag in ("s", "fs"):
        items = {sub(v) for v in rest}
        return frozenset(items) if tag == "fs" else items
    if tag == "T":
        name, shape, index = rest[0], _shape(rest[1]), rest[2]
        if name not in TENSOR_DTYPES:
            raise Malformed(f"dtype {name!r}")
        dtype = getattr(torch, name)
        data = _buffer(buffers, index)
        numel = 1
        for n in shape:
            numel *= n
        if len(data) != numel * torch.empty((), dtype=dtype).element_size():
            raise Malformed(tr("tensor size does not match its shape"))
        if numel == 0:
            t = torch.empty(shape, dtype=dtype)
        else:
            t = torch.frombuffer(bytearray(data), dtype=torch.uint8).view(dtype).reshape(shape)
        if len(rest) > 4 and isinstance(rest[4], str):  # OnDevice: the child moves it
            t = t.to(rest[4])
        if len(rest) > 3 and rest[3] is True and trusted and t.is_floating_point():
            t.requires_grad_(True)
        return t
    if tag in ("A", "N"):
        dtype = np.dtype(rest[0]) if type(rest[0]) is str else None
        if dtype is None or dtype.kind not in "biufc":
            raise Malformed(tr("array dtype"))
        shape = _shape(rest[1])
        data = _buffer(buffers, rest[2])
        if len(data) != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
            raise Malformed(tr("array size does not match its shape"))
        array = np.frombuffer(data, dtype=dtype).reshape(shape).copy()
        return array if tag == "A" else array[()]
    if tag == "c" and len(rest) == 2 and all(type(v) in (int, float) for v in rest):
        return complex(rest[0], rest[1])
    if tag == "b":
        return bytes(_buffer(buffers, rest[0]))
    if tag == "sz" and all(type(n) is int for n in rest):
        return torch.Size(rest)
    if tag == "dt" and rest and rest[0] in TENSOR_DTYPES:
        return getattr(torch, rest[0])
    if tag == "dv" and rest and type(rest[0]) is str:
        try:
            return torch.device(rest[0])
        except RuntimeError as exc:
            raise Malformed("device") from exc
    if tag == "nd" and rest and type(rest[0]) is str:
        dtype = np.dtype(rest[0])
        if dtype.kind not in "biufc":
            raise Malformed("dtype")
        return dtype
    if tag == "sl" and len(rest) == 3:
        return slice(*(sub(v) for v in rest))
    if tag == "rg" and len(rest) == 3 and all(type(v) is int for v in rest):
        return range(*rest)
    if tag == "E":
        return Ellipsis
    if tag == "g" and len(rest) == 2 and all(type(v) is str for v in rest):
        try:
            return _resolve(rest[0], rest[1])
        except Malformed:
            raise
        except Exception as exc:
            raise Malformed(tr("unknown global {rest}.{rest2}", rest=rest[0], rest2=rest[1])) from exc
    if tag == "fn" and trusted:
        return _function(rest, buffers, sub)
    if tag in ("h", "cb") and len(rest) == 1 and type(rest[0]) is int:
        return handle(tag, rest[0])
    raise Malformed(tr("unknown tag {tag!r}", tag=tag))


class NotPortable(Exception):
    pass


def portable_function(func: Any, buffers: list, encode_value) -> list | None:
    """["fn", ...] for a check's own function (a lambda or closure of a grader module) whose defaults
    and captured values are plain data or portable functions: the child rebuilds it from its code and
    runs it there (no round trip per call). None when it is not portable (it is called back instead)."""
    import marshal
    import types

    if not isinstance(func, types.FunctionType) or not str(func.__module__).startswith("grader."):
        return None
    if func.__module__ not in sys.modules:
        return None

    def strict(value: Any) -> Any:
        return encode_value(value, buffers, strict_fallback)

    def strict_fallback(value: Any) -> list:
        nested = portable_function(value, buffers, encode_value)
        if nested is None:
            raise NotPortable
        return nested

    start = len(buffers)
    try:
        cells = [strict(c.cell_contents) for c in func.__closure__ or ()]
        defaults = strict(func.__defaults__ or ())
        kwdefaults = strict(func.__kwdefaults__ or {})
    except (NotPortable, ValueError, TypeError):
        del buffers[start:]
        return None
    buffers.append(marshal.dumps(func.__code__))
    return ["fn", func.__module__, func.__name__, len(buffers) - 1, ["l", *cells], defaults, kwdefaults]


def _function(rest: list, buffers: list, sub) -> Any:
    import marshal
    import types

    module, name, code_index, cells, defaults, kwdefaults = rest
    function = types.FunctionType(
        marshal.loads(_buffer(buffers, code_index)),
        importlib.import_module(module).__dict__,  # a spawned child may not have it yet
        name,
        sub(defaults) or None,
        tuple(types.CellType(v) for v in sub(cells)) or None,
    )
    function.__kwdefaults__ = sub(kwdefaults) or None
    return function


def _buffer(buffers: list, index: Any) -> bytes:
    if type(index) is not int or not 0 <= index < len(buffers):
        raise Malformed(tr("bad buffer index"))
    return buffers[index]


# ---------------------------------------------------------------------------------------------------
# Messages on pipes: [header length, buffer count] header-JSON, then [length] bytes per buffer


def pack(message: Any, buffers: list) -> bytes:
    header = json.dumps(message, separators=(",", ":")).encode()
    parts = [struct.pack("<QI", len(header), len(buffers)), header]
    for b in buffers:
        parts += [struct.pack("<Q", len(b)), b]
    return b"".join(parts)


class Peer:
    """One side of the conversation. Requests nest: while waiting for its reply, a side serves the
    other side's requests (a learner function calling back a judge layer that calls the learner...)."""

    trusted_sender = False  # the child trusts the judge's messages (functions by value, grad flags)

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self.read_fd, self.write_fd = read_fd, write_fd
        self.inbox = bytearray()

    # transport, overridden by the judge to enforce deadlines and drain output
    def _read_some(self) -> bytes:
        return os.read(self.read_fd, 1 << 20)

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.write_fd, view) :]

    def _take(self, n: int) -> bytes:
        while len(self.inbox) < n:
            chunk = self._read_some()
            if not chunk:
                raise EOFError
            self.inbox += chunk
        data = bytes(self.inbox[:n])
        del self.inbox[:n]
        return data

    def receive(self) -> tuple[Any, list]:
        header_len, count = struct.unpack("<QI", self._take(12))
        if header_len > MAX_HEADER or count > MAX_BUFFERS:
            raise Malformed(tr("message too large"))
        try:
            message = json.loads(self._take(header_len))
        except (ValueError, RecursionError) as exc:
            raise Malformed(tr("bad JSON")) from exc
        buffers = []
        for _ in range(count):
            (size,) = struct.unpack("<Q", self._take(8))
            if size > MAX_BUFFER:
                raise Malformed(tr("buffer too large"))
            buffers.append(self._take(size))
        if not isinstance(message, dict):
            raise Malformed(tr("not a message"))
        return message, buffers

    def send(self, message: dict, buffers: list) -> None:
        self._write_all(pack(message, buffers))

    # values
    def encode(self, value: Any, buffers: list) -> Any:
        return encode(value, buffers, lambda obj: self.fallback(obj, buffers))

    def decode(self, node: Any, buffers: list) -> Any:
        return decode(node, buffers, self.handle, trusted=self.trusted_sender)

    def fallback(self, obj: Any, buffers: list) -> list:  # pragma: no cover - each side defines it
        raise NotImplementedError

    def handle(self, tag: str, ident: int) -> Any:  # pragma: no cover
        raise NotImplementedError

    def serve(self, message: dict, buffers: list) -> None:  # pragma: no cover
        raise NotImplementedError

    def request(self, op: str, *fields: Any) -> Any:
        """Send a request; serve nested requests until its reply comes; return the decoded result."""
        buffers: list = []
        self.send(self.outgoing({"op": op, "a": [self.encode(f, buffers) for f in fields]}), buffers)
        while True:
            message, buffers = self.receive()
            if "op" in message:
                self.serve(message, buffers)
                continue
            return self.reply(message, buffers)

    def reply(self, message: dict, buffers: list) -> Any:  # pragma: no cover
        raise NotImplementedError

    def outgoing(self, message: dict) -> dict:
        return message


# ---------------------------------------------------------------------------------------------------
# The judge's side


class Remote:
    """A learner object living in the child: attribute access, calls, indexing and iteration are
    requests; what comes back is plain data or another Remote."""

    __slots__ = ("_peer", "_id", "__weakref__")

    def __init__(self, peer: Judge, ident: int) -> None:
        object.__setattr__(self, "_peer", peer)
        object.__setattr__(self, "_id", ident)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__") and name not in FORWARDED_DUNDERS:
            raise AttributeError(name)
        return self._peer.request("getattr", self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        self._peer.request("setattr", self, name, value)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._peer.call(self, args, kwargs)

    def __getitem__(self, key: Any) -> Any:
        return self._peer.request("getitem", self, key)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._peer.request("setitem", self, key, value)

    def __len__(self) -> int:
        n = self._peer.request("len", self)
        if type(n) is not int or n < 0:
            raise TypeError("len() of a learner object gave no count")
        return n

    def __iter__(self):
        items = self._peer.request("list", self)
        return iter(items if isinstance(items, list) else [])

    def __contains__(self, item: Any) -> bool:
        return self._peer.request("contains", self, item) is True

    def __bool__(self) -> bool:
        return self._peer.request("bool", self) is True

    def __repr__(self) -> str:
        text = self._peer.request("repr", self)
        return text[:TEXT_LIMIT] if isinstance(text, str) else "<learner object>"

    __str__ = __repr__


class RemoteError(Exception):
    """Raised in the judge for an exception of learner code; describes itself without running it."""

    ropekit_description = ""
    ropekit_unfinished: str | None = None
    ropekit_kind = ""


_EXCEPTION_CLASSES: dict[str, type] = {}
_MAPPED = (
    "NotImplementedError RecursionError ZeroDivisionError OverflowError FloatingPointError "
    "ArithmeticError IndexError KeyError LookupError ModuleNotFoundError ImportError "
    "AttributeError TypeError UnicodeError ValueError AssertionError StopIteration "
    "FileNotFoundError PermissionError OSError MemoryError RuntimeError NameError"
).split()


def rebuild_exception(info: Any) -> Exception:
    """The judge's stand-in for a learner exception: a subclass of the most specific builtin exception
    the learner's class derives from (so `except ValueError` works), carrying its description."""
    if not isinstance(info, dict):
        info = {}
    mro = [n for n in info.get("mro", []) if isinstance(n, str)]
    base = next((n for n in mro if n in _MAPPED), None)
    if info.get("kind") == "exit":
        base = None
    cls = _EXCEPTION_CLASSES.get(base or "")
    if cls is None:
        import builtins

        builtin = getattr(builtins, base) if base else None
        bases = (RemoteError, builtin) if isinstance(builtin, type) else (RemoteError,)
        cls = _EXCEPTION_CLASSES[base or ""] = type(f"Learner{base or 'Exception'}", bases, {})
    text = info.get("desc") if isinstance(info.get("desc"), str) else "an exception"
    exc = cls(text)
    exc.ropekit_description = text[:400]
    unfinished = info.get("unfinished")
    exc.ropekit_unfinished = unfinished if isinstance(unfinished, str) else None
    exc.ropekit_kind = info.get("kind") if isinstance(info.get("kind"), str) else ""
    return exc


class Judge(Peer):
    """The judge's end of the conversation with one child: deadlines, an output cap, handles."""

    def __init__(self, read_fd: int, write_fd: int, output_fd: int, *, output_limit: int) -> None:
        super().__init__(read_fd, write_fd)
        os.set_blocking(write_fd, False)  # a child that stops reading cannot block the judge
        self.output_fd = output_fd
        self.output_limit = output_limit
        self.printed = 0
        self.output = bytearray()  # what the learner's code printed (the first output_limit bytes)
        self.deadline = float("inf")
        self.timeout_reason = tr("did not finish in time")
        self.remotes: dict[int, Remote] = {}
        self.callbacks: list = []  # judge objects handed to the child, by index
        self.gone: str | None = None
        self.seed_next: int | None = None  # sent with the next request: the child seeds its RNGs first
        self.refusals: list[str] = []  # file-system refusals the child reported with its replies

    def outgoing(self, message: dict) -> dict:
        if self.seed_next is not None:
            message["seed"], self.seed_next = self.seed_next, None
        return message

    # transport with a deadline, draining the child's output meanwhile
    def _wait(self, fd: int, for_write: bool) -> None:
        while True:
            if self.gone:
                raise ChildGone(self.gone)
            timeout = self.deadline - time.monotonic()
            if timeout <= 0:
                self._lost(self.timeout_reason)
            reads = [self.output_fd] if self.output_fd is not None else []
            if not for_write:
                reads.append(fd)
            r, w, _ = select.select(reads, [fd] if for_write else [], [], min(timeout, 3600))
            if self.output_fd in r:
                chunk = os.read(self.output_fd, 1 << 16)
                if not chunk:
                    self.output_fd = None
                else:
                    self.printed += len(chunk)
                    room = self.output_limit - len(self.output)
                    if room > 0:
                        self.output += chunk[:room]
                    if self.printed > self.output_limit:
                        self._lost(
                            tr(
                                "printed more than {value} MiB of output; remove print calls from loops",
                                value=self.output_limit >> 20,
                            )
                        )
            if (for_write and w) or (not for_write and fd in r):
                return

    def _read_some(self) -> bytes:
        self._wait(self.read_fd, False)
        return os.read(self.read_fd, 1 << 20)

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self.write_fd, view[: 1 << 16]) :]
            except BlockingIOError:  # the pipe is full: wait for the child to read, within the deadline
                self._wait(self.write_fd, True)
            except BrokenPipeError:
                raise EOFError from None

    def _lost(self, reason: str) -> None:
        self.gone = reason
        raise ChildGone(reason)

    def receive(self) -> tuple[Any, list]:
        try:
            message, buffers = super().receive()
            refused = message.get("x")
            if isinstance(refused, list):
                self.refusals += [text[:400] for text in refused if isinstance(text, str)]
            return message, buffers
        except EOFError:
            self._lost("")  # the runner names the cause from the exit status
        except (Malformed, struct.error) as exc:
            self._lost(
                tr("the grading process sent malformed data ({exc}); the checks were not trusted", exc=exc)
            )

    def send(self, message: dict, buffers: list) -> None:
        try:
            super().send(message, buffers)
        except EOFError:
            self._lost("")

    def fallback(self, obj: Any, buffers: list) -> list:
        if isinstance(obj, Remote):
            if obj._peer is not self:
                raise ChildGone(tr("an object of an earlier grading process was used"))
            return ["h", obj._id]
        portable = portable_function(obj, buffers, encode)
        if portable is not None:
            return portable
        self.callbacks.append(obj)
        return ["cb", len(self.callbacks) - 1]

    def handle(self, tag: str, ident: int) -> Any:
        if tag == "cb":
            if not 0 <= ident < len(self.callbacks):
                raise Malformed(tr("unknown callback"))
            return self.callbacks[ident]
        remote = self.remotes.get(ident)
        if remote is None:
            remote = self.remotes[ident] = Remote(self, ident)
        return remote

    def decode(self, node: Any, buffers: list) -> Any:
        try:
            return super().decode(node, buffers)
        except (Malformed, ValueError, TypeError, RecursionError) as exc:
            self._lost(
                tr("the grading process sent malformed data ({exc}); the checks were not trusted", exc=exc)
            )

    def reply(self, message: dict, buffers: list) -> Any:
        if "e" in message:
            raise rebuild_exception(message["e"])
        if "r" not in message:
            self._lost(tr("the grading process sent malformed data (no result); the checks were not trusted"))
        return self.decode(message["r"], buffers), message.get("w"), buffers

    def request(self, op: str, *fields: Any) -> Any:
        return super().request(op, *fields)[0]

    def call(self, target: Any, args: tuple, kwargs: dict) -> Any:
        """Call `target` (a Remote, or a trusted global run inside the child) with arguments as data;
        tensors and arrays the call changed in place are copied back into the judge's arguments."""
        value, written, buffers = Peer.request(self, "call", target, list(args), kwargs)
        if written:
            self._write_back(written, buffers, args, kwargs)
        return value

    def _write_back(self, written: Any, buffers: list, args: tuple, kwargs: dict) -> None:
        import numpy as np
        import torch

        leaves = _array_leaves([list(args), kwargs])
        if not isinstance(written, list):
            self._lost(tr("the grading process sent malformed data (write-back)"))
        for item in written:
            if not (isinstance(item, list) and len(item) == 2 and type(item[0]) is int):
                self._lost(tr("the grading process sent malformed data (write-back)"))
            index, node = item
            if not 0 <= index < len(leaves):
                continue
            new, old = self.decode(node, buffers), leaves[index]
            with torch.no_grad():
                if isinstance(old, torch.Tensor) and isinstance(new, torch.Tensor) and new.shape == old.shape:
                    old.data.copy_(new.to(old.dtype))
                elif isinstance(old, np.ndarray) and isinstance(new, np.ndarray) and new.shape == old.shape:
                    old[...] = new

    def serve(self, message: dict, buffers: list) -> None:
        """The child calls back a judge object (a layer handed to the learner's function)."""
        out: list = []
        try:
            if message.get("op") != "cb":
                self._lost(tr("the grading process sent an unknown request; the checks were not trusted"))
            fields = self.decode(["l", *message.get("a", [])], buffers)
            func, args, kwargs = fields[0], fields[1], fields[2]
            if not isinstance(args, list) or not isinstance(kwargs, dict) or not callable(func):
                raise TypeError("bad callback")
            reply = {"r": self.encode(func(*args, **kwargs), out)}
        except ChildGone:
            raise
        except Exception as exc:  # noqa: BLE001 - the judge's function raised on the learner's input
            out = []
            reply = {
                "e": {"mro": [c.__name__ for c in type(exc).__mro__], "desc": f"{type(exc).__name__}: {exc}"}
            }
        self.send(reply, out)


def _array_leaves(value: Any, out: list | None = None) -> list:
    """Tensors and arrays inside nested lists, tuples and dicts, in a fixed order (both sides agree)."""
    import numpy as np
    import torch

    out = [] if out is None else out
    if isinstance(value, (torch.Tensor, np.ndarray)):
        out.append(value)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _array_leaves(v, out)
    elif isinstance(value, dict):
        for v in value.values():
            _array_leaves(v, out)
    return out


# ---------------------------------------------------------------------------------------------------
# The child's side


class JudgeObject:
    """In the child: a judge function handed to learner code; calling it asks the judge to run it."""

    __slots__ = ("_peer", "_id")

    def __init__(self, peer: Child, ident: int) -> None:
        self._peer, self._id = peer, ident

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        value, _, _ = Peer.request(self._peer, "cb", self, list(args), kwargs)
        return value


class Child(Peer):
    """The child's end: a table of learner objects, answering the judge's requests."""

    trusted_sender = True

    def __init__(self, read_fd: int, write_fd: int, root: Any, describe, on_seed, refused) -> None:
        super().__init__(read_fd, write_fd)
        self.objects: dict[int, Any] = {0: root}
        self.ids: dict[int, int] = {id(root): 0}
        self.describe, self.on_seed, self.refused = describe, on_seed, refused

    def fallback(self, obj: Any, buffers: list) -> list:
        if isinstance(obj, JudgeObject):
            return ["cb", obj._id]
        ident = self.ids.get(id(obj))
        if ident is None:
            ident = self.ids[id(obj)] = len(self.objects)
            self.objects[ident] = obj
        return ["h", ident]

    def handle(self, tag: str, ident: int) -> Any:
        if tag == "cb":
            return JudgeObject(self, ident)
        return self.objects[ident]

    def reply(self, message: dict, buffers: list) -> Any:
        if "e" in message:  # the judge's function raised: the learner's code sees the same kind of error
            raise rebuild_exception(message["e"])
        return self.decode(message["r"], buffers), None, None

    def serve(self, message: dict, buffers: list) -> None:
        import builtins

        op = message.get("op")
        written = None
        if "seed" in message:
            self.on_seed(message["seed"])
        try:
            fields = self.decode(["l", *message.get("a", [])], buffers)
            if op == "call":
                target, args, kwargs = fields
                value, written = self._call(target, args, kwargs)
            elif op == "getattr":
                value = getattr(fields[0], fields[1])
            elif op == "setattr":
                value = setattr(fields[0], fields[1], fields[2])
            elif op == "getitem":
                value = fields[0][fields[1]]
            elif op == "setitem":
                fields[0][fields[1]] = fields[2]
                value = None
            elif op == "len":
                value = len(fields[0])
            elif op == "list":
                value = []
                for item in fields[0]:
                    value.append(item)
                    if len(value) > MAX_ITEMS:
                        raise ValueError(f"more than {MAX_ITEMS} items")
            elif op == "contains":
                value = fields[1] in fields[0]
            elif op == "bool":
                value = bool(fields[0])
            elif op == "repr":
                value = builtins.repr(fields[0])[:TEXT_LIMIT]
            elif op == "isinstance":
                value = isinstance(fields[0], fields[1])
            elif op == "typename":
                value = type(fields[0]).__name__
            elif op == "seed":
                value = self.on_seed(fields[0])
            else:
                raise ValueError(f"unknown request {op!r}")
            out: list = []
            reply = {"r": self.encode(value, out)}
            if written:
                reply["w"] = [[i, self.encode(v, out)] for i, v in written]
        except BaseException as exc:  # noqa: BLE001 - everything learner code raises goes back as data
            out, reply = [], {"e": self._describe(exc, op, locals().get("fields"))}
        refused = self.refused()
        if refused:
            reply["x"] = refused
        self.send(reply, out)

    def _describe(self, exc: BaseException, op: Any, fields: Any) -> dict:
        """The exception as data; the frames that may hold the memory of a MemoryError are dropped."""
        try:
            called = op == "call" and isinstance(fields, list)
            info = self.describe(exc, *(fields[:2] if called else (None,)))
        except MemoryError:
            info = None
        exc.__traceback__ = None
        return info or {"mro": ["MemoryError"], "desc": "MemoryError", "kind": "memory"}

    def _call(self, target: Any, args: list, kwargs: dict) -> tuple[Any, list]:
        """Call, then report the tensor and array arguments the call changed in place."""
        import numpy as np
        import torch

        leaves = _array_leaves([args, kwargs])
        before = [
            leaf._version
            if isinstance(leaf, torch.Tensor)
            else leaf.tobytes()
            if isinstance(leaf, np.ndarray)
            else None
            for leaf in leaves
        ]
        value = target(*args, **kwargs)
        written = []
        for i, (leaf, was) in enumerate(zip(leaves, before, strict=True)):
            now = leaf._version if isinstance(leaf, torch.Tensor) else leaf.tobytes()
            if now != was:
                written.append((i, leaf))
        return value, written

    def run(self) -> None:
        """Answer requests until the judge closes the pipe."""
        while True:
            try:
                message, buffers = self.receive()
            except EOFError:
                return
            self.serve(message, buffers)
