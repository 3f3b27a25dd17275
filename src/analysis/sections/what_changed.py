"""Section 08: what changed across results dates (the history's latest note only).

`make history` builds the note as of every results date in the data and the latest note; the
latest one compares them: its key figures and verdicts at each date (read from each variant's
results files, `analysis.history.snapshot`), what moved from one results date to the next, and
small multiples of the main ratios. Any other build (no `history` parameter) has no such
section: the builder then has nothing to show and the notebook prints nothing.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

from .. import whatchanged as H
from ..errors import DataValidationError
from ..report import exhibits, fmt, style
from .base import Section

NOTEBOOK = H.HISTORY_SECTION
THIS_NOTE = "this note"
LATEST = "latest"
SOURCE = "results files of the note built as of each date (reports/history/<date>/build/results/) and of this note"


def build(as_of="latest", history=None, history_root=None, this_note=None) -> Section:
    """Compare the notes as of each date of `history` (ISO dates, ascending) with this note.

    `history_root`: folder of the history variants (default reports/history); `this_note`: the
    results folder of this note's other sections (default `<history_root>/latest/build/results`:
    the build runs this section after them, and its content key covers their keys). A missing
    variant is an error naming its folder: a comparison with a gap would be silently wrong."""
    history = list(history or [])
    sec = Section(NOTEBOOK, {"as_of": as_of, "history": history})
    if not history:
        return sec
    root = H.HISTORY_ROOT if history_root is None else history_root
    snaps = {}
    for d in history:
        rdir = H.results_dir_of(root, d)
        if not rdir.is_dir() or not any(rdir.glob("*.json")):
            raise DataValidationError(str(rdir), None, None, None,
                                      f"the results of the note as of {d} (run `make history`)")
        snaps[d] = H.snapshot(rdir, d)
    own = H.results_dir_of(root, LATEST) if this_note is None else Path(this_note)
    if own.is_dir():
        snaps[THIS_NOTE] = H.snapshot(own, THIS_NOTE)
    order = list(snaps)
    figs, verdicts = H.figures_long(snaps), H.verdicts_long(snaps)
    moves = H.transitions(figs, verdicts, order)
    ratios = H.ratio_series(figs, order)
    sec.data.update(snapshots=snaps, figures=figs, verdicts=verdicts, transitions=moves, ratios=ratios)

    sec.value("history_dates", history, "text", "Results dates the note was rebuilt at")
    sec.value("history_first", history[0], "date", "First results date of the history")
    sec.value("history_last", history[-1], "date", "Last results date of the history")
    sec.value("figures_changed", int((moves["kind"] == "figure").sum()), "count",
              "Key-figure changes between consecutive results dates")
    sec.value("verdicts_changed", int((moves["kind"] == "verdict").sum()), "count",
              "Verdict answers that changed between consecutive results dates")
    sentences = H.sentence_moves(verdicts, order)
    sec.table("figures_by_date", H.figures_by_date(figs, order))
    sec.table("verdicts_by_date", H.verdicts_by_date(verdicts, order))
    sec.table("transitions", moves)
    sec.table("sentence_moves", sentences.assign(changed_at=[", ".join(x) for x in sentences["changed_at"]]))
    sec.table("ratio_series", ratios.rename_axis("date").reset_index())

    sec.text("heading", "## What changed across results dates")
    sec.text("intro", _intro(history, moves))
    sec.exhibit("figures_by_date", _figures_table(figs, order))
    sec.exhibit("transitions", _transitions_table(moves))
    if len(verdicts):
        sec.exhibit("verdicts_by_date", exhibits.table(
            H.verdicts_by_date(verdicts, order), title=_verdict_title(moves),
            source=SOURCE + ".", notes="Each cell: the answer of the verdict the note printed as of that date "
                                       "(the sentences below); n/a where the note had no such verdict."))
        sec.text("sentences", _sentences_text(sentences))
    if ratios.shape[1]:
        sec.exhibit("small_multiples", _small_multiples(ratios, figs))
    return sec


def _intro(history, moves) -> str:
    n = len(history)
    figs = moves[moves["kind"] == "figure"]
    return (f"The note was rebuilt as of each of the {n} quarterly results dates in the data, from "
            f"{history[0]} to {history[-1]}, each time from what was public that evening only; this note, "
            f"on the latest data, closes the series. From one date to the next, key figures changed "
            f"{fmt.num(len(figs), 0)} times and verdicts changed their answer "
            f"{fmt.num((moves['kind'] == 'verdict').sum(), 0)} times. A figure not reported again keeps its "
            "period in brackets, so a figure that did not move because no new quarter had been reported "
            "reads as such.")


def _figures_table(figs, order):
    df = H.figures_by_date(figs, order)
    return exhibits.table(df, title="Key figures as the note stood at each results date",
                          source=SOURCE + ".", notes="Columns: the note as of each results date, with the latest "
                          "quarter its figures refer to. A figure from an earlier period shows that period in "
                          "brackets; n/a where the note as of that date had no such figure.")


def _verdict_title(moves) -> str:
    n = int((moves["kind"] == "verdict").sum())
    return (f"Verdicts at each results date: {n} answer{'s' if n != 1 else ''} changed" if n
            else "Verdicts at each results date: no answer changed")


def _transitions_table(moves):
    m = moves[moves["kind"].isin(["figure", "verdict"])]
    df = pd.DataFrame({"From": m["since"], "To": m["to"], "Item": m["item"], "Before": m["before"], "After": m["after"],
                       "Change": m["change"]})
    return exhibits.table(df, title=f"{len(df)} moves of key figures and verdicts from one results date to the next",
                          source=SOURCE + ".",
                          notes="Figures: value (period) before and after; change in percent, percentage points "
                                "(pp) or the ratio's own unit. Verdicts: the answer.")


def _sentences_text(sentences) -> str:
    if sentences.empty:
        return ""
    items = []
    for r in sentences.itertuples():
        q = fmt.text(r.question)
        if not r.n_changes:
            items.append(f"- *{q}* The same sentence at every date: \u201c{fmt.text(r.last_sentence)}\u201d")
            continue
        when = ", ".join(r.changed_at)
        items.append(f"- *{q}* Changed at {when}. As of {r.first}: \u201c{fmt.text(r.first_sentence)}\u201d "
                     f"{'Now' if r.last == THIS_NOTE else 'As of ' + r.last}: \u201c{fmt.text(r.last_sentence)}\u201d")
    return "### How the verdict sentences moved\n\n" + "\n".join(items)


def _small_multiples(ratios: pd.DataFrame, figs: pd.DataFrame):
    labels = list(ratios.columns)
    units = figs.drop_duplicates("label").set_index("label")["unit"]
    ncols = min(3, len(labels))
    nrows = math.ceil(len(labels) / ncols)
    fig, axes = style.figure(nrows, ncols, figsize=(7.0, 2.2 * nrows), squeeze=False)
    x = np.arange(len(ratios.index))
    for ax, label in zip(axes.ravel(), labels, strict=False):
        y = ratios[label].to_numpy(dtype=float)
        scale = 100.0 if units.get(label) == "fraction" else 1.0
        ax.plot(x, y * scale, marker="o", markersize=3, color=style.INK)
        ax.set_title(textwrap.fill(label + (" (%)" if scale == 100.0 else ""), 30), fontsize=7.5)
        ax.set_xticks(x, [d[2:] if d != THIS_NOTE else "latest" for d in ratios.index], rotation=45, ha="right",
                      fontsize=6.5)
    for ax in axes.ravel()[len(labels):]:
        ax.set_visible(False)
    fig.tight_layout()
    return exhibits.figure(fig, title="The main ratios as the note stood at each results date",
                           source=SOURCE + ".",
                           notes="One panel per ratio among the key figures; x: the results date (YY-MM-DD) of "
                                 "each note, the last point this note; gaps where a note had no figure.")
