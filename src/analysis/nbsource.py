"""Source notebooks as files: parameters cell, code and narrative, stripping, and the note's copy.

Fast on purpose (json + ast, no nbformat or papermill import): the build plan reads every
notebook on each `make report`.

- `declared_parameters(nb)`: the names (and literal defaults) the `parameters` cell assigns.
- `execution_cells(nb)`: what execution depends on (code cells: id, source, parameters tag).
- `note_copy(executed, source)`: the executed notebook with the source notebook's narrative,
  cells matched by id, so a markdown-only edit re-renders the note without re-executing.
- `strip_file(path)`: outputs and run metadata removed; the file is rewritten only if it changes.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path

from .errors import display_path

#: The project's Jupyter kernel (installed into .venv by `make env`); the build and Lab use it.
KERNEL_NAME = "crwv-note"
KERNEL_DISPLAY_NAME = "crwv-note (project .venv)"
KERNELSPEC = {"display_name": KERNEL_DISPLAY_NAME, "language": "python", "name": KERNEL_NAME}
PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"


class NotebookError(ValueError):
    """A source notebook the build cannot use (no parameters cell, a cell without an id, ...)."""


@dataclass(frozen=True)
class Declared:
    """One assignment in a parameters cell: its literal default (`has_default` False when the
    right-hand side is not a literal) and its 1-based line in the cell."""

    name: str
    default: object
    has_default: bool
    line: int


def read(path) -> dict:
    """A notebook file as a plain dict (nbformat 4 JSON)."""
    try:
        with open(path, encoding="utf-8") as fh:
            nb = json.load(fh)
    except json.JSONDecodeError as exc:
        raise NotebookError(f"{display_path(path)}, line {exc.lineno}, column {exc.colno}: not valid notebook JSON ({exc.msg}); "
                            "restore it from git or re-save it in JupyterLab") from None
    except UnicodeDecodeError:
        raise NotebookError(f"{display_path(path)}: not UTF-8 text") from None
    if not isinstance(nb, dict) or nb.get("nbformat") != 4 or not isinstance(nb.get("cells"), list):
        raise NotebookError(f"{display_path(path)}: not an nbformat 4 notebook")
    return nb


def source_text(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def tags(cell: dict) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def python_text(source: str) -> str:
    """Cell source as parseable Python: IPython magics and shell escapes commented out."""
    return "\n".join("# " + ln if ln.lstrip().startswith(("%", "!")) else ln for ln in source.splitlines())


def parameters_cell(nb: dict) -> dict | None:
    for cell in nb["cells"]:
        if cell.get("cell_type") == "code" and PARAMETERS_TAG in tags(cell):
            return cell
    return None


def declared_parameters(nb: dict) -> dict[str, Declared]:
    """Names assigned at the top level of the `parameters` cell, in order (empty if none)."""
    cell = parameters_cell(nb)
    if cell is None:
        return {}
    out: dict[str, Declared] = {}
    try:
        tree = ast.parse(python_text(source_text(cell)))
    except SyntaxError as exc:
        raise NotebookError(f"the parameters cell (id {cell.get('id')}), line {exc.lineno}: {exc.msg}; expected "
                            "plain assignments `name = value`") from None
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        value = getattr(node, "value", None)
        for t in targets:
            if isinstance(t, ast.Name):
                try:
                    default, ok = (ast.literal_eval(value), True) if value is not None else (None, False)
                except (ValueError, SyntaxError, TypeError):
                    default, ok = None, False
                out[t.id] = Declared(t.id, default, ok, node.lineno)
    return out


def _cell_id(cell: dict, index: int, path) -> str:
    cid = cell.get("id")
    if not cid:
        raise NotebookError(f"{path}: cell {index + 1} has no id (nbformat 4.5); open and save it in "
                            "JupyterLab, or run `make strip`")
    return cid


def execution_cells(nb: dict, path="notebook") -> list[list]:
    """[id, is-parameters-cell, source] of each code cell: all that execution depends on."""
    return [[_cell_id(c, i, path), PARAMETERS_TAG in tags(c), source_text(c)]
            for i, c in enumerate(nb["cells"]) if c.get("cell_type") == "code"]


def layout(nb: dict, path="notebook") -> list[list]:
    """[type, id, tags, source] of every cell: what the note's copy of the notebook shows
    besides the outputs (narrative, order, display tags)."""
    return [[c.get("cell_type"), _cell_id(c, i, path), tags(c), source_text(c)] for i, c in enumerate(nb["cells"])]


def code_sources(nb: dict) -> list[str]:
    """Python source of each code cell (for import and name scanning)."""
    return [python_text(source_text(c)) for c in nb["cells"] if c.get("cell_type") == "code"]


def failing_cell(executed: dict, source: dict) -> tuple[int | None, str | None]:
    """The cell of an executed notebook that raised, as numbered in the source notebook (1-based,
    every cell counted; papermill's injected and error-banner cells are not): (number, cell id)."""
    cid = next((c.get("id") for c in executed.get("cells", []) if c.get("cell_type") == "code"
                and any(o.get("output_type") == "error" for o in c.get("outputs", []))), None)
    for i, c in enumerate(source["cells"]):
        if cid is not None and c.get("id") == cid:
            return i + 1, cid
    return None, cid


def note_copy(executed: dict, source: dict, path="notebook") -> dict:
    """The executed notebook with the source's cells: narrative and tags from `source`, outputs
    of each code cell from the executed cell with the same id (whose code must be the same);
    papermill's injected-parameters cell stays right after the parameters cell."""
    by_id = {c.get("id"): c for c in executed["cells"]}
    injected = next((c for c in executed["cells"] if INJECTED_TAG in tags(c)), None)
    cells = []
    for i, cell in enumerate(source["cells"]):
        cid = _cell_id(cell, i, path)
        if cell.get("cell_type") != "code":
            cells.append(cell)
            continue
        ran = by_id.get(cid)
        if ran is None or source_text(ran) != source_text(cell):
            raise NotebookError(f"{path}: code cell {i + 1} (id {cid}) is not in the executed copy; re-execute it")
        ran = {**ran, "metadata": {**ran.get("metadata", {}), "tags": tags(cell)}}
        if not ran["metadata"]["tags"]:
            ran["metadata"].pop("tags")
        cells.append(ran)
        if PARAMETERS_TAG in tags(cell) and injected is not None:
            cells.append(injected)
    return {**executed, "cells": cells}


def dumps(nb: dict) -> str:
    """Notebook JSON as Jupyter writes it (indent 1, sorted keys, trailing newline)."""
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


# ----------------------------------------------------------------------------- stripping

#: Cell metadata kept by `strip` (everything else is run noise: execution times, collapsed, ...).
KEEP_CELL_METADATA = frozenset({"tags"})


def strip(nb):
    """An nbformat notebook without outputs, execution counts, run metadata; the project kernel.

    Uses nbconvert's ClearOutput/ClearMetadata preprocessors; cell tags are kept, and the
    notebook metadata is reduced to the project's kernelspec and the language name."""
    from nbconvert.preprocessors import ClearMetadataPreprocessor, ClearOutputPreprocessor

    nb, _ = ClearOutputPreprocessor().preprocess(nb, {})
    nb, _ = ClearMetadataPreprocessor(preserve_cell_metadata_mask=set(KEEP_CELL_METADATA),
                                      preserve_nb_metadata_mask={("language_info", "name")}).preprocess(nb, {})
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata.setdefault("language_info", {})["name"] = "python"
    return nb


def strip_file(path) -> bool:
    """Strip a notebook in place; rewrite it only if that changes it. Returns True if rewritten."""
    import nbformat

    path = Path(path)
    raw = path.read_text(encoding="utf-8")
    nb = strip(nbformat.reads(raw, as_version=4))
    text = nbformat.writes(nb)
    if text.rstrip("\n") == raw.rstrip("\n"):
        return False
    tmp = path.with_name(f".{path.name}.strip.tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    tmp.replace(path)
    return True
