"""The precision a figure carries from its source, and the precision of figures derived from it.

A management "~$50bn" is not 50,000.0: it is known to about a billion. A stored figure is
*approximate* when its data note says so (`~`, "about", "approximately", "rounded", "reached",
"more than", a stated bound). Its *rounding unit* (same unit as the value, e.g. USD m) is the
largest power of ten that divides it, at most `MAX_UNIT` (figures stated as "$X billion" are
rounded to the billion at most): 50,000 -> 1,000; 30,100 -> 100. An exact figure has unit 0.

A sum or difference is known to the largest unit of its inputs (50,000 - 30,100 + 1,364.7 is
"about 21,000"); a ratio to its inputs' largest relative precision (unit / |value|), turned back
into a unit with `unit_for`. Nothing here changes a stored value: these functions only say how
finely a figure may be printed.
"""

from __future__ import annotations

import math
import re

#: Words in a data note that mark a figure as approximate (case-insensitive).
APPROX_RE = re.compile(r"~|\babout\b|approx|\brounded\b|\breached\b|\bnearly\b|more than|"
                       r"lower bound|upper bound|\bless than\b", re.IGNORECASE)
#: Coarsest rounding unit inferred from a stored value (USD m: a billion).
MAX_UNIT = 1000.0


def is_approximate(note) -> bool:
    """True when a data note marks its figure as approximate (see `APPROX_RE`)."""
    return isinstance(note, str) and bool(APPROX_RE.search(note))


def rounding_unit(value, approximate: bool, max_unit: float = MAX_UNIT) -> float:
    """Rounding unit of a stored figure: 0 when exact; for an approximate one the largest power of
    ten (1 to `max_unit`) that divides |value|, else 1 (a figure with decimals is taken at 1).
    `max_unit` below 1 (shares, fractions) means: not inferred, 0."""
    if not approximate or value is None or not math.isfinite(float(value)) or max_unit < 1:
        return 0.0
    v = abs(float(value))
    unit = 1.0
    while unit * 10 <= max_unit and v > 0 and abs(v / (unit * 10) - round(v / (unit * 10))) < 1e-9:
        unit *= 10
    return unit


def sum_unit(*units) -> float:
    """Rounding unit of a sum or difference: the largest unit of its inputs (0 = all exact)."""
    u = [float(x) for x in units if x is not None and math.isfinite(float(x))]
    return max(u) if u else 0.0


def relative(value, unit) -> float:
    """Relative precision unit / |value| (0 for exact figures or a zero value)."""
    if not unit or value is None or not math.isfinite(float(value)) or float(value) == 0:
        return 0.0
    return float(unit) / abs(float(value))


def unit_for(value, rel: float) -> float:
    """Rounding unit for a figure known to relative precision `rel`: the power of ten nearest to
    the absolute uncertainty |value| x rel on a log scale (0.73 -> 1, 0.18 -> 0.1; 0 when exact)."""
    if not rel or value is None or not math.isfinite(float(value)) or float(value) == 0:
        return 0.0
    return 10.0 ** round(math.log10(abs(float(value)) * rel))


def ratio_unit(value, *pairs) -> float:
    """Rounding unit of a ratio or product whose inputs are (value, unit) pairs."""
    return unit_for(value, max((relative(v, u) for v, u in pairs), default=0.0))


def round_to(value, unit: float) -> float:
    """`value` rounded to `unit` (unchanged when unit is 0)."""
    if not unit or value is None or not math.isfinite(float(value)):
        return value
    return round(float(value) / unit) * unit
