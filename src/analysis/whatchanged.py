"""What changed between the notes of `make history`: pure functions over their results files.

`snapshot(results_dir)` reads one built note's key figures (every notebook's `key_figures`
table) and verdicts; `figures_long`, `verdicts_long`, `transitions`, `ratio_series`,
`figures_by_date` and `verdicts_by_date` compare the snapshots of consecutive results dates.
No data are read here (only results files), so a section built on it depends on no data file.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import paths
from .report import fmt

#: the notebook that prints "What changed" in the history's latest note
HISTORY_SECTION = "08_what_changed"
#: units of key figures drawn as small multiples (ratios and shares; amounts are in the table)
RATIO_UNITS = ("fraction", "ratio", "years")

# ============================================================================ snapshots

@dataclass
class Snapshot:
    """One built note's key figures (label, period, value, unit, sources) and verdicts (key,
    question, answer, sentence, period), in the order of its sections."""

    name: str
    figures: pd.DataFrame
    verdicts: pd.DataFrame


FIGURE_COLUMNS = ["label", "period", "value", "unit", "sources", "rounding"]
VERDICT_COLUMNS = ["key", "question", "answer", "sentence", "period"]


def snapshot(results_dir, name: str = "") -> Snapshot:
    """Key figures and verdicts of the results files in `results_dir` (notebooks in name order)."""
    figs, verdicts = [], []
    for f in sorted(Path(results_dir).glob("*.json")):
        res = json.loads(f.read_text(encoding="utf-8"))
        t = res.get("tables", {}).get("key_figures")
        if t and t.get("rows"):
            df = pd.DataFrame(t["rows"], columns=t["columns"])
            for r in df.to_dict("records"):
                figs.append({"label": r["label"], "period": r.get("period"), "value": r.get("value"),
                             "unit": r.get("unit"), "sources": r.get("sources"), "rounding": r.get("rounding") or 0.0})
        for key, v in (res.get("verdicts") or {}).items():
            verdicts.append({"key": key, "question": v.get("question"), "answer": v.get("answer"),
                             "sentence": v.get("sentence"), "period": v.get("period")})
    return Snapshot(name, pd.DataFrame(figs, columns=FIGURE_COLUMNS), pd.DataFrame(verdicts, columns=VERDICT_COLUMNS))


def figures_long(snaps: dict[str, Snapshot]) -> pd.DataFrame:
    """date, label, period, value, unit, sources: every key figure of every snapshot, in date order."""
    frames = [s.figures.assign(date=d) for d, s in snaps.items() if len(s.figures)]
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["date", *FIGURE_COLUMNS])
    return df[["date", *FIGURE_COLUMNS]]


def verdicts_long(snaps: dict[str, Snapshot]) -> pd.DataFrame:
    """date, key, question, answer, sentence, period: every verdict of every snapshot."""
    frames = [s.verdicts.assign(date=d) for d, s in snaps.items() if len(s.verdicts)]
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["date", *VERDICT_COLUMNS])
    return df[["date", *VERDICT_COLUMNS]]


def format_figure(value, unit, rounding: float = 0.0) -> str:
    """A key figure as the note prints it, at the precision of its source ('about $1.6bn' for a
    rounded figure; 'n/a' when missing)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return fmt.NA
    style = {"usd_m": "usd_bn" if abs(value) >= 10_000 else "usd_m", "fraction": "pct", "ratio": "ratio",
             "years": "years"}.get(unit)
    if style is not None:
        return fmt.about(value, rounding or 0.0, style, 2 if unit == "ratio" else 1)
    return {"usd": fmt.usd, "count": lambda x: fmt.num(x, 0)}.get(unit, lambda x: str(x))(value)


def _delta(before, after, unit) -> str:
    """How a figure moved, in words a reader compares at a glance."""
    if any(v is None or (isinstance(v, float) and not math.isfinite(v)) for v in (before, after)):
        return "first figure" if before is None or not math.isfinite(before) else "no longer available"
    if after == before:
        return "unchanged"
    if unit == "fraction":
        return f"{100 * (after - before):+,.1f} pp"
    if unit == "ratio":
        return f"{after - before:+,.2f}x"
    if unit == "years":
        return f"{after - before:+,.1f} years"
    if before == 0:
        return "from zero"
    return fmt.pct(after / before - 1, sign=True)


