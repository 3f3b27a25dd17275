"""`Section`: what a notebook shows and records, built by a section module (`analysis.sections.*`).

A section module computes with the library and fills a `Section`:

    sec = Section("00_overview", params)          # params: the notebook's parameters, as run
    sec.value("last_close", 105.61, "usd", "CRWV last close", ["prices:CRWV"], period="2025-11-10")
    sec.table("rebased", df, {"CRWV": "index"})
    sec.verdict(some_verdict_function(...))       # analysis.verdicts.Verdict
    sec.text("summary", "CRWV listed on ...")     # markdown, generated from results
    sec.exhibit("price_chart", exhibits.figure(...))

and the notebook shows items by name (`sec.show("summary", "price_chart")`) and writes the
results (`sec.write(results_dir)`; `None` = scratch folder, for hand runs). Items are shown in
the order asked; asking for an unknown name is an error that lists the known ones.
"""

from __future__ import annotations

from .. import results as _results
from ..report import fmt
from ..verdicts import Verdict


def verdict_markdown(v: Verdict) -> str:
    """A verdict as a section prints it: '**Holds: operating margin ... .** Luria's point holds: ...'
    (plain-text lead and sentence, escaped for markdown)."""
    return f"**{fmt.text(v.lead)}** {fmt.text(v.sentence)}"


class Markdown(str):
    """Generated narrative (markdown). Displays as markdown in Jupyter and in the note."""

    def _repr_markdown_(self) -> str:
        return str(self)


class Section:
    """One notebook's results (`.results`), named display items and computed data (`.data`)."""

    def __init__(self, notebook: str, params: dict):
        self.notebook = notebook
        self.params = dict(params)
        self.as_of = self.params.get("as_of")
        self.results = _results.Results(notebook, self.as_of, self.params)
        self.items: dict[str, object] = {}
        #: intermediate frames a researcher may want to look at in Lab (never written or shown)
        self.data: dict[str, object] = {}

    # ---- results contract
    def value(self, name: str, value, unit: str, label: str, sources=(), period: str | None = None):
        return self.results.value(name, value, unit, label, sources, period=period)

    def table(self, name: str, df, units: dict | None = None):
        return self.results.table(name, df, units)

    def verdict(self, v: Verdict) -> Verdict:
        """Record a verdict; it is also a display item named `verdict:<key>`: its lead (answer and
        headline, as the front page's thesis prints it) in bold, then its full sentence."""
        self.results.verdict(v)
        self.items[f"verdict:{v.key}"] = Markdown(verdict_markdown(v))
        return v

    # ---- display items
    def text(self, name: str, markdown: str) -> None:
        self.items[name] = Markdown(markdown)

    def exhibit(self, name: str, ex) -> None:
        """A table or figure (or a list of them, shown in order) as item `name`."""
        self.items[name] = ex

    def names(self) -> list[str]:
        return list(self.items)

    def show(self, *names: str) -> None:
        """Display the named items in order (Exhibits and Markdown both carry their own repr; an
        item that is a list, e.g. one table per outlet, displays each of its elements)."""
        from IPython.display import display

        for n in names:
            if n not in self.items:
                raise KeyError(f"{self.notebook}: no item {n!r} to show; items: {', '.join(self.items)}")
            item = self.items[n]
            for x in item if isinstance(item, list) else [item]:
                display(x)

    def write(self, results_dir=None):
        """Write the results file (`None`: a scratch folder, never a build's results)."""
        return self.results.write(results_dir)
