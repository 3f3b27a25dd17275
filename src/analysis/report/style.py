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
