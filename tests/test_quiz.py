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
from conftest import ROOT, WRONG, ropekit

import grader.checks.quiz as quiz_checks
from grader.catalog import get_exercise
from grader.checking import checks_of
from grader.loading import from_folder
from grader.quiz import (
    NOT_ANSWERED,
    QuizDataError,
    SheetError,
    UnknownItem,
    _item,
    _wrap,
    get_item,
    grade,
    load_items,
    parse_text,
    read_sheet,
    render_item,
    render_model_answer,
    run_interactive,
    score,
    select_items,
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


def flat(text: str) -> str:
    """Text with its line breaks and runs of spaces made single spaces (wrapped output compares)."""
    return " ".join(text.split())


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


def _bf16_spacing(x: float) -> float:
    import torch

    value = torch.tensor(x, dtype=torch.bfloat16)
    return (torch.nextafter(value, torch.tensor(math.inf, dtype=torch.bfloat16)) - value).item()


RECOMPUTED = {
    "num_angle": lambda: 100 * 10000.0 ** (-2 * 3 / 64),
    "num_longest_wavelength": lambda: 2 * math.pi / 10000.0 ** (-2 * (128 // 2 - 1) / 128),
    "q4_ntk_base": lambda: 10000.0 * 4 ** (128 / (128 - 2)),
    "num_flops": lambda: _flops(1024, 128),
    "num_score_2d": lambda: float((_rotation(5.0) @ [1.0, 0.0]) @ (_rotation(2.0) @ [1.0, 0.0])),
    "num_yarn_factor": lambda: 0.1 * math.log(16) + 1,
    "num_kv_position": lambda: _kv_position(37, 2),
    "num_seed_sinusoidal_width": _seed_width,
    # Track E: 2 (k, v) * 8 KV heads * head_dim 128 * 2 bytes (bf16) * 32 layers
    "num_gqa_cache_bytes": lambda: 2 * 8 * 128 * 2 * 32,
    "num_left_pad_position": lambda: _kv_position(34 - 13, 0),
    "num_streaming_position": lambda: len(range(4)) + len(range(10000 - 1020, 10000)),
    "num_dynamic_ntk_base": lambda: 10000.0 * ((2 * 12288 / 4096) - (2 - 1)) ** (128 / (128 - 2)),
    "num_bf16_spacing": lambda: _bf16_spacing(40000.0),
    "num_men_first_negative": lambda: _first_negative_margin(128, 10000.0),
}


def _first_negative_margin(d: int, base: float) -> int:
    """The first m with sum_i cos(m * base ** (-2i / d)) < 0, by a plain loop in math.cos."""
    m = 0
    while sum(math.cos(m * base ** (-2 * i / d)) for i in range(d // 2)) >= 0:
        m += 1
    return m


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


# 001's worked example (section 4.3) as printed: pos_1 .. pos_4, the matrix R, and rot_pos_1 .. rot_pos_4
SEED_001_POS = [[1, 1, 1], [4, 2, 8], [9, 9, 27], [16, 16, 64]]
SEED_001_R = [
    [0.4519, 0.3131, 0.2349],
    [0.3535, 0.4324, 0.2130],
    [0.2833, 0.3517, 0.3649],
    [0.2359, 0.2736, 0.4905],
]
SEED_001_ROT = SEED_001_R  # what it prints for R·pos_1 .. R·pos_4


def _seed_001_printed() -> tuple[list, list, list] | None:
    """The numbers as document 001 prints them, read from ../shared/seeds/ when it is there."""
    found = sorted((ROOT.parent / "shared" / "seeds").glob("001_*.txt"))
    if not found:
        return None
    text = found[0].read_text(encoding="utf-8")
    vector = r"\[([\d., ]+)\]"
    pos = re.findall(r"\\text\{pos\}_\d = \[[^]]*\] = " + vector, text)
    rot = re.findall(r"\\text\{rot\\_pos\}_\d = R \\text\{pos\}_\d = " + vector, text)
    matrix = re.search(r"\\begin\{bmatrix\}(.*?)\\end\{bmatrix\}", text, re.S).group(1)
    rows = [[float(x) for x in row.split("&")] for row in matrix.split("\\\\")]

    def numbers(found: list[str]) -> list[list[float]]:
        return [[float(x) for x in v.split(",")] for v in found]

    return numbers(pos), rows, numbers(rot)


def test_seed_worked_example_key_is_recomputed_from_the_documents_numbers():
    """seed_worked_example: each option is a claim about 001's printed numbers; the key is exactly the
    set of claims that recomputing pos_i = [i, i², i³] and softmax(0.1·pos_i) shows true."""
    printed = _seed_001_printed()
    if printed is not None:  # the constants above are the document's own
        assert printed == (SEED_001_POS, SEED_001_R, SEED_001_ROT)
    shown = np.array(SEED_001_POS, dtype=float)  # [4, 3]
    R = np.array(SEED_001_R)  # [4, 3]
    rot = np.array(SEED_001_ROT)  # [4, 3]
    pos = np.array([[i, i**2, i**3] for i in range(1, 5)], dtype=float)  # [4, 3]

    def softmax(x):
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    def row_matches(vectors) -> list[bool]:  # printed to 4 decimals
        return [bool(np.allclose(R[i], softmax(0.1 * vectors[i]), atol=1e-4)) for i in range(4)]

    def rounding_allows_sum_1(row) -> bool:
        return abs(row.sum() - 1) <= len(row) * 0.5e-4

    claims = {
        # pos_2, pos_3, pos_4 misprinted; pos_3 and pos_4 with i² as first entry
        "a": bool((shown[1:] != pos[1:]).any(axis=1).all())
        and bool((shown[2:, 0] == pos[2:, 0] ** 2).all() and (shown[2:, 1:] == pos[2:, 1:]).all()),
        # R is the softmax of neither the correct nor the printed vectors; row 1 would be uniform
        "b": not any(row_matches(pos) + row_matches(shown))
        and bool(np.allclose(softmax(0.1 * pos[0]), 1 / 3)),
        # rot_pos_i are R's rows, and R·pos_i (R is 4×3) would have 4 entries
        "c": bool(np.array_equal(rot, R)) and all((R @ p).shape == (4,) for p in pos),
        # "R is right: every row sums to 1"
        "d": all(rounding_allows_sum_1(row) for row in R) and all(row_matches(pos)),
        # "only pos_2 is misprinted; the rest follows from the formulas"
        "e": bool((shown[2:] == pos[2:]).all()) and all(row_matches(pos)) and not np.array_equal(rot, R),
        # "with the numbers corrected, R is a rotation": square and orthogonal
        "f": softmax(0.1 * pos).shape[0] == softmax(0.1 * pos).shape[1],
    }
    item = get_item("seed_worked_example")
    assert {o.key for o in item.options} == set(claims)
    assert set(item.answer) == {key for key, true in claims.items() if true}
    for vector in pos[1:].astype(int).tolist():  # the option states the recomputed vectors
        assert str(vector) in item.option("a").en and str(vector) in item.option("a").zh
    assert not rounding_allows_sum_1(R[1]) and f"{R[1].sum():.4f}" in item.option("d").why
    assert "softmax([0.1, 0.1, 0.1]) = [1/3, 1/3, 1/3]" in item.option("b").en


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
        "answer": "a",
        "model_en": "m",
        "options": [{"key": "a", "en": "A"}, {"key": "b", "en": "B", "why": "no"}],
    }  # the Chinese of each text is in the gettext catalog (grader/locale), not in the item
    _item(good)
    with pytest.raises(QuizDataError, match="no explanation"):
        _item({**good, "options": [good["options"][0], {"key": "b", "en": "B"}]})
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
    assert flat(get_item("num_angle").mistakes[0].why) in flat(out)  # the slip is explained (wrapped)
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


# ----------------------------------------------------------------------------------------------------
# `ropekit quiz` keeps every answer it was not asked to change, byte for byte

# The learner's own forms: a list with a comment, a set over two lines, a spaced tuple, an expression.
OWN_FORMS = {
    "q2_absolute_shortfall": '["a", "b"]  # my pick',
    "q3_advantages": '{\n    "e", "c", "b", "a",\n}',
    "q1_permutation": "( True ,'a' )",
    "num_flops": "6 * 64 * 1024 * 2",
}


def own_sheet(folder) -> tuple[str, object]:
    """exercises/quiz.py of `folder` with OWN_FORMS written in; returns (text, path)."""
    path = folder / "exercises" / "quiz.py"
    text = path.read_text(encoding="utf-8")
    for item_id, source in OWN_FORMS.items():
        old = f'ANSWERS["{item_id}"] = None'
        assert old in text
        text = text.replace(old, f'ANSWERS["{item_id}"] = {source}')
    path.write_text(text, encoding="utf-8")
    return text, path


def test_the_sheet_is_read_as_written_without_running_it(workspace):
    text, _ = own_sheet(workspace)
    current = read_sheet(text)
    assert current["q2_absolute_shortfall"].source == '["a", "b"]'
    assert current["q2_absolute_shortfall"].value == ["a", "b"]
    assert current["q3_advantages"].shown() == '{ "e", "c", "b", "a", }'
    assert current["num_flops"].source == "6 * 64 * 1024 * 2" and not current["num_flops"].plain
    assert current["q1_role_of_pe"].value is None and not current["q1_role_of_pe"].answered
    later = read_sheet('ANSWERS = {"kv_cache": "d"}\nANSWERS["kv_cache"] = "b"\nANSWERS = {"x": 1}\n')
    assert set(later) == {"x"}  # as Python leaves ANSWERS: the last assignment wins
    with pytest.raises(SheetError, match="line 2 has a syntax error"):
        read_sheet('ANSWERS = {}\nANSWERS["kv_cache"] = (\n')


def test_enter_and_equivalent_answers_leave_the_sheet_byte_identical(workspace):
    before, path = own_sheet(workspace)
    ids = ["q1_role_of_pe", "q1_permutation", "q2_absolute_shortfall", "q3_advantages", "num_flops"]
    # q1_role_of_pe: skipped; q1_permutation: "fact a" = its (True, 'a'); the list: Enter; the set: the
    # same letters in another order; the expression: Enter.
    done = ropekit("quiz", *ids, "--lang", "en", root=workspace, stdin="\nfact a\n\nc a e b\n\n")
    assert done.returncode == 0, done.stderr
    assert path.read_bytes() == before.encode("utf-8")
    assert not (workspace / ".ropekit" / "backups").exists()  # nothing written, nothing to back up
    out = flat(done.stdout)
    assert 'your answer now: ["a", "b"], right' in out
    assert "your answer now: ( True ,'a' ), right" in out
    assert "your answer now: 6 * 64 * 1024 * 2 (computed by the sheet" in out
    assert "recorded 0 answers" in out and "kept 4 as they were" in out


def test_a_changed_answer_rewrites_only_its_value(workspace):
    before, path = own_sheet(workspace)
    stdin = "d\nmyth b\n\n"  # q1_role_of_pe, q1_permutation changed; the list kept
    done = ropekit(
        "quiz", "q1_role_of_pe", "q1_permutation", "q2_absolute_shortfall", root=workspace, stdin=stdin
    )
    assert done.returncode == 0, done.stderr
    expected = before.replace('ANSWERS["q1_role_of_pe"] = None', 'ANSWERS["q1_role_of_pe"] = "d"')
    expected = expected.replace(
        "ANSWERS[\"q1_permutation\"] = ( True ,'a' )", 'ANSWERS["q1_permutation"] = (False, "b")'
    )
    assert path.read_text(encoding="utf-8") == expected
    backups = list((workspace / ".ropekit" / "backups").glob("quiz.py.*"))
    assert [b.read_text(encoding="utf-8") for b in backups] == [before]  # once, before the first change
    assert "recorded 2 answers" in done.stdout and "kept 1 as it was" in flat(done.stdout)
    now = read_sheet(expected)  # plain values only: the expression num_flops counts as not right
    right = sum(1 for i in ITEMS if i.id in now and now[i.id].plain and grade(i, now[i.id].value).correct)
    assert f"quiz {right}/{len(ITEMS)} right" in flat(done.stdout)


def test_equivalent_answer_is_not_rewritten_and_others_keep_their_form(tmp_path):
    sheet = tmp_path / "quiz.py"
    text = (
        'ANSWERS: dict = {\n    "q3_advantages": ["e", "c", "b", "a"],  # mine\n    "kv_cache": "b",\n}\r\n'
        'ANSWERS["q1_role_of_pe"] = "B"\r\n'
    )
    sheet.write_bytes(text.encode("utf-8"))
    assert write_answers(sheet, {"q3_advantages": {"a", "b", "c", "e"}, "q1_role_of_pe": "b"}) == []
    assert sheet.read_bytes() == text.encode("utf-8")
    # a change inside the dict literal is made there; an id without a line gets one, in the file's CRLF
    assert write_answers(sheet, {"kv_cache": "d", "q3_core_idea": "c"}) == ["q3_core_idea", "kv_cache"]
    expected = text.replace('"kv_cache": "b"', '"kv_cache": "d"') + 'ANSWERS["q3_core_idea"] = "c"\r\n'
    assert sheet.read_bytes() == expected.encode("utf-8")
    # a later `ANSWERS = {...}` would override a line: the answer is appended after it instead
    sheet.write_text(
        'ANSWERS = {}\nANSWERS["kv_cache"] = "b"\nANSWERS = {"kv_cache": "b"}\n', encoding="utf-8"
    )
    write_answers(sheet, {"kv_cache": "d"})
    assert read_sheet(sheet.read_text(encoding="utf-8"))["kv_cache"].value == "d"


def test_a_sheet_that_does_not_parse_is_never_written(workspace):
    path = workspace / "exercises" / "quiz.py"
    broken = path.read_text(encoding="utf-8").replace(
        'ANSWERS["kv_cache"] = None', 'ANSWERS["kv_cache"] = {"a"'
    )
    path.write_text(broken, encoding="utf-8")
    done = ropekit("quiz", "q1_role_of_pe", root=workspace, stdin="b\n")
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "syntax error" in done.stderr
    assert "line " in done.stderr and "Traceback" not in done.stderr
    assert path.read_text(encoding="utf-8") == broken
    with pytest.raises(SheetError):
        write_answers(path, {"q1_role_of_pe": "b"})
    assert path.read_text(encoding="utf-8") == broken


def test_end_of_input_keeps_the_answers_given(workspace):
    path = workspace / "exercises" / "quiz.py"
    before = path.read_text(encoding="utf-8")
    ids = ["q1_role_of_pe", "q1_permutation", "q2_absolute_shortfall"]
    done = ropekit("quiz", *ids, "--lang", "en", root=workspace, stdin="b\n")  # then Ctrl-D / end of input
    assert done.returncode == 0, done.stderr
    assert path.read_text(encoding="utf-8") == before.replace(
        'ANSWERS["q1_role_of_pe"] = None', 'ANSWERS["q1_role_of_pe"] = "b"'
    )
    assert "end of input at question 2 of 3: recorded 1 answer in" in flat(done.stdout)
    nothing = ropekit("quiz", root=workspace, stdin="")  # </dev/null: nothing given, nothing changed
    assert nothing.returncode == 0 and "recorded 0 answers" in nothing.stdout
    assert path.read_text(encoding="utf-8").count(" = None") == before.count(" = None") - 1


def test_unanswered_and_wrong_select_the_items_to_ask(workspace):
    path = workspace / "exercises" / "quiz.py"
    text = path.read_text(encoding="utf-8")
    text = text.replace('ANSWERS["q1_role_of_pe"] = None', 'ANSWERS["q1_role_of_pe"] = "b"')  # right
    text = text.replace('ANSWERS["kv_cache"] = None', 'ANSWERS["kv_cache"] = "a"')  # wrong
    text = text.replace('ANSWERS["num_flops"] = None', 'ANSWERS["num_flops"] = 6 * 64 * 1024 * 2')  # computed
    path.write_text(text, encoding="utf-8")
    current = read_sheet(text)
    all_ids = [i.id for i in ITEMS]
    rest = [i for i in all_ids if i not in ("q1_role_of_pe", "kv_cache", "num_flops")]
    assert [i.id for i in select_items(ITEMS, current, unanswered=True)] == rest
    wrong = [i for i in all_ids if i != "q1_role_of_pe"]
    assert [i.id for i in select_items(ITEMS, current, wrong=True)] == wrong
    assert [i.id for i in select_items(ITEMS, current, unanswered=True, wrong=True)] == wrong
    named = ["kv_cache", "q1_role_of_pe", "q1_permutation"]
    assert [i.id for i in select_items(ITEMS, current, named, wrong=True)] == ["q1_permutation", "kv_cache"]
    assert [i.id for i in select_items(ITEMS, current, named, unanswered=True)] == ["q1_permutation"]
    assert [i.id for i in select_items(ITEMS, current, named)] == [
        "q1_role_of_pe",
        "q1_permutation",
        "kv_cache",
    ]
    with pytest.raises(UnknownItem, match="did you mean 'kv_cache'"):
        select_items(ITEMS, current, ["kv_cach"])

    done = ropekit("quiz", "--wrong", "--lang", "en", root=workspace, stdin="q\n")
    assert done.returncode == 0 and f"— 1/{len(wrong)} —" in done.stdout
    done = ropekit("quiz", "kv_cache", "q1_role_of_pe", "--unanswered", root=workspace)
    assert done.returncode == 0 and "nothing to ask" in done.stdout and "quiz 1/" in done.stdout
    done = ropekit("quiz", "kv_cache", "--wrong", "--lang", "en", root=workspace, stdin="\n")
    assert "[kv_cache]" in done.stdout and 'your answer now: "a", wrong' in flat(done.stdout)
    assert path.read_text(encoding="utf-8") == text


def test_an_unknown_item_is_one_line_with_a_suggestion(workspace):
    done = ropekit("quiz", "kv_cach", root=workspace)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "ropekit: no quiz item called 'kv_cach' (did you mean 'kv_cache'?); "
        "the ids are in brackets in exercises/quiz.py"
    )


def _broken_words(text: str, lines: list[str], indent: str) -> list[int]:
    """Where `lines` (the wrap of `text`, each starting with `indent` of spaces) break a Latin word: the
    break points that had neither a space nor a CJK character on either side in the text."""

    def cjk(ch: str) -> bool:
        return bool(re.match(r"[\u2e80-\u9fff\u3000-\u303f\uff00-\uffef]", ch))

    compact, allowed, space = [], set(), False
    for ch in text:
        if ch.isspace():
            space = True
            continue
        if compact and (space or cjk(ch) or cjk(compact[-1])):
            allowed.add(len(compact))
        compact.append(ch)
        space = False
    pieces = ["".join(line.removeprefix(indent).split()) for line in lines]
    assert "".join(pieces) == "".join(compact)  # nothing lost, nothing added
    breaks = [sum(len(p) for p in pieces[: n + 1]) for n in range(len(pieces) - 1)]
    return [b for b in breaks if 0 < b < len(compact) and b not in allowed]


@pytest.mark.parametrize("width", [24, 41, 60, 80, 100])
def test_wrapping_breaks_at_spaces_and_between_cjk_only(width):
    from grader.quiz import _width

    for item in ITEMS:
        texts = [item.question_en, item.question_zh, item.model_en, item.model_zh, item.cite]
        texts += [grade(item, wrong).message for wrong in ("a", "z", ("myth", "a"), 1e9)]
        texts += [o.en for o in item.options] + [o.zh for o in item.options]
        for text in texts:
            lines = _wrap(text, width, "    ", "    ")
            assert not _broken_words(text, lines, "    "), (item.id, width, lines)
            longest = max(len(w) for w in text.split()) if text.split() else 0
            assert all(_width(line) <= max(width, 4 + 2 * longest) for line in lines), (item.id, lines)


def test_the_writer_backs_up_first_and_after_an_outside_change_and_never_writes_a_broken_sheet(workspace):
    from grader.quiz import SheetWriter

    path = workspace / "exercises" / "quiz.py"
    original = path.read_text(encoding="utf-8")
    writer = SheetWriter(path)
    assert writer.record("q1_role_of_pe", "b") and not writer.record("q1_role_of_pe", "B")  # same answer
    assert writer.record("kv_cache", "d")
    assert [b.read_text(encoding="utf-8") for b in writer.backups] == [original]  # one copy: ours changed
    edited = path.read_text(encoding="utf-8") + "# a note the learner added meanwhile\n"
    path.write_text(edited, encoding="utf-8")
    assert writer.record("kv_cache", "a")
    assert writer.backups[-1].read_text(encoding="utf-8") == edited  # their version is kept too
    assert path.read_text(encoding="utf-8").endswith("# a note the learner added meanwhile\n")
    broken = path.read_text(encoding="utf-8") + "ANSWERS[\n"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(
        SheetError, match=r'syntax error .*not recorded: ANSWERS\["q1_permutation"\] = \(True, "a"\)'
    ):
        writer.record("q1_permutation", (True, "a"))
    assert path.read_text(encoding="utf-8") == broken
    assert writer.written == ["q1_role_of_pe", "kv_cache", "kv_cache"]
