"""Notebooks: committed without outputs, in sync with their jupytext sources, and they run headless
top to bottom (nbclient, stopping at the first error like "Run All") against the reference solutions
with every check passing, against the untouched stubs, and with half the exercises finished."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, solution_source
from nbclient import NotebookClient

from grader.catalog import get_exercise, load_catalog
from grader.i18n import gettext_in
from grader.notebook_build import build

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
ZH_NOTEBOOKS = sorted((ROOT / "notebooks" / "zh").glob("*.ipynb"))
BOTH = NOTEBOOKS + ZH_NOTEBOOKS
CJK = re.compile(r"[\u4e00-\u9fff]")
# code, formulas, and paper titles (bold, or in a citation with "et al." or an arXiv id)
NOT_PROSE = (
    r"`[^`]*`|\$\$.*?\$\$|\$[^$]*\$|```.*?```"
    r"|[(（][^()（）]*(?:et al\.|arXiv)[^()（）]*[)）]|\*\*[^*\u4e00-\u9fff]+\*\*"
)


def _source(path: Path) -> Path:
    return ROOT / "notebooks" / path.with_suffix(".py").name


def _lang(path: Path) -> str:
    return "zh" if path.parent.name == "zh" else "en"


def test_every_notebook_has_its_chinese_twin():
    assert [p.name for p in ZH_NOTEBOOKS] == [p.name for p in NOTEBOOKS] and NOTEBOOKS


@pytest.mark.parametrize("path", BOTH, ids=[f"{_lang(p)}/{p.name}" for p in BOTH])
def test_committed_without_outputs_and_in_sync_with_source(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{path.name} has outputs"
    built = build(_source(path))[_lang(path)]
    assert [c.source for c in nb.cells] == [c.source for c in built.cells], (
        f"{path} differs from {_source(path).name}: run python -m grader.notebook_build"
    )


@pytest.mark.parametrize("path", ZH_NOTEBOOKS, ids=[p.name for p in ZH_NOTEBOOKS])
def test_the_chinese_notebook_is_chinese_prose(path):
    """Every prose cell of a Chinese notebook is Chinese: no English sentence outside code and
    formulas (five English words in a row), and its English twin has no Chinese prose cell."""
    english = re.compile(r"\b[A-Za-z]{2,}(?: [A-Za-z]{2,}){4,}")
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "markdown":
            continue
        prose = re.sub(NOT_PROSE, "", cell.source, flags=re.S)
        assert not english.search(prose), f"{path.name}: {english.search(prose).group(0)!r}"
    for cell in nbformat.read(ROOT / "notebooks" / path.name, as_version=4).cells:
        if cell.cell_type == "markdown":
            prose = re.sub(r"`[^`]*`", "", cell.source)
            assert not CJK.search(prose), f"{path.name} (English): {cell.source[:80]!r}"


def _modules_reached(path: Path) -> set[str]:
    """The exercise modules a notebook's cells run: its load() calls and the siblings they import."""
    todo = {get_exercise(name).module for name in re.findall(r'load\("(\w+)"\)', path.read_text())}
    reached = set()
    while todo:
        module = todo.pop()
        reached.add(module)
        todo |= set(re.findall(r"^from \.(\w+) import", solution_source(module), re.M)) - reached
    return reached


MODULES = [e.module for e in load_catalog()]  # the learner's order
# A learner half-way through: every other exercise finished, in catalog order, and the other way round.
MIXES = {"odd_done": set(MODULES[0::2]), "even_done": set(MODULES[1::2])}
# Only a notebook that runs several modules has a mix different from "all stubs" and "all solutions".
MIXED = [p for p in NOTEBOOKS if len(_modules_reached(p.with_suffix(".py"))) > 1]


def run_notebook(path: Path, tmp_path: Path, monkeypatch, finished: set[str]):
    """Run `path` top to bottom like "Run All": exercises/ holds the solutions of `finished`, stubs of the
    rest. nbclient stops with CellExecutionError at the first cell whose reply is "error"."""
    shutil.copytree(ROOT / "exercises", tmp_path / "exercises")
    shutil.copytree(ROOT / "solutions", tmp_path / "solutions")
    for module in finished:
        shutil.copy(ROOT / "solutions" / f"{module}.py", tmp_path / "exercises" / f"{module}.py")
    monkeypatch.setenv("ROPEKIT_ROOT", str(tmp_path))  # the kernel inherits it: check() grades exercises/
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]


def _html(outputs, words: str) -> list:
    return [o for o in outputs if words in o.get("data", {}).get("text/html", "")]


def _text(outputs) -> str:
    return "".join(o.get("text", "") for o in outputs)


