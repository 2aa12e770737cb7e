"""The concept quiz: items in grader/quiz.toml, grading one answer, model answers, the answer sheet.

Data flows one way: quiz.toml -> `load_items()` -> `grade(item, answer)` -> `Verdict(correct, message)`.
The hidden checks (grader/checks/quiz.py), the tests, the notebook and the interactive `ropekit quiz`
(`run_interactive`) all go through this module.

Answer formats (what a learner writes in exercises/quiz.py, `ANSWERS["id"] = ...`):

- single choice:   one option letter, `"b"`;
- multiple choice: every true option, `{"a", "c"}` (a set, list or tuple; `"ac"` and `"a, c"` work too);
- true/false:      the verdict and the letter of the reason, `(False, "b")` (False = myth, True = fact);
- numeric:         a number, `42.0`, within the item's tolerance.

Maintainers: after editing quiz.toml run `python -m grader.quiz` (rewrites solutions/quiz.py), then
`python -m grader.stubs` (rewrites exercises/quiz.py).
"""

from __future__ import annotations

import json
import math
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

QUIZ_FILE = Path(__file__).with_name("quiz.toml")
KINDS = ("single", "multiple", "truefalse", "numeric")
KIND_NAMES = {
    "single": "single choice",
    "multiple": "multiple choice",
    "truefalse": "myth or fact, with a reason",
    "numeric": "numeric",
}
FORMATS = {  # placeholders x, y: an example letter could be read as a hint
    "single": 'one option letter as a string, like "x"',
    "multiple": 'the set of every true option, like {"x", "y"}',
    "truefalse": 'a pair: True (fact) or False (myth), then the reason\'s letter, like (True, "x")',
    "numeric": "a number",
}
NOT_ANSWERED = "not answered yet"
_TRUE = {"true", "t", "fact", "yes", "y", "对", "事实"}
_FALSE = {"false", "f", "myth", "no", "n", "错", "误区"}


@dataclass(frozen=True)
class Option:
    key: str
    en: str
    zh: str
    why: str = ""  # for a wrong option: why it is wrong (shown when chosen); for a true one: why it is true


@dataclass(frozen=True)
class Mistake:
    """A known wrong numeric answer and what produces it."""

    value: float
    why: str


@dataclass(frozen=True)
class Item:
    id: str
    kind: str
    points: int
    title: str
    source: tuple[str, ...]
    question_en: str
    question_zh: str
    answer: Any
    model_en: str
    model_zh: str
    options: tuple[Option, ...] = ()
    reason: str | None = None  # truefalse: the key of the right reason
    explain: str = ""  # truefalse: shown when the verdict is wrong; numeric: shown for an unknown value
    rtol: float = 0.0
    atol: float = 0.0
    unit: str = ""
    mistakes: tuple[Mistake, ...] = ()
    cite: str = ""
    seed_error: int | None = None  # the number of the SEED_NOTES error this item unteaches
    extra: dict = field(default_factory=dict, compare=False)

    def option(self, key: str) -> Option:
        return next(o for o in self.options if o.key == key)


@dataclass(frozen=True)
class Verdict:
    correct: bool
    message: str  # "" when correct; the teaching text otherwise


class QuizDataError(ValueError):
    pass


def _item(entry: dict) -> Item:
    known = set(Item.__dataclass_fields__) - {"extra", "options", "mistakes", "source"}
    fields = {k: v for k, v in entry.items() if k in known}
    fields["options"] = tuple(Option(**o) for o in entry.get("options", ()))
    fields["mistakes"] = tuple(Mistake(**m) for m in entry.get("mistakes", ()))
    source = entry.get("source", ())
    fields["source"] = (source,) if isinstance(source, str) else tuple(source)
    fields["extra"] = {k: v for k, v in entry.items() if k not in known | {"options", "mistakes", "source"}}
    item = Item(**{k: v.strip() if isinstance(v, str) and k != "answer" else v for k, v in fields.items()})
    _validate(item)
    return item


