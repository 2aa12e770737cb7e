"""The `ropekit` command. Exit status: 0 all graded checks passed, 1 some failed, 2 usage error."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from .catalog import ALL_PASS, Exercise, UnknownExercise, get_exercise, load_catalog, workspace_root
from .files import WorkspaceError
from .i18n import LANGUAGES, N_, gettext, install_argparse, language, set_language, tr
from .loading import Implementation, from_folder, learner_exercises, reference_solutions

USAGE_ERROR = 2


def _console(*, wide: bool = False):
    """rich's console; `wide`: into a file or a pipe, tables get room for every cell (rich would use 80
    columns and cut them) unless COLUMNS says otherwise."""
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:  # main() turns it into one line and exit status 2
            raise BrokenPipeError

    width = 250 if wide and not sys.stdout.isatty() and "COLUMNS" not in os.environ else None
    return _Console(highlight=False, width=width)


def _titles() -> dict[str, str]:
    return {e.id: e.title for e in load_catalog()}


def _implementation(args) -> Implementation:
    if getattr(args, "solutions", False):
        return reference_solutions()
    if getattr(args, "exercises", None):
        folder = Path(args.exercises)
        if not folder.is_dir():
            raise UsageError(tr("--exercises {folder}: no such folder", folder=folder))
        return from_folder(folder)
    return learner_exercises()


class UsageError(Exception):
    pass


def _grade(exercises: list[Exercise], impl: Implementation, time_limit: float | None, jobs: int = 1):
    """Grade each exercise in its own isolated child; with jobs > 1, from that many workers forked
    from this process (torch and the checks imported once), the results in the order given."""
    from .batch import grade_in_workers
    from .runner import ExerciseResult, failed_result, grade_exercise, warm_up

    if impl == learner_exercises():  # nothing a submission does to its own files can lose a version
        from .files import snapshot

        snapshot([impl.source_file(m) for m in sorted({e.module for e in load_catalog()})])
    results: list = [None] * len(exercises)

    def emit(index: int, data: dict) -> None:
        results[index] = ExerciseResult.from_data(data)

    grade_in_workers(
        exercises,
        lambda e: grade_exercise(e, impl, time_limit=time_limit).to_data(),
        lambda e, reason: failed_result(e, impl, reason).to_data(),
        emit,
        jobs=jobs,
        prepare=(lambda: warm_up(exercises)) if jobs > 1 else None,  # imported once, before the fork
    )
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
        print(tr("ropekit: progress not saved: {exc}", exc=exc), file=sys.stderr)


def _emit(args, results, *, tables: bool = True) -> int:
    from .report import print_results, to_json

    if args.json:
        print(to_json(results))
    else:
        console = _console()
        print_results(console, results, _titles(), verbose=getattr(args, "verbose", False), tables=tables)
        if len(results) == 1 and not results[0].skipped:
            result = results[0]
            if result.all_passed:
                console.print(
                    tr("  Compare with the reference: [bold]ropekit solution {id}[/]", id=result.id)
                )
                if _learner_results(args):
                    console.print("  " + _next_line(after=result.id))
            else:
                console.print(tr("  Stuck? [bold]ropekit hint {id}[/] shows the next hint.", id=result.id))
    status = 0 if all(r.all_passed for r in results) else 1
    _save_progress()
    if args.report:  # after the verdict is printed, so a bad path costs only the report
        try:
            Path(args.report).write_text(to_json(results) + "\n", encoding="utf-8")
        except OSError as exc:
            raise UsageError(
                tr("--report {path}: {reason}", path=args.report, reason=exc.strerror or exc)
            ) from None
    return status


def _learner_results(args) -> bool:
    return not getattr(args, "solutions", False) and not getattr(args, "exercises", None)


def _solved() -> set[str]:
    """Exercises whose latest attempt passed (graded from exercises/), counting results not yet saved."""
    from .store import Store

    try:
        solved = Store().solved()
    except WorkspaceError as exc:
        print(tr("ropekit: progress not read: {exc}", exc=exc), file=sys.stderr)
        solved = set()
    for result in _SAVE:
        (solved.add if result.all_passed else solved.discard)(result.id)
    return solved


def _where(exercise: Exercise, *, short: bool = False) -> str:
    from rich.markup import escape

    from .catalog import where_asked

    return escape(where_asked(exercise, short=short))


def _all_pass_line() -> str:
    return tr("[green]{all_pass}[/] `ropekit list` shows your record.", all_pass=ALL_PASS)


def _next_line(after: str | None = None, solved: set[str] | None = None) -> str:
    """One line naming what comes next (markup)."""
    from .catalog import next_exercise

    upcoming = next_exercise(_solved() if solved is None else solved, after=after)
    if upcoming is None:
        return _all_pass_line()
    return tr("Next: [bold]{id}[/] ({where})", id=upcoming.id, where=_where(upcoming, short=True))


def cmd_next(args) -> int:
    from rich.markup import escape

    from .catalog import next_exercise

    console = _console()
    upcoming = next_exercise(_solved())
    if upcoming is None:
        console.print(_all_pass_line())
        return 0
    number = [e.id for e in load_catalog()].index(upcoming.id) + 1
    console.print(
        tr(
            "Next: {number}. [bold]{id}[/] — {title}",
            number=number,
            id=upcoming.id,
            title=escape(upcoming.title),
        )
    )
    if upcoming.notebook:
        console.print(tr("  read:  {where}", where=_where(upcoming)))
    console.print(tr("  edit:  exercises/{module}.py", module=upcoming.module))
    console.print(
        tr(
            "  check: [bold]ropekit check {id}[/]  (or [bold]ropekit watch[/] to re-check on save)",
            id=upcoming.id,
        )
    )
    return 0


def cmd_check(args) -> int:
    return _emit(args, _grade([get_exercise(args.id)], _implementation(args), args.time_limit))


def cmd_grade(args) -> int:
    exercises = [get_exercise(i) for i in args.ids] if args.ids else list(load_catalog())
    if args.submissions:
        return _grade_submissions(args, exercises)
    if args.shard:
        raise UsageError(tr("--shard goes with --submissions DIR"))
    from .batch import default_jobs

    jobs = args.jobs or default_jobs(len(exercises))
    results = _grade(exercises, _implementation(args), args.time_limit, jobs=jobs)
    return _emit(args, results, tables=len(results) == 1 or args.tables or args.verbose)


def _grade_submissions(args, exercises: list[Exercise]) -> int:
    """Every sub-folder of --submissions is one submission (a folder of exercise modules), reported
    as one JSON line {"submission", "score", "max_score", "exercises"} in the order of their names,
    each as soon as every earlier one is printed. Only the exercises a submission holds a module for
    are graded, one isolated child per exercise, by this process (torch and the checks imported once)
    or, with --jobs N, by N workers forked from it. --shard I/N grades only shard I (1-based) of N,
    round-robin over the sorted names; its lines carry {"shard": {"index", "count", "total"}} so that
    `ropekit classroom merge` can tell a missing submission. A submission whose grading fails (or
    kills its worker) gets a line with "error" and every check failed; the others go on."""
    import json

    from .batch import grade_in_workers, take_shard
    from .runner import failed_result, grade_exercise, warm_up

    folder = Path(args.submissions)
    if not folder.is_dir():
        raise UsageError(tr("--submissions {folder}: no such folder", folder=folder))
    if args.exercises or args.solutions or args.report:
        raise UsageError(
            tr("--submissions grades its folders: it takes no --exercises, --solutions or --report")
        )
    submissions = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    total = len(submissions)
    submissions = take_shard(submissions, args.shard)

    def held(submission: Path) -> tuple[Implementation, list[Exercise]]:
        impl = from_folder(submission, label=submission.name)
        return impl, [e for e in exercises if impl.source_file(e.module).is_file()]

    def line(submission: Path, results: list, error: str | None = None) -> dict:
        graded = [r for r in results if not r.skipped]
        out = {
            "submission": submission.name,
            "score": sum(r.score for r in graded),
            "max_score": sum(r.max_score for r in graded),
            "exercises": [r.to_dict() for r in results],
        }
        if error is not None:
            out["error"] = error
        if args.shard:
            out["shard"] = {"index": args.shard[0], "count": args.shard[1], "total": total}
        return out

    def work(submission: Path) -> dict:
        impl, chosen = held(submission)
        kwargs = {"time_limit": args.time_limit, "fail_fast": args.fail_fast}
        return line(submission, [grade_exercise(e, impl, **kwargs) for e in chosen])

    def on_error(submission: Path, reason: str) -> dict:
        try:
            impl, chosen = held(submission)
            results = [failed_result(e, impl, reason) for e in chosen]
        except Exception:  # noqa: BLE001 - the line still names the submission and the reason
            results = []
        return line(submission, results, error=reason)

    failed = []

    def emit(_: int, out: dict) -> None:
        print(json.dumps(out, ensure_ascii=False), flush=True)
        if "error" in out or any(e["passed"] != e["total"] for e in out["exercises"]):
            failed.append(out["submission"])

    grade_in_workers(  # torch and the checks imported once here, before any worker is forked
        submissions, work, on_error, emit, jobs=args.jobs or 1, prepare=lambda: warm_up(exercises)
    )
    return 1 if failed else 0


def cmd_list(args) -> int:
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    from .store import Store

    console = _console()
    try:
        latest = Store().latest()
    except WorkspaceError as exc:  # the list is still worth showing
        print(tr("ropekit: progress not read: {exc}", exc=exc), file=sys.stderr)
        latest = {}
    impl = learner_exercises()
    long = getattr(args, "long", False)
    table = Table(
        title=tr("ropekit — exercises"),
        title_justify="left",
        padding=(0, 1),
        box=None if not long else box.HEAVY_HEAD,
    )
    columns = (("#", "right"), ("id", "left"), (tr("title"), "left")) + (
        ((tr("answers"), "left"),) if long else ()
    )
    for name, justify in columns:
        table.add_column(name, justify=justify, overflow="fold", no_wrap=name in ("#", "id"))
    table.add_column(tr("pts"), justify="right", no_wrap=True)
    table.add_column(tr("status"), justify="left", overflow="fold")
    done_points = total_points = 0
    for number, exercise in enumerate(load_catalog(), start=1):
        attempt = latest.get(exercise.id)
        missing = exercise.missing_requirements()
        if missing:  # not gradable here: counted in neither the score nor the total (as `grade` does)
            status = tr("[dim]skipped: needs {packages}[/]", packages=", ".join(missing))
        else:
            total_points += exercise.points
            if attempt is None:
                status = tr("[dim]not started[/]")
            elif attempt.solved:
                status = tr("[green]passed[/]")
                done_points += exercise.points
            else:
                status = tr(
                    "[red]failing[/] {score}/{max_score}", score=attempt.score, max_score=attempt.max_score
                )
        if attempt is not None and attempt.code_hash != impl.code_hash(exercise.module):
            status += tr(" [yellow](edited since)[/]")
        cells = [str(number), exercise.id]
        both = long or console.width >= 120  # 中文 titles on a second line where they fit
        if language() == "zh":
            cells.append(escape(exercise.title_zh))
        else:
            cells.append(escape(f"{exercise.title_en}\n{exercise.title_zh}" if both else exercise.title_en))
        if long:
            cells.append(escape("\n".join(gettext(question) for question in exercise.seed)))
        table.add_row(*cells, str(exercise.points), status)
    console.print(table)
    width = 40
    filled = round(width * done_points / max(total_points, 1))
    console.print(
        f"[green]{'█' * filled}[/][dim]{'░' * (width - filled)}[/] "
        + tr("{done}/{total} points", done=done_points, total=total_points)
    )
    console.print(_next_line(solved={e for e, attempt in latest.items() if attempt.solved}))
    if not long:
        console.print(
            tr("[dim]`ropekit list --long`: the questions each exercise answers, titles in 中文[/]")
            if language() != "zh"
            else tr("[dim]`ropekit list --long`: the questions each exercise answers[/]")
        )
    return 0


def cmd_hint(args) -> int:
    from rich.markup import escape

    from .store import Store

    exercise = get_exercise(args.id)
    store = Store()
    taken = store.hints_taken(exercise.id)
    console = _console()
    if args.all and taken == 0:
        console.print(
            tr("No hint taken yet for {id}: [bold]ropekit hint {id}[/] shows the first.", id=exercise.id)
        )
        return 0
    level = min(taken if args.all else taken + 1, len(exercise.hints))
    for number in range(1, level + 1):
        text = exercise.hint(number)
        label = tr("hint {number}/{count}:", number=number, count=len(exercise.hints))
        if not args.all:  # the new hint stands out, the ones taken before are dimmed
            label = f"[{'bold' if number == level else 'dim'}]{label}[/]"
        console.print(f"{label} {escape(text)}\n")
    if not args.all:
        store.record_hint(exercise.id, level)
    if level == len(exercise.hints):
        console.print(
            tr("That was the last hint. [bold]ropekit solution {id}[/] shows the answer.", id=exercise.id)
        )
    elif args.all:
        console.print(
            tr(
                "[dim]{value} more: `ropekit hint {id}` shows the next.[/]",
                value=len(exercise.hints) - level,
                id=exercise.id,
            )
        )
    return 0


def _confirm(question: str) -> bool:
    print(f"{question} [y/N] ", end="", flush=True)
    try:
        answer = sys.stdin.readline()
    except (OSError, KeyboardInterrupt):
        return False
    return answer.strip().lower() in ("y", "yes")


def cmd_solution(args) -> int:
    from .store import Store

    exercise = get_exercise(args.id)
    if not args.yes and not Store().ever_solved(exercise.id):
        if not _confirm(tr("You have not passed {id} yet. Show the reference solution?", id=exercise.id)):
            print(tr("Not shown. Try `ropekit hint {id}` first.", id=exercise.id))
            return 1
    path = reference_solutions().source_file(exercise.module)
    text = path.read_text(encoding="utf-8")
    if not sys.stdout.isatty():  # piped or redirected: the file as it is, nothing cut or coloured
        sys.stdout.write(text)
        return 0
    from rich.syntax import Syntax

    console = _console()
    code = Syntax(text, "python", line_numbers=True, word_wrap=True)
    if len(text.splitlines()) < console.height - 2 or args.no_pager:
        console.print(code)
        return 0
    os.environ.setdefault("LESS", "-RFX")  # colours through, quit on one screen, screen not cleared
    with console.pager(styles=True):
        console.print(code)
    return 0


def cmd_reset(args) -> int:
    from .files import atomic_write, backup
    from .stubs import stub_for

    exercise = get_exercise(args.id)
    target = learner_exercises().source_file(exercise.module)
    stub = stub_for(reference_solutions().source_file(exercise.module))
    if target.is_dir():
        raise UsageError(
            tr(
                "{target} is a folder, not your exercise file; move it away first (nothing changed)",
                target=target,
            )
        )
    if target.exists() and target.read_bytes() == stub.encode("utf-8"):
        print(tr("{target} is already the untouched stub.", target=target))
        return 0
    if not args.yes and not _confirm(
        tr("Replace {target} with the original stub (a backup is kept)?", target=target)
    ):
        print(tr("Nothing changed."))
        return 1
    saved = backup(target)  # a WorkspaceError here leaves the file as it was
    atomic_write(target, stub)
    if saved:
        print(tr("Your version is saved as {saved}", saved=saved))
    print(tr("{target} is the original stub again.", target=target))
    return 0


def cmd_restore(args) -> int:
    """`restore ID`: the saved versions of exercises/<module>.py, newest first (each content once);
    `restore ID N`: put version N back (the current file is saved first unless a copy exists)."""
    from rich.table import Table

    from .files import atomic_write, backup, backups_folder, read_text, saved_copies
    from .loading import code_hash_of
    from .store import Store

    exercise = get_exercise(args.id)
    target = learner_exercises().source_file(exercise.module)
    versions: dict[bytes, tuple[str, Path]] = {}  # content -> its newest copy and when it was saved
    for saved_at, copy in saved_copies(target):
        versions.setdefault(copy.read_bytes(), (saved_at, copy))
    if not versions:
        print(
            tr(
                "no saved versions of {name} yet (they are kept in {backups_folder} when you grade or reset)",
                name=target.name,
                backups_folder=backups_folder(),
            )
        )
        return 0 if args.version is None else USAGE_ERROR
    current = target.read_bytes() if target.is_file() else None
    listed = list(versions.items())
    if args.version is None:
        try:
            scores = Store().scores_by_hash(exercise.id)
        except WorkspaceError:
            scores = {}
        console = _console()
        table = Table(
            title=tr("saved versions of {target}", target=target), title_justify="left", padding=(0, 1)
        )
        for name, justify in (
            ("#", "right"),
            (tr("saved"), "left"),
            (tr("lines"), "right"),
            (tr("graded"), "left"),
        ):
            table.add_column(name, justify=justify, no_wrap=True)
        for number, (data, (saved_at, _)) in enumerate(listed, start=1):
            graded = scores.get(code_hash_of(data))
            note = f"{graded[0]}/{graded[1]}" if graded else ""
            if data == current:
                note = (note + tr(" (= your file now)")).strip()
            table.add_row(str(number), saved_at, str(data.count(b"\n")), note)
        console.print(table)
        console.print(
            tr(
                "[bold]ropekit restore {id} N[/] puts version N back (your file is saved first).",
                id=exercise.id,
            )
        )
        return 0
    if not 1 <= args.version <= len(listed):
        raise UsageError(
            tr(
                "{id} has saved versions 1 to {n_listed}, not {version}",
                id=exercise.id,
                n_listed=len(listed),
                version=args.version,
            )
        )
    data, (_, chosen) = listed[args.version - 1]
    text = read_text(chosen)
    if current == data:
        print(tr("{target} is already version {version}.", target=target, version=args.version))
        return 0
    saved = backup(target) if current is not None and current not in versions else None
    atomic_write(target, text)  # a WorkspaceError above leaves the file as it was
    if saved:
        print(tr("Your version is saved as {saved}", saved=saved))
    print(
        tr(
            "{target} is version {version} again (saved {name}).",
            target=target,
            version=args.version,
            name=chosen.name[len(target.name) + 1 :],
        )
    )
    return 0


def cmd_watch(args) -> int:
    """Re-grade on every save. With an id, that exercise only; without, follow the learner as rustlings
    does: start at the first unfinished exercise, re-grade whichever exercise file is saved, and when
    the current one passes, move on to the next unfinished one (and say so)."""
    from watchfiles import watch

    from .catalog import next_exercise
    from .report import print_results

    impl = learner_exercises()
    by_file = {impl.source_file(e.module).name: e for e in load_catalog()}
    following = not args.id
    current = get_exercise(args.id) if args.id else next_exercise(_solved())
    console = _console()
    if current is None:
        console.print(
            tr("[green]{all_pass}[/] Watching anyway: save a file to re-check it.", all_pass=ALL_PASS)
        )
    runs = 0

    def run(exercise: Exercise) -> bool:
        nonlocal runs
        results = _grade([exercise], impl, args.time_limit)
        print_results(console, results, _titles(), verbose=args.verbose)
        _save_progress()
        runs += 1
        return all(r.all_passed for r in results)

    def status_line() -> None:
        target = f"{current.id} (exercises/{current.module}.py)" if current else tr("every exercise")
        console.print(
            tr("[dim]watching {target} — save to re-check, Ctrl-C to stop[/]", target=target), highlight=False
        )

    def follow(passed_id: str) -> None:
        nonlocal current
        while True:  # an exercise already written but never graded passes at once: on to the next
            upcoming = next_exercise(_solved(), after=passed_id)
            if upcoming is None:
                console.print(_all_pass_line())
                current = None
                return
            console.rule(tr("{passed} passes — on to {upcoming}", passed=passed_id, upcoming=upcoming.id))
            console.print(
                tr(
                    "  read {where}, edit exercises/{module}.py",
                    where=_where(upcoming),
                    module=upcoming.module,
                )
            )
            current = upcoming
            if not run(current):
                return
            passed_id = current.id

    if current is not None and run(current) and following:
        follow(current.id)
    status_line()
    try:
        for changes in watch(impl.folder, debounce=200, rust_timeout=500, raise_interrupt=False):
            names = {Path(path).name for _, path in changes}
            changed = [by_file[n] for n in sorted(names) if n in by_file]
            if args.id:
                changed = [e for e in changed if e.id == args.id]
            for exercise in changed:
                console.rule(f"{exercise.id} changed")
                if run(exercise) and following and current is not None and exercise.id == current.id:
                    follow(exercise.id)
            if changed:
                status_line()
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
    table = Table(title=tr("ropekit verify"), title_justify="left")
    for name in ("exercise", tr("solution passes"), tr("stub fails"), tr("stub in sync"), "points", "hints"):
        table.add_column(name)
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="ropekit-stubs-") as tmp:
        stubs = from_folder(tmp, label=tr("generated stubs"))
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
                    tr(
                        "{id}: {learner_file} differs from the stub generated from {solution_file} "
                        "(edited? `ropekit reset {id}`)",
                        id=exercise.id,
                        learner_file=learner_file,
                        solution_file=solution_file,
                    )
                )
            if points != exercise.points:
                problems.append(
                    tr(
                        "{id}: catalog says {points} points, checks sum to {points2}",
                        id=exercise.id,
                        points=exercise.points,
                        points2=points,
                    )
                )
            if len(exercise.hints) < 3:
                problems.append(tr("{id}: fewer than 3 hint levels", id=exercise.id))
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
                        problems.append(
                            tr(
                                "{id}: the solution fails '{name}': {message_}",
                                id=exercise.id,
                                name=check.name,
                                message_=check.message,
                            )
                        )
                for check in bad.checks:
                    if check.passed:
                        problems.append(
                            tr(
                                "{id}: the stub passes '{name}' (a check that cannot fail)",
                                id=exercise.id,
                                name=check.name,
                            )
                        )
            cells = [
                solution_cell,
                stub_cell,
                "yes" if in_sync else "NO",
                f"{points}"
                if points == exercise.points
                else tr("checks {points} ≠ catalog {points2}", points=points, points2=exercise.points),
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
            tr(
                "[green]verified:[/] every solution passes every check, every stub fails every "
                "check, stubs are in sync, points add up."
            )
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
    console = _console(wide=True)
    m = report["machine"]
    console.print(
        tr(
            "machine: {m}, {m2} cores, Python {m3}, torch {m4}",
            m=m["cpu"],
            m2=m["cores"],
            m3=m["python"],
            m4=m["torch"],
        )
    )
    for key, title in (
        ("grader_latency", tr("grader latency (median wall time of whole processes)")),
        (
            "rope_cpu",
            tr(
                "RoPE on the CPU, [1, 32, 2048, 128] fp32, {report} threads",
                report=report["rope_cpu_threads"],
            ),
        ),
        (
            "rope_cases",
            tr(
                "RoPE per shape and dtype vs HF eager, torch.compile and x.clone() (2 threads), with memory "
                "reused or fresh (glibc's malloc settings, one process each)"
            ),
        ),
        ("classifier", tr("classifier on the order task (2 threads)")),
        ("startup", tr("start-up of the teachers' commands (median wall time of whole processes)")),
        (
            "nbgrader",
            tr("one submission of `rope` through nbgrader's CLI and through the kit (whole processes)"),
        ),
    ):
        rows = report[key]
        if not rows:  # nbgrader not installed
            continue
        table = Table(title=title, title_justify="left")
        for column in rows[0]:
            table.add_column(column)
        for row in rows:
            table.add_row(*("" if v is None else str(v) for v in row.values()))
        console.print(table)
    if report.get("batch_grading"):  # a class graded from one warm judge vs one process each
        table = Table(title=tr("grading a class: `grade --submissions` vs one process per submission (s)"))
        columns = {  # heading: key of the report's row
            "what": "exercises",
            "N": "N",
            "jobs": "jobs",
            "batch /sub": "batch s/submission",
            "after start-up /sub": "after start-up s/submission",
            "separate /sub": "separate s/submission",
            "speed-up": "speedup",
            "target": "target",
            "met": "met",
        }
        for heading in columns:
            table.add_column(heading, justify="left" if heading == "what" else "right")
        notes: list[str] = []  # footnotes: how a row was measured
        for row in report["batch_grading"]:
            cells = ["" if row[key] is None else str(row[key]) for key in columns.values()]
            separate = row["separate processes"]
            for text in (
                tr("separate processes {separate}", separate=separate) if separate != "measured" else "",
                row["note"],
            ):
                if text:
                    notes += [text] if text not in notes else []
                    cells[0] += f" ({notes.index(text) + 1})"
            table.add_row(*cells)
        console.print(table)
        for number, text in enumerate(notes, start=1):
            console.print(f"  ({number}) {text}", markup=False)
    if "notebooks" in report:
        nb = report["notebooks"]
        console.print(
            tr(
                "notebooks: {count} executed headless in {seconds} s (target {target}: {verdict})",
                count=nb["notebooks"],
                seconds=nb["seconds"],
                target=nb["target"],
                verdict=tr("met") if nb["met"] else tr("NOT met"),
            )
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
    table = Table(title=tr("mutation testing of the hidden checks"), title_justify="left")
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
    """Ask the quiz; each changed answer is written into the sheet as soon as it is given."""
    from . import quiz

    items = quiz.load_items()
    sheet = learner_exercises().source_file("quiz")

    def near(path: Path) -> Path:  # short paths wrap better: relative to the current folder when inside it
        try:
            return path.relative_to(Path.cwd())
        except ValueError:
            return path

    shown = near(sheet)
    width = quiz.terminal_width()
    writer = quiz.SheetWriter(sheet, items)  # writes each changed answer as soon as it is given
    session = quiz.QuizSession()

    def recorded() -> str:
        count = len(writer.written)
        return tr(
            "recorded {count} answer{value} in {shown}",
            count=count,
            value="" if count == 1 else "s",
            shown=shown,
        )

    def read() -> dict:
        try:
            return quiz.read_sheet(quiz.sheet_text(sheet))
        except quiz.SheetError as exc:
            done = (
                tr("{recorded} before", recorded=recorded()) if writer.written else tr("nothing was written")
            )
            raise UsageError(
                tr("{shown}: {exc}; fix it first ({done})", shown=shown, exc=exc, done=done)
            ) from None

    def say(text: str, stream=sys.stdout) -> None:
        for line in quiz._wrap(text, width, "", "  "):
            print(line, file=stream)

    try:
        chosen = quiz.select_items(items, read(), args.ids, unanswered=args.unanswered, wrong=args.wrong)
    except quiz.UnknownItem as exc:
        raise UsageError(str(exc)) from None
    if not chosen:
        which = tr("unanswered or wrong") if args.wrong else tr("unanswered")
        among = tr(" among those named") if args.ids else ""
        say(
            tr(
                "nothing to ask: no {which} question{among}; {standing}",
                which=which,
                among=among,
                standing=quiz.standing(items, read()),
            )
        )
        return 0

    def summary() -> str:
        text = recorded()
        if session.kept:
            text += (
                tr(", kept 1 as it was")
                if session.kept == 1
                else tr(", kept {count} as they were", count=session.kept)
            )
        try:
            return f"{text}; {quiz.standing(items, read())}"
        except UsageError as exc:
            return f"{text}; {exc}"

    try:
        quiz.run_interactive(
            chosen,
            language=args.lang or ("zh" if language() == "zh" else "both"),
            current=read,
            record=writer.record,
            width=width,
            session=session,
        )
    except KeyboardInterrupt:
        print()
        say(
            tr(
                "ropekit: interrupted at question {asked} of {n_chosen}; {summary}",
                asked=session.asked,
                n_chosen=len(chosen),
                summary=summary(),
            ),
            sys.stderr,
        )
        return 130
    except quiz.SheetError as exc:  # the sheet was broken meanwhile: this answer is shown, not lost
        print()
        raise UsageError(
            tr("{shown}: {exc} ({recorded} before)", shown=shown, exc=exc, recorded=recorded())
        ) from None
    print()
    if writer.backups:
        say(tr("your previous answer sheet is in {near}", near=near(writer.backups[0])))
    stopped = {"quit": tr("stopped"), "end of input": tr("end of input")}.get(session.stopped)
    where = (
        tr(
            "{stopped} at question {asked} of {count}: ",
            stopped=stopped,
            asked=session.asked,
            count=len(chosen),
        )
        if stopped
        else ""
    )
    say(tr("{where}{summary}; `ropekit check quiz` for the full table", where=where, summary=summary()))
    return 0


def cmd_classroom(args) -> int:
    from .classroom import main as classroom_main

    return classroom_main(args)


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: `ropekit: <what is wrong>`, exit status 2."""

    def error(self, message: str):
        self.exit(
            USAGE_ERROR, tr("ropekit: {message} (see {prog} --help)", message=message, prog=self.prog) + "\n"
        )


