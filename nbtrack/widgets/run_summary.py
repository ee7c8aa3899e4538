"""The line shown after a ``%%track`` cell, with a button that opens the run's panel in place."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nbtrack.widgets._base import Panel, resolve_client
from nbtrack.widgets._html import esc, panel_document

if TYPE_CHECKING:
    from nbtrack.tracking.client import Client

__all__ = ["RunSummary"]


class RunSummary(Panel):
    """A ``%%track`` cell's summary line; "open run" shows :func:`nbtrack.show_run`'s view below.

    Parameters
    ----------
    run_id:
        The cell's run.
    text:
        The summary line (name, status, params, metrics, duration).
    client:
        The store; the tracking URI's by default.
    """

    def __init__(self, run_id: str, text: str, client: Client | None = None) -> None:
        self.run_id, self.text, self.client = run_id, text, client
        self.detail_html = ""
        super().__init__()
        self.redraw()

    def render(self, static: bool = False) -> str:
        """The line, its button (live only) and the opened run view."""
        line = f'<div class="jp-nbtrack-summary"><code>{esc(self.text)}</code>'
        if not static:
            label = "hide run" if self.detail_html else "open run"
            line += f' <button class="jp-nbtrack-button" data-action="toggle">{label}</button>'
        return line + "</div>" + self.detail_html

    def _do_toggle(self, content: dict[str, Any]) -> None:
        from nbtrack.widgets.run_detail import RunDetail

        if self.detail_html:
            self.detail_html = ""
        else:
            detail = RunDetail.load(resolve_client(self.client), self.run_id)
            self.detail_html = detail.render(static=True)
        self.redraw()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        # A summary line needs no "static view" note under it, unlike the panels.
        data, metadata = super()._repr_mimebundle_(**kwargs)
        data["text/html"] = panel_document(self.render(static=True), None)
        data["text/plain"] = self.text
        return data, metadata

    def __repr__(self) -> str:
        return self.text
