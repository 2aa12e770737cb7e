"""`ropekit bench` measures; it asserts nothing about speed. Here: it runs and reports every form."""

from grader.bench import machine, rope_cpu


def test_rope_cpu_reports_every_form_against_the_copy_limit():
    rows = rope_cpu(shape=(1, 2, 16, 8), threads=1, repeats=1)
    names = [r["what"] for r in rows]
    assert names[0].startswith("memory copy into a new tensor")
    assert "reference apply_rope" in names and any(n.startswith("Hugging Face eager") for n in names)
    assert all(r["ms"] >= 0 and r["share_of_copy_bandwidth"].endswith("%") for r in rows)
    assert set(machine()) == {"cpu", "cores", "python", "torch"}


def test_startup_reports_each_command_against_import_torch():
    from grader.bench import startup

    rows = startup(repeats=1)
    assert [r["command"] for r in rows][0] == 'python -c "import torch"'
    assert {"nbformat as the kit loads it", "ropekit classroom export (rope)"} <= {r["command"] for r in rows}
    assert all(r["median s"] > 0 for r in rows)


def test_rope_cases_report_both_allocator_regimes_with_their_targets():
    """Each case is measured in one fresh process per allocator regime (glibc's malloc settings)."""
    from grader.bench import ALLOCATOR_REGIMES, rope_cases

    cases = (("prefill", (1, 2, 16, 8), "bfloat16", 1.5), ("decode", (1, 2, 1, 8), "float32", None))
    rows = rope_cases(threads=1, repeats=1, cases=cases, compiled=False)
    assert [(r["memory"], r["form"]) for r in rows] == [
        (regime, form)
        for regime in ALLOCATOR_REGIMES
        for form in ("apply_rope", "apply_rope", "apply_rope + cos_sin table")
    ]
    assert [r["target"] for r in rows[:3]] == [">= 1.5x HF eager", ">= 0.5x HF eager", ">= 1x HF eager"]
    assert all(r["vs HF eager"].endswith("x") and isinstance(r["met"], bool) for r in rows)
    assert {r["torch.compile"] for r in rows} == {"not run"}


def test_bench_tables_keep_every_cell_in_a_file(monkeypatch):
    """Into a file or a pipe, `ropekit bench` prints wide tables (rich alone would cut them at 80)."""
    import io
    import sys

    from grader.cli import _console

    monkeypatch.setattr(sys, "stdout", io.StringIO())  # a file, as `ropekit bench > out.txt` sees it
    monkeypatch.delenv("COLUMNS", raising=False)
    assert _console(wide=True).width == 250 and _console().width == 80
    monkeypatch.setenv("COLUMNS", "120")
    assert _console(wide=True).width == 120
