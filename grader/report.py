"""Show results: terminal tables with rich, the JSON object of KIT_SPEC, HTML for notebooks."""

from __future__ import annotations

import html
import json

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

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
    table.add_column("check", overflow="fold", max_width=44)
    table.add_column("pts", justify="right", no_wrap=True)
    table.add_column("what to fix", overflow="fold")
    for item in result.checks:
        mark = Text("✓", style="green") if item.passed else Text("✗", style="bold red")
        points = f"{item.points}" if item.passed else f"0/{item.points}"
        table.add_row(mark, Text(item.name), points, Text(item.message))
    return table


def print_results(console: Console, results: list[ExerciseResult], titles: dict[str, str]) -> None:
    for result in results:
        if result.skipped:
            console.print(
                f"[yellow]{result.id}[/] — {escape(titles.get(result.id, ''))}: {escape(result.skipped)}\n"
            )
            continue
        console.print(check_table(result, escape(f"{result.id} — {titles.get(result.id, '')}")))
        verdict = (
            "[green]all checks pass[/]"
            if result.all_passed
            else (f"[red]{result.total - result.passed} check(s) failing[/]")
        )
        console.print(
            f"  score [bold]{result.score}/{result.max_score}[/]  ({result.passed}/{result.total} "
            f"checks, {result.duration:.2f} s)  {verdict}\n"
        )
    if len(results) > 1:
        score, max_score = totals(results)
        console.print(f"[bold]total {score}/{max_score}[/]")


def to_html(result: ExerciseResult, title: str) -> str:
    if result.skipped:
        reason = html.escape(result.skipped)
        return f"<div><b>{html.escape(result.id)}</b> — {html.escape(title)}: {reason}</div>"
    rows = []
    for item in result.checks:
        mark = "&#10003;" if item.passed else "&#10007;"
        color = "#1a7f37" if item.passed else "#cf222e"
        points = f"{item.points}" if item.passed else f"0/{item.points}"
        rows.append(
            f"<tr><td style='color:{color};font-weight:bold'>{mark}</td>"
            f"<td style='text-align:left'>{html.escape(item.name)}</td><td>{points}</td>"
            f"<td style='text-align:left'>{html.escape(item.message)}</td></tr>"
        )
    status = "all checks pass" if result.all_passed else f"{result.total - result.passed} failing"
    return (
        f"<div><b>{html.escape(result.id)}</b> — {html.escape(title)}: "
        f"<b>{result.score}/{result.max_score}</b> ({status})"
        "<table><thead><tr><th></th><th style='text-align:left'>check</th><th>pts</th>"
        "<th style='text-align:left'>what to fix</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div>"
    )


def to_text(result: ExerciseResult, title: str) -> str:
    if result.skipped:
        return f"{result.id} — {title}: {result.skipped}"
    lines = [f"{result.id} — {title}: {result.score}/{result.max_score}"]
    for item in result.checks:
        mark = "PASS" if item.passed else "FAIL"
        tail = f" — {item.message}" if item.message else ""
        lines.append(f"  {mark} [{item.points}] {item.name}{tail}")
    return "\n".join(lines)
