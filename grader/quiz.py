"""The concept quiz: items in grader/quiz.toml, grading one answer, model answers, the answer sheet.

Data flows one way: quiz.toml -> `load_items()` -> `grade(item, answer)` -> `Verdict(correct, message)`.
The hidden checks (grader/checks/quiz.py), the tests, the notebook and the interactive `ropekit quiz`
(`run_interactive`) all go through this module. `ropekit quiz` reads the learner's sheet by parsing it
(`read_sheet`, never by running it) and records each changed answer at once (`SheetWriter`), rewriting
only that answer's value: every other byte of the sheet stays as the learner wrote it.

Answer formats (what a learner writes in exercises/quiz.py, `ANSWERS["id"] = ...`):

- single choice:   one option letter, `"b"`;
- multiple choice: every true option, `{"a", "c"}` (a set, list or tuple; `"ac"` and `"a, c"` work too);
- true/false:      the verdict and the letter of the reason, `(False, "b")` (False = myth, True = fact);
- numeric:         a number, `42.0`, within the item's tolerance.

Maintainers: after editing quiz.toml run `python -m grader.quiz` (rewrites solutions/quiz.py), then
`python -m grader.stubs` (rewrites exercises/quiz.py).
"""

from __future__ import annotations

import ast
import contextlib
import difflib
import json
import math
import re
import shutil
import sys
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from .i18n import N_, gettext_in, tr

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

QUIZ_FILE = Path(__file__).with_name("quiz.toml")
KINDS = ("single", "multiple", "truefalse", "numeric")
KIND_NAMES = {
    "single": N_("single choice"),
    "multiple": N_("multiple choice"),
    "truefalse": N_("myth or fact, with a reason"),
    "numeric": N_("numeric"),
}
FORMATS = {  # placeholders x, y: an example letter could be read as a hint
    "single": N_('one option letter as a string, like "x"'),
    "multiple": N_('the set of every true option, like {"x", "y"}'),
    "truefalse": N_('a pair: True (fact) or False (myth), then the reason\'s letter, like (True, "x")'),
    "numeric": N_("a number"),
}
NOT_ANSWERED = N_("not answered yet")
_TRUE = {"true", "t", "fact", "yes", "y", "对", "事实"}
_FALSE = {"false", "f", "myth", "no", "n", "错", "误区"}