def transitions(figs: pd.DataFrame, verdicts: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """What changed from each date of `order` to the next: one row per key figure whose value or
    period changed, per verdict whose answer changed and per verdict sentence that changed.
    Columns: since, to, kind ('figure' | 'verdict' | 'sentence'), item, before, after, change."""
    rows = []
    for a, b in zip(order, order[1:], strict=False):
        fa = figs[figs["date"] == a].drop_duplicates("label").set_index("label")
        fb = figs[figs["date"] == b].drop_duplicates("label").set_index("label")
        for label in list(dict.fromkeys([*fa.index, *fb.index])):
            ra, rb = (fa.loc[label] if label in fa.index else None), (fb.loc[label] if label in fb.index else None)
            va = None if ra is None else ra["value"]
            vb = None if rb is None else rb["value"]
            pa = None if ra is None else ra["period"]
            pb = None if rb is None else rb["period"]
            if va == vb and pa == pb:
                continue
            unit = (rb if rb is not None else ra)["unit"]
            before = "n/a" if ra is None else f"{format_figure(va, unit, ra['rounding'])} ({pa})"
            after = "n/a" if rb is None else f"{format_figure(vb, unit, rb['rounding'])} ({pb})"
            rows.append({"since": a, "to": b, "kind": "figure", "item": label, "before": before, "after": after,
                         "change": _delta(None if va is None else float(va), None if vb is None else float(vb), unit)})
        va_ = verdicts[verdicts["date"] == a].set_index("key")
        vb_ = verdicts[verdicts["date"] == b].set_index("key")
        for key in list(dict.fromkeys([*va_.index, *vb_.index])):
            ra, rb = (va_.loc[key] if key in va_.index else None), (vb_.loc[key] if key in vb_.index else None)
            question = (rb if rb is not None else ra)["question"]
            ans_a, ans_b = (None if ra is None else ra["answer"]), (None if rb is None else rb["answer"])
            if ans_a != ans_b:
                rows.append({"since": a, "to": b, "kind": "verdict", "item": question, "before": ans_a or "n/a",
                             "after": ans_b or "n/a", "change": "new verdict" if ans_a is None else
                             ("withdrawn" if ans_b is None else "answer changed")})
            sa, sb = (None if ra is None else ra["sentence"]), (None if rb is None else rb["sentence"])
            if sa != sb and sa is not None and sb is not None:
                rows.append({"since": a, "to": b, "kind": "sentence", "item": question, "before": sa, "after": sb,
                             "change": "same answer, new evidence" if ans_a == ans_b else "answer changed"})
    return pd.DataFrame(rows, columns=["since", "to", "kind", "item", "before", "after", "change"])


def ratio_series(figs: pd.DataFrame, order: list[str], units=RATIO_UNITS) -> pd.DataFrame:
    """Wide frame: index = dates of `order`, one column per key figure whose unit is a ratio or a
    share (the small multiples), value as known at each date (NaN where the note had none)."""
    r = figs[figs["unit"].isin(units)].drop_duplicates(["date", "label"])
    wide = r.pivot(index="date", columns="label", values="value").reindex(order)
    labels = list(dict.fromkeys(r["label"]))
    return wide[labels].astype(float) if labels else wide


_QUARTER = re.compile(r"^\d{4}Q[1-4]$")


def note_quarter(figs: pd.DataFrame, name: str) -> str | None:
    """The latest quarter any key figure of note `name` refers to (the quarter it was written on)."""
    qs = sorted(p for p in figs.loc[figs["date"] == name, "period"].dropna() if _QUARTER.match(str(p)))
    return qs[-1] if qs else None


def figures_by_date(figs: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """Key figures (rows) as each note stood (columns: the notes in `order`, headed '<name> (<its
    latest quarter>)'): each cell the figure as printed, with its period in brackets when that is
    not the note's latest quarter (a figure not reported again: stale, and said so)."""
    labels = list(dict.fromkeys(figs["label"]))
    cols = {}
    for d in order:
        q = note_quarter(figs, d)
        f = figs[figs["date"] == d].drop_duplicates("label").set_index("label")
        cells = []
        for label in labels:
            if label not in f.index:
                cells.append(fmt.NA)
                continue
            r = f.loc[label]
            text = format_figure(r["value"], r["unit"], r["rounding"])
            cells.append(text if text == fmt.NA or r["period"] == q else f"{text} ({r['period']})")
        cols[f"{d} ({q})" if q else d] = cells
    return pd.DataFrame({"Figure": labels, **cols})


def verdicts_by_date(verdicts: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """Verdict answers: one row per question, one column per note in `order`."""
    qs = list(dict.fromkeys(verdicts["question"]))
    cols = {}
    for d in order:
        v = verdicts[verdicts["date"] == d].drop_duplicates("question").set_index("question")
        cols[d] = [v.at[q, "answer"] if q in v.index else fmt.NA for q in qs]
    return pd.DataFrame({"Question": qs, **cols})


def sentence_moves(verdicts: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """How each verdict's sentence (the full sentence its section prints) moved across the notes in
    `order`: question, first (note name), first_sentence, last, last_sentence, changed_at (the
    notes at which the sentence differed from the one before), n_changes."""
    rows = []
    for q in dict.fromkeys(verdicts["question"]):
        seq = [(d, verdicts[(verdicts["date"] == d) & (verdicts["question"] == q)]["sentence"]) for d in order]
        seq = [(d, s.iloc[0]) for d, s in seq if len(s)]
        if not seq:
            continue
        changed = [b[0] for a, b in zip(seq, seq[1:], strict=False) if a[1] != b[1]]
        rows.append({"question": q, "first": seq[0][0], "first_sentence": seq[0][1], "last": seq[-1][0],
                     "last_sentence": seq[-1][1], "changed_at": changed, "n_changes": len(changed)})
    return pd.DataFrame(rows, columns=["question", "first", "first_sentence", "last", "last_sentence", "changed_at",
                                       "n_changes"])


#: where `make history` builds the note as of each date: reports/history/<date>/
HISTORY_ROOT = paths.ROOT / "reports" / "history"


def results_dir_of(history_root, name: str) -> Path:
    """Results folder of the history variant `name` under `history_root` (reports/history)."""
    return Path(history_root) / name / "build" / "results"


def results_identity(names, history_root=None) -> dict[str, dict[str, str]]:
    """{name: {results file: sha256}} of the history variants `names` (empty where not built):
    what a note comparing them reads, for its content key."""
    root = HISTORY_ROOT if history_root is None else Path(history_root)
    out = {}
    for n in names:
        d = results_dir_of(root, str(n))
        out[str(n)] = {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(d.glob("*.json"))} \
            if d.is_dir() else {}
    return out


