"""``nbt.show_metrics``: metric histories overlaid per run, by step.

:class:`MetricHistories` reads the histories (one ``get_metric_points`` per
run and key) and turns them into chart rows: smoothed when asked, and
downsampled for display so that 10 runs × 10,000 points draw as fast as a few
thousand, yet the last point and every minimum and maximum stay (see
``nbtrack.tracking.downsample``). :class:`MetricsChart` is the widget, with a
log-scale toggle and a smoothing choice; it refreshes while a run is RUNNING.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import traitlets

from nbtrack.entities import RunStatus
from nbtrack.evaluation.result import chart_svg
from nbtrack.widgets._base import Panel, resolve_client
from nbtrack.widgets._charts import downsample_indices, line_chart, smooth
from nbtrack.widgets._html import LIVE_BADGE, esc
from nbtrack.widgets.comparison import run_ids_of

if TYPE_CHECKING:
    from nbtrack.tracking.client import Client

__all__ = ["MetricHistories", "MetricSeries", "MetricsChart", "show_metrics"]

#: Points drawn per run and metric; more are downsampled.
MAX_POINTS = 400
#: Smoothing weights offered by the widget.
SMOOTHING = (0.0, 0.6, 0.8, 0.9, 0.95, 0.99)


@dataclass
class MetricSeries:
    """One run's history of one metric, ordered by step then time."""

    run_id: str
    run_name: str
    key: str
    steps: list[int]
    values: list[float]


@dataclass
class MetricHistories:
    """Histories of ``keys`` for some runs, and the rows their charts draw."""

    series: list[MetricSeries]
    keys: list[str]
    running: bool = False
    hidden: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(
        cls, client: Client, run_ids: Sequence[str], keys: str | Sequence[str] | None
    ) -> MetricHistories:
        """Read the histories: one ``get_run`` and one ``get_metric_points`` per run and key.

        ``keys`` None means every metric any of the runs has.
        """
        runs = [client.get_run(r) for r in run_ids]
        if keys is None:
            wanted = sorted({k for run in runs for k in run.data.metrics})
        else:
            wanted = [keys] if isinstance(keys, str) else list(keys)
        series = []
        for run in runs:
            name = run.info.run_name or run.info.run_id[:8]
            for key in wanted:
                points = client.get_metric_points(run.info.run_id, key)
                steps = [step for step, _, _ in points]
                if len(steps) > 1 and steps[0] == steps[-1]:
                    # Logged without steps (all 0): draw the points in logging order.
                    steps = list(range(len(steps)))
                values = [value for _, _, value in points]
                series.append(MetricSeries(run.info.run_id, name, key, steps, values))
        running = any(run.info.status == RunStatus.RUNNING for run in runs)
        return cls(series, wanted, running)

    def signature(self) -> list[tuple[str, str, int, float | None]]:
        """What changes when a point is logged: per series its length and last value."""
        return [
            (s.run_id, s.key, len(s.values), s.values[-1] if s.values else None)
            for s in self.series
        ]

    def rows(
        self,
        key: str,
        smoothing: float = 0.0,
        log_scale: bool = False,
        max_points: int = MAX_POINTS,
    ) -> list[dict[str, Any]]:
        """Chart rows ``{run, step, value[, smoothed]}`` of ``key``, downsampled per run.

        Points a chart cannot draw (NaN, ±inf, and values ≤ 0 on a log scale)
        are left out and counted in ``hidden[key]``.
        """
        rows: list[dict[str, Any]] = []
        hidden = 0
        names = [s.run_name for s in self.series if s.key == key]
        for s in self.series:
            if s.key != key:
                continue
            label = f"{s.run_name} ({s.run_id[:6]})" if names.count(s.run_name) > 1 else s.run_name
            drawable = [
                i for i, v in enumerate(s.values) if math.isfinite(v) and (v > 0 or not log_scale)
            ]
            hidden += len(s.values) - len(drawable)
            values = [s.values[i] for i in drawable]
            steps = [s.steps[i] for i in drawable]
            smoothed = smooth(values, smoothing) if smoothing > 0 else None
            for i in downsample_indices(values, max_points):
                row: dict[str, Any] = {"run": label, "step": steps[i], "value": values[i]}
                if smoothed is not None:
                    row["smoothed"] = smoothed[i]
                rows.append(row)
        self.hidden[key] = hidden
        return rows


