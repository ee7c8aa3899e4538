"""Charts and figures a ``%%track`` cell shows, saved as artifacts (in-process IPython shell)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import altair  # noqa: F401  (the charts under test)
import pytest
import vl_convert  # noqa: F401  (renders the offline HTML)

import nbtrack
from nbtrack.entities import Run

CHART = (
    "import altair as alt, pandas as pd\n"
    "data = pd.DataFrame({'step': [1, 2, 3], 'loss': [0.9, 0.5, 0.3]})\n"
    "chart = alt.Chart(data).mark_line().encode(x='step', y='loss')\n"
)


def _only_run() -> Run:
    runs = nbtrack.search_runs(output_format="list")
    assert isinstance(runs, list) and len(runs) == 1, runs
    return runs[0]


def _figures(run: Run) -> dict[str, bytes]:
    client = nbtrack.Client()
    found = {}
    for info in client.list_artifacts(run.info.run_id, "figures"):
        found[info.path] = Path(client.download_artifacts(run.info.run_id, info.path)).read_bytes()
    return found


def _assert_offline_chart(html: str) -> None:
    # Every script is inline: nothing is fetched from a CDN when the page opens.
    assert not re.search(r"<script[^>]*\bsrc=", html)
    assert "cdn.jsdelivr" not in html and "unpkg.com" not in html
    assert "vegaEmbed" in html or "vega-embed" in html
    assert len(html) > 100_000  # vega, vega-lite and vega-embed inlined


def test_chart_as_last_expression_saves_html_and_vegalite(ip: Any) -> None:
    ip.run_cell(CHART)
    result = ip.run_cell("%%track --quiet\nchart\n")
    assert result.success
    files = _figures(_only_run())
    assert set(files) == {"figures/figure-1.vl.json", "figures/figure-1.html"}
    spec = json.loads(files["figures/figure-1.vl.json"])
    assert spec == ip.user_ns["chart"].to_dict()
    assert spec["mark"]["type"] == "line"
    _assert_offline_chart(files["figures/figure-1.html"].decode())
    # Nothing stays tapped after the cell.
    assert "format" not in vars(ip.display_formatter)
    assert "publish" not in vars(ip.display_pub)


def test_displayed_chart_and_figure_numbered_in_display_order(ip: Any) -> None:
    ip.run_cell(CHART + "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt")
    ip.run_cell(
        "%%track --quiet\nimport io\nfrom IPython.display import Image, display\n"
        "fig = plt.figure(); plt.plot([1, 2]); png = io.BytesIO(); fig.savefig(png)\n"
        "plt.close(fig); display(Image(png.getvalue()))\n"
        "display(chart)\n"
    )
    files = _figures(_only_run())
    assert set(files) == {
        "figures/figure-1.png",
        "figures/figure-2.vl.json",
        "figures/figure-2.html",
    }
    assert files["figures/figure-1.png"].startswith(b"\x89PNG")


@pytest.mark.parametrize("renderer", ["mimetype", "html"])
def test_chart_is_saved_once_whatever_the_renderer(ip: Any, renderer: str) -> None:
    ip.run_cell(CHART + f"alt.renderers.enable({renderer!r})")
    try:
        ip.run_cell("%%track --quiet\nfrom IPython.display import display\ndisplay(chart)\n")
    finally:
        ip.run_cell("alt.renderers.enable('default')")
    files = _figures(_only_run())
    assert set(files) == {"figures/figure-1.vl.json", "figures/figure-1.html"}


def test_published_vegalite_bundle_without_altair_object(ip: Any) -> None:
    spec = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "data": {"values": [{"a": 1, "b": 2}]},
        "mark": "point",
        "encoding": {"x": {"field": "a", "type": "quantitative"}},
    }
    ip.run_cell(
        "%%track --quiet\nfrom IPython.display import display\n"
        f"display({{'application/vnd.vegalite.v5+json': {spec!r}}}, raw=True)\n"
    )
    files = _figures(_only_run())
    assert json.loads(files["figures/figure-1.vl.json"]) == spec
    _assert_offline_chart(files["figures/figure-1.html"].decode())
