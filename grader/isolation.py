"""Run one exercise's checks in a forked child so that learner code can only fail its own exercise.

The grader imports torch, numpy and the checks once; each child is a fork of it (cheap, and import
costs are paid once). The child runs the checks in order and streams one JSON line per event on a
private pipe. The parent enforces, per exercise:

- a time limit for importing the learner module and one per check (an infinite loop);
- a cap on printed output (stdout and stderr are a pipe the parent drains);
- an address-space limit (Linux), so a runaway allocation raises MemoryError in the child;
- the whole process group is killed when the child ends, so no spawned process outlives it.

If the child dies during check k (os._exit, a hard crash, a time-out), check k fails with the reason and
a new child goes on from check k + 1. A failure while importing fails every check with that reason.
This is isolation for a learner's own mistakes, not a security sandbox.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .checking import OUT_OF_MEMORY, Check, Mistake, describe_exception
from .guard import Tampering

OUTPUT_LIMIT = 1 << 20  # bytes a learner's code may print per exercise
MEMORY_LIMIT = 2 << 30  # bytes of address space a child may add to what the grader already maps
MAX_STRIKES = 2  # checks that time out or kill the child before the rest of the exercise is skipped


@dataclass
class Outcome:
    passed: bool
    message: str


def _send(fd: int, **event: Any) -> None:
    os.write(fd, (json.dumps(event) + "\n").encode())


def _limit_memory() -> None:
    try:
        import resource

        with open("/proc/self/statm") as statm:
            mapped = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        limit = mapped + MEMORY_LIMIT
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, OSError, ValueError):
        pass  # not Linux: no address-space limit


def _child(
    result_fd: int,
    output_fd: int,
    load: Callable[[], Any],
    checks: list[Check],
    start: int,
    guard: Any,
    fail_fast: bool = False,
    limit_memory: bool = True,
):
    """Body of the forked child. Never returns: ends with os._exit."""
    try:
        os.setpgid(0, 0)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(output_fd, 1)
        os.dup2(output_fd, 2)
        sys.stdin = open(0, closefd=False)
        sys.stdout = open(1, "w", buffering=1, closefd=False, errors="replace")
        sys.stderr = open(2, "w", buffering=1, closefd=False, errors="replace")
        if limit_memory:
            _limit_memory()
        import random

        import numpy as np
        import torch

        torch.set_num_threads(1)  # deterministic, and safe after fork
        sys.dont_write_bytecode = True  # the learner's folder stays as it was
        if guard is not None:
            guard.install()
        _send(result_fd, event="import")
        try:
            impl = load()
            if guard is not None:
                guard.check()
        except Tampering as exc:
            _send(result_fd, event="import_error", message=str(exc))
            os._exit(0)
        except SystemExit:
            _send(result_fd, event="import_error", message="your module calls sys.exit() at import")
            os._exit(0)
        except BaseException as exc:  # noqa: BLE001 - anything the learner's module raises
            message = f"import failed: {describe_exception(exc)}"
            if guard is not None and guard.refused:
                try:
                    guard.check()
                except Tampering as tampering:
                    message = str(tampering)
            _send(result_fd, event="import_error", message=message)
            os._exit(0)
        for index in range(start, len(checks)):
            _send(result_fd, event="start", index=index)
            random.seed(0)
            np.random.seed(0)
            torch.manual_seed(0)
            try:
                checks[index].func(impl)
                passed, message = True, ""
            except Mistake as exc:
                passed, message = False, str(exc)
            except SystemExit:
                passed, message = False, "your code called sys.exit(); return a value instead"
            except MemoryError:
                passed, message = False, f"your code {OUT_OF_MEMORY}"
            except BaseException as exc:  # noqa: BLE001
                passed, message = False, f"your code raised {describe_exception(exc)}"
            sys.stdout.flush()
            if guard is not None:
                try:
                    guard.check()
                except Tampering as exc:  # this check and every later one fail
                    for later in range(index, len(checks)):
                        _send(result_fd, event="done", index=later, passed=False, message=str(exc))
                    os._exit(0)
            _send(result_fd, event="done", index=index, passed=passed, message=message)
            if fail_fast and not passed:
                os._exit(0)
    except BaseException:  # noqa: BLE001 - the child must never return into the grader
        os._exit(3)
    os._exit(0)


def _death_reason(status: int) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        if sig == signal.SIGKILL:
            return "the process was killed (SIGKILL): out of memory, or it killed itself"
        return f"the process crashed ({name})"
    return f"the process exited with status {os.WEXITSTATUS(status)} (os._exit or exit in your code?)"


def run_isolated(
    load: Callable[[], Any],
    checks: list[Check],
    *,
    time_limit: float,
    output_limit: int = OUTPUT_LIMIT,
    import_limit: float | None = None,
    guard: Any = None,
    fail_fast: bool = False,
    limit_memory: bool = True,
) -> list[Outcome]:
    """Run `checks` against `load()` in forked children; one Outcome per check, in order.

    time_limit is per check; importing the module may take twice that unless import_limit says.
    fail_fast stops at the first failing check (the rest are reported "not run").
    """
    import_limit = import_limit or 2 * time_limit
    if not hasattr(os, "fork"):  # pragma: no cover - Windows: no isolation
        return _run_in_process(load, checks)
    outcomes: list[Outcome | None] = [None] * len(checks)
    start = strikes = 0
    while start < len(checks):
        result_r, result_w = os.pipe()
        output_r, output_w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            os.close(result_r)
            os.close(output_r)
            _child(result_w, output_w, load, checks, start, guard, fail_fast, limit_memory)
        os.close(result_w)
        os.close(output_w)
        phase: int | str = "import"  # "import", or the index of the running check
        deadline = time.monotonic() + import_limit
        reason = None
        printed = 0
        buffer = b""
        open_fds = {result_r, output_r}
        while result_r in open_fds:
            timeout = deadline - time.monotonic()
            ready = select.select(list(open_fds), [], [], max(timeout, 0))[0] if timeout > 0 else []
            if not ready:
                reason = (
                    f"importing your module took more than {import_limit:g} s "
                    "(an infinite loop or heavy work at module level?)"
                    if phase == "import"
                    else f"did not finish within {time_limit:g} s (an infinite loop, or a Python loop "
                    "over elements where a vectorised tensor operation is expected?)"
                )
                break
            if output_r in ready:
                chunk = os.read(output_r, 1 << 16)
                if not chunk:
                    open_fds.discard(output_r)
                printed += len(chunk)
                if printed > output_limit:
                    reason = (
                        f"printed more than {output_limit >> 20} MiB of output; remove print calls from loops"
                    )
                    break
            if result_r in ready:
                chunk = os.read(result_r, 1 << 16)
                if not chunk:
                    open_fds.discard(result_r)
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    event = json.loads(line)
                    if event["event"] == "import_error":
                        for i in range(start, len(checks)):
                            outcomes[i] = Outcome(False, event["message"])
                    elif event["event"] == "start":
                        phase = event["index"]
                        deadline = time.monotonic() + time_limit
                    elif event["event"] == "done":
                        outcomes[event["index"]] = Outcome(event["passed"], event["message"])
                        phase = event["index"] + 1  # a death before the next start is charged to it
                        deadline = time.monotonic() + time_limit
        try:
            os.killpg(pid, signal.SIGKILL)  # the child and anything it spawned
        except ProcessLookupError:
            pass
        _, status = os.waitpid(pid, 0)
        os.close(result_r)
        os.close(output_r)
        pending = [i for i in range(start, len(checks)) if outcomes[i] is None]
        if not pending or (fail_fast and any(o is not None and not o.passed for o in outcomes)):
            break
        if reason is None:
            reason = _death_reason(status)
        if phase == "import":
            if "import" not in reason:
                reason += " while importing your module"
            for i in pending:
                outcomes[i] = Outcome(False, reason)
            break
        if phase < len(checks):
            outcomes[phase] = Outcome(False, reason)
            strikes += 1
        start = phase + 1
        if strikes >= MAX_STRIKES:
            for i in range(start, len(checks)):
                outcomes[i] = Outcome(
                    False, f"not run: {MAX_STRIKES} earlier checks of this exercise timed out or crashed"
                )
            break
    return [o if o is not None else Outcome(False, "not run") for o in outcomes]


def _run_in_process(load: Callable[[], Any], checks: list[Check]) -> list[Outcome]:  # pragma: no cover
    try:
        impl = load()
    except BaseException as exc:  # noqa: BLE001
        return [Outcome(False, f"import failed: {describe_exception(exc)}")] * len(checks)
    outcomes = []
    for item in checks:
        try:
            item.func(impl)
            outcomes.append(Outcome(True, ""))
        except Mistake as exc:
            outcomes.append(Outcome(False, str(exc)))
        except BaseException as exc:  # noqa: BLE001
            outcomes.append(Outcome(False, f"your code raised {describe_exception(exc)}"))
    return outcomes