def _validate(item: Item) -> None:
    def bad(why: str) -> None:
        raise QuizDataError(f"quiz item {item.id!r}: {why}")

    if item.kind not in KINDS:
        bad(f"kind must be one of {KINDS}")
    keys = [o.key for o in item.options]
    if len(set(keys)) != len(keys):
        bad("option keys repeat")
    if item.kind == "single" and item.answer not in keys:
        bad("the answer is not an option")
    if item.kind == "multiple" and (not item.answer or not set(item.answer) <= set(keys)):
        bad("the answer must be a non-empty list of option keys")
    if item.kind == "truefalse" and (not isinstance(item.answer, bool) or item.reason not in keys):
        bad("the answer must be true or false and the reason an option key")
    if item.kind == "numeric" and (
        isinstance(item.answer, bool) or not isinstance(item.answer, (int, float))
    ):
        bad("the answer must be a number")
    if item.kind == "numeric" and item.rtol <= 0 and item.atol <= 0:
        bad("a numeric item needs rtol or atol")
    if item.kind != "numeric" and len(item.options) < 2:
        bad("needs at least two options")
    right = _right_keys(item)
    for option in item.options:
        if option.key not in right and not option.why:
            bad(f"wrong option {option.key!r} has no explanation (`why`)")
    if item.kind in ("truefalse", "numeric") and not item.explain:
        bad("needs `explain` (shown for a wrong verdict or an unknown number)")
    for name in ("question_en", "question_zh", "model_en", "model_zh", "title"):
        if not getattr(item, name):
            bad(f"{name} is empty")


def _right_keys(item: Item) -> set[str]:
    if item.kind == "single":
        return {item.answer}
    if item.kind == "multiple":
        return set(item.answer)
    if item.kind == "truefalse":
        return {item.reason}
    return set()


@lru_cache(maxsize=4)
def load_items(path: Path = QUIZ_FILE) -> tuple[Item, ...]:
    """Every quiz item, in the file's order (validated: a malformed item raises QuizDataError)."""
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    items = tuple(_item(entry) for entry in data["item"])
    ids = [i.id for i in items]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise QuizDataError(f"quiz ids repeat: {sorted(duplicates)}")
    return items


def get_item(item_id: str, items: Iterable[Item] | None = None) -> Item:
    for item in items if items is not None else load_items():
        if item.id == item_id:
            return item
    raise KeyError(item_id)


# ----------------------------------------------------------------------------------------------------
# Reading an answer


class BadFormat(ValueError):
    """The answer's form does not fit the item (message says what to write)."""


def _letter(item: Item, value: Any) -> str:
    if not isinstance(value, str):
        raise BadFormat(f'an option letter is a string, like "x"; got {value!r}')
    key = value.strip().strip(").").strip().lower()
    if key not in {o.key for o in item.options}:
        known = ", ".join(o.key for o in item.options)
        raise BadFormat(f"{value!r} is not an option of this item (options: {known})")
    return key


