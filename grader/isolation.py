"""Run one exercise's checks in the judge, against learner code that runs in a forked child.

Run here, judge there, plain data between (as contest judges do). The grader process is the judge: it
imports torch, numpy and the checks once and runs every check itself. The learner's module is imported
in a forked child (cheap: a warm fork of the judge) that only answers the judge's requests through
grader/remote.py; the checks reach it through `impl`, a `Remote`. The child never sees a check and
never reports a verdict, so replacing functions in its memory changes nothing but its own answers.

The judge enforces, per exercise:
- a time limit for importing the learner module and one per check (an infinite loop);
- a cap on printed output (the child's stdout and stderr are a pipe the judge drains);
- an address-space limit in the child (Linux), so a runaway allocation raises MemoryError there;
- the child dies with the judge (PR_SET_PDEATHSIG on Linux), and when an exercise ends the child's
  process group and every other process it left behind (the judge is a child subreaper) are killed.

Where there is no fork, or with ROPEKIT_ISOLATION=spawn, the child is a fresh interpreter instead
(SpawnWorker, grader/_spawn_child.py): it is told what to load as plain data, imports torch and the
checks (a few seconds, once per exercise), and then runs the same code as a forked child. On Windows the
judge cannot wait on pipes with select, so there the checks run in the grading process, unisolated.

If the child dies during check k (os._exit, a hard crash, a time-out), check k fails with the reason
and a new child serves check k + 1. A failure while importing fails every check with that reason.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .checking import OUT_OF_MEMORY, Check, Mistake, describe_exception, unfinished_module
from .i18n import tr
from .remote import Child, ChildGone, Judge, RemoteError

OUTPUT_LIMIT = 1 << 20  # bytes a learner's code may print per exercise
MEMORY_LIMIT = 2 << 30  # bytes of address space a child may add to what the grader already maps
MAX_STRIKES = 2  # checks that time out or kill the child before the rest of the exercise is skipped
PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER = 1, 36


@dataclass
class Outcome:
    passed: bool
    message: str
    output: str = ""  # what the learner's code printed during this check (capped)
    cause: str | None = None  # what the check found wrong, when it could tell (Mistake.cause)
    import_failed: bool = False  # the learner module did not import: no check ran


# ---------------------------------------------------------------------------------------------------
# Processes (Linux facilities; elsewhere the process group alone)


def _prctl(option: int, value: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


_SUBREAPER: list[bool] = []


def _become_subreaper() -> None:
    """Orphans of the learner's code (a daemon started with start_new_session) become our children,
    so that they can be found and killed."""
    if not _SUBREAPER:
        _SUBREAPER.append(_prctl(PR_SET_CHILD_SUBREAPER, 1))


def _children() -> set[int]:
    """Our direct children, from /proc (Linux); empty elsewhere."""
    me, found = os.getpid(), set()
    try:
        names = os.listdir("/proc")
    except OSError:
        return found
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 1 and int(fields[1]) == me:
            found.add(int(name))
    return found


def _kill_and_reap(pids: set[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for pid in pids:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass


def reap_orphans(before: set[int]) -> None:
    """Kill and reap the children this process has beyond `before`: orphans that re-parented to it (it
    is a subreaper), then theirs."""
    for _ in range(20):
        left = _children() - before
        if not left:
            break
        _kill_and_reap(left)


def die_with_parent(parent: int, exit_status: int) -> None:
    """Linux: the kernel kills this process when `parent` dies; if it died already, exit now."""
    _prctl(PR_SET_PDEATHSIG, getattr(signal, "SIGKILL", 9))
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(exit_status)


def _death_reason(code: int) -> str:
    """Why a child ended, from its exit code as Popen gives it (minus the signal number if a signal)."""
    if code < 0:
        sig = -code
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        if sig == getattr(signal, "SIGKILL", None):
            return tr("the process was killed (SIGKILL): out of memory, or it killed itself")
        return tr("the process crashed ({name})", name=name)
    return tr("the process exited with status {code} (os._exit or exit in your code?)", code=code)


# ---------------------------------------------------------------------------------------------------
# The child


def _limit_memory() -> None:
    try:
        import resource

        with open("/proc/self/statm") as statm:
            mapped = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        limit = mapped + MEMORY_LIMIT
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, OSError, ValueError):
        pass  # not Linux: no address-space limit


def _describe_for_judge(exc: BaseException, target: Any, args: Any = ()) -> dict:
    """What the judge learns of an exception raised by learner code: its class names, one line of
    description, and the sibling exercise file that raised NotImplementedError, if any."""
    kind = "exit" if isinstance(exc, SystemExit) else "memory" if isinstance(exc, MemoryError) else ""
    info = {"mro": [c.__name__ for c in type(exc).__mro__], "desc": describe_exception(exc), "kind": kind}
    if isinstance(exc, NotImplementedError) and target is not None:
        if str(getattr(target, "__module__", "")).startswith("grader"):  # a probe: judge its learner function
            target = next((a for a in args if callable(a)), None) if isinstance(args, list) else None
        if target is not None:
            info["unfinished"] = unfinished_module(target, exc)
    return info


def _seed(value: Any) -> None:
    import numpy as np
    import torch

    seed = value if type(value) is int else 0
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _child_main(
    to_child: int, to_judge: int, output_fd: int, load: Callable[[], Any], guard: Any, limit_memory: bool
):
    """Body of the forked child: import the learner module, then answer requests. Never returns."""
    try:
        parent = os.getppid()
        os.setpgid(0, 0)
        die_with_parent(parent, 0)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(output_fd, 1)
        os.dup2(output_fd, 2)
        sys.stdin = open(0, closefd=False)
        sys.stdout = open(1, "w", buffering=1, closefd=False, errors="replace")
        sys.stderr = open(2, "w", buffering=1, closefd=False, errors="replace")
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if limit_memory:
            _limit_memory()
        _serve_learner(to_child, to_judge, load, guard)
    except BaseException:  # noqa: BLE001 - the child must never return into the grader
        os._exit(3)
    os._exit(0)


def _serve_learner(to_child: int, to_judge: int, load: Callable[[], Any], guard: Any) -> None:
    """Both kinds of child (forked, spawned): install the guard, import the learner module, tell the
    judge whether it imported, then answer requests until the judge closes the pipe."""
    import torch

    torch.set_num_threads(1)  # deterministic, and safe after fork
    sys.dont_write_bytecode = True  # the learner's folder stays as it was
    if guard is not None:
        guard.install()
    refused = guard.report if guard is not None else list
    peer = Child(to_child, to_judge, None, _describe_for_judge, _seed, refused)
    try:
        impl = load()
    except SystemExit:
        message = tr("your module calls sys.exit() at import")
    except BaseException as exc:  # noqa: BLE001 - anything the learner's module raises
        message = f"import failed: {describe_exception(exc)}"
        if guard is not None and guard.refused:
            message = guard.message()
    else:
        message = None
        peer.objects[0] = impl
        peer.ids = {id(impl): 0}
    peer.send({"ready": message is None, "message": message or ""}, [])
    if message is None:
        peer.run()


class Worker:
    """One forked child serving one exercise's learner module, and the judge's end of its pipes."""

    def __init__(self, load: Callable[[], Any], guard: Any, limit_memory: bool, output_limit: int) -> None:
        _become_subreaper()
        self.before = _children()
        to_child_r, to_child_w = os.pipe()
        to_judge_r, to_judge_w = os.pipe()
        output_r, output_w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            for fd in (to_child_w, to_judge_r, output_r):
                os.close(fd)
            _child_main(to_child_r, to_judge_w, output_w, load, guard, limit_memory)
        for fd in (to_child_r, to_judge_w, output_w):
            os.close(fd)
        self.pid = pid
        self.judge = Judge(to_judge_r, to_child_w, output_r, output_limit=output_limit)
        self.fds = (to_judge_r, to_child_w, output_r)  # the judge's ends, closed by _release
        self.root: Any = None
        self.status: int | None = None  # the exit code once reaped (minus the signal number if killed)

    def ready(self, import_limit: float) -> str | None:
        """Wait for the import; None when the module is loaded, else why every check fails."""
        judge = self.judge
        judge.deadline = time.monotonic() + import_limit
        judge.timeout_reason = tr(
            "importing your module took more than {import_limit:g} s (an infinite loop or heavy "
            "work at module level?)",
            import_limit=import_limit,
        )
        try:
            message, _ = judge.receive()
        except ChildGone as exc:
            reason = self.reason(exc)
            # the time-out already says it was the import (in any language); other reasons do not
            return reason if reason == judge.timeout_reason else reason + tr(" while importing your module")
        if message.get("ready") is True:
            self.root = judge.handle("h", 0)
            return None
        text = message.get("message")
        return text if isinstance(text, str) and text else tr("import failed")

    def reason(self, exc: ChildGone) -> str:
        """The reason a child was lost: the judge's own (time-out, output, protocol) or its exit status."""
        if exc.reason:
            self.stop()
            return exc.reason
        self.stop(wait=1.0)
        return _death_reason(self.status) if self.status is not None else tr("the process ended")

    def take_output(self) -> str:
        text = bytes(self.judge.output).decode("utf-8", "replace")
        self.judge.output.clear()
        return text

    def stop(self, wait: float = 0.0) -> None:
        """Kill the child, its process group and anything it left behind; reap them all."""
        if self.pid is None:
            return
        pid, self.pid = self.pid, None
        end = time.monotonic() + wait
        while True:  # let a child that is exiting by itself report its own status
            try:
                info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except (ChildProcessError, AttributeError, OSError):
                info = None
            if info is not None or time.monotonic() >= end:
                break
            time.sleep(0.005)
        for kill in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
            try:
                kill()
            except (ProcessLookupError, PermissionError):
                pass
        try:
            self.status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        except ChildProcessError:
            pass
        self._release()

    def _release(self) -> None:
        """Close the judge's ends of the pipes; kill and reap whatever the child left behind."""
        for fd in self.fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self.judge.gone = self.judge.gone or tr("the grading process was stopped")
        reap_orphans(self.before)


