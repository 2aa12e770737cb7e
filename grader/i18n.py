"""The learner's language: English (`en`, the source text) or Chinese (`zh`), through gettext.

Every learner-facing text is written in English in the code and marked for translation:
`tr("text with {name}", name=value)` where it is shown (every marked text is a `str.format` template:
named fields, which a translation may reorder, and `{{`/`}}` for a literal brace), `N_("text")` where
it is only defined (a table, a default) and translated later with `tr(text)`. `fail("...", **fields)`
(grader/checking.py) and `@check(points, "name")` are marked too. Babel extracts the
marked texts into `grader/locale/ropekit.pot` (`python -m grader.i18n extract`), the translations live
in `grader/locale/zh/LC_MESSAGES/ropekit.po` (terms from `grader/locale/GLOSSARY.md`), and
`python -m grader.i18n compile` writes the `.mo` that gettext reads at run time (committed, so that
no install step needs Babel; a test keeps it in sync with the `.po`).

The language is chosen, first match wins, by `set_language(...)` (a notebook) or `--lang` (any
command; it sets `ROPEKIT_LANG` so that grading children inherit it), by `ROPEKIT_LANG=zh|en`, and by
the locale (`LC_ALL`, `LC_MESSAGES`, `LANG`, `LANGUAGE`: zh_CN.UTF-8 gives `zh`). Anything else is
English.
"""

from __future__ import annotations

import gettext as _gettext
import os
import sys
from pathlib import Path

DOMAIN = "ropekit"
LOCALE_DIR = Path(__file__).with_name("locale")
LANGUAGES = ("en", "zh")
ENV = "ROPEKIT_LANG"
# The calls whose string argument Babel extracts (None: the first argument; (2,): the second)
KEYWORDS = {"N_": None, "tr": None, "fail": None, "fail_unfinished": None, "check": (2,)}

_cache: dict[tuple[str, str], _gettext.NullTranslations] = {}


