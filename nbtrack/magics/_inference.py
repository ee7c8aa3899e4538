"""The inference rules moved to :mod:`nbtrack.tracking.inference` (exported projects use them)."""

from nbtrack.tracking.inference import (
    CellNames,
    SessionLiterals,
    analyse_cell,
    as_metric_value,
    infer_metrics,
    infer_params,
    is_literal_value,
    split_names,
)

__all__ = [
    "CellNames",
    "SessionLiterals",
    "analyse_cell",
    "as_metric_value",
    "infer_metrics",
    "infer_params",
    "is_literal_value",
    "split_names",
]
