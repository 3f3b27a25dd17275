"""Note assembly: executed notebooks + results -> one notebook -> crwv-note.html and crwv-note.pdf.

1. Sections: each executed notebook present in `<build>/executed`, in `sections.SECTIONS` order,
   cleaned by cell tags (TagRemovePreprocessor: `hide-input` drops the input; `remove-cell`,
   `parameters`, `injected-parameters` drop the cell) and stripped of streams, errors and
   plain-text-only outputs. Absent notebooks are simply left out.
2. Front page and back matter from the results files (`front.py`).
3. Exhibits numbered across the note ("Table n", "Figure n") in reading order.
4. Both renderers run on that one notebook; both files are written only when both renders have
   succeeded, each atomically (temp file + rename), so a failure leaves the previous note intact.
"""

from __future__ import annotations

import copy
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
from nbconvert.preprocessors import TagRemovePreprocessor

from ..atomic import signals_deferred
from ..results import atomic_write_bytes
from . import front
from .exhibits import EXHIBIT_MIME, exhibit_html
from .html import render_html
from .pdf import TYPST_MIME, column_fit, render_pdf
from .sections import present_sections, results_dir

HTML_NAME = "crwv-note.html"
PDF_NAME = "crwv-note.pdf"
KEEP_MIMES = (EXHIBIT_MIME, TYPST_MIME, "text/html", "text/markdown", "image/svg+xml", "image/png")
LABELS = {"table": "Table", "figure": "Figure"}
#: a text column whose longest cell has at most this many characters is kept on one line (HTML)
SHORT_CELL_CHARS = 16


def _tag_remover() -> TagRemovePreprocessor:
    return TagRemovePreprocessor(
        enabled=True,
        remove_cell_tags={"remove-cell", "parameters", "injected-parameters"},
        remove_input_tags={"hide-input"},
        remove_all_outputs_tags={"remove-output"},
    )


def clean_notebook(nb) -> list:
    """The cells of an executed notebook that belong in the note, with only displayable outputs."""
    nb, _ = _tag_remover().preprocess(nb, {})
    cells = []
    for cell in nb.cells:
        tags = list(cell.get("metadata", {}).get("tags", []))
        if cell.cell_type == "markdown":
            if cell.source.strip():
                cells.append(nbformat.v4.new_markdown_cell(cell.source, metadata={"tags": tags}))
            continue
        if cell.cell_type != "code":
            continue
        outputs = []
        for out in cell.get("outputs", []):
            if out.get("output_type") not in ("display_data", "execute_result"):
                continue  # streams (prints, warnings) and errors are not part of the note
            data = {k: v for k, v in out.get("data", {}).items() if k in KEEP_MIMES}
            if data:
                outputs.append(nbformat.v4.new_output("display_data", data=data))
        if outputs:
            c = nbformat.v4.new_code_cell("", metadata={"tags": tags})
            c.outputs = outputs
            cells.append(c)
    return cells


def number_exhibits(cells) -> list[str]:
    """Label every exhibit "Table n" / "Figure n" in reading order; returns the labels."""
    count = {"table": 0, "figure": 0}
    labels = []
    for cell in cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            d = out.get("data", {}).get(EXHIBIT_MIME)
            if d is None:
                continue
            count[d["kind"]] += 1
            d["label"] = f"{LABELS[d['kind']]} {count[d['kind']]}"
            if d["kind"] == "table":
                layout_table(d["table"])
            out["data"]["text/html"] = exhibit_html(d)
            labels.append(d["label"])
    return labels


def layout_table(t: dict) -> dict:
    """Column hints shared by both renderers, set in place on an exhibit's `table` content:
    numeric-looking columns are right-aligned (also when their cells are preformatted strings);
    `nowrap` marks columns never wrapped in HTML (numeric, or every cell short)."""
    fit = column_fit(t["columns"], t["rows"], t["align"])
    t["align"] = ["r" if f["num"] else a for f, a in zip(fit, t["align"], strict=True)]
    t["nowrap"] = [f["num"] or max((len(r[i]) for r in t["rows"]), default=0) <= SHORT_CELL_CHARS
                   for i, f in enumerate(fit)]
    return t


_ID = re.compile(r"\[([A-Za-z0-9_]+(?::[A-Za-z0-9_.-]+)?)\]")


def exhibit_source_ids(cells) -> list[str]:
    """Source ids cited as [ID] in exhibit source lines (for the sources table)."""
    ids: dict[str, None] = {}
    for cell in cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            d = out.get("data", {}).get(EXHIBIT_MIME)
            if d is not None:
                for m in _ID.finditer(d.get("source") or ""):
                    ids.setdefault(m.group(1))
    return list(ids)


def _registry():
    from ..data import load_sources

    try:
        return load_sources()
    except (OSError, ValueError):
        return None


def assemble(build_dir: Path, params: dict, meta: dict, registry=None):
    """The whole note as one notebook (front page, sections in order, back matter), numbered."""
    build_dir = Path(build_dir)
    registry = _registry() if registry is None else registry
    present = present_sections(build_dir)
    section_cells = []
    for _stem, path in present:
        section_cells += clean_notebook(nbformat.read(path, as_version=4))
    rdir = results_dir(build_dir)
    cells = [*front.front_cells(rdir, params, meta, registry), *section_cells]
    cited = exhibit_source_ids(cells)
    cells += front.back_cells(rdir, params, meta, registry, [s for s, _ in present], cited)
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"crwv": {"title": f"{front.TITLE}: research note as of {meta.get('as_of') or 'latest data'}"},
                   "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                   "language_info": {"name": "python"}}
    for i, c in enumerate(cells):
        c["id"] = f"cell-{i:04d}"  # stable ids: deterministic output
    nb.cells = cells
    number_exhibits(nb.cells)
    return nb


def pdf_doc(meta: dict) -> dict:
    as_of = meta.get("as_of") or meta.get("build_date")
    return {"title": f"{front.TITLE}: research note", "short_title": f"{front.COMPANY} ({front.TICKER}) | {front.KICKER}",
            "as_of": as_of, "date": meta.get("build_date") or as_of,
            "footer_note": "Independent research. Not investment advice."}


def render_note(build_dir: Path, out_dir: Path, params: dict, meta: dict) -> tuple[Path, Path]:
    """Render `<out_dir>/crwv-note.html` and `.pdf` from `<build_dir>` (executed/ and results/).

    `meta`: as_of, build_date (ISO, from the data), commit, versions, checksums [(path, sha256)],
    params. Writes nothing unless both renders succeed; each file is replaced atomically.
    """
    build_dir, out_dir = Path(build_dir), Path(out_dir)
    nb = assemble(build_dir, params, meta)
    # the PDF (pandoc, then Typst, which releases the GIL) renders beside the HTML, on its own copy
    with ThreadPoolExecutor(max_workers=1) as pool:
        pdf_job = pool.submit(render_pdf, copy.deepcopy(nb), build_dir / "typst", pdf_doc(meta))
        html_bytes = render_html(nb)
        pdf_bytes = pdf_job.result()
    html_path, pdf_path = out_dir / HTML_NAME, out_dir / PDF_NAME
    with signals_deferred():  # an interrupt never leaves a new HTML beside an old PDF
        atomic_write_bytes(html_path, html_bytes)
        atomic_write_bytes(pdf_path, pdf_bytes)
    return html_path, pdf_path
