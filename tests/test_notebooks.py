"""Notebooks: committed without outputs, in sync with their jupytext sources, and they run headless
top to bottom (nbclient) against the reference solutions with every check passing."""

from __future__ import annotations

import shutil
import sys

import jupytext
import nbformat
import pytest
from conftest import ROOT
from nbclient import NotebookClient

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_committed_without_outputs_and_in_sync_with_source(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{path.name} has outputs"
    source = jupytext.read(path.with_suffix(".py"))
    assert [c.source for c in nb.cells] == [c.source for c in source.cells], (
        f"{path.name} differs from {path.with_suffix('.py').name}: run jupytext --to ipynb on it"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_runs_headless_against_reference_solutions(path, tmp_path, monkeypatch):
    shutil.copytree(ROOT / "solutions", tmp_path / "exercises")
    shutil.copytree(ROOT / "solutions", tmp_path / "solutions")
    monkeypatch.setenv("ROPEKIT_ROOT", str(tmp_path))  # the kernel inherits it: check() grades solutions
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    verdicts = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if "text/html" in o.get("data", {}) and "all checks pass" in o["data"]["text/html"]
    ]
    failing = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if "text/html" in o.get("data", {}) and " failing)" in o["data"]["text/html"]
    ]
    assert verdicts and not failing


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_runs_against_untouched_stubs_without_a_traceback(path, tmp_path, monkeypatch):
    """A learner who runs everything before writing code sees one line per missing function."""
    shutil.copytree(ROOT / "exercises", tmp_path / "exercises")
    shutil.copytree(ROOT / "solutions", tmp_path / "solutions")
    monkeypatch.setenv("ROPEKIT_ROOT", str(tmp_path))
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb,
        timeout=180,
        kernel_name="python3",
        allow_error_names=["NotImplementedError"],
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()  # raises on any other error
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"], "a traceback is shown"
    assert any("Not implemented yet" in o.get("text", "") for o in outputs)


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
