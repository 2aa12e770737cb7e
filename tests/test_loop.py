"""The learner's loop through the real `ropekit` command: what comes next, one import error reported
once at the learner's line, printed output on request, output that fits 80 columns, one rule for
totals, and the small things (--version, ids in --help, "did you mean", file paths as ids, re-reading
hints, restoring a saved version, exit codes)."""

from __future__ import annotations

import json
import re
import shutil

from conftest import ropekit

from grader.catalog import get_exercise, load_catalog


def narrow(*args: str, root) -> str:
    """The command's output in an 80-column terminal."""
    done = ropekit(*args, root=root, env={"COLUMNS": "80"})
    assert done.returncode in (0, 1), done.stderr
    return done.stdout


def solve(workspace, module: str) -> None:
    shutil.copy(workspace / "solutions" / f"{module}.py", workspace / "exercises" / f"{module}.py")


def test_version_and_help_name_the_exercises(workspace):
    version = ropekit("--version", root=workspace)
    assert version.returncode == 0 and re.fullmatch(r"ropekit \S+\n", version.stdout)
    ids = [e.id for e in load_catalog()]
    top = ropekit("--help", root=workspace).stdout
    assert all(i in top for i in ids) and "next" in top and "restore" in top
    check = ropekit("check", "--help", root=workspace).stdout
    assert "exercises/rope.py" in check and "rope_numpy" in check


def test_a_misspelt_id_gets_a_suggestion_and_a_file_path_is_an_id(workspace):
    typo = ropekit("check", "rop", root=workspace)
    assert typo.returncode == 2 and "did you mean 'rope'?" in typo.stderr
    assert len(typo.stderr.strip().splitlines()) == 1
    for spelled in (
        "exercises/sinusoidal.py",
        "sinusoidal.py",
        str(workspace / "exercises" / "sinusoidal.py"),
    ):
        done = ropekit("check", spelled, "--solutions", root=workspace)
        assert done.returncode == 0 and "sinusoidal" in done.stdout, spelled


def test_a_syntax_error_is_reported_once_at_the_learners_line(workspace):
    rope = workspace / "exercises" / "rope.py"
    lines = rope.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("def apply_rope("))
    lines[at] = lines[at].replace("def apply_rope(", "def apply_rope((")
    rope.write_text("\n".join(lines) + "\n")
    done = ropekit("check", "rope", root=workspace)
    assert done.returncode == 1
    out = done.stdout
    assert out.count("SyntaxError") == 1, out
    assert f"rope.py, line {at + 1}" in out and "def apply_rope((" in out
    caret = out.splitlines()[
        out.splitlines().index(next(x for x in out.splitlines() if "def apply_rope((" in x)) + 1
    ]
    assert caret.strip() == "^" and caret.index("^") == next(
        x for x in out.splitlines() if "def apply_rope((" in x
    ).index("((")
    assert "none of its" in out and "__init__.py" not in out and "✓" not in out
    report = json.loads(ropekit("check", "rope", "--json", root=workspace).stdout)["exercises"][0]
    assert f"line {at + 1}" in report["import_error"] and report["score"] == 0
    # a module that imports rope.py says so too, once, naming rope.py
    transformer = ropekit("check", "transformer", root=workspace).stdout
    assert transformer.count("SyntaxError") == 1 and "rope.py, line" in transformer


def test_printed_output_is_shown_with_v_per_check_and_capped(workspace):
    sinusoidal = workspace / "exercises" / "sinusoidal.py"
    text = (workspace / "solutions" / "sinusoidal.py").read_text()
    head = "def sinusoidal_encoding(length: int, d_model: int, base: float = 10000.0) -> torch.Tensor:\n"
    assert head in text
    sinusoidal.write_text(
        text.replace(head, head + "    print('called with', length, d_model)\n    print('x\\n' * 50)\n")
    )
    quiet = ropekit("check", "sinusoidal", root=workspace).stdout
    assert "called with" not in quiet and "-v shows them" in quiet
    loud = ropekit("check", "sinusoidal", "-v", root=workspace).stdout
    assert "printed during 'shape [length, d_model], float32'" in loud
    assert "called with 50 16" in loud and "more line(s)" in loud
    assert len(loud.splitlines()) < 400  # capped per check


