"""The blind corpus: realistic wrong answers and valid alternatives, graded through the real CLI.

tests/corpus/<exercise>/wrong_*.py and valid_*.py were written from the exercises' docstrings and
the notebooks only, never from grader/checks/, each verified by an independent computation
(tests/corpus/<exercise>/_verify.py). tests/corpus/expected.toml says, for each wrong case, which check
must fail first and words its message must hold (the mistake named, or what differs said plainly);
every valid case must get full marks.

`python tests/test_corpus.py` prints the catch rate per exercise and every first failing message.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus"
EXPECTED = tomllib.loads((CORPUS / "expected.toml").read_text(encoding="utf-8"))
SKIP = {"rope_triton"}  # graded only where a GPU and Triton are


def cases(only: list[str] | None = None) -> list[tuple[str, Path]]:
    return [
        (folder.name, path)
        for folder in sorted(p for p in CORPUS.iterdir() if p.is_dir() and not p.name.startswith("_"))
        if folder.name not in SKIP and (not only or folder.name in only)
        for path in sorted([*folder.glob("*.py"), *folder.glob("round[0-9]/*.py")])
        if not path.name.startswith("_")
    ]


def grade_all(workdir: Path, only: list[str] | None = None) -> dict[tuple[str, str], dict]:
    """Every case as one submission (the case as <exercise>.py, the reference solutions as the other
    modules it imports), one `ropekit grade ID --submissions` process per exercise, two at a time."""
    batches: dict[tuple[str, str], int] = {}  # (exercise, kind) -> cases; wrong ones stop at a failure
    for exercise, path in cases(only):
        kind = path.name.split("_", 1)[0]
        batches[exercise, kind] = batches.get((exercise, kind), 0) + 1
        folder = workdir / exercise / kind / path.stem
        folder.mkdir(parents=True)
        for module in (ROOT / "solutions").glob("*.py"):
            if module.stem != exercise:
                shutil.copy(module, folder / module.name)
        shutil.copy(path, folder / f"{exercise}.py")

    def run(batch: tuple[str, str]) -> list[dict]:
        exercise, kind = batch
        env = {**os.environ, "ROPEKIT_ROOT": str(ROOT), "NO_COLOR": "1"}
        command = [
            sys.executable,
            "-m",
            "grader",
            "grade",
            exercise,
            "--submissions",
            str(workdir / exercise / kind),
        ]
        done = subprocess.run(
            command + (["--fail-fast"] if kind == "wrong" else []),
            capture_output=True,
            text=True,
            env=env,
            timeout=900,
        )
        lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        assert len(lines) == batches[batch], done.stderr[-2000:]
        return [(exercise, line) for line in lines]

    order = sorted(batches, key=lambda b: -batches[b] * (8 if b[0] == "classifier" else 1))
    with ThreadPoolExecutor(max_workers=2) as pool:
        graded = [item for lines in pool.map(run, order) for item in lines]
    return {(exercise, line["submission"]): line["exercises"][0] for exercise, line in graded}


def first_failure(result: dict) -> dict | None:
    return next((c for c in result["checks"] if not c["passed"]), None)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return grade_all(tmp_path_factory.mktemp("corpus"))


@pytest.mark.parametrize(("exercise", "path"), cases(), ids=[f"{e}/{p.stem}" for e, p in cases()])
def test_case(graded, exercise, path):
    result = graded[(exercise, path.stem)]
    if path.name.startswith("valid_"):
        failing = [f"{c['name']}: {c['message']}" for c in result["checks"] if not c["passed"]]
        assert not failing, f"a valid alternative lost points: {failing}"
        return
    expected = EXPECTED.get(exercise, {}).get(path.stem)
    assert expected, f"{exercise}/{path.name} has no entry in tests/corpus/expected.toml"
    failure = first_failure(result)
    assert failure is not None, f"{path.stem} ({_mistake(path)}) got full marks"
    assert failure["name"].startswith(expected["check"]), (failure["name"], failure["message"])
    for words in expected.get("says", []):
        assert words in failure["message"], (words, failure["message"])


@pytest.mark.parametrize(
    "script", sorted(CORPUS.rglob("_verify.py")), ids=lambda p: str(p.parent.relative_to(CORPUS))
)
def test_cases_verify_independently(script):
    """Each folder's own independent computation still shows every wrong case wrong and every valid
    case right (against the docstrings' formulas and the reference solutions as a black box)."""
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    failing = [line for line in done.stdout.splitlines() if line.startswith("FAIL")]
    assert done.returncode == 0 and not failing, failing or done.stdout[-2000:] + done.stderr[-2000:]


def test_every_case_is_expected():
    """expected.toml names only cases that exist."""
    files = {(e, p.stem) for e, p in cases()}
    named = {(e, stem) for e, table in EXPECTED.items() for stem in table}
    assert named <= files, sorted(named - files)


def _mistake(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines()[:5]:
        if line.startswith("# mistake:"):
            return line.split(":", 1)[1].strip()
    return ""


if __name__ == "__main__":  # the catch-rate report
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        graded = grade_all(Path(tmp), sys.argv[1:])
    rows: dict[str, list[int]] = {}
    for (exercise, stem), result in sorted(graded.items()):
        failure = first_failure(result)
        kind = "valid" if stem.startswith("valid_") else "wrong"
        row = rows.setdefault(exercise, [0, 0, 0, 0])  # wrong caught, wrong, valid accepted, valid
        if kind == "wrong":
            row[0] += failure is not None
            row[1] += 1
        else:
            row[2] += failure is None
            row[3] += 1
        shown = "FULL MARKS" if failure is None else f"[{failure['name'][:50]}] {failure['message']}"
        print(f"{kind} {exercise}/{stem}: {shown}")
    print("\n| exercise | wrong caught | valid accepted |\n| --- | --- | --- |")
    for exercise, (caught, wrong, accepted, valid) in rows.items():
        print(f"| {exercise} | {caught}/{wrong} | {accepted}/{valid} |")