@dataclass(frozen=True)
class Option:
    key: str
    en: str
    why: str = ""  # for a wrong option: why it is wrong (shown when chosen); for a true one: why it is true

    @property
    def zh(self) -> str:
        return gettext_in("zh", self.en)


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
    answer: Any
    model_en: str
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

    @property
    def question_zh(self) -> str:  # the Chinese texts are in the gettext catalog (grader/locale)
        return gettext_in("zh", self.question_en)

    @property
    def model_zh(self) -> str:
        return gettext_in("zh", self.model_en)


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
    for name in ("question_en", "model_en", "title"):
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
        raise BadFormat(tr('an option letter is a string, like "x"; got {value!r}', value=value))
    key = value.strip().strip(").").strip().lower()
    if key not in {o.key for o in item.options}:
        known = ", ".join(o.key for o in item.options)
        raise BadFormat(
            tr("{value!r} is not an option of this item (options: {known})", value=value, known=known)
        )
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
            raise BadFormat(tr("give {form}, got {value!r}", form=FORMATS["multiple"], value=value))
        chosen = frozenset(_letter(item, p) for p in parts)
        if not chosen:
            raise BadFormat(tr("choose at least one option"))
        return chosen
    if item.kind == "truefalse":
        if not isinstance(value, (tuple, list)) or len(value) != 2:
            raise BadFormat(
                tr("give {form}: a verdict alone is not enough, the reason counts", form=FORMATS["truefalse"])
            )
        verdict, reason = value
        if isinstance(verdict, str) and verdict.strip().lower() in _TRUE | _FALSE:
            verdict = verdict.strip().lower() in _TRUE
        if not isinstance(verdict, bool):
            raise BadFormat(
                tr("the verdict is True (fact) or False (myth), got {verdict!r}", verdict=verdict)
            )
        return (verdict, _letter(item, reason))
    # numeric
    if isinstance(value, bool):
        raise BadFormat(tr("give {form}, got {value!r}", form=FORMATS["numeric"], value=value))
    try:
        number = float(value.replace(",", "") if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise BadFormat(tr("give {form}, got {value!r}", form=FORMATS["numeric"], value=value)) from None
    if not math.isfinite(number):
        raise BadFormat(tr("{value!r} is not a finite number", value=value))
    return number


def _close(item: Item, value: float, target: float) -> bool:
    return abs(value - target) <= item.atol + item.rtol * abs(target)


def grade(item: Item, value: Any) -> Verdict:
    """Grade one answer. A wrong answer's message teaches why it is wrong, without giving the answer."""
    if value is None:
        return Verdict(
            False,
            tr("{not_answered} (replace None by {form})", not_answered=NOT_ANSWERED, form=FORMATS[item.kind]),
        )
    try:
        answer = normalize(item, value)
    except BadFormat as exc:
        return Verdict(False, tr("answer not understood: {reason}", reason=str(exc)))
    if item.kind == "single":
        if answer == item.answer:
            return Verdict(True, "")
        return Verdict(False, tr("({key}) is not it: {why}", key=answer, why=item.option(answer).why))
    if item.kind == "multiple":
        right = set(item.answer)
        wrong = sorted(answer - right)
        missed = len(right - answer)
        if not wrong and not missed:
            return Verdict(True, "")
        parts = [tr("({key}) is false: {why}", key=k, why=item.option(k).why) for k in wrong]
        if missed:
            parts.append(
                tr(
                    "{count} true statements are missing from your choice: every option that is true "
                    "must be chosen",
                    count=missed,
                )
                if missed > 1
                else tr(
                    "1 true statement is missing from your choice: every option that is true must be chosen"
                )
            )
        return Verdict(False, " ".join(parts))
    if item.kind == "truefalse":
        verdict, reason = answer
        if verdict != item.answer:
            return Verdict(
                False,
                tr("wrong verdict (fact): {explain}", explain=item.explain)
                if verdict
                else tr("wrong verdict (myth): {explain}", explain=item.explain),
            )
        if reason != item.reason:
            return Verdict(
                False,
                tr("right verdict, wrong reason ({key}): {why}", key=reason, why=item.option(reason).why),
            )
        return Verdict(True, "")
    if _close(item, answer, float(item.answer)):
        return Verdict(True, "")
    for mistake in item.mistakes:
        if _close(item, answer, mistake.value):
            return Verdict(False, tr("{answer:g} is a known slip: {why}", answer=answer, why=mistake.why))
    return Verdict(False, tr("{answer:g} is off: {explain}", answer=answer, explain=item.explain))


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
    points = tr("{count} points", count=item.points) if item.points > 1 else tr("1 point")
    lines = [f"[{item.id}] {tr(KIND_NAMES[item.kind])}, {points}"]
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
        lines.append(tr("(unit: {unit})", unit=item.unit))
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
        lines += _wrap(item.cite, width, "Source / 出处: ", "  ")
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


# ----------------------------------------------------------------------------------------------------
# Reading and writing the answer sheet. The sheet is learner code: it is parsed, never run.


class SheetError(ValueError):
    """The answer sheet cannot be read or safely rewritten (a one-line message; the file is unchanged)."""


@dataclass(frozen=True)
class Written:
    """One answer as the sheet holds it: the source text the learner wrote and, for a plain literal, its
    value (`None` for "not answered yet"). `plain` is False for an expression such as `2 * 128`, whose
    value only running the sheet gives (the grader does that, in isolation)."""

    source: str
    value: Any = None
    plain: bool = True

    @property
    def answered(self) -> bool:
        return not self.plain or self.value is not None

    def shown(self) -> str:
        return " ".join(self.source.split())  # an answer spread over lines, on one


def _line_starts(text: str) -> list[int]:
    """Where each line of `text` starts; lines end at \\n, \\r\\n or \\r, as for Python's parser."""
    return [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]


def _offset(text: str, starts: list[int], lineno: int, col: int) -> int:
    """The index in `text` of the parser's (line, UTF-8 byte column)."""
    start = starts[lineno - 1]
    end = starts[lineno] if lineno < len(starts) else len(text)
    return start + len(text[start:end].encode("utf-8")[:col].decode("utf-8"))


def _solution_lines(text: str) -> set[int]:
    """Line numbers from `### BEGIN SOLUTION` to `### END SOLUTION` (never rewritten)."""
    lines, inside = set(), False
    for number, line in enumerate(re.split(r"\r\n|\r|\n", text), start=1):
        marker = line.strip()
        if marker == "### BEGIN SOLUTION":
            inside = True
        if inside:
            lines.add(number)
        if marker == "### END SOLUTION":
            inside = False
    return lines


def _answer_key(target: ast.expr) -> str | None:
    """'id' for the target `ANSWERS["id"]`, else None."""
    if (
        isinstance(target, ast.Subscript)
        and isinstance(target.value, ast.Name)
        and target.value.id == "ANSWERS"
        and isinstance(target.slice, ast.Constant)
        and isinstance(target.slice.value, str)
    ):
        return target.slice.value
    return None


@dataclass
class _Sheet:
    answers: dict[str, Written]  # as ANSWERS holds them once the sheet has run (the last assignment wins)
    spans: dict[str, list[tuple[int, int]]]  # where each id's value may be rewritten: (start, end) in text
    defines: bool  # the sheet assigns ANSWERS itself


def _read(text: str) -> _Sheet:
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise SheetError(f"line {exc.lineno} has a syntax error ({exc.msg})") from None
    except ValueError as exc:  # null bytes
        raise SheetError(f"it cannot be parsed ({exc})") from None
    starts, solution = _line_starts(text), _solution_lines(text)
    sheet = _Sheet({}, {}, False)

    def written(node: ast.expr) -> tuple[Written, tuple[int, int]]:
        span = (
            _offset(text, starts, node.lineno, node.col_offset),
            _offset(text, starts, node.end_lineno, node.end_col_offset),
        )
        source = text[span[0] : span[1]]
        try:
            return Written(source, ast.literal_eval(node)), span
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return Written(source, None, plain=False), span

    for statement in tree.body:  # top level only, in order, as Python runs it
        if isinstance(statement, ast.Assign):
            targets, value = statement.targets, statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            targets, value = [statement.target], statement.value
        else:
            continue
        editable = len(targets) == 1 and statement.lineno not in solution
        for target in targets:
            if isinstance(target, ast.Name) and target.id == "ANSWERS":
                sheet.answers, sheet.spans, sheet.defines = {}, {}, True
                if isinstance(value, ast.Dict):
                    for key, entry in zip(value.keys, value.values, strict=True):
                        if isinstance(key, ast.Constant) and isinstance(key.value, str):
                            sheet.answers[key.value], span = written(entry)
                            if editable:
                                sheet.spans[key.value] = [span]
            elif (key := _answer_key(target)) is not None:
                sheet.answers[key], span = written(value)
                if editable:
                    sheet.spans.setdefault(key, []).append(span)
    return sheet


def read_sheet(text: str) -> dict[str, Written]:
    """The answers of a sheet as ANSWERS would hold them, read without running it: the top-level
    `ANSWERS = {...}` and `ANSWERS["id"] = ...` statements, in order. SheetError for a syntax error."""
    return _read(text).answers


def sheet_text(path: str | Path) -> str:
    """The sheet as text, line endings as they are on disk (so that a rewrite keeps them)."""
    from .files import WorkspaceError

    path = Path(path)
    if path.is_dir():
        raise WorkspaceError(f"{path} is a folder, not a file")
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise WorkspaceError(f"{path} is not UTF-8 text") from None
    except OSError as exc:
        raise WorkspaceError(f"could not read {path}: {exc.strerror or exc}") from None


def same_answer(item: Item, a: Any, b: Any) -> bool:
    """Whether two answers say the same thing ({"a", "c"}, ["c", "a"] and "ac" do)."""
    try:
        return normalize(item, a) == normalize(item, b)
    except BadFormat:
        return False


def write_answers(
    path: str | Path, answers: dict, items: Iterable[Item] | None = None, *, backup_first: bool = False
) -> list[str]:
    """Record answers in an answer sheet (exercises/quiz.py). Only an answer that differs from the one
    in the sheet is written ({"a", "c"} over ["c", "a"] is no change; None answers are skipped): the
    value after `ANSWERS["id"] =` is replaced and every other byte of the file is kept, the learner's
    formatting and comments included. An id with no line of its own gets one at the end. Solution blocks
    are never touched. Returns the ids written, in quiz order. Locked and atomic; backup_first copies the
    sheet into .ropekit/backups before it changes. SheetError (file unchanged) for a sheet that does not
    parse or that could not be changed without touching another answer."""
    from .files import atomic_write, backup, locked

    items = {i.id: i for i in (items if items is not None else load_items())}
    path = Path(path)
    with locked(path):  # two `ropekit quiz` at once: each rewrites only its own answers of the latest sheet
        text = sheet_text(path)
        new, written = _with_answers(text, answers, items)
        if new != text:
            if backup_first:
                backup(path)
            with _interrupts_deferred():
                atomic_write(path, new)
    return written


def _with_answers(text: str, answers: dict, items: dict) -> tuple[str, list[str]]:
    """The sheet with `answers` recorded, and the ids that changed (see `write_answers`)."""
    sheet = _read(text)
    literals: dict[str, str] = {}
    for item_id in items:  # quiz order
        value = answers.get(item_id)
        if value is None:
            continue
        now = sheet.answers.get(item_id)
        if now is not None and now.plain and same_answer(items[item_id], now.value, value):
            continue  # equivalent: the learner's own form stays
        literals[item_id] = answer_literal(items[item_id], value)
    if not literals:
        return text, []
    edits = sorted(
        ((start, end, literals[i]) for i in literals for start, end in sheet.spans.get(i, ())), reverse=True
    )
    new = text
    for start, end, literal in edits:
        new = new[:start] + literal + new[end:]
    new = _appended(new, {i: lit for i, lit in literals.items() if not sheet.spans.get(i)}, sheet.defines)
    if not _records(new, sheet.answers, literals):  # e.g. a later `ANSWERS = {...}` overrides the line
        new = _appended(text, literals, sheet.defines)
        if not _records(new, sheet.answers, literals):
            raise SheetError("could not record the answer without touching another one")
    return new, list(literals)


def _appended(text: str, literals: dict[str, str], defines: bool) -> str:
    if not literals:
        return text
    if not defines:
        raise SheetError("it does not define ANSWERS = {...} (`ropekit reset quiz` restores the sheet)")
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = "".join(f'ANSWERS["{i}"] = {literal}{newline}' for i, literal in literals.items())
    return text + ("" if not text or text.endswith(("\n", "\r")) else newline) + lines


def _records(new: str, before: dict[str, Written], literals: dict[str, str]) -> bool:
    """The rewritten sheet holds exactly the new answers, and every other answer as it was written."""
    try:
        after = _read(new).answers
    except SheetError:
        return False
    for item_id in set(before) | set(after) | set(literals):
        if item_id in literals:
            now = after.get(item_id)
            if now is None or not now.plain or now.source != literals[item_id]:
                return False
        elif after.get(item_id) != before.get(item_id):
            return False
    return True


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Ctrl-C during a write takes effect once the write is done (never a half-written sheet)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list = []
    previous = signal.signal(signal.SIGINT, lambda *_: caught.append(True))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)
        if caught:
            raise KeyboardInterrupt


