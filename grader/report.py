"""Show results: terminal tables with rich, the JSON object of KIT_SPEC, HTML for notebooks."""

from __future__ import annotations

import html
import json

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from .i18n import gettext, tr
from .runner import ExerciseResult


def totals(results: list[ExerciseResult]) -> tuple[int, int]:
    return sum(r.score for r in results), sum(r.max_score for r in results)


def to_json(results: list[ExerciseResult]) -> str:
    score, max_score = totals(results)
    return json.dumps(
        {"score": score, "max_score": max_score, "exercises": [r.to_dict() for r in results]},
        ensure_ascii=False,
        indent=2,
    )


def check_table(result: ExerciseResult, title: str) -> Table:
    table = Table(title=title, title_justify="left", show_lines=False, expand=False)
    table.add_column("", width=2, no_wrap=True)
    table.add_column(tr("check"), overflow="fold", max_width=44)
    table.add_column(tr("pts"), justify="right", no_wrap=True)
    table.add_column(tr("what to fix"), overflow="fold")
    for item in result.checks:
        mark = Text("✓", style="green") if item.passed else Text("✗", style="bold red")
        points = f"{item.points}" if item.passed else f"0/{item.points}"
        table.add_row(mark, Text(gettext(item.name)), points, Text(item.message))
    return table


OUTPUT_LINES = 20  # lines of a check's printed output shown by -v


def _output_block(text: str) -> Text:
    lines = text.splitlines()
    shown = lines[:OUTPUT_LINES]
    block = Text("\n".join("    │ " + line[:200] for line in shown), style="dim")
    if len(lines) > len(shown):
        more = tr("... {count} more line(s)", count=len(lines) - len(shown))
        block.append(f"\n    │ {more}", style="dim italic")
    return block


def print_results(
    console: Console,
    results: list[ExerciseResult],
    titles: dict[str, str],
    *,
    verbose: bool = False,
    tables: bool = True,
) -> None:
    """One table per exercise (none when `tables` is False), and for several exercises a summary of one
    line each. `verbose` adds what the learner's code printed."""
    for result in results if tables else []:
        title = escape(f"{result.id} — {titles.get(result.id, '')}")
        if result.skipped:
            console.print(
                f"[yellow]{escape(result.id)}[/] — {escape(titles.get(result.id, ''))}: "
                f"{escape(result.skipped)}\n"
            )
            continue
        if result.import_error:
            console.print(f"[bold]{title}[/]")
            console.print(
                tr(
                    "  [bold red]✗[/] your module did not import, so none of its {total} checks ran:",
                    total=result.total,
                )
            )
            console.print(Text("\n".join("    " + line for line in result.import_error.splitlines())))
        else:
            console.print(check_table(result, title))
        if verbose:
            printed = [c for c in result.checks if c.output]
            for item in printed:
                console.print(Text(tr("  printed during '{name}':", name=gettext(item.name)), style="dim"))
                console.print(_output_block(item.output))
            if not printed:
                console.print(Text(tr("  (your code printed nothing)"), style="dim"))
        elif any(c.output for c in result.checks):
            lines = sum(len(c.output.splitlines()) for c in result.checks)
            printed = tr("  (your code printed {lines} line(s); -v shows them per check)", lines=lines)
            console.print(Text(printed, style="dim"))
        if result.all_passed:
            verdict = tr("[green]all checks pass[/]")
        elif result.import_error:
            verdict = tr("[red]did not import[/]")
        else:
            verdict = tr("[red]{count} check(s) failing[/]", count=result.total - result.passed)
        console.print(
            tr(
                "  score [bold]{score}/{max_score}[/]  ({passed}/{total} checks, {seconds:.2f} s)  {verdict}",
                score=result.score,
                max_score=result.max_score,
                passed=result.passed,
                total=result.total,
                seconds=result.duration,
                verdict=verdict,
            )
            + "\n"
        )
    if len(results) > 1:
        print_summary(console, results)


