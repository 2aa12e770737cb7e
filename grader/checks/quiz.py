"""Hidden checks for exercises/quiz.py: one check per quiz item, worth the item's points.

The expected answers come from grader/quiz.toml (the grader's stored fixture). The learner's answers are
`impl.ANSWERS[item_id]`. A wrong answer fails with the teaching text of what was chosen (why that
option is wrong, or which slip gives that number); an unanswered one with "not answered yet".
The check functions are generated from the data, one `test_<item id>` per item, in the file's order.
"""

from __future__ import annotations

from ..checking import check, fail, type_name
from ..i18n import tr
from ..quiz import Item, grade, load_items


def _answers(impl) -> dict:
    answers = getattr(impl, "ANSWERS", None)
    if answers is None:
        fail("exercises/quiz.py must define ANSWERS = {{...}} (see its first lines); it is missing")
    if not isinstance(answers, dict):
        fail("ANSWERS must be a dict of question id -> answer, got {type_name}", type_name=type_name(answers))
    return answers


def _make_check(item: Item):
    def test_item(impl) -> None:
        verdict = grade(item, _answers(impl).get(item.id))
        if not verdict.correct:
            fail(verdict.message)

    test_item.__name__ = test_item.__qualname__ = f"test_{item.id}"
    test_item.__doc__ = tr("Quiz item {id}: {title}.", id=item.id, title=item.title)
    return check(item.points, f"{item.id}: {item.title}")(test_item)


for _item in load_items():
    globals()[f"test_{_item.id}"] = _make_check(_item)
del _item
