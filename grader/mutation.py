"""Mutation testing of the hidden checks: every small automatic change to a reference solution that
changes its behaviour must fail at least one check.

Mutations are applied to the code inside the `### BEGIN SOLUTION` blocks only: arithmetic operators
swapped, comparisons relaxed or flipped, a minus sign dropped, numeric constants changed, the first two
arguments of a call swapped, `and`/`or` swapped, a statement deleted. Mutants that cannot change
behaviour (equivalent mutants) are listed, each with its reason, in grader/mutation_equivalent.toml.
"""

from __future__ import annotations

import ast
import copy
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .catalog import Exercise
from .loading import from_folder
from .runner import grade_exercise
from .stubs import BEGIN, END

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

EQUIVALENT_FILE = Path(__file__).with_name("mutation_equivalent.toml")

BINARY = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.Pow: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.FloorDiv,
}
COMPARE = {
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}


@dataclass(frozen=True)
class Mutant:
    line: int
    code: str  # the original source line, stripped
    change: str
    source: str

    @property
    def key(self) -> str:
        return f"{self.code} :: {self.change}"


def solution_lines(source: str) -> set[int]:
    lines, inside = set(), False
    for number, line in enumerate(source.splitlines(), start=1):
        if line.strip() == BEGIN:
            inside = True
        elif line.strip() == END:
            inside = False
        elif inside:
            lines.add(number)
    return lines


def _changes(node: ast.AST):
    """(description, function that mutates a copy of node in place) for each mutation of node."""
    if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
        new = BINARY[type(node.op)]
        yield f"{type(node.op).__name__} -> {new.__name__}", lambda n: setattr(n, "op", new())
    if isinstance(node, ast.Compare):
        for k, op in enumerate(node.ops):
            if type(op) in COMPARE:
                new = COMPARE[type(op)]

                def swap(n, k=k, new=new):
                    n.ops[k] = new()

                yield f"{type(op).__name__} -> {new.__name__}", swap
    if isinstance(node, ast.BoolOp):
        new = ast.Or if isinstance(node.op, ast.And) else ast.And
        yield f"{type(node.op).__name__} -> {new.__name__}", lambda n: setattr(n, "op", new())
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        value = node.value
        changed = value + 1 if isinstance(value, int) else (value * 2 if value else 1.0)
        yield f"{value!r} -> {changed!r}", lambda n: setattr(n, "value", changed)
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        yield f"{node.value} -> {not node.value}", lambda n: setattr(n, "value", not n.value)
    if (
        isinstance(node, ast.Call)
        and len(node.args) >= 2
        and not any(isinstance(a, ast.Starred) for a in node.args[:2])
    ):
        yield "swap the first two arguments", lambda n: n.args.__setitem__(slice(0, 2), n.args[1::-1])


def _statement_deletions(tree: ast.AST, lines: set[int]):
    for parent in ast.walk(tree):
        for field in ("body", "orelse"):
            block = getattr(parent, field, None)
            if not isinstance(block, list):
                continue
            for stmt in block:
                docstring = isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
                if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.Expr, ast.If, ast.Raise, ast.For)) and (
                    stmt.lineno in lines and not docstring  # deleting a docstring changes no behaviour
                ):
                    yield field, stmt


