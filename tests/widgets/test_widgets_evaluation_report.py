"""``nbt.evaluate``'s report as a panel: the results table paged in place."""

from __future__ import annotations

import html
from pathlib import Path

from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import nbtrack as nbt
from nbtrack.widgets.evaluation_report import PAGE_ROWS, EvaluationPanel


def test_report_pages_through_the_results(tmp_dir: Path) -> None:
    nbt.set_tracking_uri(str(tmp_dir / "store"))
    X, y = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=1000).fit(X, y)
    result = nbt.evaluate(model, X.assign(target=y), targets="target")
    panel = EvaluationPanel(result)
    assert "<svg" in panel.html and "f1_score" in panel.html
    assert "Rows 1 to 20 of 150" in panel.html and "page 1 of 8" in panel.html
    panel.dispatch({"action": "page", "to": "7"})
    assert "Rows 141 to 150 of 150" in panel.html and "page 8 of 8" in panel.html
    assert 'data-to="7" disabled' in panel.html  # no page after the last
    panel.dispatch({"action": "page", "to": "99"})
    assert "page 8 of 8" in panel.html
    static = html.unescape(panel._repr_mimebundle_()[0]["text/html"])
    assert f"Rows 1 to {PAGE_ROWS} of 150" in static and 'data-action="page"' not in static