def build_parser() -> argparse.ArgumentParser:
    from .batch import jobs_count, shard_spec

    ids = ", ".join(e.id for e in load_catalog())
    id_help = tr("an exercise id or its file (exercises/rope.py); one of: {ids}", ids=ids)
    parser = _Parser(
        prog="ropekit",
        description=tr(
            "Interview-prep study kit on positional encodings and RoPE: exercises, "
            "hidden checks, hints, reference solutions."
        ),
        epilog=tr("exercises, in order: {ids}. Start with `ropekit next`.", ids=ids),
    )
    parser.add_argument("--version", action=_Version, nargs=0, help=tr("print the version and exit"))
    _language_option(parser)
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    def source_options(p: argparse.ArgumentParser) -> None:
        group = p.add_mutually_exclusive_group()
        group.add_argument("--exercises", metavar="DIR", help=tr("grade the modules in DIR"))
        group.add_argument("--solutions", action="store_true", help=tr("grade the reference solutions"))
        p.add_argument("--json", action="store_true", help=tr("print the result as one JSON object"))
        p.add_argument("--report", metavar="FILE", help=tr("also write the JSON result to FILE"))
        p.add_argument("--time-limit", type=_time_limit, metavar="S", help=tr("seconds allowed per check"))
        verbose_option(p)

    def verbose_option(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "-v", "--verbose", action="store_true", help=tr("also show what your code printed, per check")
        )

    p = sub.add_parser("list", help=tr("the exercises, their status and your progress (default)"))
    p.add_argument("--long", action="store_true", help=tr("titles in 中文 too and the questions in full"))
    sub.add_parser(
        "next", help=tr("the first unfinished exercise: where to read, what to edit, how to check")
    )
    p = sub.add_parser("check", help=tr("grade one exercise"))
    p.add_argument("id", help=id_help)
    source_options(p)
    p = sub.add_parser("grade", help=tr("grade several exercises (all by default)"))
    p.add_argument(
        "ids",
        nargs="*",
        metavar="ID",
        help=tr("exercises to grade (default: all); {id_help}", id_help=id_help),
    )
    source_options(p)
    p.add_argument("--tables", action="store_true", help=tr("every exercise's table, not only the summary"))
    p.add_argument(
        "--submissions",
        metavar="DIR",
        help=tr("grade every sub-folder of DIR as one submission; one JSON line each"),
    )
    p.add_argument(
        "--fail-fast",
        action="store_true",
        help=tr("with --submissions: stop each exercise at its first failing check"),
    )
    p.add_argument(
        "--jobs",
        type=jobs_count,
        default=None,
        metavar="N",
        help=tr(
            "N worker processes forked from this one: each grades whole exercises (default: "
            "one per core, up to 4) or, with --submissions, whole submissions (default 1); the "
            "order stays as given"
        ),
    )
    p.add_argument(
        "--shard",
        type=shard_spec,
        metavar="I/N",
        help=tr(
            "with --submissions: grade only shard I of N (1-based), round-robin over the "
            "sorted names; `ropekit classroom merge` joins the shards' lines"
        ),
    )
    p = sub.add_parser(
        "watch", help=tr("re-grade on every save; without an id, move on to the next exercise on a pass")
    )
    p.add_argument("id", nargs="?", help=tr("watch only this exercise; {id_help}", id_help=id_help))
    p.add_argument("--time-limit", type=_time_limit, metavar="S", help=tr("seconds allowed per check"))
    verbose_option(p)
    p.add_argument("--max-runs", type=int, default=0, help=argparse.SUPPRESS)
    p = sub.add_parser("hint", help=tr("show the next hint level"))
    p.add_argument("id", help=id_help)
    p.add_argument("--all", action="store_true", help=tr("re-read the hints taken so far, take no new one"))
    p = sub.add_parser("solution", help=tr("show the reference solution"))
    p.add_argument("id", help=id_help)
    p.add_argument("--yes", "-y", action="store_true", help=tr("do not ask for confirmation"))
    p.add_argument("--no-pager", action="store_true", help=tr("print it all at once, no pager"))
    p = sub.add_parser("reset", help=tr("restore the stub (your file is backed up first)"))
    p.add_argument("id", help=id_help)
    p.add_argument("--yes", "-y", action="store_true", help=tr("do not ask for confirmation"))
    p = sub.add_parser("restore", help=tr("list the saved versions of an exercise file, or put one back"))
    p.add_argument("id", help=id_help)
    p.add_argument("version", nargs="?", type=int, help=tr("the number `ropekit restore ID` lists"))
    p = sub.add_parser("verify", help=tr("maintainers: solutions pass, stubs fail, stubs in sync"))
    p.add_argument("ids", nargs="*", metavar="ID", help=tr("only these exercises (default: all)"))
    p = sub.add_parser("classroom", help=tr("teachers: export the kit as an nbgrader course"))
    classroom = p.add_subparsers(dest="classroom_command", required=True, parser_class=_Parser)
    from .classroom import add_arguments, add_autograde_arguments, add_merge_arguments

    add_arguments(
        classroom.add_parser(
            "export", help=tr("write nbgrader_config.py and source/<exercise>/<exercise>.ipynb")
        )
    )
    add_autograde_arguments(
        classroom.add_parser(
            "autograde",
            help=tr(
                "grade collected notebooks with the trusted judge and write the scores into the gradebook"
            ),
        )
    )
    add_merge_arguments(
        classroom.add_parser(
            "merge",
            help=tr("join the JSON lines of shards into one report (and, with --course, into the gradebook)"),
        )
    )
    p = sub.add_parser(
        "quiz", help=tr("answer the concept quiz in the terminal (recorded in exercises/quiz.py)")
    )
    p.add_argument(
        "ids", nargs="*", metavar="ITEM", help=tr("only these items (ids in brackets in the sheet)")
    )
    p.add_argument("--unanswered", action="store_true", help=tr("only the items with no answer yet"))
    p.add_argument("--wrong", action="store_true", help=tr("only the items whose answer is wrong or missing"))
    p.add_argument(
        "--lang",
        choices=["en", "zh", "both"],
        help=tr("language of the questions: en, zh or both side by side (default: zh in zh, else both)"),
    )
    p = sub.add_parser("mutate", help=tr("maintainers: mutation score of the hidden checks"))
    p.add_argument("ids", nargs="*", metavar="ID")
    p = sub.add_parser("bench", help=tr("measure the kit's performance targets (ratios in one run)"))
    p.add_argument("--json", action="store_true", help=tr("print the measurements as JSON"))
    p.add_argument("--quick", action="store_true", help=tr("fewer repeats, no notebooks"))
    for child in list(_every_parser(parser))[1:]:
        if not any("--lang" in action.option_strings for action in child._actions):  # quiz has its own
            _language_option(child)
    return parser


