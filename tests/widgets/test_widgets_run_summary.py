"""The summary line after a ``%%track`` cell and its "open run" button."""

from __future__ import annotations

import html

from nbtrack.widgets.run_summary import RunSummary


def test_open_run_shows_the_run_and_hides_it_again(seeded) -> None:
    run_id = seeded.run_ids[0]
    line = "nbtrack: run 'r0' FINISHED in 0.10 s · params alpha=0.1"
    summary = RunSummary(run_id, line, seeded.client)
    assert html.unescape(summary.html).count(line) == 1
    assert 'data-action="toggle"' in summary.html and "open run" in summary.html
    summary.dispatch({"action": "toggle"})
    assert "hide run" in summary.html
    assert "alpha" in summary.html and run_id in summary.html  # the run's own view
    summary.dispatch({"action": "toggle"})
    assert "open run" in summary.html and run_id not in summary.html
    data, _ = summary._repr_mimebundle_()
    assert data["text/plain"] == line
    assert 'data-action="toggle"' not in data["text/html"]
