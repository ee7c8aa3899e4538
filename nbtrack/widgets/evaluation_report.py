"""``nbt.evaluate``'s result as a panel: the report, with the per-row table paged in place."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nbtrack.widgets._base import Panel

if TYPE_CHECKING:
    from nbtrack.evaluation.result import EvaluationResult

__all__ = ["EvaluationPanel"]

PAGE_ROWS = 20


def _page_button(label: str, to: int, disabled: bool) -> str:
    off = " disabled" if disabled else ""
    return (
        f'<button class="jp-nbtrack-button" data-action="page" data-to="{to}"{off}>{label}</button>'
    )


class EvaluationPanel(Panel):
    """Metrics, charts and the results table, a page at a time (``prev``/``next``)."""

    def __init__(self, result: EvaluationResult) -> None:
        self.result = result
        self.page = 0
        super().__init__()
        self.redraw()

    def _rows(self) -> Any:
        return self.result.tables.get("eval_results_table")

    def render(self, static: bool = False) -> str:
        """The report; live, the table shows one page with buttons to move."""
        report = self.result.to_html(table=False)
        rows = self._rows()
        if rows is None or not len(rows):
            return report
        if static:
            return report + self.result.table_html(0, PAGE_ROWS)
        last = (len(rows) - 1) // PAGE_ROWS
        start = self.page * PAGE_ROWS
        controls = (
            '<div class="jp-nbtrack-Bar">'
            + _page_button("prev", max(self.page - 1, 0), self.page == 0)
            + f" page {self.page + 1} of {last + 1} "
            + _page_button("next", min(self.page + 1, last), self.page == last)
            + "</div>"
        )
        return report + controls + self.result.table_html(start, PAGE_ROWS)

    def _do_page(self, content: dict[str, Any]) -> None:
        rows = self._rows()
        last = (len(rows) - 1) // PAGE_ROWS if rows is not None and len(rows) else 0
        try:
            self.page = min(max(int(content.get("to", 0)), 0), last)
        except ValueError:
            self.page = 0
        self.redraw()
