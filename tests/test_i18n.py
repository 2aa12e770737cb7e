"""The kit in Chinese: gettext catalogs complete and well-formed, and the real CLI speaking zh.

The English texts in the code are the msgids; grader/locale/zh/LC_MESSAGES/ropekit.po translates
them (python -m grader.i18n extract | update | compile). A pseudo-language, built here from the
template, finds learner-facing text that is not marked for translation: in it every marked text is
rewritten in full-width letters, so plain English words left in the output were never marked.
"""

from __future__ import annotations

import functools
import gettext
import io
import re
import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from conftest import ROOT, mutate, ropekit, solution_source

from grader import i18n

LOCALE = ROOT / "grader" / "locale"
PO = LOCALE / "zh" / "LC_MESSAGES" / "ropekit.po"
MO = PO.with_suffix(".mo")
CJK = re.compile(r"[\u4e00-\u9fff]")


def _catalog():
    with PO.open("rb") as handle:
        return read_po(handle)


@functools.cache
def _extracted() -> frozenset[str]:
    """The texts the code marks now (Babel, with the kit's own keywords and mapping)."""
    with (LOCALE / "babel.cfg").open() as handle:
        from babel.messages.frontend import parse_mapping_cfg

        method_map, options_map = parse_mapping_cfg(handle)
    return frozenset(
        {
            message
            for _, _, message, _, _ in extract_from_dir(
                ROOT / "grader", method_map, options_map, keywords=i18n.KEYWORDS, comment_tags=()
            )
            if isinstance(message, str) and message
        }
    )


def _fields(text: str, brace: bool) -> list[tuple[str, str, str]]:
    """(name, conversion, format spec) of each brace field, or the %-placeholders of a %-template."""
    if not brace:
        return sorted(
            ("%", "", p) for p in re.findall(r"%(?:\(\w+\))?[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrs]", text)
        )
    return sorted(
        (name, conv or "", spec or "") for _, name, spec, conv in string.Formatter().parse(text) if name
    )


def _sample(spec: str):
    """A value that a field with format spec `spec` accepts."""
    if spec and spec[-1] in "dxXobc":
        return 7
    return 1.5 if spec and (spec[-1] in "eEfFgG%" or "." in spec) else "x"


