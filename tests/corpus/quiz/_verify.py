"""Verify the quiz corpus against what the questions themselves state.

Run from the repository root: python tests/corpus/quiz/_verify.py
The item list, each item's kind, its option letters and its tolerance are parsed from the question
comments of exercises/quiz.py. An answer is well-formed when it has the form the sheet's docstring gives
for its kind; it is right when it equals the key below (numbers recomputed here from the question text,
within the stated tolerance). The key is cross-checked against the reference sheet as a black box.
Each wrong case must fail exactly the one item it names; each valid case must pass every item.
"""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests" / "corpus"))
sys.path.insert(0, str(ROOT))

from _load import cases, load_case, load_reference  # noqa: E402

STUB = (ROOT / "exercises" / "quiz.py").read_text(encoding="utf-8")
KINDS = {"single choice": "single", "multiple choice": "multiple", "myth or fact": "truefalse", "numeric": "numeric"}


def parse_items():
    items = {}
    blocks = re.split(r"\n# -{20,}\n", STUB)
    for block in blocks:
        head = re.match(r"# \d+\. \[(\w+)\] ([a-z ]+?)(?:,| \d)", block)
        if not head:
            continue
        item_id, kind = head.group(1), KINDS[head.group(2).strip()]
        letters = sorted(set(re.findall(r"^#   ([a-f])\) ", block, flags=re.M)))
        flat = re.sub(r"\n#\s*", " ", block)  # the question text may wrap across comment lines
        tol = ("exact", 0.0)
        if m := re.search(r"relative tolerance ([\d.]+) %", flat):
            tol = ("rel", float(m.group(1)) / 100)
        elif m := re.search(r"absolute tolerance ([\d.]+)", flat):
            tol = ("abs", float(m.group(1)))
        items[item_id] = {"kind": kind, "letters": letters, "tol": tol}
    return items


# numbers recomputed from the questions' text
NUMERIC_KEY = {
    "q4_ntk_base": 10000 * 4 ** (128 / 126),  # base * s ** (d / (d - 2))
    "num_seed_sinusoidal_width": 2 * len(range(0, 512 // 2, 2)),  # cat(sin, cos) of 128 exponents
    "num_longest_wavelength": 2 * math.pi / 10000 ** (-2 * 63 / 128),
    "num_kv_position": 37 + 2,  # positions 0..36 prompt, 37 and 38 generated
    "num_angle": 100 * 10000 ** (-2 * 3 / 64),
    "num_flops": 2 * 1024 * 64 * 6,  # q and k, T tokens, d/2 pairs, 6 FLOPs each
    "num_score_2d": math.cos((2 - 5) * 1.0),
    "num_yarn_factor": 0.1 * math.log(16) + 1,
}
CHOICE_KEY = {
    "q1_role_of_pe": "b", "q1_permutation": (True, "a"), "q2_absolute_shortfall": {"a", "b"},
    "q2_sinusoidal_offset": (True, "a"), "q3_core_idea": "c", "q3_relative_identity": "a",
    "q3_advantages": {"a", "b", "c", "e"}, "q4_long_context": {"a", "b", "c"}, "q4_long_term_decay": (False, "b"),
    "app_vision": (False, "a"), "faq1_transformer": "b", "faq2_where_applied": "c", "faq4_applications": {"a", "d"},
    "faq5_algorithm": "b", "faq7_limitations": {"a", "b", "c"}, "faq8_optimise": {"a", "b", "c"},
    "myth_softmax_rotation": (False, "c"), "myth_odd_dimension": (False, "b"), "myth_complexity": (False, "a"),
    "myth_citation": (False, "b"), "myth_sinusoidal_code": (False, "c"), "myth_added_to_embeddings": (False, "a"),
    "myth_groups_of_positions": (False, "b"), "seed_code_bugs": {"a", "b", "c"}, "why_base_10000": "a",
    "why_only_qk": "b", "larger_base": {"a", "b", "c"}, "rope_vs_alibi": {"a", "b", "d"}, "nope_causal": (False, "b"),
    "kv_cache": "d", "seed_worked_example": {"a", "b", "c"},
}


def well_formed(item, value):
    kind, letters = item["kind"], item["letters"]
    if kind == "single":
        return isinstance(value, str) and value in letters
    if kind == "multiple":
        return isinstance(value, set) and len(value) > 0 and all(isinstance(v, str) and v in letters for v in value)
    if kind == "truefalse":
        return (isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], bool)
                and isinstance(value[1], str) and value[1] in letters)
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def right(item_id, item, value):
    if item["kind"] != "numeric":
        return value == CHOICE_KEY[item_id]
    exp = NUMERIC_KEY[item_id]
    mode, tol = item["tol"]
    if mode == "exact":
        return value == exp
    if mode == "rel":
        return abs(value - exp) <= tol * abs(exp)
    return abs(value - exp) <= tol


