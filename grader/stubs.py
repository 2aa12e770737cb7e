"""Stubs are generated from solutions: the lines between `### BEGIN SOLUTION` and `### END SOLUTION`
(nbgrader's markers) become one `raise NotImplementedError(...)` at the marker's indentation."""

from __future__ import annotations

from pathlib import Path

from .files import atomic_write, backup

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB_LINE = 'raise NotImplementedError("write your solution here")'


class MarkerError(ValueError):
    pass


def strip_solutions(source: str) -> str:
    """The stub for a solution module's source text."""
    out: list[str] = []
    inside = False
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        marker = line.strip()
        if marker == BEGIN:
            if inside:
                raise MarkerError(f"line {number}: {BEGIN} inside another solution block")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            if indent:  # inside a function: the stub raises; at module level nothing is left
                out.append(f"{indent}{STUB_LINE}\n")
        elif marker == END:
            if not inside:
                raise MarkerError(f"line {number}: {END} without {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise MarkerError(f"{BEGIN} is never closed")
    return "".join(out)


def stub_for(solution_file: Path) -> str:
    return strip_solutions(solution_file.read_text(encoding="utf-8"))


def write_stubs(solutions: Path, exercises: Path, backups: Path, modules: list[str]) -> list[str]:
    """Regenerate exercises/<module>.py from solutions/ (maintainers); backs up any file it replaces."""
    lines = []
    for module in modules:
        target = exercises / f"{module}.py"
        stub = stub_for(solutions / f"{module}.py")
        if target.exists() and target.read_text(encoding="utf-8") == stub:
            continue
        saved = backup(target, backups)
        atomic_write(target, stub)
        lines.append(f"wrote {target}" + (f" (previous version saved as {saved})" if saved else ""))
    return lines


if __name__ == "__main__":
    from .catalog import load_catalog, workspace_root

    root = workspace_root()
    done = write_stubs(
        root / "solutions",
        root / "exercises",
        root / ".ropekit" / "backups",
        [e.module for e in load_catalog()],
    )
    print("\n".join(done) or "stubs already in sync")
