"""Source notebooks as the build sees them: section discovery, stripping, the note's copy of an
executed notebook (narrative from the source, outputs by cell id), failing-cell numbers."""

from __future__ import annotations

import json
import shutil

import nbformat
import pytest

from analysis import nbsource, paths
from analysis.report import sections


def _touch_nb(folder, stem):
    nb = nbformat.v4.new_notebook()
    nbformat.write(nb, folder / f"{stem}.ipynb")


def test_sections_are_discovered_in_prefix_order(tmp_path):
    for stem in ("10_later", "02_b", "02_a", "00_first"):
        _touch_nb(tmp_path, stem)
    for other in ("scratch", "1_short", "03_has-dash", "x03_prefixed"):
        _touch_nb(tmp_path, other)
    (tmp_path / "04_folder.ipynb").mkdir()
    assert sections.discover(tmp_path) == ("00_first", "02_a", "02_b", "10_later")
    assert sections.discover(tmp_path, excluded={"02_b"}) == ("00_first", "02_a", "10_later")


def test_sections_constant_is_the_notebooks_folder():
    assert sections.SECTIONS == sections.discover(paths.notebooks_dir())
    assert sections.SECTIONS[0] == "00_overview"
    assert not set(sections.EXCLUDED) & set(sections.SECTIONS)


def _notebook():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("## Title", id="md1"),
                nbformat.v4.new_code_cell("as_of = 'latest'\nresults_dir = None", id="par",
                                          metadata={"tags": ["parameters", "remove-cell"]}),
                nbformat.v4.new_markdown_cell("Some words.", id="md2"),
                nbformat.v4.new_code_cell("1/0", id="boom", metadata={"tags": ["hide-input"]})]
    return json.loads(nbformat.writes(nb))


def _executed(src):
    ex = json.loads(json.dumps(src))
    injected = {"cell_type": "code", "id": "injected-parameters", "metadata": {"tags": ["injected-parameters"]},
                "source": "as_of = '2025-11-10'\n", "outputs": [], "execution_count": 2}
    ex["cells"].insert(2, injected)
    ex["cells"][-1]["outputs"] = [{"output_type": "display_data", "data": {"text/plain": "shown"}, "metadata": {}}]
    return ex


def test_note_copy_takes_narrative_from_source_and_outputs_by_id():
    src = _notebook()
    ex = _executed(src)
    edited = json.loads(json.dumps(src))
    edited["cells"][2]["source"] = "Different words."
    edited["cells"].insert(0, {"cell_type": "markdown", "id": "new", "metadata": {}, "source": "New paragraph."})
    edited["cells"][4]["metadata"]["tags"] = ["hide-input", "remove-output"]
    out = nbsource.note_copy(ex, edited)
    assert [c["id"] for c in out["cells"]] == ["new", "md1", "par", "injected-parameters", "md2", "boom"]
    assert out["cells"][4]["source"] == "Different words."
    assert out["cells"][5]["outputs"] == ex["cells"][-1]["outputs"]
    assert out["cells"][5]["metadata"]["tags"] == ["hide-input", "remove-output"]
    assert nbsource.note_copy(ex, src) == ex  # unchanged narrative: the executed notebook as it was


def test_note_copy_refuses_changed_code():
    src = _notebook()
    ex = _executed(src)
    src["cells"][3]["source"] = "2/1"
    with pytest.raises(nbsource.NotebookError, match="code cell 4 .* not in the executed copy"):
        nbsource.note_copy(ex, src)


def test_failing_cell_is_numbered_as_in_the_source():
    src = _notebook()
    ex = _executed(src)
    ex["cells"][-1]["outputs"] = [{"output_type": "error", "ename": "ZeroDivisionError", "evalue": "division by zero",
                                   "traceback": []}]
    # papermill puts an error banner first and the injected cell after the parameters: neither counts
    ex["cells"].insert(0, {"cell_type": "markdown", "id": "banner", "metadata": {}, "source": "An Exception..."})
    assert nbsource.failing_cell(ex, src) == (4, "boom")


def test_execution_cells_ignore_narrative_and_display_tags():
    src = _notebook()
    other = json.loads(json.dumps(src))
    other["cells"][0]["source"] = "## Another title"
    other["cells"][3]["metadata"]["tags"] = []
    assert nbsource.execution_cells(src) == nbsource.execution_cells(other)
    assert nbsource.layout(src) != nbsource.layout(other)


def test_strip_removes_outputs_and_run_metadata_and_writes_only_changes(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                   "language_info": {"name": "python", "version": "3.11.7", "mimetype": "text/x-python"},
                   "widgets": {"state": {}}}
    cell = nbformat.v4.new_code_cell("print(1)", id="c1", metadata={"tags": ["hide-input"], "scrolled": True,
                                                                    "execution": {"iopub.execute_input": "2026-01-01"}})
    cell.outputs = [nbformat.v4.new_output("stream", text="1\n")]
    cell.execution_count = 3
    nb.cells = [cell]
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, path)
    assert nbsource.strip_file(path) is True
    out = json.loads(path.read_text())
    c = out["cells"][0]
    assert c["outputs"] == [] and c["execution_count"] is None and c["metadata"] == {"tags": ["hide-input"]}
    assert out["metadata"] == {"kernelspec": nbsource.KERNELSPEC, "language_info": {"name": "python"}}
    before = path.stat().st_mtime_ns
    assert nbsource.strip_file(path) is False
    assert path.stat().st_mtime_ns == before


def test_committed_notebooks_are_stripped(tmp_path):
    for p in sorted(paths.notebooks_dir().glob("*.ipynb")):
        copy = tmp_path / p.name
        shutil.copyfile(p, copy)
        assert nbsource.strip_file(copy) is False, f"{p.name}: run `make strip` (or `make fix`)"
