"""Runs as a pandas DataFrame, in the column layout of MLflow's ``search_runs``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from nbtrack._gc import gc_paused
from nbtrack.entities import Run

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["BASE_COLUMNS", "runs_to_frame"]

BASE_COLUMNS = (
    "run_id",
    "experiment_id",
    "run_name",
    "status",
    "artifact_uri",
    "start_time",
    "end_time",
)


def runs_to_frame(runs: Sequence[Run]) -> pd.DataFrame:
    """Return one row per run: base columns, then ``metrics.*``, ``params.*``, ``tags.*`` sorted."""
    with gc_paused():
        return _frame(runs)


def _frame(runs: Sequence[Run]) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    n = len(runs)
    columns: dict[str, list | np.ndarray] = {
        "run_id": [r.info.run_id for r in runs],
        "experiment_id": [r.info.experiment_id for r in runs],
        "run_name": [r.info.run_name for r in runs],
        "status": [r.info.status for r in runs],
        "artifact_uri": [r.info.artifact_uri for r in runs],
        "start_time": pd.to_datetime([r.info.start_time for r in runs], unit="ms", utc=True),
        "end_time": pd.to_datetime([r.info.end_time for r in runs], unit="ms", utc=True),
    }
    metric_cols: dict[str, np.ndarray] = {}
    for i, run in enumerate(runs):
        for k, v in run.data.metrics.items():
            values = metric_cols.get(k)
            if values is None:
                values = metric_cols[k] = np.full(n, np.nan)
            values[i] = v
    param_cols = _text_columns([run.data.params for run in runs])
    tag_cols = _text_columns([run.data.tags for run in runs])
    for key in sorted(metric_cols):
        columns[f"metrics.{key}"] = metric_cols[key]
    for prefix, text_cols in (("params", param_cols), ("tags", tag_cols)):
        for key in sorted(text_cols):
            columns[f"{prefix}.{key}"] = text_cols[key]
    return pd.DataFrame(columns)


def _text_columns(rows: list[dict[str, str]]) -> dict[str, list[str | None]]:
    n = len(rows)
    cols: dict[str, list[str | None]] = {}
    for i, row in enumerate(rows):
        for k, v in row.items():
            values = cols.get(k)
            if values is None:
                values = cols[k] = [None] * n
            values[i] = v
    return cols
