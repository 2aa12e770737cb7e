"""The `ropekit` command. Exit status: 0 all graded checks passed, 1 some failed, 2 usage error."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from .catalog import Exercise, UnknownExercise, get_exercise, load_catalog, workspace_root
from .files import WorkspaceError
from .loading import Implementation, from_folder, learner_exercises, reference_solutions

USAGE_ERROR = 2


def _console():
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:  # main() turns it into one line and exit status 2
            raise BrokenPipeError

    return _Console(highlight=False)


def _titles() -> dict[str, str]:
    return {e.id: f"{e.title_en} / {e.title_zh}" for e in load_catalog()}


def _implementation(args) -> Implementation:
    if getattr(args, "solutions", False):
        return reference_solutions()
    if getattr(args, "exercises", None):
        folder = Path(args.exercises)
        if not folder.is_dir():
            raise UsageError(f"--exercises {folder}: no such folder")
        return from_folder(folder)
    return learner_exercises()


class UsageError(Exception):
    pass


def _grade(exercises: list[Exercise], impl: Implementation, time_limit: float | None):
    from .runner import grade_exercise

    if impl == learner_exercises():  # nothing a submission does to its own files can lose a version
        from .files import snapshot

        snapshot([impl.source_file(m) for m in sorted({e.module for e in load_catalog()})])
    results = [grade_exercise(e, impl, time_limit=time_limit) for e in exercises]
    if impl == learner_exercises():
        _SAVE.extend(r for r in results if not r.skipped)
    return results


_SAVE: list = []  # results to record in the progress store once they have been printed


def _save_progress() -> None:
    """Record the printed results; a store that cannot be written costs the record, never the grade."""
    import sqlite3

    from .store import Store

    pending = list(_SAVE)
    _SAVE.clear()
    if not pending:
        return
    try:
        store = Store()
        for result in pending:
            store.record_attempt(result)
    except (sqlite3.Error, OSError, WorkspaceError) as exc:
        print(f"ropekit: progress not saved: {exc}", file=sys.stderr)


def _emit(args, results) -> int:
    from .report import print_results, to_json

    if args.json:
        print(to_json(results))
    else:
        console = _console()
        print_results(console, results, _titles())
        if len(results) == 1 and not results[0].skipped:
            result = results[0]
            if result.all_passed:
                console.print(f"  Compare with the reference: [bold]ropekit solution {result.id}[/]")
            else:
                console.print(f"  Stuck? [bold]ropekit hint {result.id}[/] shows the next hint.")
    status = 0 if all(r.all_passed for r in results) else 1
    _save_progress()
    if args.report:  # after the verdict is printed, so a bad path costs only the report
        try:
            Path(args.report).write_text(to_json(results) + "\n", encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--report {args.report}: {exc.strerror or exc}") from None
    return status


def cmd_check(args) -> int:
    return _emit(args, _grade([get_exercise(args.id)], _implementation(args), args.time_limit))


def cmd_grade(args) -> int:
    exercises = [get_exercise(i) for i in args.ids] if args.ids else list(load_catalog())
    if args.submissions:
        return _grade_submissions(args, exercises)
    return _emit(args, _grade(exercises, _implementation(args), args.time_limit))


def _grade_submissions(args, exercises: list[Exercise]) -> int:
    """Every sub-folder of --submissions is one submission (a folder of exercise modules): each is
    graded in this process (torch and the checks imported once), one isolated child per exercise,
    and reported as one JSON line {"submission", "score", "max_score", "exercises"} as soon as it is
    done. Only the exercises a submission holds a module for are graded."""
    import json

    from .runner import grade_exercise

    folder = Path(args.submissions)
    if not folder.is_dir():
        raise UsageError(f"--submissions {folder}: no such folder")
    if args.exercises or args.solutions or args.report:
        raise UsageError("--submissions grades its folders: it takes no --exercises, --solutions or --report")
    submissions = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    status = 0
    for submission in submissions:
        impl = from_folder(submission, label=submission.name)
        held = [e for e in exercises if impl.source_file(e.module).is_file()]
        results = [
            grade_exercise(e, impl, time_limit=args.time_limit, fail_fast=args.fail_fast) for e in held
        ]
        graded = [r for r in results if not r.skipped]
        line = {
            "submission": submission.name,
            "score": sum(r.score for r in graded),
            "max_score": sum(r.max_score for r in graded),
            "exercises": [r.to_dict() for r in results],
        }
        print(json.dumps(line, ensure_ascii=False), flush=True)
        if not all(r.all_passed for r in results):
            status = 1
    return status


def cmd_list(args) -> int:
    from rich.markup import escape
    from rich.table import Table

    from .store import Store

    console = _console()
    try:
        latest = Store().latest()
    except WorkspaceError as exc:  # the list is still worth showing
        print(f"ropekit: progress not read: {exc}", file=sys.stderr)
        latest = {}
    impl = learner_exercises()
    table = Table(title="ropekit — exercises", title_justify="left")
    for name, justify in (
        ("#", "right"),
        ("id", "left"),
        ("title", "left"),
        ("answers", "left"),
        ("pts", "right"),
        ("status", "left"),
    ):
        table.add_column(name, justify=justify, overflow="fold")
    done_points = total_points = 0
    for number, exercise in enumerate(load_catalog(), start=1):
        total_points += exercise.points
        attempt = latest.get(exercise.id)
        missing = exercise.missing_requirements()
        if missing and attempt is None:
            status = f"[dim]needs {', '.join(missing)}[/]"
        elif attempt is None:
            status = "[dim]not started[/]"
        elif attempt.solved:
            status = "[green]passed[/]"
            done_points += exercise.points
        else:
            status = f"[red]failing[/] {attempt.score}/{attempt.max_score}"
        if attempt is not None and attempt.code_hash != impl.code_hash(exercise.module):
            status += " [yellow](edited since)[/]"
        table.add_row(
            str(number),
            exercise.id,
            escape(f"{exercise.title_en}\n{exercise.title_zh}"),
            escape("\n".join(exercise.seed)),
            str(exercise.points),
            status,
        )
    console.print(table)
    width = 40
    filled = round(width * done_points / max(total_points, 1))
    console.print(
        f"[green]{'█' * filled}[/][dim]{'░' * (width - filled)}[/] {done_points}/{total_points} points"
    )
    console.print(
        "Next: open notebooks/ in Jupyter, or [bold]ropekit check ID[/] after editing exercises/ID.py"
    )
    return 0


def cmd_hint(args) -> int:
    from rich.markup import escape

    from .store import Store

    exercise = get_exercise(args.id)
    store = Store()
    level = min(store.hints_taken(exercise.id) + 1, len(exercise.hints))
    console = _console()
    for number, text in enumerate(exercise.hints[:level], start=1):
        style = "bold" if number == level else "dim"
        console.print(f"[{style}]hint {number}/{len(exercise.hints)}:[/] {escape(text)}\n")
    store.record_hint(exercise.id, level)
    if level == len(exercise.hints):
        console.print(f"That was the last hint. [bold]ropekit solution {exercise.id}[/] shows the answer.")
    return 0


def _confirm(question: str) -> bool:
    print(f"{question} [y/N] ", end="", flush=True)
    try:
        answer = sys.stdin.readline()
    except (OSError, KeyboardInterrupt):
        return False
    return answer.strip().lower() in ("y", "yes")


def cmd_solution(args) -> int:
    from rich.syntax import Syntax

    from .store import Store

    exercise = get_exercise(args.id)
    if not args.yes and not Store().ever_solved(exercise.id):
        if not _confirm(f"You have not passed {exercise.id} yet. Show the reference solution?"):
            print("Not shown. Try `ropekit hint " + exercise.id + "` first.")
            return 1
    path = reference_solutions().source_file(exercise.module)
    _console().print(Syntax(path.read_text(encoding="utf-8"), "python", line_numbers=True))
    return 0


def cmd_reset(args) -> int:
    from .files import atomic_write, backup
    from .stubs import stub_for

    exercise = get_exercise(args.id)
    target = learner_exercises().source_file(exercise.module)
    stub = stub_for(reference_solutions().source_file(exercise.module))
    if target.is_dir():
        raise UsageError(
            f"{target} is a folder, not your exercise file; move it away first (nothing changed)"
        )
    if target.exists() and target.read_bytes() == stub.encode("utf-8"):
        print(f"{target} is already the untouched stub.")
        return 0
    if not args.yes and not _confirm(f"Replace {target} with the original stub (a backup is kept)?"):
        print("Nothing changed.")
        return 1
    saved = backup(target)  # a WorkspaceError here leaves the file as it was
    atomic_write(target, stub)
    if saved:
        print(f"Your version is saved as {saved}")
    print(f"{target} is the original stub again.")
    return 0


def cmd_watch(args) -> int:
    from watchfiles import watch

    from .report import print_results
    from .store import Store

    impl = learner_exercises()
    by_file = {impl.source_file(e.module).name: e for e in load_catalog()}
    if args.id:
        current = get_exercise(args.id)
    else:
        try:
            latest = Store().latest()
        except WorkspaceError as exc:
            print(f"ropekit: progress not read: {exc}", file=sys.stderr)
            latest = {}
        pending = [e for e in load_catalog() if not (e.id in latest and latest[e.id].solved)]
        current = pending[0] if pending else load_catalog()[0]
    console = _console()
    runs = 0

    def run(exercise: Exercise) -> None:
        nonlocal runs
        results = _grade([exercise], impl, args.time_limit)
        print_results(console, results, _titles())
        _save_progress()
        console.print(
            f"[dim]watching {impl.folder} — save a file to re-check, Ctrl-C to stop[/]", highlight=False
        )
        runs += 1

    run(current)
    try:
        for changes in watch(impl.folder, debounce=200, rust_timeout=500, raise_interrupt=False):
            names = {Path(path).name for _, path in changes}
            changed = [by_file[n] for n in names if n in by_file]
            if args.id:
                changed = [e for e in changed if e.id == args.id]
            for exercise in changed:
                console.rule(f"{exercise.id} changed")
                run(exercise)
            if args.max_runs and runs >= args.max_runs:
                break
    except KeyboardInterrupt:
        pass
    return 0


def cmd_verify(args) -> int:
    from rich.table import Table

    from .runner import checks_for, grade_exercise
    from .stubs import stub_for

    console = _console()
    solutions, exercises = reference_solutions(), learner_exercises()
    table = Table(title="ropekit verify", title_justify="left")
    for name in ("exercise", "solution passes", "stub fails", "stub in sync", "points", "hints"):
        table.add_column(name)
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="ropekit-stubs-") as tmp:
        stubs = from_folder(tmp, label="generated stubs")
        exercises_to_verify = [get_exercise(i) for i in args.ids] if args.ids else load_catalog()
        for exercise in exercises_to_verify:
            solution_file = solutions.source_file(exercise.module)
            stub = stub_for(solution_file)
            (Path(tmp) / solution_file.name).write_text(stub, encoding="utf-8")
            checks = checks_for(exercise)
            learner_file = exercises.source_file(exercise.module)
            in_sync = learner_file.exists() and learner_file.read_text(encoding="utf-8") == stub
            points = sum(c.points for c in checks)
            if not in_sync:
                problems.append(
                    f"{exercise.id}: {learner_file} differs from the stub generated from "
                    f"{solution_file} (edited? `ropekit reset {exercise.id}`)"
                )
            if points != exercise.points:
                problems.append(
                    f"{exercise.id}: catalog says {exercise.points} points, checks sum to {points}"
                )
            if len(exercise.hints) < 3:
                problems.append(f"{exercise.id}: fewer than 3 hint levels")
            missing = exercise.missing_requirements()
            if missing:  # the checks cannot run here: say so instead of grading
                solution_cell = stub_cell = f"skipped (needs {', '.join(missing)})"
            else:
                good = grade_exercise(exercise, solutions)
                bad = grade_exercise(exercise, stubs)
                solution_cell = f"{good.passed}/{good.total}"
                stub_cell = f"{bad.total - bad.passed}/{bad.total}"
                for check in good.checks:
                    if not check.passed:
                        problems.append(f"{exercise.id}: the solution fails '{check.name}': {check.message}")
                for check in bad.checks:
                    if check.passed:
                        problems.append(
                            f"{exercise.id}: the stub passes '{check.name}' (a check that cannot fail)"
                        )
            cells = [
                solution_cell,
                stub_cell,
                "yes" if in_sync else "NO",
                f"{points}" if points == exercise.points else f"checks {points} ≠ catalog {exercise.points}",
                str(len(exercise.hints)),
            ]
            failed = any(p.startswith(exercise.id + ":") for p in problems)
            style = "yellow" if missing and not failed else "red" if failed else "green"
            table.add_row(f"[{style}]{exercise.id}[/]", *cells)
    console.print(table)
    for problem in problems:
        console.print(f"[red]✗[/] {problem}")
    if not problems:
        console.print(
            "[green]verified:[/] every solution passes every check, every stub fails every "
            "check, stubs are in sync, points add up."
        )
    return 1 if problems else 0


def cmd_bench(args) -> int:
    import json

    from rich.table import Table

    from . import bench

    report = bench.run(quick=args.quick)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    console = _console()
    m = report["machine"]
    console.print(f"machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, torch {m['torch']}")
    for key, title in (
        ("grader_latency", "grader latency (median wall time of whole processes)"),
        ("rope_cpu", f"RoPE on the CPU, [1, 32, 2048, 128] fp32, {report['rope_cpu_threads']} threads"),
        ("classifier", "classifier on the order task (2 threads)"),
    ):
        rows = report[key]
        table = Table(title=title, title_justify="left")
        for column in rows[0]:
            table.add_column(column)
        for row in rows:
            table.add_row(*("" if v is None else str(v) for v in row.values()))
        console.print(table)
    if "notebooks" in report:
        nb = report["notebooks"]
        console.print(
            f"notebooks: {nb['notebooks']} executed headless in {nb['seconds']} s "
            f"(target {nb['target']}: {'met' if nb['met'] else 'NOT met'})"
        )
    return 0


def cmd_mutate(args) -> int:
    from rich.markup import escape
    from rich.progress import Progress
    from rich.table import Table

    from . import mutation

    exercises = [get_exercise(i) for i in args.ids] if args.ids else list(load_catalog())
    console = _console()
    reports = []
    with Progress(console=console, transient=True) as progress:
        for exercise in exercises:
            source = reference_solutions().source_file(exercise.module).read_text(encoding="utf-8")
            task = progress.add_task(f"mutating {exercise.id}", total=len(mutation.mutants(source)))
            reports.append(
                mutation.run(
                    exercise, reference_solutions().folder, progress=lambda task=task: progress.advance(task)
                )
            )
    table = Table(title="mutation testing of the hidden checks", title_justify="left")
    for name in ("exercise", "mutants", "killed", "equivalent", "survived", "score"):
        table.add_column(name, justify="left" if name == "exercise" else "right")
    for r in reports:
        table.add_row(
            r.exercise,
            str(r.total),
            str(r.killed),
            str(len(r.equivalent)),
            str(len(r.survived)),
            f"{r.score:.0%}",
        )
    console.print(table)
    for r in reports:
        for m in r.survived:
            console.print(f"[red]survived[/] {r.exercise} line {m.line}: {escape(m.key)}")
    return 0 if all(not r.survived for r in reports) else 1


def cmd_quiz(args) -> int:
    from .quiz import load_items, run_interactive, write_answers

    items = [item for item in load_items() if not args.ids or item.id in args.ids]
    if not items:
        raise UsageError(f"no quiz item called {', '.join(args.ids)}")
    sheet = learner_exercises().source_file("quiz")
    answers = run_interactive(items, language=args.lang)
    written = write_answers(sheet, answers, backup_first=True)
    if written:
        print(f"your previous answer sheet is in {workspace_root() / '.ropekit' / 'backups'}")
    print(f"recorded {len(written)} answer(s) in {sheet}; `ropekit check quiz` grades them")
    return 0


def cmd_classroom(args) -> int:
    from .classroom import main as classroom_main

    return classroom_main(args)


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: `ropekit: <what is wrong>`, exit status 2."""

    def error(self, message: str):
        self.exit(USAGE_ERROR, f"ropekit: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ropekit",
        description="Interview-prep study kit on positional encodings and RoPE: exercises, hidden "
        "checks, hints, reference solutions.",
    )
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    def source_options(p: argparse.ArgumentParser) -> None:
        group = p.add_mutually_exclusive_group()
        group.add_argument("--exercises", metavar="DIR", help="grade the modules in DIR")
        group.add_argument("--solutions", action="store_true", help="grade the reference solutions")
        p.add_argument("--json", action="store_true", help="print the result as one JSON object")
        p.add_argument("--report", metavar="FILE", help="also write the JSON result to FILE")
        p.add_argument("--time-limit", type=_time_limit, metavar="S", help="seconds allowed per check")

    sub.add_parser("list", help="the exercises, their status and your progress (default)")
    p = sub.add_parser("check", help="grade one exercise")
    p.add_argument("id")
    source_options(p)
    p = sub.add_parser("grade", help="grade several exercises (all by default)")
    p.add_argument("ids", nargs="*", metavar="ID")
    source_options(p)
    p.add_argument(
        "--submissions",
        metavar="DIR",
        help="grade every sub-folder of DIR as one submission; one JSON line each",
    )
    p.add_argument(
        "--fail-fast",
        action="store_true",
        help="with --submissions: stop each exercise at its first failing check",
    )
    p = sub.add_parser("watch", help="re-grade an exercise each time its file is saved")
    p.add_argument("id", nargs="?")
    p.add_argument("--time-limit", type=_time_limit, metavar="S", help="seconds allowed per check")
    p.add_argument("--max-runs", type=int, default=0, help=argparse.SUPPRESS)
    p = sub.add_parser("hint", help="show the next hint level")
    p.add_argument("id")
    p = sub.add_parser("solution", help="show the reference solution")
    p.add_argument("id")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    p = sub.add_parser("reset", help="restore the stub (your file is backed up first)")
    p.add_argument("id")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    p = sub.add_parser("verify", help="maintainers: solutions pass, stubs fail, stubs in sync")
    p.add_argument("ids", nargs="*", metavar="ID", help="only these exercises (default: all)")
    p = sub.add_parser("classroom", help="teachers: export the kit as an nbgrader course")
    classroom = p.add_subparsers(dest="classroom_command", required=True, parser_class=_Parser)
    from .classroom import add_arguments, add_autograde_arguments

    add_arguments(
        classroom.add_parser("export", help="write nbgrader_config.py and source/<exercise>/<exercise>.ipynb")
    )
    add_autograde_arguments(
        classroom.add_parser(
            "autograde",
            help="grade collected notebooks with the trusted judge and write the scores into the gradebook",
        )
    )
    p = sub.add_parser("quiz", help="answer the concept quiz in the terminal (recorded in exercises/quiz.py)")
    p.add_argument("ids", nargs="*", metavar="ITEM")
    p.add_argument("--lang", choices=["en", "zh", "both"], default="both")
    p = sub.add_parser("mutate", help="maintainers: mutation score of the hidden checks")
    p.add_argument("ids", nargs="*", metavar="ID")
    p = sub.add_parser("bench", help="measure the kit's performance targets (ratios in one run)")
    p.add_argument("--json", action="store_true", help="print the measurements as JSON")
    p.add_argument("--quick", action="store_true", help="fewer repeats, no notebooks")
    return parser


