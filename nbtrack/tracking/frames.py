"""Runs as a pandas DataFrame, in the column layout of MLflow's ``search_runs``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

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
    param_cols: dict[str, list] = {}
    tag_cols: dict[str, list] = {}
    for i, run in enumerate(runs):
        data = run.data
        for k, v in data.metrics.items():
            col = metric_cols.get(k)
            if col is None:
                col = metric_cols[k] = np.full(n, np.nan)
            col[i] = v
        for k, v in data.params.items():
            col = param_cols.get(k)
            if col is None:
                col = param_cols[k] = [None] * n
            col[i] = v
        for k, v in data.tags.items():
            col = tag_cols.get(k)
            if col is None:
                col = tag_cols[k] = [None] * n
            col[i] = v
    for prefix, cols in (("metrics", metric_cols), ("params", param_cols), ("tags", tag_cols)):
        for key in sorted(cols):
            columns[f"{prefix}.{key}"] = cols[key]
    return pd.DataFrame(columns)