def normalize(item: Item, value: Any) -> Any:
    """The answer in canonical form (str, frozenset, (bool, str) or float); BadFormat if it does not fit."""
    if item.kind == "single":
        return _letter(item, value)
    if item.kind == "multiple":
        if isinstance(value, str):
            parts = [p for p in re.split(r"[\s,;/]+", value.strip()) if p]
            if len(parts) == 1 and len(parts[0]) > 1 and parts[0].isalpha():
                parts = list(parts[0])  # "ac"
        elif isinstance(value, (set, frozenset, list, tuple)):
            parts = list(value)
        else:
            raise BadFormat(f"give {FORMATS['multiple']}, got {value!r}")
        chosen = frozenset(_letter(item, p) for p in parts)
        if not chosen:
            raise BadFormat("choose at least one option")
        return chosen
    if item.kind == "truefalse":
        if not isinstance(value, (tuple, list)) or len(value) != 2:
            raise BadFormat(f"give {FORMATS['truefalse']}: a verdict alone is not enough, the reason counts")
        verdict, reason = value
        if isinstance(verdict, str) and verdict.strip().lower() in _TRUE | _FALSE:
            verdict = verdict.strip().lower() in _TRUE
        if not isinstance(verdict, bool):
            raise BadFormat(f"the verdict is True (fact) or False (myth), got {verdict!r}")
        return (verdict, _letter(item, reason))
    # numeric
    if isinstance(value, bool):
        raise BadFormat(f"give {FORMATS['numeric']}, got {value!r}")
    try:
        number = float(value.replace(",", "") if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise BadFormat(f"give {FORMATS['numeric']}, got {value!r}") from None
    if not math.isfinite(number):
        raise BadFormat(f"{value!r} is not a finite number")
    return number


def _close(item: Item, value: float, target: float) -> bool:
    return abs(value - target) <= item.atol + item.rtol * abs(target)


def grade(item: Item, value: Any) -> Verdict:
    """Grade one answer. A wrong answer's message teaches why it is wrong, without giving the answer."""
    if value is None:
        return Verdict(False, f"{NOT_ANSWERED} (replace None by {FORMATS[item.kind]})")
    try:
        answer = normalize(item, value)
    except BadFormat as exc:
        return Verdict(False, f"answer not understood: {exc}")
    if item.kind == "single":
        if answer == item.answer:
            return Verdict(True, "")
        return Verdict(False, f"({answer}) is not it: {item.option(answer).why}")
    if item.kind == "multiple":
        right = set(item.answer)
        wrong = sorted(answer - right)
        missed = len(right - answer)
        if not wrong and not missed:
            return Verdict(True, "")
        parts = [f"({k}) is false: {item.option(k).why}" for k in wrong]
        if missed:
            parts.append(
                f"{missed} true statement{'s are' if missed > 1 else ' is'} missing from your choice: "
                "every option that is true must be chosen"
            )
        return Verdict(False, " ".join(parts))
    if item.kind == "truefalse":
        verdict, reason = answer
        if verdict != item.answer:
            return Verdict(False, f"wrong verdict ({'fact' if verdict else 'myth'}): {item.explain}")
        if reason != item.reason:
            return Verdict(False, f"right verdict, wrong reason ({reason}): {item.option(reason).why}")
        return Verdict(True, "")
    if _close(item, answer, float(item.answer)):
        return Verdict(True, "")
    for mistake in item.mistakes:
        if _close(item, answer, mistake.value):
            return Verdict(False, f"{answer:g} is a known slip: {mistake.why}")
    return Verdict(False, f"{answer:g} is off: {item.explain}")


# ----------------------------------------------------------------------------------------------------
# Rendering


def _width(text: str) -> int:
    """Display width: CJK characters take two columns (as in a terminal and in ruff's line length)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


_CJK = "\u2e80-\u9fff\u3000-\u303f\uff00-\uffef"
_TOKEN = re.compile(rf"\s*(?:[{_CJK}]|[^\s{_CJK}]+)")


def _wrap(text: str, width: int, indent: str = "", subsequent: str | None = None) -> list[str]:
    """Wrap at spaces, and between any two CJK characters, so that no line is wider than `width`."""
    subsequent = indent if subsequent is None else subsequent
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line, empty = indent, True
        for token in _TOKEN.findall(paragraph):
            if not empty and _width(line + token) > width:
                lines.append(line.rstrip())
                line, empty = subsequent, True
            line += token.lstrip() if empty else token
            empty = False
        lines.append(line.rstrip())
    return lines


def render_item(item: Item, language: str = "en", width: int = 100) -> str:
    """The question and its options as plain text ("en", "zh" or "both")."""
    langs = ("en", "zh") if language == "both" else (language,)
    lines = [f"[{item.id}] {KIND_NAMES[item.kind]}, {item.points} point{'s' if item.points > 1 else ''}"]
    for lang in langs:
        lines += _wrap(getattr(item, f"question_{lang}"), width)
    if item.kind == "truefalse":
        lines.append(
            "Reasons / 理由:" if language == "both" else ("理由:" if language == "zh" else "Reasons:")
        )
    for option in item.options:
        for number, lang in enumerate(langs):
            first = f"  {option.key}) " if number == 0 else "     "
            lines += _wrap(getattr(option, lang), width, first, "     ")
    if item.unit:
        lines.append(f"(unit: {item.unit})")
    return "\n".join(lines)


def render_answer(item: Item) -> str:
    """The correct answer in words, e.g. 'b', 'a, c', 'myth, reason b', '42.17 rad'."""
    if item.kind == "single":
        return item.answer
    if item.kind == "multiple":
        return ", ".join(sorted(item.answer))
    if item.kind == "truefalse":
        return f"{'fact' if item.answer else 'myth'}, reason {item.reason}"
    return f"{item.answer:.6g}" + (f" {item.unit}" if item.unit else "")


def render_model_answer(item: Item, language: str = "both", width: int = 100) -> str:
    """The model answer paragraph(s) an interviewer wants to hear, with the citation."""
    lines = [f"Answer / 答案: {render_answer(item)}"]
    if language in ("en", "both"):
        lines += ["Model answer:"] + _wrap(item.model_en, width, "  ")
    if language in ("zh", "both"):
        lines += ["参考答案："] + _wrap(item.model_zh, width, "  ")
    if item.cite:
        lines.append(f"Source / 出处: {item.cite}")
    return "\n".join(lines)


def answer_literal(item: Item, value: Any) -> str:
    """The Python literal for an answer in the sheet's form (None for no answer)."""
    if value is None:
        return "None"
    value = normalize(item, value)
    if item.kind == "multiple":
        return "{" + ", ".join(json.dumps(k) for k in sorted(value)) + "}"
    if item.kind == "truefalse":
        return f"({value[0]}, {json.dumps(value[1])})"
    if item.kind == "single":
        return json.dumps(value)
    return repr(int(value)) if float(value).is_integer() and abs(value) < 2**53 else repr(value)


SHEET_HEADER = '''"""The concept quiz: answer every question by filling in ANSWERS (one line per question).

Each question is in the comment above its line, in English and 中文. Replace `None` by your answer:

- single choice:   one option letter, e.g. "b"
- multiple choice: the set of every true option, e.g. {"a", "c"}
- myth or fact:    (True, "a") for a fact, (False, "b") for a myth, with the letter of the reason
- numeric:         a number, e.g. 12.5 (within the stated tolerance)

Grade with `ropekit check quiz` (or `check("quiz")` in notebooks/07_quiz.ipynb): a wrong answer is
explained, an unanswered one says "not answered yet". `ropekit quiz` asks the questions in the
terminal instead, and `ropekit solution quiz` shows the reference sheet. The model answers (English
and 中文) are in grader/quiz.toml and in the notebook.
"""

ANSWERS: dict = {}
'''


def sheet_source(items: Iterable[Item], *, with_solutions: bool = True) -> str:
    """The answer sheet (solutions/quiz.py): every question as a comment, then `ANSWERS[id] = None`,
    then (with_solutions) the reference answer in a solution block, so the stub keeps only `None`."""
    out = [SHEET_HEADER]
    for number, item in enumerate(items, start=1):
        out.append("")
        out.append(f"# {'-' * 106}")
        head = f"{number}. [{item.id}] {KIND_NAMES[item.kind]}, {item.points} pt"
        head += "s" if item.points > 1 else ""
        head += f" ({'; '.join(item.source)})" if item.source else ""
        out += _wrap(head, 108, "# ", "#   ")
        body = render_item(item, "both", 106).split("\n")[1:]
        out += [f"# {line}".rstrip() for line in body]
        out.append(f'ANSWERS["{item.id}"] = None')
        if with_solutions:  # the model answers ride in the block: `ropekit solution quiz` shows them
            out.append("### BEGIN SOLUTION")
            out += _wrap(item.model_en, 108, "# Model answer: ", "#   ")
            out += _wrap(item.model_zh, 108, "# 参考答案：", "#   ")
            if item.cite:
                out += _wrap(item.cite, 108, "# Source: ", "#   ")
            out.append(f'ANSWERS["{item.id}"] = {answer_literal(item, _reference(item))}')
            out.append("### END SOLUTION")
    return "\n".join(out) + "\n"


def _reference(item: Item) -> Any:
    if item.kind == "truefalse":
        return (item.answer, item.reason)
    return item.answer


_LINE = re.compile(r'^ANSWERS\["(?P<id>[A-Za-z0-9_]+)"\] = .*$', re.MULTILINE)


def write_answers(
    path: str | Path, answers: dict, items: Iterable[Item] | None = None, *, backup_first: bool = False
) -> list[str]:
    """Record answers in an answer sheet (exercises/quiz.py): rewrite the `ANSWERS["id"] = ...` line of
    each answered id (None answers are skipped). Returns the ids written. Solution blocks are never
    touched; the file's other lines are kept as they are. Locked and atomic; backup_first copies the
    sheet into .ropekit/backups before it changes."""
    from .files import atomic_write, backup, locked, read_text

    items = {i.id: i for i in (items if items is not None else load_items())}
    path = Path(path)
    with locked(path):  # two `ropekit quiz` at once: each rewrites only its own answers of the latest sheet
        text = read_text(path)
        new = _with_answers(text, answers, items)
        written = new[1]
        if new[0] != text:
            if backup_first:
                backup(path)
            atomic_write(path, new[0])
    return written


def _with_answers(text: str, answers: dict, items: dict) -> tuple[str, list[str]]:
    written: list[str] = []
    out: list[str] = []
    inside = False
    for line in text.splitlines(keepends=True):
        marker = line.strip()
        if marker in ("### BEGIN SOLUTION", "### END SOLUTION"):
            inside = marker == "### BEGIN SOLUTION"
        match = None if inside else _LINE.match(line.rstrip("\n"))
        if match and match["id"] in answers and answers[match["id"]] is not None and match["id"] in items:
            item_id = match["id"]
            literal = answer_literal(items[item_id], answers[item_id])
            line = f'ANSWERS["{item_id}"] = {literal}' + ("\n" if line.endswith("\n") else "")
            written.append(item_id)
        out.append(line)
    return "".join(out), written


# ----------------------------------------------------------------------------------------------------
# Interactive


def parse_text(item: Item, text: str) -> Any:
    """A typed answer ("b", "a c", "myth b", "42.17") in the sheet's form; BadFormat if not understood."""
    text = text.strip()
    if item.kind == "truefalse":
        parts = [p for p in re.split(r"[\s,;]+", text) if p]
        if len(parts) != 2:
            raise BadFormat('type the verdict and the reason, e.g. "myth b" or "fact a"')
        return normalize(item, (parts[0], parts[1]))
    return normalize(item, text)


PROMPTS = {
    "single": "your answer (a letter; empty = skip, q = quit): ",
    "multiple": "every true option (e.g. a c; empty = skip, q = quit): ",
    "truefalse": "myth or fact, and the reason (e.g. myth b; empty = skip, q = quit): ",
    "numeric": "a number (empty = skip, q = quit): ",
}


def run_interactive(
    items: Iterable[Item],
    input_fn: Callable[[str], str] = input,
    print_fn: Callable[..., Any] = print,
    language: str = "en",
) -> dict:
    """Ask each item in the terminal; after each answer show the verdict and the model answer.

    Returns {item_id: answer in the sheet's form} for the items answered (skipped ones are left out).
    Records nothing itself: the caller may pass the result to `write_answers`. An empty line skips an
    item, "q" (or end of input) stops.
    """
    answers: dict = {}
    items = list(items)
    for number, item in enumerate(items, start=1):
        print_fn("")
        print_fn(f"— {number}/{len(items)} —")
        print_fn(render_item(item, language))
        while True:
            try:
                text = input_fn(PROMPTS[item.kind])
            except EOFError:
                return answers
            if text.strip().lower() in ("q", "quit", "exit"):
                return answers
            if not text.strip():
                break
            try:
                value = parse_text(item, text)
            except BadFormat as exc:
                print_fn(f"not understood: {exc}")
                continue
            answers[item.id] = value if not isinstance(value, frozenset) else set(value)
            verdict = grade(item, value)
            print_fn("correct! / 正确！" if verdict.correct else f"not quite: {verdict.message}")
            print_fn(render_model_answer(item, language))
            break
    return answers


def score(answers: dict, items: Iterable[Item] | None = None) -> tuple[int, int]:
    """(points earned, points possible) of an answers dict."""
    items = list(items if items is not None else load_items())
    earned = sum(i.points for i in items if grade(i, answers.get(i.id)).correct)
    return earned, sum(i.points for i in items)


if __name__ == "__main__":  # maintainers: regenerate solutions/quiz.py from quiz.toml
    from .catalog import workspace_root

    target = workspace_root() / "solutions" / "quiz.py"
    target.write_text(sheet_source(load_items()), encoding="utf-8")
    print(f"wrote {target}; now run python -m grader.stubs")