def lenient(item, value):
    """The grader also reads option letters and numbers written as text (maintainer's relabelling)."""
    if isinstance(value, str) and item["kind"] == "multiple":
        return {v.strip() for v in value.replace(";", ",").split(",") if v.strip()}
    if isinstance(value, str) and item["kind"] == "numeric":
        try:
            return float(value)
        except ValueError:
            return value
    return value


def item_failures(items, answers):
    out = {}
    for item_id, item in items.items():
        value = lenient(item, answers.get(item_id))
        if not well_formed(item, value):
            out[item_id] = f"ill-formed for a {item['kind']} item: {value!r}"
        elif not right(item_id, item, value):
            out[item_id] = f"wrong: {value!r}"
    return out


EXPECTED = {
    "wrong_myth_bare_bool": "myth_complexity", "wrong_single_as_set": "q1_role_of_pe",
    "wrong_seed_complexity_claim": "myth_complexity", "wrong_seed_advantages_complexity": "q3_advantages",
    "wrong_kv_position_off_by_one": "num_kv_position", "wrong_angle_exponent_i_over_d": "num_angle",
    "wrong_seed_width_from_comment": "num_seed_sinusoidal_width", "wrong_myth_citation_wrong_reason": "myth_citation",
}


def main() -> int:
    sheet = parse_items()
    # maintainer: this corpus covers the 39 items it was written for; items added later (Track E) are
    # answered in every case as the reference sheet does and graded by tests/test_quiz.py
    items = {k: v for k, v in sheet.items() if k in set(NUMERIC_KEY) | set(CHOICE_KEY)}
    assert len(items) == 39 and set(items) == set(NUMERIC_KEY) | set(CHOICE_KEY), sorted(items)
    assert sum(i["kind"] == "numeric" for i in items.values()) == len(NUMERIC_KEY)
    exact = {"num_seed_sinusoidal_width", "num_kv_position", "num_flops"}
    assert {k for k, i in items.items() if i["kind"] == "numeric" and i["tol"][0] == "exact"} == exact, items
    ref = load_reference("quiz")
    ref_fails = item_failures(items, ref.ANSWERS)
    assert not ref_fails, f"key disagrees with the reference sheet: {ref_fails}"
    failed = 0
    for path in cases("quiz"):
        name = path.stem
        mod = load_case(path)
        fails = item_failures(items, mod.ANSWERS)
        if set(mod.ANSWERS) != set(sheet):
            print(f"FAIL {path.name} answers {len(mod.ANSWERS)} items, not the sheet's {len(sheet)}")
            failed += 1
        elif name.startswith("valid_"):
            if fails:
                print(f"FAIL {path.name} {fails}")
                failed += 1
            else:
                print(f"OK {path.name} all 39 answers well-formed and right (numeric within the stated tolerance)")
        elif set(fails) != {EXPECTED.get(name)}:
            print(f"FAIL {path.name} expected only {EXPECTED.get(name)} to fail, got {fails}")
            failed += 1
        else:
            (item_id, msg), = fails.items()
            print(f"OK {path.name} {item_id}: {msg}; the other 38 answers are right")
    print(f"{len(cases('quiz', 'wrong'))} wrong, {len(cases('quiz', 'valid'))} valid, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
