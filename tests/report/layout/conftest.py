"""Layout tests: a synthetic note page (made-up values that only exercise the layout: wide, long
and wordy tables, two line charts and a grid of labelled cells, repeated sub-heads, eleven
sections), the built notes when present,
and a small headless-Chromium client (DevTools protocol over websocket-client, which the
environment has through jupyter-server) for the tests marked `browser`.

Browser tests need Chromium: `apt-get install -y chromium`, or set CHROMIUM to its path; they
are skipped, with that reason, when no Chromium is found. Set CRWV_LAYOUT_SHOTS=<folder> to keep
the screenshots they take.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from analysis import paths
from analysis.report import exhibits, fmt, front, style
from analysis.report.html import render_html
from analysis.report.note import number_exhibits

REPORTS = paths.ROOT / "reports"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--hide-scrollbars", "--mute-audio",
                  "--remote-debugging-port=0"]
WIDTHS = (1280, 390)  # a laptop and a phone (CSS px)


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: measures the HTML note in headless Chromium (skipped without it)")


# ---- the synthetic page ---------------------------------------------------------------------

def _display(bundle, tags=("hide-input",)):
    cell = nbformat.v4.new_code_cell("", metadata={"tags": list(tags)})
    cell.outputs = [nbformat.v4.new_output("display_data", data=bundle)]
    return cell


def _md(text):
    return nbformat.v4.new_markdown_cell(text)


def _chart(title):
    fig, ax = style.figure()
    xs = pd.date_range("2025-03-28", periods=60, freq="W")
    ax.plot(xs, range(60), label="a made-up line")
    ax.plot(xs, [60 - x for x in range(60)], label="another")
    style.date_axis(ax)
    ax.legend()
    return exhibits.figure(fig, title=title, source="made-up values")


def _heatmap(title):
    """A chart that labels its data cell by cell (as the note's heat map does): 12 x 14 made-up
    values, each printed in its cell, wider than the text column."""
    fig, ax = style.figure(figsize=(8.2, 4.0))
    for i in range(12):
        for j in range(14):
            ax.text(j, i, f"{(i * 7 + j * 3) % 19 - 9:+d}", ha="center", va="center", fontsize=5.2)
    ax.set_xlim(-0.5, 13.5)
    ax.set_ylim(11.5, -0.5)
    ax.set_xticks(range(14), [f"T{j:02d}" for j in range(14)], fontsize=6.5)
    ax.set_yticks(range(12), [f"event {i:02d}, a made-up label" for i in range(12)], fontsize=6)
    return exhibits.figure(fig, title=title, source="made-up values")


def synthetic_notebook():
    """The cells of a note with what stresses the layout (values made up)."""
    wide = pd.DataFrame({"Quarter": [f"2025Q{q}" for q in (1, 2, 3, 4)]})
    for j in range(1, 15):
        wide[f"Measure number {j} (USD millions)"] = [1234.5 * (j + q) for q in range(4)]
    wordy = pd.DataFrame({"Id": ["C01", "C02", "C03"],
                          "Claim (in our words)": ["A long sentence about what a press outlet said happened on a day, "
                                                   "with enough words to wrap over several lines in any column"] * 3,
                          "Check": ["the filing gives a figure for the quarter that differs from the claim by a margin"] * 3,
                          "Identifier": ["interest_and_depreciation_to_revenue_quarterly"] * 3,
                          "Verdict": ["confirmed", "differs", "partly verifiable"]})
    extreme = pd.DataFrame({f"Column {j}": [f"{j * 1000 + i:,}" for i in range(3)] for j in range(34)})
    long = pd.DataFrame({"Row": [f"row {i:02d}" for i in range(45)], "Value": [i * 1.5 for i in range(45)],
                         "Change": [i / 100 for i in range(45)]})
    cells = [_display({"text/html": '<header class="title-block"><h1>Layout test note</h1></header>'}, ("front",)),
             front.toc_cell()]
    verdicts = {2, 5, 9}
    for k in range(1, 12):
        cells.append(_md(f"## Section {k}: a heading long enough to wrap in the contents sidebar\n\nSome text."))
        if k == 1:
            cells.append(_md("### Tables\n\nWide, wordy, extreme and long tables follow."))
            cells.append(_display(exhibits.table(wide, "Fourteen measures by quarter", "made-up values",
                                                 formats={c: fmt.num for c in wide.columns[1:]})._repr_mimebundle_()))
            cells.append(_display(exhibits.table(wordy, "Claims checked, in words", "made-up values")._repr_mimebundle_()))
            cells.append(_display(exhibits.table(extreme, "Thirty-four columns", "made-up values")._repr_mimebundle_()))
            cells.append(_display(exhibits.table(long, "Forty-five rows", "made-up values",
                                                 formats={"Change": fmt.pct})._repr_mimebundle_()))
            cells.append(_md("| " + " | ".join(f"Markdown column {j}" for j in range(12)) + " |\n|"
                             + "---|" * 12 + "\n| " + " | ".join(f"{j * 1234567:,}" for j in range(12)) + " |"))
        if k == 2:
            cells.append(_display(_chart("A made-up chart that goes up")._repr_mimebundle_()))
            cells.append(_display(_chart("A made-up chart that goes down")._repr_mimebundle_()))
            cells.append(_display(_heatmap("A made-up grid of labelled cells")._repr_mimebundle_()))
        if k in verdicts:
            cells.append(_md("### Verdict\n\nA verdict sub-section, as in several sections of the note."))
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"crwv": {"title": "Layout test note"}, "language_info": {"name": "python"}}
    for i, c in enumerate(cells):
        c["id"] = f"cell-{i:04d}"
    nb.cells = cells
    number_exhibits(nb.cells)
    return nb


@pytest.fixture(scope="session")
def synthetic_page(tmp_path_factory) -> Path:
    """The synthetic note rendered by the note's HTML renderer, as a file."""
    path = tmp_path_factory.mktemp("layout") / "synthetic.html"
    path.write_bytes(render_html(synthetic_notebook()))
    return path


@pytest.fixture(scope="session")
def built_note_paths() -> list[Path]:
    """The HTML notes of this checkout's build (`make report`, its variants), if built."""
    return sorted(p for p in [REPORTS / "crwv-note.html", *REPORTS.glob("*/crwv-note.html")] if p.is_file())


# ---- headless Chromium over the DevTools protocol -------------------------------------------

def chromium_path() -> str | None:
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if name and (found := shutil.which(name)):
            return found
    return None


class Chromium:
    """One headless Chromium, driven through its DevTools websocket (flattened sessions)."""

    def __init__(self, exe: str):
        import websocket

        self.dir = tempfile.mkdtemp(prefix="crwv-chromium-")
        self.proc = subprocess.Popen([exe, *CHROMIUM_FLAGS, f"--user-data-dir={self.dir}", "about:blank"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = Path(self.dir) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and len(port_file.read_text().split()) >= 2):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"{exe} did not start its DevTools endpoint")
            time.sleep(0.05)
        port, ws_path = port_file.read_text().split()[:2]
        self.ws = websocket.create_connection(f"ws://127.0.0.1:{port}{ws_path}", timeout=120, suppress_origin=True)
        self.n = 0
        self.targets: dict[str, str] = {}

    def call(self, method: str, session: str | None = None, **params):
        self.n += 1
        msg = {"id": self.n, "method": method, "params": params} | ({"sessionId": session} if session else {})
        self.ws.send(json.dumps(msg))
        while True:
            r = json.loads(self.ws.recv())
            if r.get("id") == self.n:
                if "error" in r:
                    raise RuntimeError(f"{method}: {r['error']}")
                return r["result"]

    def open(self, path: Path, width: int, height: int = 900, media: str = "", dark: bool = False) -> str:
        """A new tab of `width` CSS px (a phone, with touch, below 600) showing `path`; its session."""
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        s = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.targets[s] = target
        self.call("Emulation.setDeviceMetricsOverride", s, width=width, height=height, deviceScaleFactor=1,
                  mobile=width < 600)
        self.call("Emulation.setEmulatedMedia", s, media=media,
                  features=[{"name": "prefers-color-scheme", "value": "dark" if dark else "light"}])
        self.call("Page.navigate", s, url=Path(path).resolve().as_uri())
        deadline = time.monotonic() + 60
        while self.eval(s, "document.readyState") != "complete":
            if time.monotonic() > deadline:
                raise RuntimeError(f"{path} did not load")
            time.sleep(0.05)
        return s

    def eval(self, session: str, expr: str):
        r = self.call("Runtime.evaluate", session, expression=expr, returnByValue=True)
        if "exceptionDetails" in r:
            raise RuntimeError(r["exceptionDetails"])
        return r["result"].get("value")

    def screenshot(self, session: str, out: Path, full: bool = True) -> None:
        data = self.call("Page.captureScreenshot", session, format="png", captureBeyondViewport=full)["data"]
        out.write_bytes(base64.b64decode(data))

    def print_pdf(self, session: str) -> bytes:
        """Print as a reader's browser would: the page's own @page size and margins."""
        data = self.call("Page.printToPDF", session, preferCSSPageSize=True, printBackground=True)["data"]
        return base64.b64decode(data)

    def close_tab(self, session: str) -> None:
        self.call("Target.closeTarget", targetId=self.targets.pop(session))

    def close(self) -> None:
        try:
            if getattr(self, "ws", None) is not None:
                self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def chromium():
    exe = chromium_path()
    if exe is None:
        pytest.skip("no Chromium found (apt-get install -y chromium, or set CHROMIUM): browser layout checks skipped")
    browser = Chromium(exe)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def shots_dir() -> Path | None:
    """Where to keep screenshots (CRWV_LAYOUT_SHOTS), or None."""
    d = os.environ.get("CRWV_LAYOUT_SHOTS")
    if not d:
        return None
    Path(d).mkdir(parents=True, exist_ok=True)
    return Path(d)
