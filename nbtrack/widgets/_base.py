"""The widget every panel is: kernel-rendered HTML, actions from the browser, a static fallback.

A panel subclass implements :meth:`Panel.render` (its markup, live or static)
and ``_do_<action>`` methods for the ``data-action`` elements of that markup;
``static/panel.js`` shows the markup and sends the actions back. The same
``render`` feeds ``_repr_mimebundle_``'s ``text/html``, which is what exported
notebooks and nbconvert show where widget state is absent.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from nbtrack.errors import NbtrackError
from nbtrack.widgets._html import STATIC, esc, panel_document

if TYPE_CHECKING:
    from nbtrack.tracking.client import Client

__all__ = ["Panel", "error_block", "resolve_client"]

#: Shown under a static fallback, so a reader knows where the controls went.
STATIC_NOTE = "Static view (nbtrack): run the cell in a live kernel to sort, filter and act."


def resolve_client(client: Client | None) -> Client:
    """``client``, or a client on the tracking URI in force."""
    if client is not None:
        return client
    from nbtrack.tracking.client import Client

    return Client()


def error_block(exc: BaseException) -> str:
    """An error as a panel shows it; a malformed filter gets a caret under its position."""
    from nbtrack.errors import InvalidFilter

    if isinstance(exc, InvalidFilter):
        text = f"Invalid filter at position {exc.position}: {exc.reason}"
        if exc.text:
            text += f"\n  {exc.text}\n  {' ' * exc.position}^"
        return (
            f'<div class="jp-nbtrack-error" role="alert" data-position="{exc.position}">'
            f"{esc(text)}</div>"
        )
    return f'<div class="jp-nbtrack-error" role="alert">{esc(exc)}</div>'


class Panel(anywidget.AnyWidget):
    """Base of the inline panels: an anywidget showing kernel-rendered HTML.

    Attributes
    ----------
    html:
        The live markup (synced to the browser).
    live:
        True while the panel shows RUNNING runs: a kernel-side timer then
        re-reads the store every ``refresh_seconds`` (see ``_refresh``).
    filter_string:
        The filter box's text (panels with ``filterable``).
    """

    _esm = STATIC / "panel.js"
    _css = STATIC / "panel.css"

    html = traitlets.Unicode("").tag(sync=True)
    live = traitlets.Bool(False).tag(sync=True)
    refresh_seconds = traitlets.Float(2.0)
    filterable = traitlets.Bool(False).tag(sync=True)
    filter_string = traitlets.Unicode("").tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        # One lock serialises browser actions and timer refreshes.
        self._lock = threading.RLock()
        self._refresh_stop: threading.Event | None = None
        super().__init__(**kwargs)
        self.on_msg(self._on_msg)
        self._live_changed({"new": self.live})

    @traitlets.observe("live")
    def _live_changed(self, change: dict[str, Any]) -> None:
        from nbtrack.widgets._refresh import start_refresher

        if self.comm is None:  # still in __init__: it calls this again once open
            return
        running = self._refresh_stop is not None and not self._refresh_stop.is_set()
        if change["new"] and not running:
            self._refresh_stop = start_refresher(self)
        elif not change["new"] and self._refresh_stop is not None:
            self._refresh_stop.set()

    def refresh_now(self) -> None:
        """Re-read the store and redraw, under the panel's lock (the timer calls this)."""
        with self._lock:
            self.update()

    def close(self) -> None:
        """Close the widget and stop its refresh timer."""
        # getattr: ipywidgets' __del__ closes widgets whose __init__ raised early.
        stop = getattr(self, "_refresh_stop", None)
        if stop is not None:
            stop.set()
        super().close()

    def render(self, static: bool = False) -> str:
        """The panel's markup; ``static`` leaves out every control.

        Every panel overrides this. (Not an ``abc.abstractmethod``: the widget
        base classes have their own metaclass.)
        """
        raise NotImplementedError(f"{type(self).__name__} must implement render()")

    def update(self) -> None:
        """Re-query what the panel shows (subclasses) and redraw it."""
        self.redraw()

    def redraw(self) -> None:
        """Re-render the live markup from the data already loaded."""
        self.html = self.render(static=False)

    def dispatch(self, content: dict[str, Any]) -> None:
        """Carry out one action sent by the browser, e.g. ``{"action": "sort", "key": …}``.

        Errors a user can act on (an invalid alias, say) are shown in the panel
        rather than lost in the kernel log.
        """
        action = str(content.get("action", ""))
        handler = getattr(self, f"_do_{action}", None)
        if handler is None:
            raise NbtrackError(f"{type(self).__name__} has no action {action!r}")
        with self._lock:
            try:
                handler(content)
            except NbtrackError as exc:
                self.show_error(exc)

    def show_error(self, exc: BaseException) -> None:
        """Show ``exc`` at the top of the panel."""
        self.html = error_block(exc) + self.render(static=False)

    def _do_refresh(self, content: dict[str, Any]) -> None:
        self.update()

    def _on_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict):
            self.dispatch(content)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        # The widget view for live front ends, plus the static HTML that
        # nbconvert and widget-less viewers pick when no widget state is saved.
        bundle = super()._repr_mimebundle_(**kwargs)
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle or {}, {})
        data = dict(data)
        data["text/html"] = panel_document(self.render(static=True), STATIC_NOTE)
        return data, metadata
