"""`ropekit quiz` in a real pseudo-terminal of 80 columns, driven the way a person drives it: type an
answer and Enter, press Enter to keep one, then Ctrl-C (or Ctrl-D). What was shown and what the sheet
holds afterwards are both checked; no line may be wider than the terminal or break a word.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from grader.quiz import get_item, load_items

pytest.importorskip("pty")  # POSIX only
from pty_terminal import COLUMNS, Terminal, columns  # noqa: E402


def start_quiz(root: Path, *args: str) -> Terminal:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}  # the terminal's size rules
    env.update(ROPEKIT_ROOT=str(root), NO_COLOR="1", TERM="xterm")
    exe = str(Path(sys.executable).with_name("ropekit"))
    return Terminal([exe, "quiz", *args], env, cwd=root)  # run from the kit's folder, as a learner does


def typed(item_id: str) -> str:
    """The right answer of an item, as a person types it."""
    item = get_item(item_id)
    if item.kind == "truefalse":
        return f"{'fact' if item.answer else 'myth'} {item.reason}"
    return " ".join(item.answer) if item.kind == "multiple" else str(item.answer)


def vocabulary() -> set[str]:
    words: set[str] = set()
    for item in load_items():
        texts = [item.question_en, item.model_en, item.explain, item.cite, item.title]
        texts += [t for o in item.options for t in (o.en, o.why)] + [m.why for m in item.mistakes]
        for text in texts:
            words.update(w.lower() for w in re.findall(r"[A-Za-z]+", text))
    return words


def assert_fits_and_no_word_is_split(text: str) -> None:
    lines = text.replace("\r\n", "\n").split("\n")
    too_wide = [line for line in lines if columns(line) > COLUMNS]
    assert not too_wide, too_wide
    words = vocabulary()
    for upper, lower in zip(lines, lines[1:], strict=False):
        left = re.search(r"[A-Za-z]+$", upper)
        right = re.match(r"\s*([A-Za-z]+)", lower)
        if left and right:  # a break between letters: the two halves must not be one word cut in two
            joined = (left[0] + right[1]).lower()
            cut = joined in words and not (left[0].lower() in words and right[1].lower() in words)
            assert not cut, f"{left[0]!r} | {right[1]!r} is the word {joined!r} split across lines"


def sheet_with(path: Path, answers: dict[str, str]) -> str:
    text = path.read_text(encoding="utf-8")
    for item_id, source in answers.items():
        old = f'ANSWERS["{item_id}"] = None'
        assert old in text
        text = text.replace(old, f'ANSWERS["{item_id}"] = {source}')
    return text


def test_type_keep_then_ctrl_c_in_an_80_column_terminal(workspace):
    path = workspace / "exercises" / "quiz.py"
    mine = '["a", "b"]  # my answer, as I wrote it'
    path.write_text(sheet_with(path, {"q2_absolute_shortfall": mine}), encoding="utf-8")
    before = path.read_text(encoding="utf-8")
    ids = ["q1_role_of_pe", "q1_permutation", "q2_absolute_shortfall", "q2_sinusoidal_offset"]
    term = start_quiz(workspace, *ids)  # --lang both: English and 中文 lines wrapped alike

    term.expect(r"— 1/4 —")
    term.expect(r"your answer now: none")
    term.expect(r"Enter = skip, q = quit\): $")
    term.type(typed("q1_role_of_pe") + "\r")
    term.expect(r"correct! / 正确！")
    term.expect(r"— 2/4 —")
    term.expect(r"Enter = skip, q = quit\): $")
    term.type("myth " + get_item("q1_permutation").reason + "\r")  # the wrong verdict
    term.expect(r"not quite: wrong verdict \(myth\)")
    term.expect(r"— 3/4 —")
    term.expect(r'your answer now: \["a", "b"\], right / 正确')  # as written, the comment aside
    term.expect(r"Enter = keep yours, q = quit\): $")
    term.type("\r")  # keep it
    term.expect(r"kept your answer")
    term.expect(r"— 4/4 —")
    term.expect(r"Enter = skip, q = quit\): $")
    term.type("\x03")  # Ctrl-C
    status = term.wait()

    assert status == 130, term.text
    assert "ropekit: interrupted at question 4 of 4; recorded 2 answers in" in " ".join(term.text.split())
    assert "Traceback" not in term.text
    expected = before.replace('ANSWERS["q1_role_of_pe"] = None', 'ANSWERS["q1_role_of_pe"] = "b"')
    expected = expected.replace(
        'ANSWERS["q1_permutation"] = None', 'ANSWERS["q1_permutation"] = (False, "a")'
    )
    assert get_item("q1_role_of_pe").answer == "b" and get_item("q1_permutation").reason == "a"
    assert path.read_text(encoding="utf-8") == expected  # the kept list and the unasked item untouched
    assert max(columns(line) for line in term.text.splitlines()) > 60  # there was text to wrap
    assert_fits_and_no_word_is_split(term.text)


def test_ctrl_d_keeps_the_answers_given(workspace):
    path = workspace / "exercises" / "quiz.py"
    before = path.read_text(encoding="utf-8")
    term = start_quiz(workspace, "q3_advantages", "kv_cache", "--lang", "en")
    term.expect(r"— 1/2 —")
    term.expect(r"Enter = skip, q = quit\): $")
    term.type("e c b a\r")
    term.expect(r"correct! / 正确！")
    term.expect(r"— 2/2 —")
    term.expect(r"Enter = skip, q = quit\): $")
    term.type("\x04")  # Ctrl-D at the start of a line: end of input
    status = term.wait()

    assert status == 0, term.text
    assert "end of input at question 2 of 2: recorded 1 answer in" in " ".join(term.text.split())
    expected = before.replace(
        'ANSWERS["q3_advantages"] = None', 'ANSWERS["q3_advantages"] = {"a", "b", "c", "e"}'
    )
    assert path.read_text(encoding="utf-8") == expected
    assert_fits_and_no_word_is_split(term.text)