# ---------------------------------------------------------------------------------------------------
# A spawned child: a fresh interpreter, for systems without fork (grader/_spawn_child.py is its body)

START_LIMIT = 120.0  # seconds a spawned child may take to start (an interpreter importing torch)


def isolation_mode() -> str:
    """Which kind of child runs learner code: "fork" where os.fork exists, else "spawn"; on Windows,
    where the judge cannot wait on pipes with select, "none" (the checks run in the grading process).
    ROPEKIT_ISOLATION=spawn forces spawn (to test it on Linux); "fork", unset or anything else: automatic."""
    if os.environ.get("ROPEKIT_ISOLATION") == "spawn":
        return "spawn"
    if hasattr(os, "fork"):
        return "fork"
    return "none" if os.name == "nt" else "spawn"


def _spawn_setup(spec: Any, guard: Any, limit_memory: bool) -> dict | None:
    """What a spawned child needs, as plain data: the learner's folder and module, the guard's folders,
    the judge's import path, and the check modules to import before the guard (a forked child inherits
    all of these). None when `spec` cannot be sent: none given, or a notebook's namespace."""
    from .guard import Guard

    if spec is None:
        return None
    impl, module = spec
    if impl.folder is None or impl.namespace is not None:
        return None
    if guard is not None and not isinstance(guard, Guard):
        return None
    return {
        "label": impl.label,
        "folder": str(impl.folder),
        "module": module,
        "guard": None if guard is None else {"no_read": guard.no_read, "no_write": guard.no_write},
        "path": [p for p in sys.path if isinstance(p, str)],
        "modules": sorted(n for n in sys.modules if n == "grader.checking" or n.startswith("grader.checks.")),
        "limit_memory": limit_memory,
    }


