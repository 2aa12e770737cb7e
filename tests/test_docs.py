"""No hidden requirements: what every hidden check enforces is stated in the stub it grades.

grader/check_docs.toml quotes, for each check, the words of exercises/<id>.py (a docstring or a TODO
comment) that state its requirement; each quote must appear verbatim in one line of the stub. The quiz's
checks are its questions, each stated by its own block in exercises/quiz.py.
"""

from __future__ import annotations

import pytest
from conftest import ROOT

from grader.catalog import load_catalog
from grader.runner import checks_for

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

DOCS = tomllib.loads((ROOT / "grader" / "check_docs.toml").read_text(encoding="utf-8"))


def quotes_for(exercise_id: str, name: str) -> list[str]:
    if exercise_id == "quiz":
        return [f"[{name.split(':')[0]}]"]  # "1. [q1_role_of_pe] single choice, ..."
    return DOCS.get(exercise_id, {}).get(name, [])


@pytest.mark.parametrize("exercise", list(load_catalog()), ids=lambda e: e.id)
def test_every_check_is_stated_in_its_stub(exercise):
    lines = [line.strip() for line in (ROOT / "exercises" / f"{exercise.module}.py").read_text().splitlines()]
    names = [check.name for check in checks_for(exercise)]
    for name in names:
        quotes = quotes_for(exercise.id, name)
        assert quotes, f"{exercise.id}: check {name!r} has no quote in grader/check_docs.toml"
        for quote in quotes:
            assert any(quote in line for line in lines), (
                f"{exercise.id}: {quote!r} (for {name!r}) not in the stub"
            )
    stale = set(DOCS.get(exercise.id, {})) - set(names)
    assert not stale, f"grader/check_docs.toml names checks that do not exist: {sorted(stale)}"


def test_no_file_names_the_checkout_it_was_written_in():
    """A clean clone lives anywhere (CI clones elsewhere): no tracked file may hard-code this checkout's
    absolute path (the checkout a file was written in is where this test first runs)."""
    import subprocess

    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    if not files:
        pytest.skip("not a git checkout")
    here = str(ROOT.resolve())
    found = []
    for name in files:
        path = ROOT / name
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if here in text:
            found.append(name)
    assert not found, f"absolute checkout paths in: {found}"


def test_the_readme_exercise_table_is_the_catalog():
    """README's "Exercises" table: one row per catalog entry, in order, numbered as `ropekit list`
    numbers them, with the catalog's notebook."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Exercises", 1)[1].split("\n\n", 2)[1]
    rows = [line.split("|")[1:-1] for line in table.splitlines()[2:]]
    catalog = load_catalog()
    assert [cells[1].strip().strip("`") for cells in rows] == [e.id for e in catalog]
    assert [cells[0].strip() for cells in rows] == [str(n) for n in range(1, len(catalog) + 1)]
    assert [cells[3].strip() for cells in rows] == [e.notebook[:2] if e.notebook else "—" for e in catalog]


def test_the_readme_names_every_command():
    from grader.cli import COMMANDS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = readme.split("## Commands", 1)[1].split("\n## ", 1)[0]
    for name in COMMANDS:
        if name is not None:
            assert f"`ropekit {name}" in commands, f"ropekit {name} is not in the README's Commands table"
