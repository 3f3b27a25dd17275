"""Exhibits: tables and figures with a finding as title and a source line under them.

An exhibit displays in Jupyter as HTML, and carries the same content as JSON under
`EXHIBIT_MIME` so the PDF renderer can typeset it natively. Numbering ("Table n", "Figure n")
is done by the renderers across the whole note, so exhibits carry titles only.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Mapping

import pandas as pd

from . import fmt

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
    from . import style  # (here, not at the top: the note's render draws nothing and skips pyplot)

    extra = {"in_flow": True} if in_flow else {}
    return Exhibit("figure", title, source, notes, svg=style.to_svg(fig), **extra)


#: source ids of daily prices: 'prices:<TICKER>' (the rows of data/prices/<TICKER>.csv)
PRICES_PREFIX = "prices:"

#: how a registry title says the document was written by a model, not a person ('partly': the file
#: also holds model-made rows, and only a quoted sentence of a filing is used from it)
_MODEL_MADE = re.compile(r"\bAI summary\b|\bAI-generated\b|\bmodel-made summary\b", re.I)
_PARTLY_MODEL_MADE = re.compile(r"\b(holds|with|has) model-made rows\b", re.I)

#: registry `source_kind` in reader words (primary documents first)
KIND_WORDS = {"filing": "primary (filing)", "press_release": "primary (press release)",
              "transcript": "call transcript", "secondary": "secondary", "news": "news or aggregator"}


def model_made(title) -> str:
    """'yes' when a registry title says the document is a model-made summary, 'partly' when the
    file also holds model-made rows, '' otherwise."""
    t = str(title or "")
    return "yes" if _MODEL_MADE.search(t) else "partly" if _PARTLY_MODEL_MADE.search(t) else ""


def source_kind_words(kind, title="") -> str:
    """What kind of document a registry row is, in reader words: 'primary (filing)', 'secondary',
    'model-made summary', ... (from `source_kind` and what the title says of a model's part)."""
    made = model_made(title)
    if made == "yes":
        return "model-made summary"
    words = KIND_WORDS.get(str(kind), str(kind).replace("_", " "))
    return words + (", in a file with model-made rows" if made == "partly" else "")


def reader_title(title) -> str:
    """A registry title as a reader's name for the document: its first clause (up to a ';' or a
    ' - ' outside quotes and brackets), without the curator's parenthetical notes (accession
    numbers, copies, dates); quoted titles are kept whole."""
    t = fmt.first_clause(title, ";")
    cut = re.search(r" - ", t)
    if cut and not fmt.open_marks(t[: cut.start()]):
        t = t[: cut.start()]
    out, depth, i = [], 0, 0
    while i < len(t):
        ch = t[i]
        inside_quote = any(m in "'\"\u2018\u201c" for m in fmt.open_marks(t[:i]))
        if ch == "(" and not inside_quote:
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        elif not depth:
            out.append(ch)
        i += 1
    t = re.sub(r"\s*\bacc \d{10}-\d{2}-\d{6}", "", "".join(out))  # accession numbers: in the registry
    t = re.sub(r"\s+([,.;:])", r"\1", " ".join(t.split()))
    return t.strip(" ,;:") or str(title)


def read_from(locator) -> str:
    """Where the document was read, from a registry locator: 'SEC EDGAR', 'viralles.com',
    'GitHub lukepuplett/investment-analysis', 'public GitHub file (repository unknown)'."""
    out = []
    for part in re.split(r"\s+;\s+", str(locator or "").strip()):
        if not part:
            continue
        if part.startswith("public GitHub file"):
            out.append("public GitHub file (repository unknown)")
        elif m := re.match(r"https?://(?:www\.)?([^/]+)", part):
            host = m[1]
            out.append("SEC EDGAR" if host.endswith("sec.gov") else host)
        elif m := re.match(r"([\w.-]+/[\w.-]+):", part):
            out.append(f"GitHub {m[1]}")
        else:
            out.append(part)
    return ", ".join(dict.fromkeys(out)) or fmt.NA


def prices_text(tickers) -> str:
    """'daily prices (data/prices/CRWV.csv)'; several tickers: 'daily prices of AVGO, CRWV (data/prices/)'."""
    ts = sorted(dict.fromkeys(tickers))
    if len(ts) == 1:
        return f"daily prices (data/prices/{ts[0]}.csv)"
    return f"daily prices of {', '.join(ts)} (data/prices/<ticker>.csv)"


def source_cell(ids) -> str:
    """Source ids for a table cell: registry ids as they are ('PR_25Q3'), a price id as its file
    ('prices:CRWV' -> 'data/prices/CRWV.csv'); several joined by '; '."""
    parts = [s.strip() for s in re.split(r"[;,]", ids) if s.strip()] if isinstance(ids, str) else list(ids or [])
    return "; ".join(f"data/prices/{s[len(PRICES_PREFIX):]}.csv" if s.startswith(PRICES_PREFIX) else s
                     for s in dict.fromkeys(parts))


def sources_line(source_ids, registry: pd.DataFrame | None = None, limit: int = 90) -> str:
    """'CoreWeave PR 'CoreWeave Reports Strong Third Quarter 2025 Results' [PR_25Q3]; ...' from source
    ids (registry = load_sources()): each document's reader title (`reader_title`, shortened to
    `limit` characters with brackets and quotes balanced), marked '(model-made summary)' or '(file
    also holds model-made rows)' where the registry says so; price ids ('prices:CRWV') as
    'daily prices (data/prices/CRWV.csv)', after the documents."""
    ids = [s for s in dict.fromkeys(source_ids) if s]
    prices = [s[len(PRICES_PREFIX):] for s in ids if s.startswith(PRICES_PREFIX)]
    ids = [s for s in ids if not s.startswith(PRICES_PREFIX)]
    if registry is None:
        parts = [f"[{s}]" for s in ids]
    else:
        titles = dict(zip(registry["id"], registry["title"], strict=True))
        parts = [f"{_short(titles[s], limit) if s in titles else s}{_made_mark(titles.get(s))} [{s}]" for s in ids]
    if prices:
        parts.append(prices_text(prices))
    return "; ".join(parts)


def _made_mark(title) -> str:
    return {"yes": " (model-made summary)", "partly": " (file also holds model-made rows)"}.get(model_made(title), "")


def _short(title: str, limit: int = 90) -> str:
    return fmt.shorten(reader_title(title), limit)
