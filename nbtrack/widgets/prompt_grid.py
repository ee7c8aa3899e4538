"""The prompt comparison grid as a panel: outputs side by side, a click marks the preferred one.

Inputs are rows, (prompt × model) combinations columns, each cell the output
(or the error that replaced it) with a "prefer" button; the footer shows each
combination's metric summary. A click calls :meth:`PromptGrid.mark`, which
logs the counts to the combinations' runs, and redraws with the choice shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nbtrack.widgets._base import Panel
from nbtrack.widgets._html import esc, table

if TYPE_CHECKING:
    from nbtrack.prompts.grid import PromptGrid

__all__ = ["PromptGridPanel", "render_grid"]


def render_grid(grid: PromptGrid, static: bool = False) -> str:
    """The grid's markup; live markup has a "prefer" button in every output cell."""
    inputs = list(grid.rows[0]) if grid.rows else []
    header = [esc(name) for name in inputs] + [esc(c.label) for c in grid.combinations]
    rows = []
    for index, row in enumerate(grid.rows):
        cells: list[Any] = [esc(row[name]) for name in inputs]
        for combo in grid.combinations:
            cell = combo.cells[index]
            text = esc(cell.output) if cell.error is None else f"⚠ {esc(cell.error)}"
            chosen = grid.marks.get(index) == combo.label
            if not static and cell.error is None:
                label = "preferred" if chosen else "prefer"
                text += (
                    f' <button class="jp-nbtrack-button" data-action="mark" data-row="{index}"'
                    f' data-label="{esc(combo.label)}" aria-pressed="{str(chosen).lower()}">'
                    f"{label}</button>"
                )
            cells.append((text, "jp-nbtrack-best") if chosen else text)
        rows.append(cells)
    summary: list[Any] = [("<b>summary</b>", "")] + [""] * (len(inputs) - 1) if inputs else []
    for combo in grid.combinations:
        summary.append("<br>".join(f"{esc(k)}: {v:.4g}" for k, v in combo.metrics.items()))
    rows.append(summary)
    title = f"<h4>Prompt comparison, run <code>{esc(grid.parent_run_id)}</code></h4>"
    return title + table(header, rows, "Prompt comparison")


class PromptGridPanel(Panel):
    """The live grid of :func:`nbtrack.compare_prompts`."""

    def __init__(self, grid: PromptGrid) -> None:
        self.grid = grid
        super().__init__()
        self.redraw()

    def render(self, static: bool = False) -> str:
        """The grid's markup."""
        return render_grid(self.grid, static)

    def _do_mark(self, content: dict[str, Any]) -> None:
        try:
            row = int(content.get("row", ""))
        except ValueError:
            from nbtrack.errors import InvalidInput

            raise InvalidInput(f"Not a row number: {content.get('row')!r}") from None
        self.grid.mark(row, str(content.get("label", "")))
        self.redraw()
