"""Format numbers and data text for prose and tables. Missing values print as 'n/a', never as zero."""

from __future__ import annotations

import math
import re

import pandas as pd

NA = "n/a"


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and not math.isfinite(x)) or (not isinstance(x, str) and pd.isna(x))


def num(x, digits: int = 1) -> str:
    """1234.5 -> '1,234.5'."""
    return NA if _missing(x) else f"{x:,.{digits}f}"


def pct(x, digits: int = 1, sign: bool = False) -> str:
    """Fraction -> percent: 0.038 -> '3.8%' (sign=True: '+3.8%')."""
    if _missing(x):
        return NA
    return f"{100 * x:{'+' if sign else ''},.{digits}f}%"


def pp(x, digits: int = 1) -> str:
    """Fraction difference -> percentage points: 0.012 -> '1.2 pp'."""
    return NA if _missing(x) else f"{100 * x:,.{digits}f} pp"


def usd_m(x, digits: int = 1) -> str:
    """USD millions -> '$1,364.7m' (negative: '-$27.5m')."""
    if _missing(x):
        return NA
    return f"{'-' if x < 0 else ''}${abs(x):,.{digits}f}m"


def usd_bn(x_usd_m, digits: int = 1) -> str:
    """USD millions -> '$55.6bn'."""
    if _missing(x_usd_m):
        return NA
    return f"{'-' if x_usd_m < 0 else ''}${abs(x_usd_m) / 1000:,.{digits}f}bn"


def usd(x, digits: int = 2) -> str:
    """USD -> '$105.61'."""
    return NA if _missing(x) else f"{'-' if x < 0 else ''}${abs(x):,.{digits}f}"


def ratio(x, digits: int = 2) -> str:
    """Multiple -> '0.17x'."""
    return NA if _missing(x) else f"{x:,.{digits}f}x"


def date(x) -> str:
    """Any date-like -> ISO 'YYYY-MM-DD'."""
    return NA if _missing(x) else pd.Timestamp(x).date().isoformat()


def years(x, digits: int = 1) -> str:
    return NA if _missing(x) else f"{x:,.{digits}f} years"


def elapsed(seconds) -> str:
    """Coarse run time for prose: 'under 1 s', 'under 10 s', 'under 1 minute', 'under 5 minutes'.

    Timings vary from run to run; the note states these stable bounds so two builds stay
    byte-identical, while the exact seconds go to the results file and the build log.
    """
    if _missing(seconds):
        return NA
    for limit, text in ((1, "under 1 s"), (10, "under 10 s"), (60, "under 1 minute"), (300, "under 5 minutes")):
        if seconds < limit:
            return text
    return "over 5 minutes"


#: characters that start markup in markdown (CommonMark, Pandoc), HTML or, through Pandoc, Typst.
#: Quotes, apostrophes, periods, hyphens and parentheses are left alone (typography stays the
#: same) except where they could start a block (handled below); ':' breaks bare-URL autolinks.
MARKUP_CHARS = frozenset("\\`*_{}[]<>#+!|~^$&@:")
_BLOCK_START = re.compile(r"^(\d+)([.)])|^(-)")  # "1. x", "1) x": a list; "- x", "---": a list or a rule


def text(s) -> str:
    """Data text (an outlet, a claim, a name) for generated markdown: shown exactly as written.

    Every character that could start markup (HTML tags, links, images, emphasis, code, math,
    citations, Typst raw blocks) is backslash-escaped, which both nbconvert's markdown renderer
    and Pandoc turn back into the plain character; line breaks become spaces, so a data string
    can never open a block (a heading, a list, a fence). Ordinary text renders unchanged:
    `fmt.text("Meta's 10-K, Q3 2025")` shows as written. Missing values print as 'n/a'.
    """
    if s is None or (not isinstance(s, str) and _missing(s)):
        return NA
    s = " ".join(str(s).split())
    s = "".join("\\" + ch if ch in MARKUP_CHARS else ch for ch in s)
    return _BLOCK_START.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else f"\\{m[3]}", s)