class SheetWriter:
    """Records answers in the sheet one at a time, as the learner gives them, so that Ctrl-C, the end of
    input or a closed terminal loses none. The sheet is backed up before this session's first change,
    and again before any change if something else (an editor, another `ropekit quiz`) wrote it since."""

    def __init__(self, path: str | Path, items: Iterable[Item] | None = None) -> None:
        self.path = Path(path)
        self.items = {i.id: i for i in (items if items is not None else load_items())}
        self.written: list[str] = []
        self.backups: list[Path] = []
        self._last: str | None = None  # the text this session last wrote

    def record(self, item_id: str, value: Any) -> bool:
        """Write one answer; False when the sheet already holds an equivalent one (nothing written)."""
        from .files import atomic_write, backup, locked

        with locked(self.path), _interrupts_deferred():
            text = sheet_text(self.path)
            try:
                new, written = _with_answers(text, {item_id: value}, self.items)
            except SheetError as exc:
                literal = answer_literal(self.items[item_id], value)
                raise SheetError(f'{exc}; not recorded: ANSWERS["{item_id}"] = {literal}') from None
            if not written:
                return False
            if text != self._last:
                copy = backup(self.path)
                if copy is not None:
                    self.backups.append(copy)
            atomic_write(self.path, new)
            self._last = new
        self.written += written
        return True


