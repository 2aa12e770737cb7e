"""The concept quiz (issue 7): data, grading, teaching messages, the answer sheet and the interactive mode.

The reference sheet scores full marks and the empty sheet zero through the real grader; each kind of
wrong answer gets exactly the teaching text stored for it; numeric answers are recomputed here from
their formulas (never trusted as typed); every seed question and every SEED_NOTES error is covered.
"""

from __future__ import annotations

import importlib.util
import math
import re

import numpy as np
import pytest
from conftest import ROOT, WRONG

import grader.checks.quiz as quiz_checks
from grader.catalog import get_exercise
from grader.checking import checks_of
from grader.loading import from_folder
from grader.quiz import (
    NOT_ANSWERED,
    QuizDataError,
    _item,
    get_item,
    grade,
    load_items,
    parse_text,
    render_item,
    render_model_answer,
    run_interactive,
    score,
    sheet_source,
    write_answers,
)
from grader.runner import grade_exercise
from grader.stubs import stub_for

ITEMS = load_items()
CJK = re.compile(r"[\u4e00-\u9fff]")


def reference_answers() -> dict:
    return {i.id: (i.answer, i.reason) if i.kind == "truefalse" else i.answer for i in ITEMS}


def grade_sheet(tmp_path, source: str):
    (tmp_path / "quiz.py").write_text(source, encoding="utf-8")
    return grade_exercise(get_exercise("quiz"), from_folder(tmp_path))


def sheet_with(answers: dict) -> str:
    return "ANSWERS = {\n" + "".join(f"    {k!r}: {v!r},\n" for k, v in answers.items()) + "}\n"


# ----------------------------------------------------------------------------------------------------
# The whole sheet through the real grader


def test_reference_sheet_scores_full_marks():
    result = grade_exercise(get_exercise("quiz"), from_folder(ROOT / "solutions"))
    failing = [(c.name, c.message) for c in result.checks if not c.passed]
    assert not failing
    assert result.score == result.max_score == sum(i.points for i in ITEMS) == get_exercise("quiz").points


def test_empty_sheet_scores_zero_and_says_not_answered(tmp_path):
    result = grade_sheet(tmp_path, stub_for(ROOT / "solutions" / "quiz.py"))
    assert result.score == 0 and result.total == len(ITEMS)
    assert all(c.message.startswith(NOT_ANSWERED) for c in result.checks)


def test_sheet_without_answers_dict_fails_every_check(tmp_path):
    result = grade_sheet(tmp_path, "ANSWER = {}\n")
    assert result.score == 0
    assert all("must define ANSWERS" in c.message for c in result.checks)


def test_one_check_per_item_in_order_with_the_items_points():
    checks = checks_of(quiz_checks)
    assert [c.name.split(":")[0] for c in checks] == [i.id for i in ITEMS]
    assert [c.points for c in checks] == [i.points for i in ITEMS]


def test_solution_sheet_is_generated_from_the_data_and_stub_in_sync():
    assert (ROOT / "solutions" / "quiz.py").read_text(encoding="utf-8") == sheet_source(ITEMS)
    stub = stub_for(ROOT / "solutions" / "quiz.py")
    assert (ROOT / "exercises" / "quiz.py").read_text(encoding="utf-8") == stub
    for item in ITEMS:  # the learner sees each question next to its line
        assert f'ANSWERS["{item.id}"] = None' in stub
        assert item.question_en.split()[0] in stub


# ----------------------------------------------------------------------------------------------------
# A wrong answer gets exactly its teaching explanation

# (item, wrong answer, the explanation it must get, built from the data)
WRONG_ANSWERS = [
    ("q3_core_idea", "b", lambda i: f"(b) is not it: {i.option('b').why}"),
    ("why_only_qk", "C)", lambda i: f"(c) is not it: {i.option('c').why}"),
    ("kv_cache", "b", lambda i: f"(b) is not it: {i.option('b').why}"),
    ("q3_advantages", {"a", "b", "c", "d", "e"}, lambda i: f"(d) is false: {i.option('d').why}"),
    ("faq7_limitations", ["a", "b"], lambda i: "1 true statement is missing"),
    ("myth_complexity", (True, "b"), lambda i: f"wrong verdict (fact): {i.explain}"),
    (
        "myth_softmax_rotation",
        (False, "b"),
        lambda i: f"right verdict, wrong reason (b): {i.option('b').why}",
    ),
    ("myth_added_to_embeddings", ("myth", "c"), lambda i: i.option("c").why),
    ("num_angle", 64.93816315762113, lambda i: i.mistakes[0].why),
    ("num_angle", math.degrees(100 * 10000 ** (-6 / 64)), lambda i: "in degrees"),
    ("num_flops", 393216, lambda i: "only the queries"),
    ("num_angle", 7.0, lambda i: f"7 is off: {i.explain}"),
]


