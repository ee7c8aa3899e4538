"""``nbt.compare``: runs side by side — params that differ, metrics with the best marked, charts.

:class:`Comparison` is the data (runs read through ``Client.get_run``) and its
markup; :class:`CompareView` is the widget, which refreshes while a compared
run is RUNNING. The run table's Compare button embeds a Comparison under the
table.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nbtrack.entities import Run, RunStatus
from nbtrack.evaluation.result import chart_svg
from nbtrack.widgets._base import Panel, resolve_client
from nbtrack.widgets._charts import parallel_coordinates, scatter_chart
from nbtrack.widgets._html import esc, fmt_value, table

if TYPE_CHECKING:
    from nbtrack.tracking.client import Client

__all__ = ["CompareView", "Comparison", "compare", "lower_is_better", "run_ids_of"]

# Metric names where a smaller value wins; every other metric is "higher is
# better". Users can override per key with ``compare(..., lower_is_better=[…])``.
_LOWER = re.compile(r"loss|err|rmse|mse|mae|mape|perplex|latency|time|duration|cost", re.I)
#: Scatter plots drawn at most (one per differing param against the first metric).
_MAX_SCATTERS = 3


def lower_is_better(key: str) -> bool:
    """Whether a smaller ``key`` is better, judged by its name (loss, rmse, error…)."""
    return bool(_LOWER.search(key))


def run_ids_of(runs: Any) -> list[str]:
    """Run ids from ids, Run objects, a RunsTable (its selection) or a search_runs DataFrame."""
    if isinstance(runs, str):
        return [runs]
    if isinstance(runs, Run):
        return [runs.info.run_id]
    selected = getattr(runs, "selected", None)
    if selected is not None and not callable(selected):
        return [str(r) for r in selected]
    columns = getattr(runs, "columns", None)
    if columns is not None and "run_id" in columns:
        return [str(r) for r in runs["run_id"]]
    return [r.info.run_id if isinstance(r, Run) else str(r) for r in runs]


def _number(value: str) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


@dataclass
class Comparison:
    """Runs to compare and what is derived from them.

    Parameters
    ----------
    runs:
        The runs, in the order given.
    lower_better:
        Metric keys where lower wins, overriding :func:`lower_is_better`.
    """

    runs: list[Run]
    lower_better: set[str] = field(default_factory=set)
    # Rendered once: the run table redraws an embedded comparison on every click.
    _svgs: list[str] | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def load(
        cls, client: Client, run_ids: Iterable[str], lower_better: Iterable[str] = ()
    ) -> Comparison:
        """Read the runs (one ``get_run`` each)."""
        return cls([client.get_run(r) for r in run_ids], set(lower_better))

    @property
    def names(self) -> list[str]:
        """Column titles: run names, made unique with a short id when they clash."""
        names = [run.info.run_name or run.info.run_id[:8] for run in self.runs]
        return [
            f"{n} ({run.info.run_id[:6]})" if names.count(n) > 1 else n
            for n, run in zip(names, self.runs, strict=True)
        ]

    def param_keys(self) -> list[str]:
        """Every param key of any run, sorted."""
        return sorted({k for run in self.runs for k in run.data.params})

    def differing_params(self) -> list[str]:
        """Params whose value is not the same in every run (a missing one counts as different)."""
        return [
            k for k in self.param_keys() if len({run.data.params.get(k) for run in self.runs}) > 1
        ]

    def metric_keys(self) -> list[str]:
        """Every metric key of any run, sorted."""
        return sorted({k for run in self.runs for k in run.data.metrics})

    def best(self, key: str) -> int | None:
        """Index of the run with the best ``key`` (ties: the first), or None if none has it."""
        lower = key in self.lower_better or lower_is_better(key)
        values = [
            (run.data.metrics[key], i)
            for i, run in enumerate(self.runs)
            if key in run.data.metrics and math.isfinite(run.data.metrics[key])
        ]
        if not values:
            return None
        pick = min if lower else max
        return pick(values, key=lambda pair: pair[0])[1]  # min/max keep the first of ties

    def any_running(self) -> bool:
        """Whether a compared run is RUNNING."""
        return any(run.info.status == RunStatus.RUNNING for run in self.runs)

    # charts -------------------------------------------------------------------

    def parallel_rows(self) -> tuple[list[dict[str, Any]], list[str]]:
        """Rows and axes of the parallel-coordinates chart: differing params, then metrics.

        Numeric axes are min-max scaled to [0, 1]; categorical ones are spread
        evenly in sorted order, so one y scale serves every axis.
        """
        names = self.names
        axes: list[tuple[str, list[Any]]] = [
            (f"params.{k}", [run.data.params.get(k) for run in self.runs])
            for k in self.differing_params()
        ]
        axes += [
            (f"metrics.{k}", [run.data.metrics.get(k) for run in self.runs])
            for k in self.metric_keys()
        ]
        rows: list[dict[str, Any]] = []
        kept: list[str] = []
        for axis, values in axes:
            numbers = [None if v is None else _number(str(v)) for v in values]
            present = [n for n in numbers if n is not None]
            if present and len(present) == sum(v is not None for v in values):
                low, high = min(present), max(present)
                scaled = [
                    None if n is None else (0.5 if high == low else (n - low) / (high - low))
                    for n in numbers
                ]
            else:
                levels = sorted({str(v) for v in values if v is not None})
                step = 1 / (len(levels) - 1) if len(levels) > 1 else 0.0
                scaled = [
                    None if v is None else (levels.index(str(v)) * step if step else 0.5)
                    for v in values
                ]
            kept.append(axis)
            for name, value, raw in zip(names, scaled, values, strict=True):
                if value is not None:
                    rows.append({"run": name, "axis": axis, "value": value, "label": str(raw)})
        return rows, kept

    def scatter_rows(self, param: str, metric: str) -> tuple[list[dict[str, Any]], bool]:
        """Rows ``{run, x, y}`` of ``param`` against ``metric``; and whether x is numeric."""
        pairs = [
            (name, run.data.params[param], run.data.metrics[metric])
            for name, run in zip(self.names, self.runs, strict=True)
            if param in run.data.params and metric in run.data.metrics
        ]
        numeric = all(_number(x) is not None for _, x, _ in pairs)
        return [
            {"run": n, "x": _number(x) if numeric else x, "y": y}
            for n, x, y in pairs
            if math.isfinite(y)
        ], numeric

    def charts(self) -> list[str]:
        """SVGs: parallel coordinates, then param-vs-metric scatters (none for one run)."""
        if self._svgs is None:
            self._svgs = self._render_charts()
        return self._svgs

    def _render_charts(self) -> list[str]:
        metrics = self.metric_keys()
        if len(self.runs) < 2 or not metrics:
            return []
        svgs = []
        rows, axes = self.parallel_rows()
        if len(axes) >= 2:
            svgs.append(chart_svg(parallel_coordinates(rows, axes)))
        for param in self.differing_params()[:_MAX_SCATTERS]:
            points, numeric = self.scatter_rows(param, metrics[0])
            if len(points) >= 2:
                svgs.append(chart_svg(scatter_chart(points, param, metrics[0], numeric)))
        return svgs

    # markup -------------------------------------------------------------------

    def render(self, static: bool = False) -> str:
        """Params (differences highlighted), metrics (best in bold), then the charts."""
        names = self.names
        header = ["", *(esc(n) for n in names)]
        differing = set(self.differing_params())
        params = [
            [
                (esc(k), "jp-nbtrack-diff" if k in differing else ""),
                *(
                    (esc(run.data.params.get(k, "—")), "jp-nbtrack-diff" if k in differing else "")
                    for run in self.runs
                ),
            ]
            for k in self.param_keys()
        ]
        metrics = []
        for k in self.metric_keys():
            best = self.best(k)
            arrow = "↓" if (k in self.lower_better or lower_is_better(k)) else "↑"
            row: list[tuple[str, str] | str] = [f"{esc(k)} {arrow}"]
            for i, run in enumerate(self.runs):
                value = run.data.metrics.get(k)
                text = esc(fmt_value(value)) if value is not None else "—"
                row.append(
                    (text, "jp-nbtrack-num jp-nbtrack-best" if i == best else "jp-nbtrack-num")
                )
            metrics.append(row)
        charts = "".join(f'<div class="jp-nbtrack-Chart">{svg}</div>' for svg in self.charts())
        shown = len(differing)
        return (
            f"<h3>Compare {len(self.runs)} runs</h3>"
            f"<h4>Params <span class='jp-nbtrack-muted'>({shown} differ)</span></h4>"
            + (table(header, params, "params") if params else "<p>No params.</p>")
            + "<h4>Metrics <span class='jp-nbtrack-muted'>(best in bold)</span></h4>"
            + (table(header, metrics, "metrics") if metrics else "<p>No metrics.</p>")
            + charts
        )


class CompareView(Panel):
    """The comparison widget; refreshes while a compared run is RUNNING."""

    def __init__(self, client: Client, comparison: Comparison) -> None:
        self.client = client
        self.comparison = comparison
        super().__init__(live=comparison.any_running())
        self.redraw()

    def update(self) -> None:
        """Re-read the runs and redraw."""
        self.comparison = Comparison.load(
            self.client, [r.info.run_id for r in self.comparison.runs], self.comparison.lower_better
        )
        self.live = self.comparison.any_running()
        self.redraw()

    def render(self, static: bool = False) -> str:
        """The comparison's markup."""
        return self.comparison.render(static)


def compare(
    runs: Any,
    lower_is_better: Sequence[str] = (),
    client: Client | None = None,
) -> CompareView:
    """Compare runs: params that differ highlighted, metrics with the best marked, charts.

    Parameters
    ----------
    runs:
        Run ids, Run objects, a ``show_runs`` table (its selection) or a
        ``search_runs`` DataFrame.
    lower_is_better:
        Metric keys where lower wins (by default guessed from the name:
        loss, error, rmse… are lower-is-better).
    client:
        The client to read with (default: the tracking URI in force).

    Raises
    ------
    NotFoundError
        If a run does not exist.
    """
    client = resolve_client(client)
    return CompareView(client, Comparison.load(client, run_ids_of(runs), lower_is_better))
