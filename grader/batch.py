"""Many submissions from one warm judge: a pool of worker processes forked from it (torch and the checks
already imported), each grading whole submissions, one isolated child per submission and exercise;
and the deterministic split of a submissions folder into shards (`--shard I/N`)."""

from __future__ import annotations


class _Stopped(BaseException):
    """SIGTERM in a pool worker: unwinds through the grading (its child is killed on the way out)."""


def _stopped(*_) -> None:
    raise _Stopped


def _graded(item, work, on_error):
    try:
        return work(item)
    except Exception as exc:  # noqa: BLE001 - one submission's trouble is its own
        return on_error(item, f"grading failed: {type(exc).__name__}: {exc}")


def _worker_main(task_fd: int, result_fd: int, items: list, work, on_error) -> None:
    """Body of a pool worker: grade the items whose indexes arrive on task_fd, one result line each
    ("<index>\\t<json>") on result_fd, until task_fd closes. Never returns."""
    import json
    import os
    import signal

    from . import isolation

    status = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the coordinator, which stops us
        signal.signal(signal.SIGTERM, _stopped)
        isolation.die_with_parent(os.getppid(), 1)
        isolation._SUBREAPER.clear()  # not inherited through fork: this worker must become one itself
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        import torch

        torch.set_num_threads(1)  # one core per worker; the checks' tensors are small
        with os.fdopen(task_fd, "r", encoding="utf-8") as tasks, os.fdopen(result_fd, "wb") as results:
            for task in tasks:
                index = int(task)
                result = _graded(items[index], work, on_error)
                results.write(f"{index}\t{json.dumps(result, ensure_ascii=False)}\n".encode())
                results.flush()
    except BaseException:  # noqa: BLE001 - a worker must never return into the coordinator's stack
        status = 143
    os._exit(status)


def grade_in_workers(items: list, work, on_error, emit, *, jobs: int = 1, prepare=None) -> None:
    """Call emit(i, work(items[i])) for every item in index order, each as soon as every earlier one
    has been emitted; work(item) returns plain JSON data.

    jobs == 1: in this process. jobs > 1: `prepare()` runs here first (torch, the checks: whatever every
    item needs imported), then up to `jobs` workers are forked from this warm process; each takes the
    next item as soon as it is free, so one slow submission holds up one worker only. An exception in
    work(item), or a worker that dies, gives on_error(item, reason) for that item; the rest go on.
    Leaving by an exception (Ctrl-C, SIGTERM) stops every worker: each is sent SIGTERM and kills its
    grading child as it unwinds, SIGKILL follows after a grace period, and orphans are reaped (this
    process is a child subreaper, and the workers die with it: PR_SET_PDEATHSIG)."""
    import json
    import os
    import select
    import sys

    from . import isolation

    if prepare is not None:
        prepare()
    if jobs <= 1 or len(items) <= 1 or not hasattr(os, "fork"):
        for index, item in enumerate(items):
            emit(index, _graded(item, work, on_error))
        return
    isolation._become_subreaper()
    before = isolation._children()  # children this process had already: not ours to kill
    pending = list(range(len(items)))[::-1]  # popped from the end: index order
    workers: dict[int, dict] = {}  # result fd -> {"pid", "task", "buffer", "current"}
    done: dict[int, object] = {}
    emitted = 0

    def start() -> None:
        task_r, task_w = os.pipe()
        result_r, result_w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            others = [w["task"] for w in workers.values() if w["task"] is not None]
            for fd in (task_w, result_r, *workers, *others):  # so that each worker sees its own EOF
                os.close(fd)
            _worker_main(task_r, result_w, items, work, on_error)
        os.close(task_r)
        os.close(result_w)
        workers[result_r] = {"pid": pid, "task": task_w, "buffer": b"", "current": None}
        feed(result_r)

    def feed(fd: int) -> None:
        worker = workers[fd]
        if pending:
            worker["current"] = pending.pop()
            try:
                os.write(worker["task"], f"{worker['current']}\n".encode())
            except BrokenPipeError:  # it died between two items: the item waits for the next worker
                pending.append(worker["current"])
                worker["current"] = None
        elif worker["task"] is not None:
            os.close(worker["task"])  # nothing left: the worker reads EOF and exits
            worker["task"], worker["current"] = None, None

    def ended(fd: int) -> None:
        worker = workers.pop(fd)
        os.close(fd)
        if worker["task"] is not None:
            os.close(worker["task"])
        _, status = os.waitpid(worker["pid"], 0)
        if worker["current"] is not None:  # it died grading this item
            reason = isolation._death_reason(os.waitstatus_to_exitcode(status))
            done[worker["current"]] = on_error(items[worker["current"]], f"the grading worker died: {reason}")
        if pending:
            start()

    try:
        for _ in range(min(jobs, len(items))):
            start()
        while emitted < len(items):
            if not workers:  # cannot happen (every item is pending, in a worker or done): never hang
                for index in set(range(emitted, len(items))) - set(done):
                    done[index] = on_error(items[index], "not graded: no grading worker left")
            readable, _, _ = select.select(list(workers), [], []) if workers else ([], [], [])
            for fd in readable:
                data = os.read(fd, 1 << 16)
                if not data:
                    ended(fd)
                    continue
                worker = workers[fd]
                worker["buffer"] += data
                *lines, worker["buffer"] = worker["buffer"].split(b"\n")
                for line in lines:
                    index, text = line.decode("utf-8").split("\t", 1)
                    done[int(index)] = json.loads(text)
                    worker["current"] = None
                if lines:
                    feed(fd)
            while emitted in done:
                emit(emitted, done.pop(emitted))
                emitted += 1
    finally:
        _stop_workers(workers, before)


