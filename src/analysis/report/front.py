"""Front page and back matter of the note, generated from the results files only.

Front: title block, what was new, thesis (one bullet per question of the seeds, `THESIS`: the
answer and headline of each recorded verdict), contents, and the key-figures table (each figure at the latest quarter it exists for, with its period).
Back: Methods, Data and sources, Reproducibility, Disclosures.

Each block is a notebook cell whose output carries `text/html` (for the HTML page) and raw Typst
(`pdf.TYPST_MIME`) or an exhibit (`EXHIBIT_MIME`); narrative is plain markdown. A finding or
figure whose inputs are missing is left out, never printed empty. No number is typed here: every
figure comes from a results value; the only constants are names and the HHI threshold of the
2023 US Merger Guidelines (a regulatory definition, `analysis.concentration.HHI_HIGH`). The front
page draws no conclusion of its own: every thesis bullet prints the `lead` (answer and headline) of
the `Verdict`s its sections recorded, word for word, as the sections print them.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import nbformat
import pandas as pd
import yaml

from ..concentration import HHI_HIGH
from ..verdicts import QUESTIONS, THESIS
from . import exhibits, fmt
from .pdf import TYPST_MIME, typst_array, typst_str
from .sections import SECTIONS

COMPANY = "CoreWeave, Inc."
TICKER = "CRWV"
EXCHANGE = "Nasdaq"
TITLE = "CoreWeave, Inc. (CRWV)"
SUBTITLE = "Margins against the cost of debt, backlog, customers and sector contagion, from filings and prices"
KICKER = "Independent equity research"

#: HHI above which the 2023 US Merger Guidelines call a market highly concentrated (one definition,
#: in `analysis.concentration`).
HHI_HIGHLY_CONCENTRATED = HHI_HIGH


# ----------------------------------------------------------------------------- results access

class ResultsSet:
    """All results files present in a folder, keyed by notebook stem (missing files are absent)."""

    def __init__(self, results_dir: Path | None):
        self.data: dict[str, dict] = {}
        if results_dir is not None and Path(results_dir).is_dir():
            for stem in SECTIONS:
                p = Path(results_dir) / f"{stem}.json"
                if p.is_file():
                    with open(p, encoding="utf-8") as fh:
                        self.data[stem] = json.load(fh)

    def entry(self, nb: str, *names: str) -> dict | None:
        """The first of `names` in notebook `nb` whose value is not missing (None)."""
        values = self.data.get(nb, {}).get("values", {})
        for n in names:
            e = values.get(n)
            if e is not None and e.get("value") is not None:
                return {"name": n, **e}
        return None

    def value(self, nb: str, *names: str):
        e = self.entry(nb, *names)
        return None if e is None else e["value"]

    def verdict(self, nb: str, key: str):
        """The `analysis.verdicts.Verdict` a notebook recorded under `key` (None if absent)."""
        from ..results import verdict_of

        return verdict_of(self.data[nb], key) if nb in self.data else None

    def table(self, nb: str, name: str) -> pd.DataFrame | None:
        t = self.data.get(nb, {}).get("tables", {}).get(name)
        if not t or not t.get("rows"):
            return None
        return pd.DataFrame(t["rows"], columns=t["columns"])

    def sources(self) -> list[str]:
        """Every source id cited by any results value, in first-seen order."""
        ids: dict[str, None] = {}
        for stem in SECTIONS:
            for e in self.data.get(stem, {}).get("values", {}).values():
                for s in e.get("sources") or []:
                    ids.setdefault(s)
        return list(ids)


def format_value(e: dict | None) -> str:
    """A results entry formatted by its unit ('n/a' if missing)."""
    if e is None or e.get("value") is None:
        return fmt.NA
    v, unit = e["value"], e.get("unit")
    if unit == "usd_m":
        return fmt.usd_bn(v) if abs(v) >= 10_000 else fmt.usd_m(v)
    return {
        "usd": fmt.usd, "fraction": fmt.pct, "ratio": fmt.ratio, "years": fmt.years, "date": fmt.date,
        "days": lambda x: f"{fmt.num(x, 0)} days", "count": lambda x: fmt.num(x, 0),
        "pct_points": lambda x: f"{fmt.num(x, 1)} pp", "index": lambda x: fmt.num(x, 0),
    }.get(unit, str)(v)


# ----------------------------------------------------------------------------- thesis

def recorded_verdicts(rs: ResultsSet) -> list:
    """Every `Verdict` recorded by the sections of this build, in `QUESTIONS` order."""
    out = []
    for key, (section, _question) in QUESTIONS.items():
        v = rs.verdict(section, key)
        if v is not None:
            out.append(v)
    return out


def thesis(rs: ResultsSet) -> list[tuple[str, list]]:
    """The thesis: one (label, verdicts) bullet per question of the seeds (`analysis.verdicts.THESIS`),
    with the verdicts of that bullet this build recorded, in `THESIS` order; a verdict the build
    lacks is left out, and a bullet with none."""
    out = []
    for label, keys in THESIS:
        vs = [v for v in (rs.verdict(QUESTIONS[k][0], k) for k in keys) if v is not None]
        if vs:
            out.append((label, vs))
    return out


def thesis_items(rs: ResultsSet) -> list[tuple[str, list[tuple[str, str]]]]:
    """The thesis bullets as printed: (label, one (answer, headline) pair per verdict), each pair
    the verdict's `lead` split after its answer ('Holds:', 'operating margin ... .'), so that the
    answer can be set off; joined by a space they are the lead, word for word."""
    out = []
    for label, vs in thesis(rs):
        parts = []
        for v in vs:
            answer, rest = v.lead.split(": ", 1)
            parts.append((answer + ":", rest))
        out.append((label, parts))
    return out


# ----------------------------------------------------------------------------- key figures

def _figure_text(value, unit: str, rounding: float = 0.0) -> str:
    """A key figure in its unit, at the precision of its source ('about $104bn' when rounded)."""
    if not rounding:
        return format_value({"value": value, "unit": unit})
    style = {"usd_m": "usd_bn" if abs(value) >= 10_000 else "usd_m", "fraction": "pct", "ratio": "ratio",
             "years": "years"}.get(unit, "num")
    return fmt.about(value, rounding, style)


def key_figures(rs: ResultsSet, registry: pd.DataFrame | None) -> exhibits.Exhibit | None:
    """Key-figures table: the `key_figures` results tables of the notebooks (columns label, period,
    value, unit, source_kind, confidence, sources, derived, and optionally rounding: the precision
    of an approximate figure), concatenated in section order. Each row is the latest quarter that
    figure exists for and says so in the Period column ('(derived)' when it is computed from other
    figures, e.g. debt summed from its components). None when no notebook writes one."""
    rows, ids = [], []
    for stem in SECTIONS:
        t = rs.table(stem, "key_figures")
        if t is not None and {"label", "value", "unit"} <= set(t.columns):
            for r in t.to_dict("records"):
                srcs = [x for x in re.split(r"[;, ]+", str(r.get("sources") or "")) if x]
                ids += srcs
                period = (r.get("period") or fmt.NA) + (" (derived)" if r.get("derived") else "")
                rounding = r.get("rounding") or 0.0
                rows.append({"Figure": r["label"], "Period": period, "Value": _figure_text(r["value"], r["unit"], rounding),
                             "Source kind": str(r.get("source_kind") or fmt.NA).replace("_", " "),
                             "Confidence": r.get("confidence") or fmt.NA, "Sources": ", ".join(srcs) or fmt.NA})
    if not rows:
        return None
    df = pd.DataFrame(rows)
    periods = sorted({r["Period"].split(" ")[0] for r in rows if r["Period"] != fmt.NA})
    title = ("Key figures, each at the latest quarter it is reported for"
             + (f" ({periods[0]} to {periods[-1]})" if len(periods) > 1 else f" ({periods[0]})" if periods else ""))
    ex = exhibits.table(df, title=title, source=exhibits.sources_line(ids, registry) or "the results files of the sections",
                        notes="Period: the quarter (or fiscal period) of each figure; a figure not reported for a later "
                              "quarter stays at its own. Derived: computed here from reported figures (a debt total "
                              "summed from its components, a ratio). 'about': the source gives the figure as approximate. "
                              "Confidence: high = read in the filing or press release itself; medium = transcript or a "
                              "secondary document quoting a filing; low = news or aggregators.")
    ex.data["table"]["align"] = ["l", "l", "r", "l", "l", "l"]
    return ex


# ----------------------------------------------------------------------------- title block

def title_fields(rs: ResultsSet, meta: dict, registry: pd.DataFrame | None, params: dict | None = None) -> list[tuple[str, str]]:
    """(label, value) pairs of the title block; pairs whose value is missing are left out."""
    common = (params or {}).get("common", params or {})
    nb = "00_overview"
    as_of = meta.get("as_of")
    fields = [("Company", common.get("company", COMPANY)), ("Ticker", common.get("ticker", TICKER)),
              ("Exchange", common.get("exchange", EXCHANGE)), ("As of", fmt.date(as_of) if as_of else None)]
    close, date = rs.entry(nb, "last_close"), rs.value(nb, "last_date")
    if close is not None:
        fields.append(("Last close", format_value(close) + (f" ({fmt.date(date)})" if date else "")))
    chg = rs.entry(nb, "change_since_ipo")
    if chg is not None:
        ipo = rs.value(nb, "ipo_date")
        fields.append(("Change since first close" if not ipo else f"Since first close ({fmt.date(ipo)})",
                       fmt.pct(chg["value"], sign=True)))
    mkt = rs.value(nb, "last_date", "common_end_date")
    if mkt:
        fields.append(("Market data to", fmt.date(mkt)))
    filings = rs.value("01_unit_economics", "filing_cutoff")
    figures = rs.value("01_unit_economics", "figures_cutoff")
    if filings:
        fields.append(("Filings read to", fmt.date(filings)))
    if figures and figures != filings:
        fields.append(("Company figures to", fmt.date(figures)))
    rating = common.get("rating")
    fields.append(("Rating", str(rating) if rating else "Not rated"))
    return [(k, str(v)) for k, v in fields if v not in (None, "", fmt.NA)]


def _display_cell(data: dict, tags=()) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("")
    cell.metadata["tags"] = ["hide-input", *tags]
    cell.outputs = [nbformat.v4.new_output("display_data", data=data)]
    return cell


def title_block_cell(fields: list[tuple[str, str]]) -> nbformat.NotebookNode:
    dl = "".join(f"<div><dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd></div>" for k, v in fields)
    h = (f'<header class="title-block"><p class="kicker">{html.escape(KICKER)}</p><h1>{html.escape(TITLE)}</h1>'
         f'<p class="subtitle">{html.escape(SUBTITLE)}</p><dl>{dl}</dl></header>')
    t = (f"#title-block(kicker: {typst_str(KICKER)}, title: {typst_str(TITLE)}, subtitle: {typst_str(SUBTITLE)}, "
         f"fields: {typst_array(typst_array([typst_str(k), typst_str(v)]) for k, v in fields)})")
    return _display_cell({"text/html": h, TYPST_MIME: t}, ["front"])


THESIS_TITLE = "Thesis"


def summary_cell(items: list, title: str = THESIS_TITLE) -> nbformat.NotebookNode | None:
    """A front-page box (what was new, the thesis): one bullet per item, word for word. An item is
    a sentence, or a thesis bullet (label, [(answer, headline), ...]) whose label is set in bold
    and each answer in italics, the pairs joined by spaces."""
    if not items:
        return None

    def li(x):
        if isinstance(x, tuple):
            label, parts = x
            body = " ".join(f"<em>{html.escape(a)}</em> {html.escape(h)}" for a, h in parts)
            return f"<li><strong>{html.escape(label)}.</strong> {body}</li>"
        return f"<li>{html.escape(x)}</li>"

    def typ(x):
        if isinstance(x, tuple):
            label, parts = x
            body = '; " "; '.join(f'emph({typst_str(a)}); " "; {typst_str(h)}' for a, h in parts)
            return f'{{strong({typst_str(label + ".")}); " "; {body}}}'
        return typst_str(x)

    h = (f'<aside class="summary-box"><p class="box-title">{html.escape(title)}</p><ul>'
         + "".join(li(x) for x in items) + "</ul></aside>")
    t = f"#summary-box(title: {typst_str(title)}, items: {typst_array(typ(x) for x in items)})"
    return _display_cell({"text/html": h, TYPST_MIME: t}, ["front"])


def toc_cell() -> nbformat.NotebookNode:
    from .html import TOC_PLACEHOLDER

    return _display_cell({"text/html": TOC_PLACEHOLDER, TYPST_MIME: ""}, ["front"])


def _exhibit_cell(ex: exhibits.Exhibit) -> nbformat.NotebookNode:
    return _display_cell(ex._repr_mimebundle_())


# ----------------------------------------------------------------------------- what was new

NEWS_SECTION = "00_overview"
_SOURCE_IDS = re.compile(r"\[([A-Za-z0-9_, ]+)\]")


def news(rs: ResultsSet) -> list[str]:
    """What was new on the as-of date: the overview's generated sentences (`analysis.news`), in
    order (latest results against their guidance, guidance changes, events, the share price)."""
    t = rs.table(NEWS_SECTION, "whats_new")
    return [] if t is None else [str(x) for x in t["sentence"]]


def news_title(rs: ResultsSet) -> str:
    """'What was new on the evening of 2025-11-10' on a results day, else what is new since the
    latest results."""
    day, results = rs.value(NEWS_SECTION, "whats_new_date"), rs.value(NEWS_SECTION, "whats_new_results_date")
    if day and results and day == results:
        return f"What was new on the evening of {fmt.date(day)}"
    if results:
        return f"What was new: the results of {fmt.date(results)} and since"
    return "What was new"


def news_source_ids(rs: ResultsSet) -> list[str]:
    """Source ids the news sentences cite in brackets ('[PR_25Q3]'), for the sources table."""
    ids: dict[str, None] = {}
    for sentence in news(rs):
        for m in _SOURCE_IDS.finditer(sentence):
            for s in m.group(1).split(","):
                ids.setdefault(s.strip())
    return [s for s in ids if s]


def front_cells(results_dir: Path | None, params: dict, meta: dict, registry: pd.DataFrame | None) -> list:
    """Title block, what was new on the as-of date, thesis, contents placeholder, key-figures table."""
    rs = ResultsSet(results_dir)
    cells = [title_block_cell(title_fields(rs, meta, registry, params))]
    lead = summary_cell(news(rs), news_title(rs))
    if lead is not None:
        cells.append(lead)
    s = summary_cell(thesis_items(rs))
    if s is not None:
        cells.append(s)
    cells.append(toc_cell())
    kf = key_figures(rs, registry)
    if kf is not None:
        cells.append(_exhibit_cell(kf))
    return cells


# ----------------------------------------------------------------------------- back matter

#: Method paragraphs: (sections that use the method, markdown text with the full reference).
METHODS: tuple[tuple[tuple[str, ...], str], ...] = (
    (SECTIONS,
     "**Data and point-in-time discipline.** Every figure is read from the vendored raw files through "
     "validating loaders; a build *as of* a date uses only rows published on or before it. Where sources "
     "disagree, the figure from the highest-confidence source is used and the other is kept in the data; "
     "quarters obtained by subtraction (for example Q4 = FY - 9M) are marked *derived*. Nothing is "
     "estimated or filled: a missing figure is shown as n/a."),
    (("01_unit_economics",),
     "**Unit economics.** Operating margin is GAAP operating income over revenue and interest coverage "
     "compares operating income with interest expense (net), quarter by quarter; the effective interest "
     "rate relates interest expense to the debt outstanding, and the depreciation sensitivity restates the "
     "depreciation of computing equipment under shorter useful lives. Each exhibit states its definition."),
    (("02_backlog_conversion",),
     "**Backlog conversion.** Bookings are implied from the change in backlog and the revenue recognised "
     "in each quarter; book-to-bill compares them with revenue, and coverage expresses the backlog in "
     "years of revenue at the latest run rate. The delay scenario moves part of the backlog later by a "
     "delivery delay read in the data (days and the site's power, with the dated source that reported it; "
     "an assumed delay only when a parameter sets one, labelled as such), sized on company figures of one "
     "quarter and placed after the last quarter with reported revenue."),
    (("03_customer_concentration",),
     "**Concentration.** Customer shares come from the concentration disclosures of the filings; since "
     "not every customer's share is disclosed, the Herfindahl-Hirschman index (the sum of squared "
     "percentage shares) is given as a lower and an upper bound. The reading follows the US Department "
     "of Justice and Federal Trade Commission, *Merger Guidelines* (18 December 2023), under which an "
     f"HHI above {fmt.num(HHI_HIGHLY_CONCENTRATED, 0)} marks a highly concentrated market."),
    (("04_sector_contagion",),
     "**Event study.** Abnormal returns are returns less market-model predictions estimated on a window "
     "before each event, cumulated over the event window: MacKinlay, A. C. (1997), \"Event Studies in "
     "Economics and Finance\", *Journal of Economic Literature* 35(1), 13-39. The estimation window leaves out "
     "every other event's days and a new listing's first weeks; a stock with too few clean days is fitted on a "
     "short window or measured against the market, flagged. Each CAR is shown beside the raw compounded return "
     "and a zero-alpha CAR (beta estimated, no drift), so a trend fitted on the weeks before cannot make a CAR. "
     "Events whose windows share trading days form one cluster, and only one event per cluster enters pooled "
     "statistics, so no return day is counted twice."),
    (("04_sector_contagion",),
     "**Standardised abnormal returns.** Each abnormal return is divided by its estimation-window standard "
     "deviation, adjusted for the forecast error: Patell, J. M. (1976), \"Corporate Forecasts of Earnings "
     "per Share and Stock Price Behavior: Empirical Tests\", *Journal of Accounting Research* 14(2), 246-276."),
    (("04_sector_contagion",),
     "**Event-induced variance.** The cross-sectional test of standardised abnormal returns allows the "
     "variance to rise on the event day: Boehmer, E., J. Musumeci and A. B. Poulsen (1991), \"Event-Study "
     "Methodology under Conditions of Event-Induced Variance\", *Journal of Financial Economics* 30(2), 253-272."),
    (("04_sector_contagion",),
     "**Cross-correlation.** Because peers react to the same event on the same day, the test statistic is "
     "corrected for the average cross-correlation of abnormal returns: Kolari, J. W. and S. Pynnonen (2010), "
     "\"Event Study Testing with Cross-sectional Correlation of Abnormal Returns\", *Review of Financial "
     "Studies* 23(11), 3996-4025. The pooled test's size and power are checked by simulation at the note's "
     "own events; where it does not reject with too little power, the verdict is \"not shown\", not \"no\"."),
    (("04_sector_contagion",),
     "**Rank test.** A non-parametric check that does not assume normal returns ranks each abnormal return "
     "within its own series: Corrado, C. J. (1989), \"A Nonparametric Test for Abnormal Security-Price "
     "Performance in Event Studies\", *Journal of Financial Economics* 23(2), 385-395."),
    (("04_sector_contagion",),
     "**Contagion or interdependence.** Correlations rise mechanically when the source becomes more "
     "volatile; the crisis-window correlation is adjusted for the rise in the source's variance before it "
     "is compared with the tranquil window: Forbes, K. J. and R. Rigobon (2002), \"No Contagion, Only "
     "Interdependence: Measuring Stock Market Comovements\", *Journal of Finance* 57(5), 2223-2261. Crisis "
     "windows follow a stated rule from the dated events (a large fall of the source on its own news), never "
     "chosen dates. The adjusted correlation is tested by a bootstrap under the null of an unchanged link, "
     "whose size and power are checked by simulation at the note's window sizes; where the source was calmer "
     "in the crisis than before, the adjustment does not apply and the verdict is \"not applicable\"."),
    (("04_sector_contagion",),
     "**Many peers at once.** Where a test is repeated for every peer, the p-values are adjusted to control "
     "the false discovery rate: Benjamini, Y. and Y. Hochberg (1995), \"Controlling the False Discovery Rate: "
     "A Practical and Powerful Approach to Multiple Testing\", *Journal of the Royal Statistical Society B* "
     "57(1), 289-300."),
    (("04_sector_contagion",),
     "**Connectedness.** Spillovers are the shares of each stock's forecast-error variance explained by "
     "shocks to the others, from a vector autoregression, in total, directional (to, from) and net form, "
     "static and on rolling windows: Diebold, F. X. and K. Yilmaz (2012), \"Better to Give than to "
     "Receive: Predictive Directional Measurement of Volatility Spillovers\", *International Journal of "
     "Forecasting* 28(1), 57-66. Each rolling window uses every stock that trades through it. The code "
     "reproduces the paper's Table 2 within its published rounding (a golden test of the build)."),
    (("04_sector_contagion",),
     "**Generalized variance decomposition.** The decomposition does not depend on the ordering of the "
     "variables: Pesaran, H. H. and Y. Shin (1998), \"Generalized Impulse Response Analysis in Linear "
     "Multivariate Models\", *Economics Letters* 58(1), 17-29."),
    (("07_claims_ledger",),
     "**Claims ledger.** Each press claim is restated as one or more checks (a measure computed from the "
     "data, the value stated, a relation and a tolerance); a claim is confirmed when all its checks are, "
     "and differs when any check differs."),
)


def _md_cell(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_markdown_cell(text)


def methods_cells(present: list[str]) -> list:
    paras = [text for used, text in METHODS if set(used) & set(present)]
    return [_md_cell("## Methods\n\n" + "\n\n".join(paras))] if paras else []


def sources_cells(rs: ResultsSet, registry: pd.DataFrame | None, cited_extra=()) -> list:
    """The registry rows cited by the results values and exhibit source lines of this build."""
    if registry is None:
        return []
    cited = list(dict.fromkeys([*rs.sources(), *cited_extra, *news_source_ids(rs)]))
    ids = [s for s in cited if s in set(registry["id"])]
    other = sorted({s for s in cited if s not in set(registry["id"])})
    reg = registry.set_index("id")
    rows = [{"Id": s, "Document": exhibits.reader_title(reg.at[s, "title"]),
             "Kind": exhibits.source_kind_words(reg.at[s, "source_kind"], reg.at[s, "title"]),
             "Read from": exhibits.read_from(reg.at[s, "locator"]),
             "Confidence": reg.at[s, "default_confidence"], "Date": (fmt.date(reg.at[s, "date"])[:7] if reg.at[s, "date_precision"] == "month"
                      else fmt.date(reg.at[s, "date"]))} for s in sorted(ids)]
    made = [s for s in sorted(ids) if exhibits.model_made(reg.at[s, "title"])]
    text = ("## Data and sources\n\nFigures in tables and charts cite their sources by id in the source lines. "
            + ("The table below lists the entries of the source registry (data/sources.csv) cited in this note's "
               "figures, tables and charts; the full registry, with a locator for every document, is in the data folder."
               if rows else "The source registry (data/sources.csv) gives a locator for every document."))
    prices = [s.split(":", 1)[1] for s in other if s.startswith("prices:")]
    if prices:
        text += (" Daily prices (" + ", ".join(prices) + ") come from data/prices/, whose PROVENANCE.md "
                 "records where each row came from.")
    if made:
        text += (" Documents written by a language model, or files that also hold model-made rows ("
                 + ", ".join(made) + "), are marked as such in the table below and in every source line that cites "
                 "them; their figures carry low confidence.")
    withheld = rs.value(NEWS_SECTION, "withheld_sentence")
    if withheld:  # figures public on the as-of date but read only in a later document: said once, here
        text += "\n\n" + withheld
    cells = [_md_cell(text)]
    if rows:
        df = pd.DataFrame(rows)
        ex = exhibits.table(df, title="Sources cited in this note", source="data/sources.csv (source registry)",
                            notes=("Kind: primary = the company's own filing or press release; call transcript = the earnings "
                                   "call as transcribed by a third party; secondary = a document quoting or summarising "
                                   "filings (the figure is read from the quote, not the filing); news or aggregator; "
                                   "model-made summary = text written by a language model, not checked against the "
                                   "filing by its publisher. Read from: where the copy we read is (a mirror of a filing is named). "
                                   "Confidence is the registry's default for the document; a figure's own confidence is "
                                   "shown where it is used. The registry's full notes (accession numbers, locators) are "
                                   "in data/sources.csv."))
        cells.append(_exhibit_cell(ex))
    return cells


def reproducibility_cells(meta: dict) -> list:
    versions = meta.get("versions") or {}
    text = ("## Reproducibility\n\n"
            f"Built from commit `{meta.get('commit', 'uncommitted')}` with data as of {fmt.date(meta.get('as_of')) if meta.get('as_of') else fmt.NA}; "
            f"the build date ({fmt.date(meta['build_date']) if meta.get('build_date') else fmt.NA}) is taken from the data, not the clock, "
            "so two builds of the same commit are byte-identical. "
            + ("Every data file is checked against its SHA-256 checksum (below) before the build."
               if meta.get("checksums") else "No data checksum manifest was found for this build."))
    cells = [_md_cell(text)]
    if versions:
        df = pd.DataFrame({"Package": list(versions), "Version": [str(v) for v in versions.values()]})
        cells.append(_exhibit_cell(exhibits.table(df, title="Software versions of this build", source="the build environment")))
    checks = meta.get("checksums") or []
    if checks:
        df = pd.DataFrame([{"File": p, "SHA-256": h} for p, h in checks])
        cells.append(_exhibit_cell(exhibits.table(df, title="Data files and their checksums",
                                                  source="data/MANIFEST.sha256")))
    p = meta.get("params")
    if p:
        dump = yaml.safe_dump(json.loads(json.dumps(p, default=str)), sort_keys=True, default_flow_style=False).strip()
        cells.append(_md_cell("### Parameters of this build\n\n```\n" + dump + "\n```"))
    return cells


def disclosures_cells(params: dict) -> list:
    common = (params or {}).get("common", params or {})
    rating = common.get("rating")
    stance = (f"The author's rating, set by the `rating` parameter of this build, is **{fmt.text(rating)}**."
              if rating else "It carries no rating, price target or recommendation, and the author holds no position in the securities discussed.")
    text = ("## Disclosures\n\n"
            "This note is independent research built from public filings, press releases and market prices. "
            "It is not investment advice and not an offer or solicitation to buy or sell any security. "
            f"{stance} Figures may contain errors despite the checks described above; every figure can be "
            "traced to its source through the ids in the source lines and the results files of the build.")
    return [_md_cell(text)]


def back_cells(results_dir: Path | None, params: dict, meta: dict, registry: pd.DataFrame | None,
               present: list[str], cited_extra=()) -> list:
    rs = ResultsSet(results_dir)
    return [*methods_cells(present), *sources_cells(rs, registry, cited_extra), *reproducibility_cells(meta),
            *disclosures_cells(params)]