def print_summary(console: Console, results: list[ExerciseResult]) -> None:
    """One line per exercise, then the total (skipped exercises count in neither score nor maximum)."""
    table = Table(title=tr("summary"), title_justify="left", box=None, padding=(0, 1))
    for name, justify in (
        ("", "left"),
        (tr("exercise"), "left"),
        (tr("score"), "right"),
        (tr("checks"), "right"),
    ):
        table.add_column(name, justify=justify, no_wrap=True, min_width=len(name) or 1)
    id_width = max(len(r.id) for r in results)
    room = max(20, console.width - id_width - 24)  # mark, score and checks columns with their padding
    table.add_column(tr("first thing to fix"), no_wrap=True, overflow="ellipsis", max_width=room)
    for result in results:
        if result.skipped:
            table.add_row(Text("–", style="yellow"), result.id, "", "", Text(result.skipped, style="dim"))
            continue
        mark = Text("✓", style="green") if result.all_passed else Text("✗", style="bold red")
        if result.import_error:
            note = tr("did not import: ") + result.import_error.splitlines()[0]
        else:
            note = next((c.message.splitlines()[0] for c in result.checks if not c.passed and c.message), "")
        table.add_row(
            mark,
            result.id,
            f"{result.score}/{result.max_score}",
            f"{result.passed}/{result.total}",
            Text(note),
        )
    console.print(table)
    score, max_score = totals(results)
    graded = [r for r in results if not r.skipped]
    passing = sum(r.all_passed for r in graded)
    console.print(
        tr(
            "[bold]total {score}/{max_score}[/]  ({passing}/{graded} exercises pass)",
            score=score,
            max_score=max_score,
            passing=passing,
            graded=len(graded),
        )
    )
    if not all(r.all_passed for r in graded):
        console.print(tr("[dim]`ropekit check ID`: one exercise's checks; `ropekit grade --tables`: all[/]"))


def to_html(result: ExerciseResult, title: str) -> str:
    if result.skipped:
        reason = html.escape(result.skipped)
        return f"<div><b>{html.escape(result.id)}</b> — {html.escape(title)}: {reason}</div>"
    if result.import_error:
        return tr(
            "<div><b>{escape}</b> — {escape2}: <b>0/{max_score}</b>, your module did not "
            "import:<pre>{escape3}</pre></div>",
            escape=html.escape(result.id),
            escape2=html.escape(title),
            max_score=result.max_score,
            escape3=html.escape(result.import_error),
        )
    rows = []
    for item in result.checks:
        mark = "&#10003;" if item.passed else "&#10007;"
        color = "#1a7f37" if item.passed else "#cf222e"
        points = f"{item.points}" if item.passed else f"0/{item.points}"
        rows.append(
            f"<tr><td style='color:{color};font-weight:bold'>{mark}</td>"
            f"<td style='text-align:left'>{html.escape(gettext(item.name))}</td><td>{points}</td>"
            f"<td style='text-align:left'>{html.escape(item.message)}</td></tr>"
        )
    status = (
        tr("all checks pass")
        if result.all_passed
        else tr("{count} failing", count=result.total - result.passed)
    )
    return (
        f"<div><b>{html.escape(result.id)}</b> — {html.escape(title)}: "
        f"<b>{result.score}/{result.max_score}</b> ({status})"
        f"<table><thead><tr><th></th><th style='text-align:left'>{html.escape(tr('check'))}</th>"
        f"<th>{html.escape(tr('pts'))}</th>"
        f"<th style='text-align:left'>{html.escape(tr('what to fix'))}</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div>"
    )


def to_text(result: ExerciseResult, title: str) -> str:
    if result.skipped:
        return f"{result.id} — {title}: {result.skipped}"
    if result.import_error:
        return tr(
            "{id} — {title}: 0/{max_score}, your module did not import:\n{import_error}",
            id=result.id,
            title=title,
            max_score=result.max_score,
            import_error=result.import_error,
        )
    lines = [f"{result.id} — {title}: {result.score}/{result.max_score}"]
    for item in result.checks:
        mark = tr("PASS") if item.passed else tr("FAIL")
        tail = f" — {item.message}" if item.message else ""
        lines.append(f"  {mark} [{item.points}] {gettext(item.name)}{tail}")
    return "\n".join(lines)