@pytest.mark.parametrize(("item_id", "answer", "expected"), WRONG_ANSWERS, ids=[w[0] for w in WRONG_ANSWERS])
def test_wrong_answer_gets_its_explanation(item_id, answer, expected):
    item = get_item(item_id)
    verdict = grade(item, answer)
    assert not verdict.correct
    assert expected(item) in verdict.message
    assert verdict.message.strip()


def test_wrong_answers_explained_through_the_grader(tmp_path):
    answers = reference_answers()
    chosen = {"q3_core_idea": "b", "myth_complexity": (True, "a"), "num_angle": 56.23413251903491}
    answers.update(chosen)
    result = grade_sheet(tmp_path, sheet_with(answers))
    by_id = {c.name.split(":")[0]: c for c in result.checks}
    assert {k for k, c in by_id.items() if not c.passed} == set(chosen)
    assert by_id["q3_core_idea"].message == f"(b) is not it: {get_item('q3_core_idea').option('b').why}"
    assert by_id["myth_complexity"].message == f"wrong verdict (fact): {get_item('myth_complexity').explain}"
    assert "numbered from 0" in by_id["num_angle"].message
    assert result.score == result.max_score - sum(get_item(k).points for k in chosen)


def test_every_wrong_option_and_slip_teaches():
    for item in ITEMS:
        right = (
            {item.answer} if item.kind == "single" else set(item.answer) if item.kind == "multiple" else set()
        )
        if item.kind == "truefalse":
            right = {item.reason}
        for option in item.options:
            if option.key not in right:
                assert len(option.why) > 30, (item.id, option.key)
        for mistake in item.mistakes:
            assert not grade(item, mistake.value).correct, (item.id, mistake.value)
            assert mistake.why in grade(item, mistake.value).message


def test_no_message_gives_the_numeric_answer_away():
    for item in ITEMS:
        if item.kind == "numeric":
            for wrong in [0.5 * item.answer + 1.0, *(m.value for m in item.mistakes)]:
                message = grade(item, wrong).message
                assert f"{item.answer:g}" not in message and f"{item.answer:.4g}" not in message, item.id


def test_answer_forms_are_understood():
    assert grade(get_item("q3_core_idea"), " C ").correct
    assert grade(get_item("q3_advantages"), "a, b, c, e").correct
    assert grade(get_item("q3_advantages"), "abce").correct
    assert grade(get_item("q3_advantages"), ["e", "c", "b", "a"]).correct
    assert grade(get_item("myth_complexity"), ("myth", "a")).correct
    assert grade(get_item("num_flops"), "786,432").correct
    verdict = grade(get_item("myth_complexity"), False)
    assert "the reason counts" in verdict.message
    assert "not an option" in grade(get_item("q3_core_idea"), "z").message
    assert "not a finite number" in grade(get_item("num_angle"), float("nan")).message


# ----------------------------------------------------------------------------------------------------
# Numeric items: tolerance, and every answer recomputed from its formula


def test_numeric_answers_within_tolerance_pass_and_outside_fail():
    numeric = [i for i in ITEMS if i.kind == "numeric"]
    assert len(numeric) >= 5
    for item in numeric:
        allowed = item.atol + item.rtol * abs(item.answer)
        assert grade(item, item.answer + 0.9 * allowed).correct, item.id
        assert grade(item, item.answer - 0.9 * allowed).correct, item.id
        assert not grade(item, item.answer + 1.1 * allowed).correct, item.id
        assert not grade(item, item.answer - 3 * allowed).correct, item.id


def _rotation(angle: float) -> np.ndarray:
    return np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])


