"""``EvaluationResult``: metrics, charts and the per-row table, shown inline as a report.

The report is static HTML (a metrics table, the charts as inline SVG rendered
by vl-convert, the first rows of the results table), so it reads the same in
JupyterLab, in an exported notebook and with no network. In a live kernel
``nbtrack.widgets`` registers a panel that pages through the table instead
(:mod:`nbtrack.widgets.display`); this module knows nothing of widgets.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

__all__ = ["EvaluationResult", "chart_svg"]

_TABLE_ROWS = 10


def chart_svg(chart: Any) -> str:
    """Render an altair chart, or a vega-lite spec (a dict), to SVG text: no browser, no network.

    The one vega-lite → SVG renderer: the inline panels (``nbtrack.widgets``) use it too.
    """
    import vl_convert

    spec = chart if isinstance(chart, dict) else chart.to_json()
    return str(vl_convert.vegalite_to_svg(spec))


@dataclass
class EvaluationResult:
    """What ``nbt.evaluate`` computed and where it logged it.

    Attributes
    ----------
    metrics:
        Metric name → value (the candidate's).
    baseline_metrics:
        The baseline model's metrics, when one was given.
    charts:
        Chart name → altair chart.
    tables:
        ``{"eval_results_table": DataFrame}``: inputs, targets, predictions
        and per-row metric columns.
    artifacts:
        Artifact name → path in the run.
    run_id:
        The run holding all of it.
    """

    metrics: dict[str, float]
    run_id: str
    model_type: str
    baseline_metrics: dict[str, float] | None = None
    charts: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, str] = field(default_factory=dict)

    def _metrics_table(self) -> str:
        head = "<tr><th>metric</th><th>value</th>"
        head += "<th>baseline</th></tr>" if self.baseline_metrics is not None else "</tr>"
        rows = []
        for name, value in self.metrics.items():
            cells = f"<td>{html.escape(name)}</td><td>{value:.6g}</td>"
            if self.baseline_metrics is not None:
                base = self.baseline_metrics.get(name)
                cells += f"<td>{'' if base is None else f'{base:.6g}'}</td>"
            rows.append(f"<tr>{cells}</tr>")
        return f"<table class='nbtrack-metrics'>{head}{''.join(rows)}</table>"

    def table_html(self, start: int = 0, count: int = _TABLE_ROWS) -> str:
        """Rows ``start`` to ``start + count`` of the results table, with where they sit."""
        table = self.tables.get("eval_results_table")
        if table is None:
            return ""
        shown = table.iloc[start : start + count]
        end = start + len(shown)
        caption = f"<p>Rows {start + 1} to {end} of {len(table)}</p>" if len(table) else ""
        return caption + shown.to_html(index=False, border=0)

    def to_html(self, charts: bool = True, table: bool = True) -> str:
        """The report as self-contained HTML (charts as inline SVG)."""
        parts = [
            "<div class='nbtrack-evaluation' style='font-family: var(--jp-ui-font-family, "
            "sans-serif); color: var(--jp-ui-font-color1, inherit)'>",
            f"<h4>Evaluation ({html.escape(self.model_type)}), run "
            f"<code>{html.escape(self.run_id)}</code></h4>",
            self._metrics_table(),
        ]
        if charts and self.charts:
            parts.append("<div style='display:flex;flex-wrap:wrap;gap:12px'>")
            parts += [f"<div>{chart_svg(chart)}</div>" for chart in self.charts.values()]
            parts.append("</div>")
        if table:
            parts.append(self.table_html())
        parts.append("</div>")
        return "".join(parts)

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v:.4g}" for k, v in list(self.metrics.items())[:6])
        return f"EvaluationResult(run_id={self.run_id!r}, {shown})"