def _new_process_group() -> dict:
    """Popen arguments that put the child in a process group of its own (killed as one)."""
    if os.name == "nt":  # pragma: no cover - Windows
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


class SpawnWorker(Worker):
    """A fresh interpreter (`python -m grader._spawn_child`) serving one exercise's learner module.

    The same pipes and protocol as a forked child: its stdin and stdout carry the protocol (the child
    moves them to other descriptors first thing), its stderr is the output pipe, and its first message
    after `setup` says it has imported torch and the checks; only then does the import time limit start.

    Tested on Linux only. Windows would still need: a `Judge._wait` that does not `select` on pipes
    (a reader thread per pipe), a job object to kill the child's own children, and names for its exit
    codes (0xC0000005 is an access violation).
    """

    def __init__(self, setup: dict, output_limit: int) -> None:
        _become_subreaper()
        self.before = _children()
        to_child_r, to_child_w = os.pipe()
        to_judge_r, to_judge_w = os.pipe()
        output_r, output_w = os.pipe()
        kit = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # where `grader` is
        path = os.pathsep.join(filter(None, [kit, os.environ.get("PYTHONPATH")]))
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "grader._spawn_child", str(os.getpid())],
                stdin=to_child_r,
                stdout=to_judge_w,
                stderr=output_w,
                env={**os.environ, "PYTHONPATH": path},
                **_new_process_group(),
            )
        except BaseException:
            for fd in (to_child_w, to_judge_r, output_r):
                os.close(fd)
            raise
        finally:
            for fd in (to_child_r, to_judge_w, output_w):
                os.close(fd)
        self.setup = setup
        self.pid = self.process.pid
        self.judge = Judge(to_judge_r, to_child_w, output_r, output_limit=output_limit)
        self.fds = (to_judge_r, to_child_w, output_r)
        self.root = None
        self.status = None

    def ready(self, import_limit: float) -> str | None:
        """Send the setup, wait for the child to start, then for the import (as a forked child)."""
        judge = self.judge
        judge.deadline = time.monotonic() + START_LIMIT
        judge.timeout_reason = tr("took more than {start_limit:g} s to start", start_limit=START_LIMIT)
        try:
            judge.send({"setup": self.setup}, [])
            message, _ = judge.receive()
        except ChildGone as exc:  # before any learner code ran: our fault, not the learner's
            self.stop(wait=0 if exc.reason else 1.0)
            reason = exc.reason or tr("it ended with exit status {status}", status=self.status)
            lines = bytes(judge.output).decode("utf-8", "replace").strip().splitlines()
            last = f" ({lines[-1][:300]})" if lines else ""  # the child's traceback ends with the error
            return tr("the grading process could not start: {reason}{last}", reason=reason, last=last)
        if message.get("started") is not True:
            return tr("the grading process could not start: the grading process sent malformed data")
        judge.output.clear()  # what importing torch printed (a warning) is not the learner's output
        judge.printed = 0
        return super().ready(import_limit)

    def stop(self, wait: float = 0.0) -> None:
        """Kill the child, its process group and anything it left behind; reap them all."""
        if self.pid is None:
            return
        pid, self.pid = self.pid, None
        try:
            self.process.wait(timeout=wait)  # let a child that is exiting by itself report its own status
        except subprocess.TimeoutExpired:
            pass
        if hasattr(os, "killpg"):
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.process.kill()  # Windows: the child only (its own children would need a job object)
        self.status = self.process.wait()
        self._release()


