"""The prompt comparison grid panel: outputs side by side, clicks mark the preferred one."""

from __future__ import annotations

import html
from pathlib import Path

import nbtrack as nbt
from nbtrack.prompts import clear_cache
from nbtrack.widgets.prompt_grid import PromptGridPanel


def test_clicks_mark_outputs_and_log_them(tmp_dir: Path) -> None:
    nbt.set_tracking_uri(str(tmp_dir / "store"))
    clear_cache()

    def flaky(prompt: str) -> str:
        if "dog" in prompt:
            raise ValueError("no dogs")
        return prompt.upper()

    grid = nbt.compare_prompts(
        ["A: {{text}}", "B: {{text}}"],
        {"up": str.upper, "flaky": flaky},
        [{"text": "cat"}, {"text": "dog"}],
    )
    panel = PromptGridPanel(grid)
    live = html.unescape(panel.html)
    assert "A: CAT" in live and "⚠ ValueError: no dogs" in live
    assert panel.html.count('data-action="mark"') == 6  # no button on the two failed cells
    panel.dispatch({"action": "mark", "row": "1", "label": "prompt_2 × up"})
    assert grid.marks == {1: "prompt_2 × up"}
    assert 'aria-pressed="true"' in panel.html and "jp-nbtrack-best" in panel.html
    client = nbt.Client()
    winner = next(c for c in grid.combinations if c.label == "prompt_2 × up")
    assert client.get_run(winner.run_id).data.metrics["preferred_count"] == 1
    panel.dispatch({"action": "mark", "row": "9", "label": "prompt_2 × up"})
    assert "No input row 9" in panel.html  # shown in the panel, nothing logged
    static = panel._repr_mimebundle_()[0]["text/html"]
    assert 'data-action="mark"' not in static and "A: CAT" in html.unescape(static)