def _stop_workers(workers: dict[int, dict], before: set[int], grace: float = 3.0) -> None:
    """SIGTERM every worker still running, SIGKILL after `grace` seconds, reap them and any orphan."""
    import os
    import signal
    import time

    from . import isolation

    blocked = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, blocked)  # a second Ctrl-C must not cut the clean-up short
    try:
        for worker in workers.values():
            if worker["task"] is not None:
                os.close(worker["task"])
            try:
                os.kill(worker["pid"], signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        alive = {w["pid"] for w in workers.values()}
        while alive and time.monotonic() < deadline:
            for pid in list(alive):
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    alive.discard(pid)
            time.sleep(0.01)
        isolation._kill_and_reap(alive)
        for fd in workers:
            os.close(fd)
        workers.clear()
        isolation.reap_orphans(before)  # what re-parented to us (we are a subreaper) when a worker died
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, blocked)


def default_jobs(items: int) -> int:
    """Worker processes when none are asked for: one per core, at most 4, no more than the items."""
    import os

    return max(1, min(items, os.cpu_count() or 1, 4))


def jobs_count(text: str) -> int:
    """argparse's type for --jobs: a number of worker processes >= 1."""
    import argparse

    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of worker processes >= 1")
    return int(text)


def shard_spec(text: str) -> tuple[int, int]:
    """`I/N` (1-based: 1/4 is the first of four shards) -> (I, N); argparse's type for --shard."""
    import argparse

    index, slash, count = text.partition("/")
    try:
        i, n = int(index), int(count)
    except ValueError:
        i = n = 0
    if not slash or n < 1 or not 1 <= i <= n:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not I/N with 1 <= I <= N (1-based: --shard 1/4 is the first of 4 shards)"
        )
    return i, n


def take_shard(items: list, shard: tuple[int, int] | None) -> list:
    """Shard I of N of the sorted `items`: round-robin, the items at positions I-1, I-1+N, I-1+2N...
    Sizes differ by at most one, and names that sort together (one section's students) are spread."""
    if shard is None:
        return list(items)
    index, count = shard
    return list(items)[index - 1 :: count]