def _from_locale() -> str:
    for var in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = os.environ.get(var, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def _normalize(lang: str) -> str:
    """`zh_CN`, `zh-Hans`, ` ZH ` -> `zh`."""
    return str(lang).strip().lower().split("_")[0].split("-")[0]


def language() -> str:
    """The language texts are shown in now: `en` or `zh` (or a test's pseudo-language)."""
    chosen = _normalize(os.environ.get(ENV, ""))
    return chosen or _from_locale()


def set_language(lang: str) -> str:
    """Show every text of the kit in `lang` from now on (`"zh"` or `"en"`), in this process and in
    the grading children it starts. Returns the language set."""
    lang = _normalize(lang)
    if lang not in LANGUAGES and not (_locale_dir() / lang).is_dir():
        raise ValueError(f"unknown language {lang!r}: choose one of {', '.join(LANGUAGES)}")
    os.environ[ENV] = lang
    return lang


def _locale_dir() -> Path:
    return Path(os.environ.get("ROPEKIT_LOCALE_DIR") or LOCALE_DIR)


def translation(lang: str | None = None) -> _gettext.NullTranslations:
    """The gettext catalog of `lang` (default: the current language; English: no catalog, the source
    text)."""
    lang, where = lang or language(), str(_locale_dir())
    key = (lang, where)
    if key not in _cache:
        _cache[key] = (
            _gettext.NullTranslations()
            if lang == "en"
            else _gettext.translation(DOMAIN, where, languages=[lang], fallback=True)
        )
    return _cache[key]


def gettext(message: str) -> str:
    """`message` in the current language, as is (no fields filled in)."""
    return translation().gettext(message) if message else message


def gettext_in(lang: str, message: str) -> str:
    """`message` in `lang`, whatever the current language (for texts shown in both languages)."""
    return translation(lang).gettext(message) if message else message


def N_(message: str) -> str:
    """Mark `message` for translation where it is defined; translate it with `tr()` where it is shown."""
    return message


def tr(template: str, **fields: object) -> str:
    """`template` in the current language, its `{name}` fields filled in (a translation may reorder
    them; `{{` and `}}` are literal braces). A field that is itself a marked text (`N_`) is shown
    translated too. Without fields the text is only unescaped, never formatted, so a text built
    earlier (an already translated message) passes through unchanged."""
    text = gettext(template)
    if not fields:
        return text.replace("{{", "{").replace("}}", "}")
    return text.format(**{name: gettext(v) if isinstance(v, str) else v for name, v in fields.items()})


def ngettext(singular: str, plural: str, n: int) -> str:
    return translation().ngettext(singular, plural, n)


# argparse's own texts ("usage:", "options", "show this help message and exit", its errors), marked
# here so that they are extracted into the kit's catalog; install_argparse() makes argparse use it.
ARGPARSE_TEXTS = (
    N_("usage: "),
    N_("options"),
    N_("positional arguments"),
    N_("show this help message and exit"),
    N_("%(prog)s: error: %(message)s\n"),
    N_("the following arguments are required: %s"),
    N_("unrecognized arguments: %s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("expected one argument"),
    N_("invalid %(type)s value: %(value)r"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("not allowed with argument %s"),
    N_("one of the arguments %s is required"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
)


def install_argparse() -> None:
    """Let argparse's own texts follow the kit's language (it looks them up through gettext)."""
    import argparse

    argparse._ = gettext  # argparse calls _() (gettext.gettext) at the moment it formats a text
    argparse.ngettext = ngettext


# The learner-facing fields of the TOML files, extracted by extract_toml (babel.cfg maps it): per
# array of tables, its fields, and its nested arrays of tables with theirs. A value is extracted as the
# code holds it: the quiz strips its items' texts (grader/quiz.py), not its options'.
TOML_TEXTS = {
    "exercise": {"fields": ("title_en", "hints", "seed")},
    "item": {
        "fields": ("question_en", "model_en", "explain"),
        "strip": True,
        "nested": {"options": ("en", "why"), "mistakes": ("why",)},
    },
}


def extract_toml(fileobj, keywords, comment_tags, options):
    """Babel extractor: the texts of TOML_TEXTS's fields, with the line each starts on."""
    from .catalog import tomllib

    raw = fileobj.read().decode("utf-8")
    lines = raw.splitlines()

    def line_of(text: str) -> int:
        probe = text.replace("\\", "\\\\").replace('"', '\\"')[:40]
        return next((i for i, line in enumerate(lines, 1) if probe in line), 0)

    def texts(value):
        return value if isinstance(value, list) else [value] if isinstance(value, str) and value else []

    data = tomllib.loads(raw)
    for table, spec in TOML_TEXTS.items():
        for entry in data.get(table, []):
            where = f"{table} {entry.get('id', '')}"
            for name in spec["fields"]:
                for text in texts(entry.get(name)):
                    text = text.strip() if spec.get("strip") else text
                    yield line_of(text), "N_", text, [f"{where}: {name}"]
            for nested, names in spec.get("nested", {}).items():
                for sub in entry.get(nested, []):
                    for name in names:
                        for text in texts(sub.get(name)):
                            yield line_of(text), "N_", text, [f"{where}: {nested}.{name}"]


def _babel(*args: str) -> None:
    from babel.messages.frontend import main as pybabel

    sys.argv = ["pybabel", *args]
    pybabel()


def main(argv: list[str] | None = None) -> None:
    """`python -m grader.i18n extract|update|compile`: the maintainers' Babel steps."""
    argv = sys.argv[1:] if argv is None else argv
    command = argv[0] if argv else "help"
    root = Path(__file__).resolve().parent.parent
    pot = str(LOCALE_DIR / f"{DOMAIN}.pot")
    os.chdir(root)
    if command == "extract":
        keywords = [
            arg
            for name, spec in KEYWORDS.items()
            for arg in ("-k", name if spec is None else f"{name}:{','.join(map(str, spec))}")
        ]
        _babel(
            "extract", "-F", "grader/locale/babel.cfg", "-o", pot, "--no-wrap", "--sort-by-file",
            "--project", "ropekit", "--omit-header", *keywords, "grader",
        )  # fmt: skip
    elif command == "update":
        _babel(
            "update", "-i", pot, "-d", str(LOCALE_DIR), "-D", DOMAIN, "--no-wrap", "--ignore-obsolete",
            "--no-fuzzy-matching",
        )  # fmt: skip
    elif command == "compile":
        _babel("compile", "-d", str(LOCALE_DIR), "-D", DOMAIN, "--statistics")
    else:
        print("usage: python -m grader.i18n extract|update|compile")


if __name__ == "__main__":
    main()
