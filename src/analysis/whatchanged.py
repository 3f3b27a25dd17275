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


FIGURE_COLUMNS = ["label", "period", "value", "unit", "sources"]
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
                             "unit": r.get("unit"), "sources": r.get("sources")})
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


def format_figure(value, unit) -> str:
    """A key figure as the note prints it ('n/a' when missing)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return fmt.NA
    if unit == "usd_m":
        return fmt.usd_bn(value) if abs(value) >= 10_000 else fmt.usd_m(value)
    return {"usd": fmt.usd, "fraction": fmt.pct, "ratio": fmt.ratio, "years": fmt.years,
            "count": lambda x: fmt.num(x, 0)}.get(unit, lambda x: str(x))(value)


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
            before = "n/a" if ra is None else f"{format_figure(va, unit)} ({pa})"
            after = "n/a" if rb is None else f"{format_figure(vb, unit)} ({pb})"
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


def figures_by_date(figs: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """Table of key figures at each date: one row per date, one column per figure, each cell the
    figure with its period ('$1,364.7m (2025Q3)')."""
    labels = list(dict.fromkeys(figs["label"]))
    rows = []
    for d in order:
        f = figs[figs["date"] == d].drop_duplicates("label").set_index("label")
        row = {"As of": d}
        for label in labels:
            row[label] = (f"{format_figure(f.at[label, 'value'], f.at[label, 'unit'])} ({f.at[label, 'period']})"
                          if label in f.index else fmt.NA)
        rows.append(row)
    return pd.DataFrame(rows, columns=["As of", *labels])


def verdicts_by_date(verdicts: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """Table of verdict answers at each date: one row per date, one column per question."""
    qs = list(dict.fromkeys(verdicts["question"]))
    rows = []
    for d in order:
        v = verdicts[verdicts["date"] == d].drop_duplicates("question").set_index("question")
        rows.append({"As of": d, **{q: (v.at[q, "answer"] if q in v.index else fmt.NA) for q in qs}})
    return pd.DataFrame(rows, columns=["As of", *qs])


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


