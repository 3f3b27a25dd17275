"""Verdicts: the one place a conclusion is drawn, shared by a section and the front page.

A verdict answers one research question (`QUESTIONS`) from the statistic that supports it. The
function that computes it lives next to the statistic (e.g. `unit_economics.luria_verdict`); it
returns a `Verdict` whose `answer` is a short controlled word ("holds", "contagion", "not
applicable", "mixed", ...) and whose `sentence` is the generated plain-text sentence both the
section and the front page print, word for word. `evidence` holds the numbers the answer rests
on, so a test (or a reader of the results file) can trace it.

Verdicts are written to the results file under `"verdicts"` (see `analysis.results`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Research questions, in the order the front page's thesis takes them: key -> (section, question).
QUESTIONS: dict[str, tuple[str, str]] = {
    "margin_vs_cost_of_debt": ("01_unit_economics", "Is the operating margin above the cost of debt?"),
    "depreciation_life": ("01_unit_economics", "How much of the margin rests on the six-year GPU life?"),
    "backlog_conversion": ("02_backlog_conversion", "How fast does the backlog turn into revenue?"),
    "customer_concentration": ("03_customer_concentration", "Who is the backlog from?"),
    "peers_move_on_crwv_shocks": ("04_sector_contagion", "Do CoreWeave shocks move the peers?"),
    "contagion_or_interdependence": ("04_sector_contagion", "Is the crisis co-movement contagion or interdependence?"),
    "crwv_transmitter": ("04_sector_contagion", "Is CoreWeave a net transmitter of shocks?"),
    "funding_gap": ("06_funding", "How is the gap between capex and operating cash flow funded?"),
    "returns_on_capital": ("06_funding", "What returns on capital do depreciation lives give?"),
}

#: Answers that say the data do not carry a conclusion; the front page prints them as such.
NO_CONCLUSION = ("not applicable", "not measurable", "mixed", "insufficient data")


@dataclass(frozen=True)
class Verdict:
    """One answer to one question of `QUESTIONS`.

    key: the question's key; answer: a short controlled word; sentence: the generated sentence
    (plain text, no markdown); evidence: name -> number/text the answer rests on; period: the
    period or window the evidence covers (e.g. "2026Q2", "2025-11-11 to 2025-12-31").
    """

    key: str
    answer: str
    sentence: str
    evidence: dict = field(default_factory=dict)
    period: str | None = None

    def __post_init__(self):
        if self.key not in QUESTIONS:
            raise KeyError(f"unknown verdict key {self.key!r}; known: {', '.join(QUESTIONS)}")
        if not self.answer or not self.sentence:
            raise ValueError(f"verdict {self.key!r} needs an answer and a sentence")

    @property
    def question(self) -> str:
        return QUESTIONS[self.key][1]

    @property
    def section(self) -> str:
        return QUESTIONS[self.key][0]

    @property
    def conclusive(self) -> bool:
        return self.answer not in NO_CONCLUSION

    def to_dict(self) -> dict:
        return {"question": self.question, "answer": self.answer, "sentence": self.sentence,
                "evidence": dict(self.evidence), "period": self.period}

    @classmethod
    def from_dict(cls, key: str, d: dict) -> Verdict:
        return cls(key=key, answer=d["answer"], sentence=d["sentence"], evidence=dict(d.get("evidence") or {}),
                   period=d.get("period"))