COMMANDS = {
    None: cmd_list,
    "list": cmd_list,
    "next": cmd_next,
    "restore": cmd_restore,
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


class _Version(argparse.Action):
    """--version, looked up only when asked (reading the package metadata costs ~50 ms per command)."""

    def __call__(self, parser, namespace, values, option_string=None):
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("ropekit")
        except PackageNotFoundError:  # run from a checkout that was never installed
            found = "unknown (not installed)"
        print(f"ropekit {found}")
        parser.exit()


def _time_limit(text: str) -> float:
    import argparse
    import math

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(tr("{text!r} is not a number of seconds > 0", text=text))
    return value


def _check_workspace() -> None:
    root = workspace_root()
    if not (root / "exercises").is_dir():
        source = "ROPEKIT_ROOT" if os.environ.get("ROPEKIT_ROOT") else tr("the kit")
        raise UsageError(tr("{source} {root} has no exercises/ folder", source=source, root=root))


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


LANG_HELP = N_("language of every text: en or zh (default: $ROPEKIT_LANG, else the locale)")


def _language_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lang", choices=LANGUAGES, metavar="{en,zh}", help=tr(LANG_HELP))


def _every_parser(parser: argparse.ArgumentParser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                yield from _every_parser(child)


def _language_from(argv: list[str]) -> str | None:
    """The value of --lang anywhere on the command line (read before the parser is built, so that
    its help is in that language too)."""
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


def main(argv: list[str] | None = None) -> int:
    import signal

    _fit_terminal_encoding()
    argv = sys.argv[1:] if argv is None else list(argv)
    chosen = _language_from(argv)
    if chosen is not None and chosen != "both":  # `quiz --lang both`: both languages of the quiz
        try:
            set_language(chosen)
        except ValueError as exc:
            print(f"ropekit: --lang: {exc}", file=sys.stderr)
            return USAGE_ERROR
    install_argparse()
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
        print(tr("ropekit: interrupted"), file=sys.stderr)
        return 130
    except Terminated:
        print(tr("ropekit: terminated"), file=sys.stderr)
        return 143
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # nothing more to print; keep Python's exit quiet
        print(tr("ropekit: output closed early (broken pipe)"), file=sys.stderr)
        return USAGE_ERROR


if __name__ == "__main__":
    sys.exit(main())
