"""No false pass: every behaviour-changing mutant of a reference solution fails some hidden check.

Equivalent mutants are listed with their reasons in grader/mutation_equivalent.toml; `ropekit mutate`
prints the same table for maintainers.
"""

from __future__ import annotations

import pytest

from grader.catalog import load_catalog
from grader.loading import reference_solutions
from grader.mutation import equivalent_mutants, mutants, run

# rope_triton needs triton (its own tests cover it); training exercises take seconds per mutant
EXERCISES = [e for e in load_catalog() if not e.requires and not e.extra.get("training")]


@pytest.mark.parametrize("exercise", EXERCISES, ids=[e.id for e in EXERCISES])
def test_every_non_equivalent_mutant_is_killed(exercise):
    report = run(exercise, reference_solutions().folder)
    assert report.total > 0
    assert not report.survived, "\n".join(f"line {m.line}: {m.key}" for m in report.survived)


def test_equivalent_list_names_only_real_mutants():
    """A stale entry (its line changed) must be removed rather than silently excuse nothing."""
    catalog = {e.id: e for e in load_catalog()}
    for exercise_id, entries in equivalent_mutants().items():
        source = reference_solutions().source_file(catalog[exercise_id].module).read_text()
        keys = {m.key for m in mutants(source)}
        assert set(entries) <= keys, set(entries) - keys