def untext(md: str) -> str:
    """The plain text a `text(...)` escape stands for (drops the markup escapes; for checks that
    compare generated markdown with the sentence it was generated from)."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", md)


def about(x, unit: float = 0.0, style: str = "num", digits: int = 1) -> str:
    """A figure printed to the precision it carries (`analysis.precision`): exact (unit 0) as
    `style` with `digits`; approximate rounded to `unit` and prefixed 'about' ('about $50bn',
    'about 21,000', 'about 16x'). style: num, usd_m, usd_bn, ratio, years, pct (unit in the
    value's own unit: USD m for usd_m/usd_bn, a fraction for pct)."""
    if _missing(x):
        return NA
    show = {"num": num, "usd_m": usd_m, "usd_bn": usd_bn, "ratio": ratio, "years": years, "pct": pct}[style]
    if not unit:
        return show(x, digits)
    scale = {"usd_bn": 1000.0, "pct": 0.01}.get(style, 1.0)
    d = max(0, -math.floor(math.log10(unit / scale) + 1e-9))
    return f"about {show(round(x / unit) * unit, min(d, digits))}"


#: brackets that `shorten` keeps balanced (opening -> closing)
_PAIRS = {"(": ")", "[": "]", "{": "}", "\u201c": "\u201d", "\u2018": "\u2019"}
_WORD_CHAR = re.compile(r"\w")
#: words a shortened text never ends on
_DANGLING = frozenset("a an and as at by for from in of on or the to with".split())


def _quote_role(s: str, i: int) -> str | None:
    """'open', 'close' or None (an apostrophe: "CoreWeave's") for the straight quote at s[i]."""
    before = s[i - 1] if i else " "
    after = s[i + 1] if i + 1 < len(s) else " "
    if _WORD_CHAR.match(before) and _WORD_CHAR.match(after):
        return None  # inside a word: an apostrophe
    if before.isspace() or before in "([{\u2014-/":
        return "open"
    return "close"


def open_marks(s: str) -> list[str]:
    """Brackets and quotes opened in `s` and not closed, innermost last ('(' and "'" for
    "E07 (Q2 results: 'revenue"). Straight quotes inside a word are apostrophes."""
    stack: list[str] = []
    for i, ch in enumerate(s):
        if ch in _PAIRS:
            stack.append(ch)
        elif ch in _PAIRS.values():
            opener = next(k for k, v in _PAIRS.items() if v == ch)
            if opener in stack:
                del stack[len(stack) - 1 - stack[::-1].index(opener):]
        elif ch in "'\"":
            role = _quote_role(s, i)
            if role == "close" and ch in stack:
                del stack[len(stack) - 1 - stack[::-1].index(ch):]
            elif role == "open":
                stack.append(ch)
    return stack


def shorten(s, limit: int = 80) -> str:
    """Data text cut to at most `limit` characters at a word boundary, with an ellipsis, and every
    bracket or quote it opened before the cut closed after the ellipsis: "Senior Notes due 2031
    (text mirrored on a…)", never "(text mirrored on a…". Text that fits is returned unchanged;
    a single word longer than `limit` is cut inside the word."""
    s = " ".join(str(s).split())
    if len(s) <= limit:
        return s
    words = s.split(" ")
    for k in range(len(words) - 1, 0, -1):
        if words[k - 1].lower() in _DANGLING and k > 1:
            continue  # never end on 'of', 'the', 'as' ...
        out = _close_cut(" ".join(words[:k]))
        if out and len(out) <= limit:
            return out
    for n in range(limit - 1, 0, -1):  # no word boundary fits: cut inside the first word
        out = _close_cut(s[:n])
        if out and len(out) <= limit:
            return out
    return "\u2026"


def _close_cut(head: str) -> str:
    """`head` without trailing separators or openers, an ellipsis, and the closers of what it left open."""
    head = head.rstrip(" ,;:-\u2013\u2014([{'\"\u201c\u2018")
    if not head:
        return ""
    return head + "\u2026" + "".join(_PAIRS.get(m, m) for m in reversed(open_marks(head)))


def first_clause(s, separators: str = ";") -> str:
    """Text up to the first separator outside brackets and quotes: "IPO at $40 (below range; 37.5M
    shares); first trade Friday" -> "IPO at $40 (below range; 37.5M shares)"."""
    s = " ".join(str(s).split())
    for i, ch in enumerate(s):
        if ch in separators and not open_marks(s[:i]):
            return s[:i].strip()
    return s
