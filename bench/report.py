"""The figures each workload reports, nbtrack's targets, and the side-by-side table.

Every figure says which way is better. Each ratio column (one per library
nbtrack is run against) reads "nbtrack is N times better": peer/nbtrack for
times and sizes (lower is better), nbtrack/peer for rates (higher is better).
A target applies only at the size the issue states it for (10,000 points,
10,000 runs…), so ``--quick`` runs show no verdicts for those. A library that
cannot do a workload shows "—", and the reason is listed under the table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FIGURES", "Figure", "Row", "render_table", "rows", "skip_reasons"]


@dataclass(frozen=True, slots=True)
class Figure:
    """One figure of a workload's record.

    Parameters
    ----------
    workload, key
        Where the figure is found: ``record[key]`` of a ``workload`` record.
    label, unit
        How the table names it.
    better
        ``"lower"`` or ``"higher"``.
    target
        nbtrack's target (a bound in the ``better`` direction), if any.
    target_size
        The record size the target is stated for; None when any size will do.
    compare
        False when a ratio means nothing (MLflow's durability is synchronous).
    """

    workload: str
    key: str
    label: str
    unit: str
    better: str
    target: float | None = None
    target_size: int | None = None
    compare: bool = True


FIGURES: tuple[Figure, ...] = (
    Figure("W1", "process_ms", "python -c 'import <lib>' (whole process)", "ms", "lower", 100),
    Figure("W1", "import_ms", "import <lib> (in-process)", "ms", "lower"),
    Figure("W1", "python_startup_ms", "python -c pass (baseline)", "ms", "lower", compare=False),
    Figure("W1", "load_ext_ms", "%load_ext nbtrack", "ms", "lower", 150, compare=False),
    Figure("W2", "log_metric_us_per_call", "log_metric per call", "µs", "lower", 10, 10_000),
    Figure("W2", "durable_ms", "last call → durable", "ms", "lower", 1000, 10_000, compare=False),
    Figure(
        "W2", "sustained_points_per_s", "sustained (calls + flush)", "pts/s", "higher", 2e5, 10_000
    ),
    Figure("W2", "log_batch_points_per_s", "log_batch", "pts/s", "higher", 250_000, 10_000),
    Figure("W2", "peak_rss_mb", "peak RSS", "MB", "lower", 100, 10_000),
    Figure("W3", "runs_per_s", "runs × 20 params, 5 metrics, 3 tags", "runs/s", "higher", 1e3),
    Figure("W4", "search_ms", "search_runs filter + order_by", "ms", "lower", 20, 10_000),
    Figure("W4", "search_rows", "  rows returned", "rows", "lower", compare=False),
    Figure("W4", "all_runs_df_ms", "all-runs DataFrame", "ms", "lower", 200, 10_000),
    Figure("W5", "history_ms", "get_metric_history", "ms", "lower", 10, 10_000),
    Figure("W6", "hook_ms", "kernel hook per cell", "ms", "lower", 1, 200, compare=False),
    Figure("W6", "track_ms", "%%track overhead per cell", "ms", "lower", 20, 200, compare=False),
    Figure("W6", "autolog_fit_ms", "sklearn autolog per fit, no model", "ms", "lower", 10),
    Figure("W6", "autolog_model_fit_ms", "sklearn autolog per fit, with model", "ms", "lower", 60),
    Figure("W6", "autolog_own_ms", "  autolog's own steps, no model", "ms", "lower", compare=False),
    Figure("W6", "autolog_model_own_ms", "  own steps, with model", "ms", "lower", compare=False),
    Figure("W6", "autolog_own_in_kernel_ms", "  own steps, hook on", "ms", "lower", compare=False),
    Figure("W6", "load_ext_ms", "%load_ext nbtrack", "ms", "lower", 150, compare=False),
    Figure("P1", "first_point_ms", "import → first point durable", "ms", "lower"),
    Figure("P1", "first_point_process_ms", "  whole process, launch to exit", "ms", "lower"),
    Figure("P2", "log_us_per_call", "log one point, per call", "µs", "lower"),
    Figure("P2", "durable_ms", "  last call → durable (run ended)", "ms", "lower"),
    Figure("P2", "sustained_points_per_s", "  points/s until durable", "pts/s", "higher"),
    Figure("P2", "history_read_ms", "history read, fresh process", "ms", "lower"),
    Figure("W7", "rps_1", "scoring, 1-row bodies", "req/s", "higher", 1000),
    Figure("W7", "p50_1_ms", "  p50 latency", "ms", "lower"),
    Figure("W7", "p99_1_ms", "  p99 latency", "ms", "lower", 15),
    Figure("W7", "rps_1000", "scoring, 1,000-row bodies", "req/s", "higher"),
    Figure("W7", "p50_1000_ms", "  p50 latency", "ms", "lower"),
    Figure("W7", "p99_1000_ms", "  p99 latency", "ms", "lower"),
    Figure("W7", "ping_s", "start → /ping answers", "s", "lower", 1.5),
    Figure("W7", "rss_mb", "server RSS after the load", "MB", "lower", 200),
    Figure("W8", "first_page_ms", "show_runs first page", "ms", "lower", 300, 100_000, False),
    Figure("W8", "sort_ms", "  re-sort (header click)", "ms", "lower", 300, 100_000, False),
    Figure("W8", "filter_ms", "  re-filter (filter box)", "ms", "lower", 300, 100_000, False),
    Figure("W8", "sort_param_ms", "  re-sort by a param", "ms", "lower", 300, 100_000, False),
    Figure(
        "W8",
        "filter_sorted_ms",
        "  re-filter, sorted by a param",
        "ms",
        "lower",
        300,
        100_000,
        False,
    ),
    Figure("W8", "store_first_page_ms", "  store: first page", "ms", "lower", None),
    Figure("W8", "store_sort_ms", "  store: sorted by a metric", "ms", "lower", None),
    Figure("W8", "store_sort_param_ms", "  store: sorted by a param", "ms", "lower", None),
    Figure("W8", "store_filter_ms", "  store: filtered", "ms", "lower", None),
    Figure("W8", "store_filter_sorted_ms", "  store: filtered + sorted", "ms", "lower", None),
    Figure("W8", "show_metrics_ms", "show_metrics 10 runs × 10k pts", "ms", "lower", 500, None),
    Figure("W8", "histories_read_ms", "  store: the 10 histories", "ms", "lower", None),
    Figure(
        "W9", "ingest_points_per_s", "log-batch ingest, 8 clients", "pts/s", "higher", 1e5, 10_000
    ),
    Figure("W9", "ingest_p50_ms", "  p50 per 1,000-point request", "ms", "lower"),
    Figure("W9", "ingest_p99_ms", "  p99 per 1,000-point request", "ms", "lower"),
    Figure("W9", "ingest_points_per_s_w2", "  same, --workers 2", "pts/s", "higher"),
    Figure("W9", "server_rss_mb", "  server RSS after ingest", "MB", "lower"),
    Figure("W9", "create_p50_ms", "runs/create p50", "ms", "lower", 3, 10_000),
    Figure("W9", "build_runs_per_s", "runs built via the API, 8 clients", "runs/s", "higher"),
    Figure("W9", "search_p50_ms", "runs/search filter + order_by p50", "ms", "lower", 50, 10_000),
    Figure("W9", "search_rows", "  rows returned", "rows", "lower", compare=False),
    Figure("W9", "history_p50_ms", "metrics/get-history p50", "ms", "lower", 20, 10_000),
    Figure("W9", "log_metric_us_per_call", "log_metric per call, remote", "µs", "lower", 5, 10_000),
    Figure("W9", "log_metric_durable_ms", "  last call → durable", "ms", "lower", compare=False),
)

_SIZE_UNIT = {
    "W2": "points",
    "W3": "runs",
    "W4": "runs",
    "W5": "points",
    "W6": "cells",
    "P2": "points",
    "W7": "s of load",
    "W8": "runs",
    "W9": "runs",
}


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the table: a figure at one size, for each library."""

    figure: Figure
    size: int
    values: dict[str, float | None]
    errors: dict[str, str]
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def where(self) -> str:
        """The workload and its size, e.g. ``W4 10,000 runs``."""
        unit = _SIZE_UNIT.get(self.figure.workload)
        return f"{self.figure.workload} {self.size:,} {unit}" if unit else self.figure.workload

    def ratio(self, peer: str = "mlflow") -> float | None:
        """How many times better nbtrack is than ``peer``, or None."""
        ours, theirs = self.values.get("nbtrack"), self.values.get(peer)
        if not self.figure.compare or not ours or not theirs:
            return None
        return theirs / ours if self.figure.better == "lower" else ours / theirs

    def target_applies(self) -> bool:
        """Whether nbtrack's target is stated for this size."""
        f = self.figure
        return f.target is not None and f.target_size in (None, self.size)

    def met(self) -> bool | None:
        """Whether nbtrack meets its target; None when there is no verdict."""
        value = self.values.get("nbtrack")
        if not self.target_applies() or value is None:
            return None
        assert self.figure.target is not None
        if self.figure.better == "lower":
            return value <= self.figure.target
        return value >= self.figure.target


def rows(results: Mapping[str, Mapping[str, list[dict[str, Any]]]]) -> list[Row]:
    """The table's rows from ``results[workload][lib]`` → records (one per size)."""
    out = []
    workloads = dict.fromkeys(f.workload for f in FIGURES)
    for workload in workloads:
        by_lib = results.get(workload, {})
        sizes = sorted({r.get("size", 0) for records in by_lib.values() for r in records})
        for size, figure in ((s, f) for s in sizes for f in FIGURES if f.workload == workload):
            values: dict[str, float | None] = {}
            errors: dict[str, str] = {}
            skipped: dict[str, str] = {}
            for lib, records in by_lib.items():
                for record in records:
                    if record.get("size", 0) != size:
                        continue
                    if record.get("skipped"):
                        skipped[lib] = str(record["skipped"])
                    elif record.get("ok"):
                        values[lib] = record.get(figure.key)
                    else:
                        errors[lib] = str(record.get("error", "failed"))
            if len(skipped) == len(by_lib):
                continue  # no library ran it: a block of dashes says nothing
            out.append(Row(figure, size, values, errors, skipped))
    return out


def skip_reasons(results: Mapping[str, Mapping[str, list[dict[str, Any]]]]) -> list[str]:
    """One line per workload and reason: which libraries sat it out, and why."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for workload, by_lib in results.items():
        for lib, records in by_lib.items():
            for reason in dict.fromkeys(r["skipped"] for r in records if r.get("skipped")):
                grouped.setdefault((workload, reason), []).append(lib)
    return [f"— {w} {', '.join(libs)}: {reason}" for (w, reason), libs in grouped.items()]


def render_table(table: Iterable[Row], libs: list[str]) -> str:
    """The rows as a fixed-width text table with a legend."""
    peers = [lib for lib in libs if lib != "nbtrack"] if "nbtrack" in libs else []
    header = ["workload", "figure", "better", *libs]
    header += [f"vs {peer}" if len(peers) > 1 else f"nbtrack vs {peer}" for peer in peers]
    header += ["nbtrack target", "met"]
    lines = [header]
    for row in table:
        f = row.figure
        line = [row.where, f"{f.label} [{f.unit}]", f.better if f.compare else ""]
        for lib in libs:
            line.append("FAILED" if lib in row.errors else _number(row.values.get(lib)))
        for peer in peers:
            ratio = row.ratio(peer)
            line.append("" if ratio is None else f"{ratio:,.1f}x")
        line.append(_target(f) if row.target_applies() else "")
        line.append({True: "yes", False: "NO", None: ""}[row.met()])
        lines.append(line)
    widths = [max(len(cells[i]) for cells in lines) for i in range(len(header))]
    numeric = set(range(3, len(header)))
    text = []
    for n, cells in enumerate(lines):
        text.append(
            "  ".join(
                c.rjust(w) if i in numeric else c.ljust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            ).rstrip()
        )
        if n == 0:
            text.append("  ".join("-" * w for w in widths))
    text.append("")
    text.append(
        "ratio = how many times better nbtrack is (peer/nbtrack where lower is better, "
        "nbtrack/peer where higher is better); targets apply at the sizes the issue states; "
        "— = not measured (a library that cannot do a workload: reasons below)."
    )
    return "\n".join(text)


def _number(value: float | int | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, int):
        return f"{value:,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _target(figure: Figure) -> str:
    assert figure.target is not None
    sign = "≤" if figure.better == "lower" else "≥"
    return f"{sign} {_number(figure.target)} {figure.unit}"