def test_every_marked_text_has_a_chinese_translation():
    catalog = _catalog()
    translated = {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(_extracted() - set(translated))
    assert not missing, (
        f"{len(missing)} texts lack a zh translation (python -m grader.i18n update): {missing[:5]}"
    )
    no_chinese = [
        i
        for i, s in translated.items()
        if not CJK.search(s) and re.search(r"[a-z]{3,} [a-z]{3,} [a-z]{3,}", i)
    ]
    assert not no_chinese, f"translations without any Chinese: {no_chinese[:5]}"


def test_translations_keep_the_fields():
    """Every {field} (with its format) or %-placeholder of a msgid stays in its translation; only an
    English plural suffix field may be dropped; a template still formats."""
    for message in _catalog():
        if not message.id:
            continue
        brace = "python-format" not in message.flags
        source, target = _fields(message.id, brace), _fields(message.string, brace)
        assert set(target) <= set(source), (message.id, message.string)
        if not brace:
            assert target == source, (message.id, message.string)
        elif source:  # a translation that formats, with any reordering of the fields
            message.string.format(**{name: _sample(spec) for name, _, spec in source})


def test_the_compiled_catalog_is_the_po():
    """grader/locale/zh/LC_MESSAGES/ropekit.mo (what gettext reads) holds exactly the .po's texts."""
    buffer = io.BytesIO()
    write_mo(buffer, _catalog())
    fresh = gettext.GNUTranslations(io.BytesIO(buffer.getvalue()))
    with MO.open("rb") as handle:
        committed = gettext.GNUTranslations(handle)
    assert committed._catalog == fresh._catalog, "run python -m grader.i18n compile"


def test_the_template_is_what_the_code_marks():
    with (LOCALE / "ropekit.pot").open("rb") as handle:
        template = {m.id for m in read_po(handle) if m.id}
    assert template == _extracted(), "run python -m grader.i18n extract && python -m grader.i18n update"


def test_glossary_terms_are_used():
    """The translations use the glossary's terms (a few that any message about RoPE needs)."""
    text = PO.read_text(encoding="utf-8")
    for term in ("旋转位置编码", "位置编码", "相对位置", "键值缓存", "分组查询注意力", "注意力"):
        assert term in text, term


def test_language_choice(monkeypatch):
    monkeypatch.delenv("ROPEKIT_LANG", raising=False)
    for var in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        monkeypatch.delenv(var, raising=False)
    assert i18n.language() == "en"
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert i18n.language() == "zh"
    monkeypatch.setenv("ROPEKIT_LANG", "en")
    assert i18n.language() == "en"
    assert i18n.set_language("zh_CN") == "zh" and i18n.language() == "zh"
    assert i18n.tr("Every exercise passes.") != "Every exercise passes."
    with pytest.raises(ValueError):
        i18n.set_language("fr")
    i18n.set_language("en")
    assert i18n.tr("Every exercise passes.") == "Every exercise passes."


WRONG_WAY = ("signs = torch.tensor([-1.0, 1.0]", "signs = torch.tensor([1.0, -1.0]")


def test_a_wrong_rope_graded_in_chinese_through_the_cli(workspace):
    (workspace / "exercises" / "rope.py").write_text(mutate(solution_source("rope"), [WRONG_WAY]))
    english = ropekit("check", "rope", root=workspace)
    chinese = ropekit("check", "rope", root=workspace, env={"ROPEKIT_LANG": "zh"})
    flag = ropekit("--lang", "zh", "check", "rope", root=workspace)
    assert english.returncode == chinese.returncode == flag.returncode == 1
    assert "rotation goes the wrong way" in english.stdout
    for done in (chinese, flag):
        assert "旋转方向反了" in done.stdout, done.stdout
        assert "旋转位置编码" in done.stdout  # the title
        assert "得分" in done.stdout and "检查项" in done.stdout
        assert "wrong way" not in done.stdout and "score" not in done.stdout


def test_cli_chrome_and_errors_in_chinese(workspace):
    listed = ropekit("list", root=workspace, env={"ROPEKIT_LANG": "zh"})
    assert listed.returncode == 0 and "未开始" in listed.stdout and "not started" not in listed.stdout
    hint = ropekit("hint", "rope", root=workspace, env={"ROPEKIT_LANG": "zh"})
    assert hint.returncode == 0 and CJK.search(hint.stdout.split(":", 1)[-1])
    helped = ropekit("check", "--help", "--lang", "zh", root=workspace)
    assert helped.returncode == 0 and "用法" in helped.stdout and "usage:" not in helped.stdout
    wrong = ropekit("check", "no_such_exercise", root=workspace, env={"ROPEKIT_LANG": "zh"})
    assert wrong.returncode == 2 and len(wrong.stderr.strip().splitlines()) == 1 and CJK.search(wrong.stderr)
    bad = ropekit("list", "--lang", "fr", root=workspace)
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and "fr" in bad.stderr


def test_notebook_api_switches_language(workspace):
    import grader

    try:
        assert grader.set_language("zh") == "zh"
        verdict = grader.check("rope", record=False)
        assert "旋转位置编码" in repr(verdict) and "尚未实现" in repr(verdict)
    finally:
        grader.set_language("en")
    assert "not implemented yet" in repr(grader.check("rope", record=False))


# ------------------------------------------------------------------------------------------------
# A pseudo-language: every marked text in full-width letters (fields, %-placeholders and rich tags
# kept), so that plain English left in what the grader prints was never marked for translation.

_KEEP = re.compile(
    r"(\{\{|\}\}|\{[^{}]*\}|%\([a-z_]+\)[a-z]|%[sdr]|\[/?(?:bold|dim|green|red|yellow|italic| )*\])"
)
ENGLISH = re.compile(r"[A-Za-z]{2,}(?:[ ,'-]+[A-Za-z]{2,}){2,}")  # three English words in a row
# what learner code raised (torch's and Python's own messages) is quoted, not the kit's text
EXTERNAL = re.compile(r"\b\w+(?:Error|Exception|Warning): .*?(?= \(at \w+\.py:\d+\)|$)", re.S)


def _wide(text: str) -> str:
    return "".join(
        part
        if _KEEP.fullmatch(part)
        else "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalpha() else c for c in part)
        for part in _KEEP.split(text)
    )


def pseudo_locale(folder: Path) -> Path:
    with (LOCALE / "ropekit.pot").open("rb") as handle:
        template = read_po(handle)
    catalog = Catalog(locale="zh")
    for message in template:
        if message.id:
            catalog.add(message.id, _wide(message.id), flags=message.flags)
    target = folder / "qps" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "ropekit.mo").open("wb") as handle:
        write_mo(handle, catalog)
    return folder


def test_every_message_of_the_wrong_corpus_is_marked(tmp_path, monkeypatch):
    """Each wrong answer of tests/corpus (all exercises but the slow classifier), graded in the
    pseudo-language: no message of the kit holds three plain English words in a row."""
    import test_corpus

    monkeypatch.setenv("ROPEKIT_LOCALE_DIR", str(pseudo_locale(tmp_path / "locale")))
    monkeypatch.setenv("ROPEKIT_LANG", "qps")
    exercises = sorted(
        {e for e, path in test_corpus.cases() if e != "classifier" and path.name.startswith("wrong")}
    )
    graded = test_corpus.grade_all(tmp_path / "work", exercises)
    assert len(graded) > 300
    unmarked = {}
    for (exercise, case), result in graded.items():
        for item in result["checks"]:
            for run in ENGLISH.findall(EXTERNAL.sub("", item["message"] or "")):
                unmarked.setdefault(run, f"{exercise}/{case}: {item['message'][:160]}")
    assert not unmarked, f"text never marked for translation: {unmarked}"