@pytest.mark.parametrize("path", BOTH, ids=[f"{_lang(p)}/{p.name}" for p in BOTH])
def test_runs_headless_against_reference_solutions(path, tmp_path, monkeypatch):
    outputs = run_notebook(path, tmp_path, monkeypatch, finished=set(MODULES))
    lang = _lang(path)
    passed, failing = (
        gettext_in(lang, "all checks pass"),
        gettext_in(lang, "{count} failing").split("{count}")[-1],
    )
    assert _html(outputs, passed) and not _html(outputs, failing + ")"), lang
    if lang == "zh":  # the verdicts are Chinese too
        assert not _html(outputs, "all checks pass")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_runs_against_untouched_stubs_without_a_traceback(path, tmp_path, monkeypatch):
    """A learner who runs everything before writing code sees one line per missing function, and Run All
    reaches the last cell (no cell replies "error")."""
    outputs = run_notebook(path, tmp_path, monkeypatch, finished=set())
    assert not [o for o in outputs if o.output_type == "error"], "a traceback is shown"
    assert any("Not implemented yet" in o.get("text", "") for o in outputs)


@pytest.mark.parametrize("mix", MIXES, ids=list(MIXES))
@pytest.mark.parametrize("path", MIXED, ids=[p.name for p in MIXED])
def test_runs_with_half_the_exercises_finished(path, mix, tmp_path, monkeypatch):
    """Finished and unfinished exercises side by side (transformer.py done, rope.py not): no cell breaks
    on what an unfinished one left undefined, and each one-liner names an unfinished file."""
    outputs = run_notebook(path, tmp_path, monkeypatch, finished=MIXES[mix])
    assert not [o for o in outputs if o.output_type == "error"], "a traceback is shown"
    named = set(re.findall(r"Not implemented yet: .*? in exercises/(\w+)\.py", _text(outputs)))
    assert named and not named & MIXES[mix], f"one-liners name {named}"


GENUINE_BUG = """
import numbers


def apply_rope(x, positions, **kwargs):
    raise ValueError(f"positions {tuple(positions.shape)} do not match x {tuple(x.shape)}")


def rope_cos_sin(positions, dim, **kwargs):
    raise NotImplementedError("write your solution here")


def apply_rope_complex(x, positions):
    return numbers.Complex.__abs__(x)  # a library's NotImplementedError (torch: "not implemented for Half")
"""


def test_a_genuine_error_still_fails_the_cell(tmp_path, monkeypatch):
    """Only an unwritten stub is shortened: a bug in finished code, or a NotImplementedError raised
    outside exercises/ (an nbgrader cell, a library), keeps its traceback and replies "error", so Run All
    stops there."""
    (tmp_path / "exercises").mkdir()
    (tmp_path / "exercises" / "rope.py").write_text(GENUINE_BUG)
    monkeypatch.setenv("ROPEKIT_ROOT", str(tmp_path))
    cells = [
        'import torch\nfrom grader import load\nrope = load("rope")',
        "rope.apply_rope(torch.zeros(2, 8), torch.arange(3))",  # the learner's bug
        "rope.rope_cos_sin(torch.arange(3), 8)",  # unwritten
        'raise NotImplementedError("answer this item")',  # raised by the notebook itself
        "rope.apply_rope_complex(torch.zeros(2, 8), torch.arange(2))",  # raised by a library
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    statuses = []
    NotebookClient(
        nb,
        timeout=60,
        kernel_name="python3",
        allow_errors=True,  # to see every reply; a front end's Run All stops at the first "error"
        on_cell_executed=lambda cell, cell_index, execute_reply: statuses.append(
            execute_reply["content"]["status"]
        ),
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    assert statuses == ["ok", "error", "ok", "error", "error"]
    errors = [[o.ename for o in c.outputs if o.output_type == "error"] for c in nb.cells]
    assert errors == [[], ["ValueError"], [], ["NotImplementedError"], ["NotImplementedError"]]
    assert "Not implemented yet: rope_cos_sin() in exercises/rope.py" in _text(nb.cells[2].outputs)


def test_load_sees_edits_to_sibling_modules(workspace):
    """load("transformer") after editing rope.py uses the new rope (notebook 04 relies on it)."""
    from grader import load

    for module in ("rope", "sinusoidal", "transformer"):
        shutil.copy(ROOT / "solutions" / f"{module}.py", workspace / "exercises" / f"{module}.py")
    first = load("transformer")
    assert first.apply_rope.__module__.endswith(".rope")
    rope = workspace / "exercises" / "rope.py"
    rope.write_text(rope.read_text() + "\nEDITED = True\n")
    second = load("transformer")
    assert getattr(sys.modules[second.apply_rope.__module__], "EDITED", False)
