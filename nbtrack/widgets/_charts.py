"""Charts for the panels: altair specs rendered to SVG by vl-convert, offline.

altair's default renderer loads vega from a CDN, which fails offline and in
exported notebooks; vl-convert renders the same spec to SVG in-process, so the
live panel and the static fallback show the very same chart with no network.
Axis and legend text use ``currentColor`` and the background is transparent,
so a chart inherits the JupyterLab theme's text colour (dark or light).

Metric histories are downsampled for display (:func:`downsample`) and may be
smoothed (:func:`smooth`) before they are charted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from nbtrack.tracking.downsample import downsample_indices

__all__ = [
    "THEME",
    "downsample",
    "downsample_indices",
    "line_chart",
    "parallel_coordinates",
    "scatter_chart",
    "smooth",
]

#: Chart config: transparent background and text in the surrounding colour.
THEME: dict[str, Any] = {
    "background": None,
    "view": {"stroke": None},
    "axis": {
        "labelColor": "currentColor",
        "titleColor": "currentColor",
        "domainColor": "currentColor",
        "tickColor": "currentColor",
        "gridColor": "currentColor",
        "gridOpacity": 0.15,
    },
    "legend": {"labelColor": "currentColor", "titleColor": "currentColor", "labelLimit": 220},
    "title": {"color": "currentColor"},
}


def downsample(points: Sequence[tuple[float, float]], max_points: int) -> list[tuple[float, float]]:
    """``(step, value)`` points thinned by :func:`downsample_indices` (by value)."""
    return [points[i] for i in downsample_indices([v for _, v in points], max_points)]


def smooth(values: Sequence[float], weight: float) -> list[float]:
    """Exponential moving average with TensorBoard's debiasing; ``weight`` in [0, 1).

    Non-finite values pass through unchanged and do not enter the average.
    """
    if weight <= 0:
        return list(values)
    out: list[float] = []
    last, debias = 0.0, 0.0
    for value in values:
        if not math.isfinite(value):
            out.append(value)
            continue
        last = last * weight + (1 - weight) * value
        debias = debias * weight + (1 - weight)
        out.append(last / debias)
    return out


def _finish(chart: Any, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The chart's vega-lite dict with ``rows`` inlined as a named dataset.

    The rows are added after ``to_dict()``: altair validates inline data row by
    row, which costs about 1.7 s for 10,000 points.
    """
    spec: dict[str, Any] = chart.to_dict()
    spec["datasets"] = {"points": rows}
    spec["config"] = THEME
    return spec


def line_chart(
    rows: list[dict[str, Any]],
    title: str,
    log_scale: bool = False,
    smoothed: bool = False,
    width: int = 520,
    height: int = 240,
) -> dict[str, Any]:
    """Metric histories overlaid by run: rows ``{run, step, value[, smoothed]}``.

    With ``smoothed`` the raw line is drawn faint under the smoothed one.
    """
    import altair as alt

    scale = alt.Scale(type="log") if log_scale else alt.Scale(zero=False)
    base = alt.Chart(alt.NamedData(name="points")).encode(
        x=alt.X("step:Q", title="step"),
        color=alt.Color("run:N", title="run"),
    )
    y_title = f"{title} (log)" if log_scale else title
    raw = base.mark_line(opacity=0.3 if smoothed else 1.0, strokeWidth=1.2).encode(
        y=alt.Y("value:Q", scale=scale, title=y_title)
    )
    layers = [raw]
    if smoothed:
        layers.append(
            base.mark_line(strokeWidth=2).encode(y=alt.Y("smoothed:Q", scale=scale, title=y_title))
        )
    chart = alt.layer(*layers).properties(width=width, height=height, title=title)
    return _finish(chart, rows)


def parallel_coordinates(
    rows: list[dict[str, Any]], axes: list[str], width: int = 520, height: int = 220
) -> dict[str, Any]:
    """Parallel coordinates: rows ``{run, axis, value, label}`` with ``value`` normalised to [0, 1].

    ``label`` carries the raw value; numeric axes are min-max scaled per axis in
    :mod:`comparison`, categorical ones spread evenly, so every axis shares one
    y scale.
    """
    import altair as alt

    chart = (
        alt.Chart(alt.NamedData(name="points"))
        .mark_line(point=True, strokeWidth=1.5)
        .encode(
            x=alt.X("axis:N", sort=axes, title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("value:Q", title="scaled", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("run:N", title="run"),
            detail="run:N",
        )
        .properties(width=width, height=height, title="params → metrics")
    )
    return _finish(chart, rows)


def scatter_chart(
    rows: list[dict[str, Any]], x: str, y: str, numeric_x: bool, width: int = 320, height: int = 220
) -> dict[str, Any]:
    """Param (``x``) against metric (``y``), one point per run: rows ``{run, x, y}``."""
    import altair as alt

    chart = (
        alt.Chart(alt.NamedData(name="points"))
        .mark_point(filled=True, size=70)
        .encode(
            x=alt.X("x:Q" if numeric_x else "x:N", title=x, scale=alt.Scale(zero=False)),
            y=alt.Y("y:Q", title=y, scale=alt.Scale(zero=False)),
            color=alt.Color("run:N", title="run"),
        )
        .properties(width=width, height=height, title=f"{y} vs {x}")
    )
    return _finish(chart, rows)
