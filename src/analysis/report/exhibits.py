"""Exhibits: tables and figures with a finding as title and a source line under them.

An exhibit displays in Jupyter as HTML, and carries the same content as JSON under
`EXHIBIT_MIME` so the PDF renderer can typeset it natively. Numbering ("Table n", "Figure n")
is done by the renderers across the whole note, so exhibits carry titles only.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Mapping

import pandas as pd

from . import fmt, style

EXHIBIT_MIME = "application/vnd.crwv.exhibit+json"


class Exhibit:
    """A table or figure ready to display. `data` holds the renderer-neutral content."""

    def __init__(self, kind: str, title: str, source: str, notes: str | None = None, **content):
        if kind not in ("table", "figure"):
            raise ValueError(kind)
        if not title or not source:
            raise ValueError("an exhibit needs a title (the finding) and a source line")
        self.data = {"kind": kind, "title": title, "source": source, "notes": notes, **content}

    def __repr__(self) -> str:  # stable text/plain (no memory address in executed notebooks)
        return f"<Exhibit {self.data['kind']}: {self.data['title']}>"

    # Jupyter display
    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/html": self.html(), EXHIBIT_MIME: json.loads(json.dumps(self.data))}

    def html(self) -> str:
        return exhibit_html(self.data)


def exhibit_html(d: Mapping) -> str:
    """HTML of an exhibit's JSON content; an optional `label` ("Table 3") prefixes the title."""
    label = f'<span class="exhibit-label">{html.escape(d["label"])}</span> ' if d.get("label") else ""
    cap = f'<figcaption class="exhibit-title">{label}{html.escape(d["title"])}</figcaption>'
    if d["kind"] == "table":
        t = d["table"]
        # optional `nowrap` (one bool per column, set by the note assembler): short columns stay on one line
        nowrap = t.get("nowrap") or [False] * len(t["columns"])
        cls = [a + (" nw" if w else "") for a, w in zip(t["align"], nowrap, strict=True)]
        head = "".join(f'<th class="{a}">{html.escape(c)}</th>' for c, a in zip(t["columns"], cls, strict=True))
        body = "".join(
            "<tr>" + "".join(f'<td class="{a}">{html.escape(v)}</td>' for v, a in zip(row, cls, strict=True)) + "</tr>"
            for row in t["rows"]
        )
        inner = f'<table class="exhibit-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    else:
        inner = f'<div class="exhibit-svg">{d["svg"]}</div>'
    notes = f'<p class="exhibit-notes">{html.escape(d["notes"])}</p>' if d.get("notes") else ""
    src = f'<p class="exhibit-source">Source: {html.escape(d["source"])}</p>'
    return f'<figure class="exhibit exhibit-{d["kind"]}">{cap}{inner}{notes}{src}</figure>'


Formatter = Callable[[object], str]


def _default_format(v) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, pd.Timestamp):
        return fmt.date(v)
    if isinstance(v, int):
        return f"{v:,d}"
    if isinstance(v, float):
        return fmt.num(v, 1)
    return fmt.NA if v is None or pd.isna(v) else str(v)


def table(df: pd.DataFrame, title: str, source: str, formats: Mapping[str, Formatter] | None = None,
          notes: str | None = None, index: bool = False) -> Exhibit:
    """Table exhibit from a DataFrame; `formats` maps column -> formatter (see `report.fmt`).

    Missing values print as 'n/a'. Numeric columns are right-aligned.
    """
    if index:
        df = df.reset_index()
    formats = dict(formats or {})
    cols = [str(c) for c in df.columns]
    rows = []
    for rec in df.itertuples(index=False, name=None):
        rows.append([
            (formats[c](v) if c in formats and not (v is None or (not isinstance(v, str) and pd.isna(v))) else
             (fmt.NA if v is None or (not isinstance(v, str) and pd.isna(v)) else _default_format(v)))
            for c, v in zip(cols, rec, strict=True)
        ])
    align = ["r" if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]) else "l"
             for c in df.columns]
    return Exhibit("table", title, source, notes, table={"columns": cols, "rows": rows, "align": align})


def figure(fig, title: str, source: str, notes: str | None = None, in_flow: bool = False) -> Exhibit:
    """Figure exhibit from a matplotlib figure (rendered to deterministic SVG, then closed). `in_flow`:
    the PDF keeps it where it stands in the text (after the paragraph before it) instead of floating
    it to a page's top or bottom, which can split a paragraph."""
    extra = {"in_flow": True} if in_flow else {}
    return Exhibit("figure", title, source, notes, svg=style.to_svg(fig), **extra)


def sources_line(source_ids, registry: pd.DataFrame | None = None) -> str:
    """'CoreWeave Q3-25 press release [PR_25Q3]; ...' from source ids (registry = load_sources())."""
    ids = [s for s in dict.fromkeys(source_ids) if s]
    if registry is None:
        return "; ".join(f"[{s}]" for s in ids)
    titles = dict(zip(registry["id"], registry["title"], strict=True))
    return "; ".join(f"{_short(titles.get(s, s))} [{s}]" for s in ids)


def _short(title: str, limit: int = 70) -> str:
    t = title.split(" (")[0]
    return t if len(t) <= limit else t[: limit - 1] + "\u2026"