# ---------------------------------------------------------------------------------------------------
# Running the checks


class _JudgeRandomness:
    """Seeds the judge's random generators for each check and restores the caller's state after."""

    def __enter__(self):
        import numpy as np
        import torch

        self.saved = (random.getstate(), np.random.get_state(), torch.random.get_rng_state())
        return self

    def seed(self) -> None:
        _seed(0)

    def __exit__(self, *exc) -> None:
        import numpy as np
        import torch

        random.setstate(self.saved[0])
        np.random.set_state(self.saved[1])
        torch.random.set_rng_state(self.saved[2])


def _judge(func: Callable[[Any], None], impl: Any) -> tuple[bool, str, str | None]:
    """Run one check in the judge; (passed, message). ChildGone propagates. Warnings that the check's
    arithmetic raises on a learner's odd values (NaN, inf) are not the learner's terminal's business."""
    import warnings

    import numpy as np

    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            func(impl)
        return True, "", None
    except Mistake as exc:
        return False, str(exc), exc.cause
    except RemoteError as exc:  # raised by learner code outside a call the check wrapped
        if exc.ropekit_kind == "exit":
            return False, tr("your code called sys.exit(); return a value instead"), None
        if exc.ropekit_kind == "memory":
            return False, tr("your code {out_of_memory}", out_of_memory=OUT_OF_MEMORY), None
        return (
            False,
            tr("your code raised {ropekit_description}", ropekit_description=exc.ropekit_description),
            None,
        )
    except MemoryError:
        return False, tr("your code {out_of_memory}", out_of_memory=OUT_OF_MEMORY), None
    except Exception as exc:  # noqa: BLE001 - the check met a value it could not work with
        return (
            False,
            tr(
                "your result could not be checked ({describe_exception})",
                describe_exception=describe_exception(exc),
            ),
            None,
        )


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
    spec: tuple[Any, str] | None = None,
) -> list[Outcome]:
    """Run `checks` in the judge against `load()` in isolated children; one Outcome per check, in order.

    time_limit is per check; importing the module may take twice that unless import_limit says.
    fail_fast stops at the first failing check (the rest are reported "not run").
    spec is what `load` imports, as data: (Implementation, module name). A spawned child (no fork, see
    isolation_mode) needs it; without it, or for a namespace, fork is used where it exists, and
    elsewhere the checks run in this process, without isolation.
    """
    import_limit = import_limit or 2 * time_limit
    mode = isolation_mode()
    setup = _spawn_setup(spec, guard, limit_memory) if mode == "spawn" else None
    if mode == "none" or (setup is None and not hasattr(os, "fork")):  # pragma: no cover - Windows
        _warn_unisolated()
        return _run_in_process(load, checks)

    def new_worker() -> Worker:
        if setup is not None:
            return SpawnWorker(setup, output_limit)
        return Worker(load, guard, limit_memory, output_limit)

    outcomes: list[Outcome] = []
    worker: Worker | None = None
    strikes = 0
    not_run, import_failed = "", False
    with _JudgeRandomness() as randomness:
        try:
            for item in checks:
                if not_run:
                    outcomes.append(Outcome(False, not_run, import_failed=import_failed))
                    continue
                if worker is None:
                    worker = new_worker()
                    failure = worker.ready(import_limit)
                    if failure is not None:
                        worker.stop()
                        not_run, import_failed = failure, True
                        outcomes.append(Outcome(False, failure, worker.take_output(), import_failed=True))
                        continue
                judge = worker.judge
                judge.deadline = time.monotonic() + time_limit
                judge.timeout_reason = tr(
                    "did not finish within {time_limit:g} s (an infinite loop, or a Python loop "
                    "over elements where a vectorised tensor operation is expected?)",
                    time_limit=time_limit,
                )
                randomness.seed()
                judge.seed_next, judge.refusals = 0, []  # the child seeds with the check's first request
                cause = None
                try:
                    passed, message, cause = _judge(item.func, worker.root)
                    if judge.refusals:
                        passed, message, cause = False, judge.refusals[0], None
                except ChildGone as exc:
                    passed, message = False, worker.reason(exc)
                    strikes += 1
                outcomes.append(Outcome(passed, message, worker.take_output(), cause))
                if worker.pid is None:
                    worker = None
                if strikes >= MAX_STRIKES:
                    not_run = tr(
                        "not run: {max_strikes} earlier checks of this exercise timed out or crashed",
                        max_strikes=MAX_STRIKES,
                    )
                if fail_fast and not passed:
                    not_run = tr("not run")
        finally:
            if worker is not None:
                worker.stop()
    return outcomes


_WARNED: list[bool] = []


def _warn_unisolated() -> None:  # pragma: no cover - Windows
    if not _WARNED:
        _WARNED.append(True)
        print(
            tr(
                "ropekit: learner code runs in the grading process here (no time limit, no crash "
                "isolation); WSL or Linux gives both"
            ),
            file=sys.stderr,
        )


def _run_in_process(load: Callable[[], Any], checks: list[Check]) -> list[Outcome]:  # pragma: no cover
    try:
        impl = load()
    except BaseException as exc:  # noqa: BLE001
        return [Outcome(False, f"import failed: {describe_exception(exc)}", import_failed=True)] * len(checks)
    outcomes = []
    for item in checks:
        try:
            passed, message, cause = _judge(item.func, impl)
            outcomes.append(Outcome(passed, message, cause=cause))
        except BaseException as exc:  # noqa: BLE001
            outcomes.append(
                Outcome(
                    False,
                    tr("your code raised {describe_exception}", describe_exception=describe_exception(exc)),
                )
            )
    return outcomes