def _seed_width() -> int:
    spec = importlib.util.spec_from_file_location("sinusoidal_seed", WRONG / "sinusoidal_seed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.sinusoidal_encoding(512, 512).shape[-1]  # 000's code as published


def _flops(T: int, d: int) -> int:
    per_pair = 4 + 2  # x1*cos, x2*sin, x2*cos, x1*sin; one subtraction, one addition
    return per_pair * (d // 2) * T * 2  # pairs per vector, tokens, q and k


def _kv_position(prompt: int, generated: int) -> int:
    positions = list(range(prompt + generated + 1))  # the whole sequence, numbered from 0
    return positions[-1]


RECOMPUTED = {
    "num_angle": lambda: 100 * 10000.0 ** (-2 * 3 / 64),
    "num_longest_wavelength": lambda: 2 * math.pi / 10000.0 ** (-2 * (128 // 2 - 1) / 128),
    "q4_ntk_base": lambda: 10000.0 * 4 ** (128 / (128 - 2)),
    "num_flops": lambda: _flops(1024, 128),
    "num_score_2d": lambda: float((_rotation(5.0) @ [1.0, 0.0]) @ (_rotation(2.0) @ [1.0, 0.0])),
    "num_yarn_factor": lambda: 0.1 * math.log(16) + 1,
    "num_kv_position": lambda: _kv_position(37, 2),
    "num_seed_sinusoidal_width": _seed_width,
}


def test_every_numeric_answer_is_recomputed_from_its_formula():
    numeric = {i.id for i in ITEMS if i.kind == "numeric"}
    assert numeric == set(RECOMPUTED)
    for item_id, compute in RECOMPUTED.items():
        item = get_item(item_id)
        assert math.isclose(item.answer, compute(), rel_tol=1e-12, abs_tol=1e-12), item_id


def test_numeric_angle_matches_the_rope_definition_in_the_reference():
    """The stored angle is the angle the kit's own RoPE applies (pair 3 of a d = 64 vector at m = 100)."""
    import torch

    from solutions.rope import rope_cos_sin

    cos, sin = rope_cos_sin(torch.tensor([100]), 64, dtype=torch.float64)
    angle = math.atan2(sin[0, 3].item(), cos[0, 3].item()) % (2 * math.pi)
    assert math.isclose(angle, get_item("num_angle").answer % (2 * math.pi), abs_tol=1e-9)


def test_known_numeric_slips_are_recomputed_too():
    angle = get_item("num_angle")
    slips = {m.value for m in angle.mistakes}
    for value in (
        100 * 10000.0 ** (-3 / 64),
        100 * 10000.0 ** (-4 / 64),
        math.degrees(100 * 10000.0 ** (-6 / 64)),
        (100 * 10000.0 ** (-6 / 64)) % (2 * math.pi),
    ):
        assert any(math.isclose(value, s, rel_tol=1e-12) for s in slips)
    flops = {m.value for m in get_item("num_flops").mistakes}
    assert {_flops(1024, 128) // 2, 2 * 128 * 128 * 2 * 1024, 6 * 128 * 1024 * 2} == flops


# ----------------------------------------------------------------------------------------------------
# Coverage and content


def test_at_least_30_items_of_every_kind():
    assert len(ITEMS) >= 30
    assert {i.kind for i in ITEMS} == {"single", "multiple", "truefalse", "numeric"}


def test_every_item_has_english_and_chinese_text_and_model_answers():
    for item in ITEMS:
        for text in (item.question_en, item.model_en):
            assert len(text) > 20 and not CJK.search(text), item.id
        for text in (item.question_zh, item.model_zh):
            assert CJK.search(text), item.id
        for option in item.options:
            assert option.en and CJK.search(option.zh) or option.zh == option.en, (item.id, option.key)
        both = render_model_answer(item)
        assert item.model_en[:30] in both.replace("\n  ", " ") or "Model answer:" in both
        assert "参考答案" in both and "Model answer" in both
        assert item.cite, item.id


def test_papers_are_cited():
    cites = " ".join(i.cite for i in ITEMS)
    for arxiv in ("2104.09864", "1706.03762", "2306.15595", "2309.00071", "2108.12409", "2305.19466"):
        assert arxiv in cites
    assert "Su" in get_item("myth_citation").cite and "RoFormer" in get_item("myth_citation").cite


# SEED_NOTES.md "Errors to correct": 1 softmax rotation, 2 odd dimension, 3 reduced complexity,
# 4 wrong citation, 5 the sinusoidal bug, 6 added to embeddings, 7 groups of positions, 8 code that does
# not run (9, pip install python / TensorFlow, is about tooling and has no quiz item).
def test_every_seed_notes_error_has_a_myth_or_fact_item():
    by_error: dict[int, list] = {}
    for item in ITEMS:
        if item.seed_error:
            by_error.setdefault(item.seed_error, []).append(item)
    assert set(by_error) >= set(range(1, 9))
    for number in range(1, 8):
        assert any(i.kind == "truefalse" and i.answer is False for i in by_error[number]), number
    notes = ROOT.parent / "shared" / "SEED_NOTES.md"
    if notes.exists():  # the numbering above is SEED_NOTES' own
        headings = re.findall(r"^(\d)\. ", notes.read_text(encoding="utf-8").split("## Errors")[1], re.M)
        assert [int(h) for h in headings][:8] == list(range(1, 9))


SEED_QUESTIONS = [
    "000 Q1", "000 Q2", "000 Q3", "000 Q4", "000 advantage", "000 application claim",
    *(f"001 FAQ {n}" for n in range(1, 9)), "001 algorithm steps",
    "interviewer: why 10000", "interviewer: why only q and k", "interviewer: larger base",
    "interviewer: RoPE vs ALiBi", "interviewer: NoPE", "interviewer: KV cache",
]  # fmt: skip


@pytest.mark.parametrize("question", SEED_QUESTIONS)
def test_every_seed_and_interviewer_question_is_covered(question):
    assert any(s.startswith(question) or question in s for i in ITEMS for s in i.source)


def test_malformed_items_are_rejected():
    good = {
        "id": "x",
        "kind": "single",
        "points": 1,
        "title": "t",
        "question_en": "q?",
        "question_zh": "问？",
        "answer": "a",
        "model_en": "m",
        "model_zh": "答",
        "options": [{"key": "a", "en": "A", "zh": "甲"}, {"key": "b", "en": "B", "zh": "乙", "why": "no"}],
    }
    _item(good)
    with pytest.raises(QuizDataError, match="no explanation"):
        _item({**good, "options": [good["options"][0], {"key": "b", "en": "B", "zh": "乙"}]})
    with pytest.raises(QuizDataError, match="not an option"):
        _item({**good, "answer": "c"})


# ----------------------------------------------------------------------------------------------------
# Interactive mode and recording answers


def scripted(lines: list[str]):
    it = iter(lines)

    def fake_input(prompt: str) -> str:
        try:
            return next(it)
        except StopIteration:
            raise EOFError from None

    return fake_input


def test_run_interactive_with_scripted_input():
    items = [
        get_item(i) for i in ("q3_core_idea", "myth_complexity", "q3_advantages", "num_angle", "kv_cache")
    ]
    printed: list[str] = []
    answers = run_interactive(
        items,
        input_fn=scripted(["c", "maybe", "myth a", "", "64.938", "q"]),
        print_fn=lambda *a: printed.append(" ".join(map(str, a))),
    )
    assert answers == {"q3_core_idea": "c", "myth_complexity": (False, "a"), "num_angle": 64.938}
    out = "\n".join(printed)
    assert out.count("correct! / 正确！") == 2
    assert "not understood" in out  # "maybe" is asked again
    assert get_item("num_angle").mistakes[0].why in out  # the slip is explained
    assert "参考答案" in out or "Model answer" in out
    assert out.count("Answer / 答案:") == 3  # three answered; "q" stopped at the last item


def test_run_interactive_stops_at_end_of_input_and_in_chinese():
    printed: list[str] = []
    answers = run_interactive(ITEMS[:3], input_fn=scripted(["b"]), print_fn=printed.append, language="zh")
    assert answers == {ITEMS[0].id: "b"}
    assert ITEMS[0].question_zh in "\n".join(printed)


def test_recorded_answers_are_graded(tmp_path):
    stub = stub_for(ROOT / "solutions" / "quiz.py")
    (tmp_path / "quiz.py").write_text(stub, encoding="utf-8")
    answers = run_interactive(
        [get_item("q3_core_idea"), get_item("q3_advantages"), get_item("myth_odd_dimension")],
        input_fn=scripted(["c", "a b c e", "myth b"]),
        print_fn=lambda *a: None,
    )
    written = write_answers(tmp_path / "quiz.py", answers)
    assert written == ["q3_core_idea", "q3_advantages", "myth_odd_dimension"]
    result = grade_exercise(get_exercise("quiz"), from_folder(tmp_path))
    assert {c.name.split(":")[0] for c in result.checks if c.passed} == set(written)
    assert result.score == 1 + 2 + 1


def test_score_and_rendering_helpers():
    assert score(reference_answers()) == (get_exercise("quiz").points,) * 2
    assert score({}) == (0, get_exercise("quiz").points)
    text = render_item(get_item("myth_complexity"), "both")
    assert "Reasons / 理由" in text and "a)" in text
    assert parse_text(get_item("myth_complexity"), "fact c") == (True, "c")