# ----------------------------------------------------------------------------------------------------
# Choosing the questions, and where the learner stands


class UnknownItem(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


def is_right(item: Item, written: Written | None) -> bool:
    return written is not None and written.plain and grade(item, written.value).correct


def select_items(
    items: Iterable[Item],
    current: dict[str, Written],
    ids: Iterable[str] = (),
    *,
    unanswered: bool = False,
    wrong: bool = False,
) -> list[Item]:
    """The items to ask, in quiz order: those named in `ids` (all when none is), then with `unanswered`
    only those with no answer yet, with `wrong` only those whose answer is not right (none counts as not
    right; an expression the sheet computes too, as only the grader can run it); both: either.
    UnknownItem (one line, with a close match) for an id that is not a quiz item."""
    items = list(items)
    known = [i.id for i in items]
    ids = list(dict.fromkeys(ids))
    unknown = [i for i in ids if i not in known]
    if unknown:
        parts = []
        for name in unknown:
            close = difflib.get_close_matches(name, known, n=1)
            parts.append(
                tr("no quiz item called {name!r} (did you mean {close!r}?)", name=name, close=close[0])
                if close
                else tr("no quiz item called {name!r}", name=name)
            )
        raise UnknownItem("; ".join(parts) + tr("; the ids are in brackets in exercises/quiz.py"))
    chosen = [i for i in items if not ids or i.id in ids]
    if unanswered or wrong:
        chosen = [
            i
            for i in chosen
            if (unanswered and not (i.id in current and current[i.id].answered))
            or (wrong and not is_right(i, current.get(i.id)))
        ]
    return chosen


def standing(items: Iterable[Item], current: dict[str, Written]) -> str:
    """Where the sheet stands, e.g. 'quiz 31/38 right (40/45 points)'."""
    items = list(items)
    right = [i for i in items if is_right(i, current.get(i.id))]
    computed = sum(1 for i in items if i.id in current and not current[i.id].plain)
    return tr(
        "quiz {right}/{count} right ({points}/{total} points{computed})",
        right=len(right),
        count=len(items),
        points=sum(i.points for i in right),
        total=sum(i.points for i in items),
        computed=tr("; {count} computed by the sheet, so graded only by the grader", count=computed)
        if computed
        else "",
    )


def describe(item: Item, written: Written | None) -> str:
    """The learner's answer now, as written, and whether it is right."""
    if written is None or not written.answered:
        return tr("your answer now: none (not answered yet / 尚未作答)")
    if not written.plain:
        return tr(
            "your answer now: {shown} (computed by the sheet: `ropekit check quiz` grades it)",
            shown=written.shown(),
        )
    try:
        normalize(item, written.value)
    except BadFormat as exc:
        return tr(
            "your answer now: {shown}, not understood: {reason}", shown=written.shown(), reason=str(exc)
        )
    verdict = tr("right / 正确") if grade(item, written.value).correct else tr("wrong / 错误")
    return tr("your answer now: {shown}, {verdict}", shown=written.shown(), verdict=verdict)


def terminal_width(limit: int = 100) -> int:
    """Columns to wrap to: the terminal's (or $COLUMNS), at most `limit`, at least 20."""
    return max(20, min(shutil.get_terminal_size((80, 24)).columns, limit))


# ----------------------------------------------------------------------------------------------------
# Interactive


def parse_text(item: Item, text: str) -> Any:
    """A typed answer ("b", "a c", "myth b", "42.17") in the sheet's form; BadFormat if not understood."""
    text = text.strip()
    if item.kind == "truefalse":
        parts = [p for p in re.split(r"[\s,;]+", text) if p]
        if len(parts) != 2:
            raise BadFormat(tr('type the verdict and the reason, e.g. "myth b" or "fact a"'))
        return normalize(item, (parts[0], parts[1]))
    return normalize(item, text)


HOW = {
    "single": N_("type one letter"),
    "multiple": N_("type every true option, e.g. a c"),
    "truefalse": N_("type myth or fact and the reason's letter, e.g. myth b"),
    "numeric": N_("type a number"),
}


def prompt_for(answered: bool) -> str:
    if answered:
        return tr("your answer (Enter = keep yours, q = quit): ")
    return tr("your answer (Enter = skip, q = quit): ")


@dataclass
class QuizSession:
    """What `run_interactive` has done so far; filled as it goes, so an interrupted run still tells."""

    asked: int = 0  # questions shown
    changed: dict = field(default_factory=dict)  # id -> answer (sheet's form) that differs from the sheet's
    kept: int = 0  # answers kept as they were (Enter, or an equivalent answer typed)
    stopped: str = ""  # "" ran to the end, "quit" or "end of input"


def run_interactive(
    items: Iterable[Item],
    input_fn: Callable[[str], str] = input,
    print_fn: Callable[..., Any] = print,
    language: str = "en",
    *,
    current: dict[str, Written] | Callable[[], dict[str, Written]] | None = None,
    record: Callable[[str, Any], bool] | None = None,
    width: int = 100,
    session: QuizSession | None = None,
) -> dict:
    """Ask each item in the terminal; after each answer show the verdict and the model answer.

    `current` (the sheet's answers, or a function that reads them afresh) shows the learner's answer
    before each question and whether it is right; Enter keeps it (skips an unanswered item), and an
    equivalent answer counts as no change. `record(id, answer)` is called as soon as an answer changes
    (False: the sheet already had it). Returns {item_id: answer in the sheet's form} for the changed
    answers; `session` is filled as it goes. "q" or end of input (EOFError) stops; Ctrl-C propagates.
    Every line is wrapped to `width` columns at word boundaries.
    """
    session = session if session is not None else QuizSession()
    items = list(items)

    def say(text: str, subsequent: str = "  ") -> None:
        for line in _wrap(text, width, "", subsequent):
            print_fn(line)

    for number, item in enumerate(items, start=1):
        session.asked = number
        answers = current() if callable(current) else current
        now = answers.get(item.id) if answers is not None else None
        answered = now is not None and now.answered
        print_fn("")
        print_fn(f"— {number}/{len(items)} —")
        print_fn(render_item(item, language, width))
        if answers is not None:
            say(describe(item, now))
        say(tr(HOW[item.kind]))
        *head, last = _wrap(prompt_for(answered), width)
        for line in head:
            print_fn(line)
        while True:
            try:
                text = input_fn(last + " ")
            except EOFError:
                session.stopped = "end of input"
                return session.changed
            if text.strip().lower() in ("q", "quit", "exit"):
                session.stopped = "quit"
                return session.changed
            if not text.strip():
                if answered:
                    session.kept += 1
                say(tr("kept your answer") if answered else tr("skipped: still not answered"))
                break
            try:
                value = parse_text(item, text)
            except BadFormat as exc:
                say(f"not understood: {exc}")
                continue
            value = set(value) if isinstance(value, frozenset) else value
            if answered and now.plain and same_answer(item, now.value, value):
                session.kept += 1
                say(tr("the same as your answer now: kept as you wrote it"))
            elif record is None or record(item.id, value):
                session.changed[item.id] = value
            else:
                session.kept += 1  # the sheet meanwhile holds this answer already
            verdict = grade(item, value)
            say("correct! / 正确！" if verdict.correct else f"not quite: {verdict.message}")
            print_fn(render_model_answer(item, language, width))
            break
    return session.changed


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
