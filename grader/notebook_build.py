"""The notebooks in English and in Chinese, from one jupytext source each.

`notebooks/NN_name.py` (jupytext's percent format) holds both languages: a markdown cell of English
prose is tagged `en` and followed by its Chinese, tagged `zh`; code cells and cells without prose are
shared. `python -m grader.notebook_build` writes `notebooks/NN_name.ipynb` (the untagged and `en`
cells) and `notebooks/zh/NN_name.ipynb` (the untagged and `zh` cells, with a first code cell that
calls `set_language("zh")`, so that every check and message in it is Chinese too). Both are
committed without outputs; tests/test_notebooks.py keeps them in sync with their sources.
"""

from __future__ import annotations

import copy
import hashlib
import sys
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
FOLDERS = {"en": NOTEBOOKS, "zh": NOTEBOOKS / "zh"}
ZH_SETUP = 'from grader import set_language\n\nset_language("zh")  # 检查结果、提示和报错都用中文显示'


def sources() -> list[Path]:
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))


def build(source: Path) -> dict:
    """{language: notebook} for one jupytext source (cells without outputs, stable cell ids)."""
    import jupytext
    import nbformat

    text = jupytext.read(source)
    built = {}
    for lang in FOLDERS:
        other = "zh" if lang == "en" else "en"
        cells = []
        for cell in text.cells:
            tags = cell.metadata.get("tags", [])
            if other in tags:
                continue
            cell = copy.deepcopy(cell)
            kept = [t for t in tags if t not in FOLDERS]
            if kept:
                cell.metadata["tags"] = kept
            else:
                cell.metadata.pop("tags", None)
            cells.append(cell)
        if lang == "zh":
            first_code = next((i for i, c in enumerate(cells) if c.cell_type == "code"), len(cells))
            cells.insert(first_code, nbformat.v4.new_code_cell(ZH_SETUP))
        notebook = nbformat.v4.new_notebook(metadata={"kernelspec": text.metadata.get("kernelspec", {})})
        seen: set[str] = set()
        for cell in cells:
            new = (
                nbformat.v4.new_code_cell(cell.source)
                if cell.cell_type == "code"
                else nbformat.v4.new_markdown_cell(cell.source)
            )
            new.metadata.update(cell.metadata)
            digest = hashlib.sha1(f"{lang}\n{cell.cell_type}\n{cell.source}".encode()).hexdigest()
            cell_id = next(digest[i : i + 8] for i in range(0, 33) if digest[i : i + 8] not in seen)
            seen.add(cell_id)
            new.id = cell_id
            notebook.cells.append(new)
        built[lang] = notebook
    return built


def target(source: Path, lang: str) -> Path:
    return FOLDERS[lang] / source.with_suffix(".ipynb").name


def main(argv: list[str] | None = None) -> int:
    """Write both notebooks of every source (or of the sources named)."""
    import nbformat

    names = sys.argv[1:] if argv is None else argv
    for source in [Path(n).resolve() for n in names] or sources():
        for lang, notebook in build(source).items():
            path = target(source, lang)
            path.parent.mkdir(exist_ok=True)
            nbformat.write(notebook, path)
            print(f"wrote {path.relative_to(NOTEBOOKS.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
