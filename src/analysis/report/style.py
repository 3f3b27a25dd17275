"""One house style for every chart: readable in grey print, deterministic SVG output."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from cycler import cycler  # noqa: E402

# Dark-to-light greys with distinct dash patterns and markers: series stay apart in grey print.
INK = "#1a1a1a"
GREYS = ["#1a1a1a", "#6b6b6b", "#a6a6a6", "#404040", "#8c8c8c", "#c8c8c8"]
DASHES = ["-", "--", ":", "-.", (0, (5, 1, 1, 1)), (0, (1, 1))]
MARKERS = ["", "", "", "", "", ""]
HATCHES = ["", "///", "...", "xxx", "\\\\\\", "ooo"]
ACCENT = "#b2182b"  # one accent colour, used sparingly (still dark in grey print)

RC = {
    "font.family": "DejaVu Sans",
    "font.size": 8.5,
    "axes.titlesize": 9,
    "axes.labelsize": 8.5,
    "axes.edgecolor": INK,
    "axes.labelcolor": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": "#d9d9d9",
    "grid.linewidth": 0.6,
    "axes.prop_cycle": cycler(color=GREYS) + cycler(linestyle=DASHES),
    "lines.linewidth": 1.4,
    "legend.frameon": False,
    "legend.fontsize": 7.5,
    "xtick.color": INK,
    "ytick.color": INK,
    "figure.figsize": (7.0, 3.4),
    "figure.dpi": 100,
    "savefig.bbox": "tight",
    "svg.fonttype": "path",  # text as outlines: no font needed by the viewer
    "svg.hashsalt": "crwv-note",  # stable element ids: byte-identical SVG across runs
    "axes.unicode_minus": False,
}


def use() -> None:
    """Apply the house style to matplotlib's global rcParams."""
    plt.rcParams.update(RC)


def figure(nrows: int = 1, ncols: int = 1, **kw):
    """A new figure in the house style: `fig, ax = style.figure()`."""
    use()
    return plt.subplots(nrows, ncols, **kw)


def to_svg(fig) -> str:
    """Render a figure to an SVG string with no timestamp, then close it."""
    buf = io.StringIO()
    with plt.rc_context(RC):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    svg = buf.getvalue()
    return svg[svg.index("<svg"):]  # drop the XML prolog and DOCTYPE: inline-ready


def plain_log_formatter():
    """Tick labels like 50, 100, 200 on a log axis (no scientific notation)."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: f"{v:,.0f}")


def plain_log_axis(ax) -> None:
    """Log y-axis with ticks at 1-2-3-4-5 steps labelled as plain numbers, no minor labels."""
    from matplotlib.ticker import LogLocator, NullFormatter

    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 3.0, 4.0, 5.0)))
    ax.yaxis.set_major_formatter(plain_log_formatter())
    ax.yaxis.set_minor_formatter(NullFormatter())


def date_axis(ax, maxticks: int = 9) -> None:
    """Readable date ticks on the x-axis: at most `maxticks`, concise labels (year shown once)."""
    import matplotlib.dates as mdates

    loc = mdates.AutoDateLocator(minticks=4, maxticks=maxticks)
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))


def _group_label(ids: list[str]) -> str:
    """'E15-E19' for consecutive ids of one prefix, else 'E01, E04'."""
    import re

    parts = [re.fullmatch(r"([A-Za-z]*)(\d+)", i) for i in ids]
    if len(ids) > 2 and all(parts) and len({p[1] for p in parts}) == 1:
        nums = [int(p[2]) for p in parts]
        if nums == list(range(nums[0], nums[0] + len(nums))):
            return f"{ids[0]}\u2013{ids[-1]}"
    return ", ".join(ids)


def event_markers(ax, dates, labels, fontsize: float = 6.0, max_rows: int = 3, color: str = "#404040") -> None:
    """Dotted vertical lines at `dates`, labelled above the axes without overprinting.

    Labels closer than their own width are merged into one label ("E15-E19" / "E01, E04"), and
    the merged labels are staggered over up to `max_rows` rows so that none overlaps another.
    Call after the x-limits are final (after plotting the data).
    """
    import matplotlib.dates as mdates

    pts = sorted(zip(mdates.date2num(list(dates)), list(labels), strict=True))
    if not pts:
        return
    for x, _ in pts:
        ax.axvline(x, color="#b0b0b0", linewidth=0.6, linestyle=":", zorder=0)
    fig = ax.figure
    x0, x1 = ax.get_xlim()
    width_pt = ax.get_position().width * fig.get_figwidth() * 72
    char = 0.62 * fontsize / width_pt * (x1 - x0)  # one character in data units (DejaVu Sans ~0.6 em)
    # 1. merge labels whose own text would overlap on one row
    groups: list[list] = []
    for x, lab in pts:
        if groups and x - groups[-1][-1][0] < char * (len(lab) + 1):
            groups[-1].append((x, lab))
        else:
            groups.append([(x, lab)])
    # 2. stagger merged labels over rows: each goes to the lowest row whose last label ends before it
    #    starts; a label that fits no row is merged with the one before it, and the rows are redone
    while True:
        row_end, placed, misfit = [float("-inf")] * max_rows, [], None
        for i, g in enumerate(groups):
            text = _group_label([lab for _, lab in g])
            xc, half = (g[0][0] + g[-1][0]) / 2, char * len(text) / 2
            row = next((r for r in range(max_rows) if row_end[r] + char < xc - half), None)
            if row is None:
                misfit = i
                break
            row_end[row] = xc + half
            placed.append((text, xc, row))
        if misfit is None:
            break
        groups[misfit - 1:misfit + 1] = [groups[misfit - 1] + groups[misfit]]
    for text, xc, row in placed:
        ax.annotate(text, (xc, 1.0), xycoords=("data", "axes fraction"), xytext=(0, 2 + 7 * row),
                    textcoords="offset points", fontsize=fontsize, ha="center", va="bottom", color=color,
                    annotation_clip=False)