def test_next_follows_progress_and_a_pass_names_what_comes_next(workspace):
    first = ropekit("next", root=workspace).stdout
    assert "1. attention" in first and "notebooks/01_why_position.ipynb" in first
    assert "ropekit check attention" in first and "exercises/attention.py" in first
    solve(workspace, "attention")
    passed = ropekit("check", "attention", root=workspace).stdout
    assert "Next: absolute_vs_relative (notebooks/02_absolute_vs_relative.ipynb)" in passed
    after = ropekit("next", root=workspace).stdout
    assert "2. absolute_vs_relative" in after
    solve(workspace, "rope_numpy")
    assert (
        "Next: rotation_bug (notebooks/03_rope.ipynb §5b)"
        in ropekit("check", "rope_numpy", root=workspace).stdout
    )  # the one after it, not the first unfinished
    assert "Next: absolute_vs_relative" in ropekit("list", root=workspace).stdout


def test_list_fits_80_columns_and_counts_like_grade(workspace):
    out = narrow("list", root=workspace)
    assert max(len(line) for line in out.splitlines()) <= 80
    assert len(out.splitlines()) <= 50
    for exercise in load_catalog():
        assert exercise.id in out
    report = json.loads(ropekit("grade", "--json", root=workspace).stdout)
    assert f"0/{report['max_score']} points" in out  # skipped exercises counted in neither
    assert (
        "中文" in out
        and "正弦位置编码" in ropekit("list", "--long", root=workspace, env={"COLUMNS": "80"}).stdout
    )


def test_grade_ends_with_a_summary_line_per_exercise(workspace):
    solve(workspace, "sinusoidal")
    out = narrow("grade", "sinusoidal", "rope", "attention", root=workspace)
    assert "┏" not in out  # no check tables by default
    rows = [line for line in out.splitlines() if re.match(r"^ [✓✗–] ", line)]
    assert [row.split()[1] for row in rows] == ["sinusoidal", "rope", "attention"]
    assert "10/10" in rows[0] and "not implemented yet" in rows[1]
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "total 10/" in out
    tables = narrow("grade", "sinusoidal", "rope", "--tables", root=workspace)
    assert tables.count("┏") == 2 and "summary" in tables


def test_hint_all_rereads_without_taking_a_new_hint(workspace):
    none = ropekit("hint", "rope", "--all", root=workspace).stdout
    assert "No hint taken yet" in none
    ropekit("hint", "rope", root=workspace)
    ropekit("hint", "rope", root=workspace)
    again = ropekit("hint", "rope", "--all", root=workspace).stdout
    assert "hint 2/4" in again and "hint 3/4" not in again
    assert "hint 2/4" in ropekit("hint", "rope", "--all", root=workspace).stdout  # still level 2
    assert "hint 3/4" in ropekit("hint", "rope", root=workspace).stdout


def test_restore_lists_saved_versions_and_puts_one_back(workspace):
    rope = workspace / "exercises" / "rope.py"
    stub = rope.read_text()
    assert "no saved versions" in ropekit("restore", "rope", root=workspace).stdout
    ropekit("check", "rope", root=workspace)  # grading saves the stub
    rope.write_text(stub + "\n# attempt 2\n")
    ropekit("check", "rope", root=workspace)
    rope.write_text(stub + "\n# attempt 3, not graded\n")
    listing = ropekit("restore", "rope", root=workspace).stdout
    zero = f"0/{get_exercise('rope').points}"
    assert listing.count(zero) == 2 and "│ 3 " not in listing  # two distinct versions, both graded
    back = ropekit("restore", "rope", "2", root=workspace)
    assert back.returncode == 0 and rope.read_text() == stub
    saved = [
        p for p in (workspace / ".ropekit" / "backups").glob("rope.py.*") if "attempt 3" in p.read_text()
    ]
    assert len(saved) == 1 and str(saved[0]) in back.stdout  # the unsaved work was kept first
    bad = ropekit("restore", "rope", "9", root=workspace)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "1 to 3" in bad.stderr


def test_solution_piped_is_the_plain_file_and_declining_exits_1(workspace):
    shown = ropekit("solution", "rope", "--yes", root=workspace)
    assert shown.returncode == 0
    assert shown.stdout == (workspace / "solutions" / "rope.py").read_text()  # nothing cut or numbered
    assert ropekit("solution", "rope", root=workspace, stdin="n\n").returncode == 1
    assert ropekit("solution", "rope", root=workspace, stdin="").returncode == 1  # </dev/null


def test_a_pass_in_a_notebook_names_what_comes_next(workspace):
    from grader import check

    solve(workspace, "sinusoidal")
    verdict = check("sinusoidal")
    assert verdict.all_passed and "Next: rope_numpy (notebooks/03_rope.ipynb §5a)" in verdict._repr_html_()
    assert "Next:" not in check("rope")._repr_html_()  # not after a failure