COMMANDS = {
    None: cmd_list,
    "list": cmd_list,
    "check": cmd_check,
    "grade": cmd_grade,
    "watch": cmd_watch,
    "hint": cmd_hint,
    "solution": cmd_solution,
    "reset": cmd_reset,
    "verify": cmd_verify,
    "bench": cmd_bench,
    "mutate": cmd_mutate,
    "quiz": cmd_quiz,
    "classroom": cmd_classroom,
}


def _time_limit(text: str) -> float:
    import argparse
    import math

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds > 0")
    return value


def _check_workspace() -> None:
    root = workspace_root()
    if not (root / "exercises").is_dir():
        source = "ROPEKIT_ROOT" if os.environ.get("ROPEKIT_ROOT") else "the kit"
        raise UsageError(f"{source} {root} has no exercises/ folder")


_ASCII = str.maketrans({"✓": "ok", "✗": "x", "—": "-", "█": "#", "░": ".", "…": "...", "→": "->"})


class _AsciiStream:
    """A terminal that cannot encode the kit's text (LANG=C, PYTHONIOENCODING=ascii): the usual symbols
    become ASCII look-alikes and anything else (中文) a '?', rather than a UnicodeEncodeError."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(text.translate(_ASCII))

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def _fit_terminal_encoding() -> None:
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        try:
            "—中✓█".encode(stream.encoding or "ascii")
        except (UnicodeEncodeError, LookupError):
            try:
                stream.reconfigure(errors="replace")
            except (AttributeError, ValueError):
                continue
            setattr(sys, name, _AsciiStream(stream))


class Terminated(BaseException):
    """SIGTERM: like Ctrl-C, it unwinds through everything (no check can catch it)."""


def _terminated(*_) -> None:
    raise Terminated


def main(argv: list[str] | None = None) -> int:
    import signal

    _fit_terminal_encoding()
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _terminated)  # unwinds, so the grading children die too
    try:
        if args.command != "classroom":
            _check_workspace()
        return COMMANDS[args.command](args)
    except (UnknownExercise, UsageError, WorkspaceError) as exc:
        print(f"ropekit: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print("ropekit: interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print("ropekit: terminated", file=sys.stderr)
        return 143
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # nothing more to print; keep Python's exit quiet
        print("ropekit: output closed early (broken pipe)", file=sys.stderr)
        return USAGE_ERROR


if __name__ == "__main__":
    sys.exit(main())