class MetricsChart(Panel):
    """Metric charts widget: one chart per key, runs overlaid; log scale and smoothing.

    Attributes
    ----------
    log_scale:
        Draw the y axis on a log scale.
    smoothing:
        Exponential smoothing weight in [0, 1); 0 draws the raw values only.
    """

    log_scale = traitlets.Bool(False).tag(sync=True)
    smoothing = traitlets.Float(0.0).tag(sync=True)

    def __init__(
        self,
        client: Client,
        run_ids: list[str],
        keys: str | Sequence[str] | None,
        log_scale: bool = False,
        smoothing: float = 0.0,
    ) -> None:
        self.client, self.run_ids, self.metric_keys = client, run_ids, keys
        self.data = MetricHistories.load(client, run_ids, keys)
        self.svgs: dict[str, str] = {}
        super().__init__(live=self.data.running, log_scale=log_scale, smoothing=smoothing)
        self.update_charts()

    def update(self) -> None:
        """Re-read the histories (the refresh timer calls this while runs are RUNNING).

        The charts are rendered again only if a history changed.
        """
        before = self.data.signature()
        self.data = MetricHistories.load(self.client, self.run_ids, self.metric_keys)
        self.live = self.data.running
        if self.data.signature() != before:
            self.update_charts()
        else:
            self.redraw()

    def update_charts(self) -> None:
        """Render every key's chart to SVG (once; live view and fallback share them)."""
        self.svgs = {
            key: chart_svg(
                line_chart(
                    self.data.rows(key, self.smoothing, self.log_scale),
                    key,
                    log_scale=self.log_scale,
                    smoothed=self.smoothing > 0,
                )
            )
            for key in self.data.keys
        }
        self.redraw()

    @traitlets.observe("log_scale", "smoothing")
    def _options_changed(self, change: dict[str, Any]) -> None:
        if hasattr(self, "svgs") and self.svgs:
            self.update_charts()

    def _do_toggle_log(self, content: dict[str, Any]) -> None:
        self.log_scale = not self.log_scale

    def _do_smooth(self, content: dict[str, Any]) -> None:
        self.smoothing = min(max(float(content.get("value", 0.0)), 0.0), 0.999)

    def render(self, static: bool = False) -> str:
        """Controls (unless ``static``) and one chart per metric."""
        parts = []
        if not static:
            options = "".join(
                f'<option value="{w}"{" selected" if abs(w - self.smoothing) < 1e-9 else ""}>'
                f"{'off' if w == 0 else w}</option>"
                for w in SMOOTHING
            )
            state = "on" if self.log_scale else "off"
            parts.append(
                '<div class="jp-nbtrack-Bar">'
                f'<button data-action="toggle_log" aria-pressed="{str(self.log_scale).lower()}">'
                f"log scale: {state}</button>"
                '<label>smoothing <select data-action="smooth" aria-label="smoothing">'
                f"{options}</select></label>"
                f"{LIVE_BADGE if self.live else ''}</div>"
            )
        for key in self.data.keys:
            hidden = self.data.hidden.get(key, 0)
            note = (
                f'<div class="jp-nbtrack-muted">{hidden} point(s) not drawable '
                "(NaN, inf or ≤ 0 on a log scale) left out</div>"
                if hidden
                else ""
            )
            parts.append(f'<div class="jp-nbtrack-Chart">{self.svgs.get(key, "")}</div>{note}')
        if not self.data.keys:
            parts.append('<p class="jp-nbtrack-muted">No metrics to draw.</p>')
        return f"<h3>Metrics · {esc(', '.join(self.data.keys))}</h3>" + "".join(parts)


def show_metrics(
    runs: Any,
    keys: str | Sequence[str] | None = None,
    log_scale: bool = False,
    smoothing: float = 0.0,
    client: Client | None = None,
) -> MetricsChart:
    """Chart metric histories by step, runs overlaid, one chart per key.

    Parameters
    ----------
    runs:
        A run id, run ids, Run objects, a ``show_runs`` table (its selection)
        or a ``search_runs`` DataFrame.
    keys:
        A metric key or keys; None draws every metric of the runs.
    log_scale, smoothing:
        Initial settings (also switchable in the widget); ``smoothing`` is an
        exponential weight in [0, 1).
    client:
        The client to read with (default: the tracking URI in force).

    Raises
    ------
    NotFoundError
        If a run does not exist.
    """
    client = resolve_client(client)
    return MetricsChart(client, run_ids_of(runs), keys, log_scale, smoothing)
