"""examples/panels.ipynb run in a real kernel, then exported with nbconvert: the static fallbacks.

The notebook is executed without saving widget state, as JupyterLab saves
notebooks by default; nbconvert then renders each panel's ``text/html``
fallback. The export must show the run table's rows and the charts' SVG, and
the panels must add no URL to the page beyond what nbconvert's own template
carries (no CDN script, no remote stylesheet).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import ipykernel  # noqa: F401  (the kernel the notebook runs in)
import nbclient
import nbformat
import pytest
from nbconvert import HTMLExporter

import nbtrack

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "panels.ipynb"
URL = re.compile(r"""(?:https?:)?//[^\s"'<>)]+""")
#: XML namespaces and DTDs inside SVG markup name no resource to load.
W3 = re.compile(r"^https?://www\.w3\.org/")


def _urls(html: str) -> set[str]:
    return {u for u in URL.findall(html) if not W3.match(u)}


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> tuple[nbformat.NotebookNode, Path]:
    folder = tmp_path_factory.mktemp("panels")
    notebook = folder / "panels.ipynb"
    shutil.copy(EXAMPLE, notebook)
    store = folder / "store"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NBTRACK_TRACKING_URI", str(store))
        nb = nbformat.read(notebook, as_version=4)
        nbclient.NotebookClient(
            nb,
            kernel_name="python3",
            timeout=180,
            store_widget_state=False,
            resources={"metadata": {"path": str(folder)}},
        ).execute()
    return nb, store


def _html_of(nb: nbformat.NotebookNode, cell_id: str) -> str:
    cell = next(c for c in nb.cells if c.get("id") == cell_id)
    (output,) = [o for o in cell.outputs if o.output_type in ("display_data", "execute_result")]
    assert "application/vnd.jupyter.widget-view+json" in output.data
    return str(output.data["text/html"])


def test_example_notebook_runs_without_errors(executed) -> None:
    nb, store = executed
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, errors
    client = nbtrack.Client(str(store))
    experiment = client.get_experiment_by_name("panels-demo")
    assert experiment is not None
    assert len(client.search_runs([experiment.experiment_id])) == 8
    assert client.get_model_version_by_alias("panels-demo-model", "champion").version == 1


def test_each_panel_has_a_static_fallback(executed) -> None:
    nb, _ = executed
    table = _html_of(nb, "table")
    assert table.count("<tr>") == 1 + 8
    assert table.count("<tr>") - 1 == len(re.findall(r"sweep-\d", table))
    magic = _html_of(nb, "magic")
    assert 0 < magic.count("<tr>") - 1 < 8  # filtered
    assert _html_of(nb, "compare").count("<svg") >= 2
    assert _html_of(nb, "metrics").count("<svg") == 1
    assert "config.json" in _html_of(nb, "run")
    assert "@champion" in _html_of(nb, "registry")
    for cell_id in ("table", "magic", "compare", "metrics", "run", "registry"):
        html = _html_of(nb, cell_id)
        assert "<script" not in html
        assert _urls(html) == set(), cell_id


def test_nbconvert_html_shows_tables_and_svg_charts_and_no_cdn(executed) -> None:
    nb, _ = executed
    html, _ = HTMLExporter().from_notebook_node(nb)
    baseline, _ = HTMLExporter().from_notebook_node(nbformat.v4.new_notebook())
    assert "jp-nbtrack-Panel" in html
    assert html.count('aria-label="runs"') == 2  # show_runs and %nbtrack runs
    assert html.count("<svg") >= 3
    assert re.search(r"<tr><td><span class=\"jp-nbtrack-status", html)
    # No widget manager from unpkg: the widget views fell back to their HTML.
    assert "unpkg.com" not in html and "widget-state+json" not in html
    # Whatever URLs the page has, nbconvert's empty template already had.
    assert _urls(html) - _urls(baseline) == set()