def mutants(source: str) -> list[Mutant]:
    tree = ast.parse(source)
    lines = solution_lines(source)
    text_lines = source.splitlines()
    found: list[Mutant] = []
    nodes = list(ast.walk(tree))
    for index, node in enumerate(nodes):
        if getattr(node, "lineno", None) not in lines:
            continue
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Not)):
            changes = [(f"drop {type(node.op).__name__}", None)]
        else:
            changes = list(_changes(node))
        for description, apply in changes:
            mutated = copy.deepcopy(tree)
            target = list(ast.walk(mutated))[index]
            if apply is None:  # replace the unary operation by its operand, in its parent
                for parent in ast.walk(mutated):
                    for field, value in ast.iter_fields(parent):
                        if value is target:
                            setattr(parent, field, target.operand)
                        elif isinstance(value, list) and any(v is target for v in value):
                            value[[v is target for v in value].index(True)] = target.operand
            else:
                apply(target)
            found.append(
                Mutant(node.lineno, text_lines[node.lineno - 1].strip(), description, ast.unparse(mutated))
            )
    for field, stmt in _statement_deletions(tree, lines):
        mutated = copy.deepcopy(tree)
        twin = [
            n
            for n in ast.walk(mutated)
            if getattr(n, "lineno", None) == stmt.lineno
            and type(n) is type(stmt)
            and n.col_offset == stmt.col_offset
        ][0]
        for p in ast.walk(mutated):
            block = getattr(p, field, None)
            if isinstance(block, list) and any(s is twin for s in block):
                block[[s is twin for s in block].index(True)] = ast.Pass()
        found.append(
            Mutant(
                stmt.lineno, text_lines[stmt.lineno - 1].strip(), "delete the statement", ast.unparse(mutated)
            )
        )
    return found


def equivalent_mutants() -> dict[str, dict[str, str]]:
    """{exercise id: {mutant key: reason}} from grader/mutation_equivalent.toml."""
    if not EQUIVALENT_FILE.exists():
        return {}
    data = tomllib.loads(EQUIVALENT_FILE.read_text(encoding="utf-8"))
    return {ex: {item["mutant"]: item["reason"] for item in items} for ex, items in data.items()}


@dataclass
class MutationReport:
    exercise: str
    total: int
    killed: int
    equivalent: list[Mutant]
    survived: list[Mutant]

    @property
    def score(self) -> float:
        relevant = self.total - len(self.equivalent)
        return 1.0 if relevant == 0 else self.killed / relevant


def run(exercise: Exercise, solutions_folder: Path, progress=None, jobs: int | None = None) -> MutationReport:
    """Grade every mutant (fail-fast), from `jobs` workers forked from this process (default: one per
    core), each writing its mutants into its own copy of the solutions folder."""
    import os

    from .batch import default_jobs, grade_in_workers
    from .runner import warm_up

    source = (solutions_folder / f"{exercise.module}.py").read_text(encoding="utf-8")
    known = equivalent_mutants().get(exercise.id, {})
    candidates = mutants(source)
    original = grade_exercise(exercise, from_folder(solutions_folder, label="solutions"))
    if not original.all_passed:
        raise ValueError(f"{exercise.id}: the reference solution itself fails a check; fix that first")
    killed, equivalent, survived, errors = 0, [], [], []
    with tempfile.TemporaryDirectory(prefix=f"ropekit-mutants-{exercise.id}-") as tmp:

        def work(mutant: Mutant) -> bool:
            folder = Path(tmp) / str(os.getpid())  # one folder per worker process
            if not folder.is_dir():
                folder.mkdir()
                for sibling in solutions_folder.glob("*.py"):  # relative imports of other modules still work
                    (folder / sibling.name).write_text(sibling.read_text(encoding="utf-8"), encoding="utf-8")
            (folder / f"{exercise.module}.py").write_text(mutant.source, encoding="utf-8")
            return grade_exercise(exercise, from_folder(folder, label="mutant"), fail_fast=True).all_passed

        def emit(index: int, passed: bool | dict) -> None:
            nonlocal killed
            mutant = candidates[index]
            if isinstance(passed, dict):  # the grading itself failed: a grader bug, not a verdict
                errors.append(f"{mutant.key}: {passed['error']}")
            elif not passed:
                killed += 1
            elif mutant.key in known:
                equivalent.append(mutant)
            else:
                survived.append(mutant)
            if progress:
                progress()

        jobs = jobs or default_jobs(len(candidates))
        grade_in_workers(
            candidates,
            work,
            lambda m, reason: {"error": reason},
            emit,
            jobs=jobs,
            prepare=lambda: warm_up([exercise]),
        )
    if errors:
        raise RuntimeError(f"{exercise.id}: grading failed for {len(errors)} mutant(s): {errors[0]}")
    return MutationReport(exercise.id, len(candidates), killed, equivalent, survived)
