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
