"""The runs both browser tiers show: ``run-NN`` with rmse = 1 / (NN + 1), model rf on odd
runs, and a 30-step loss curve."""

from __future__ import annotations

from typing import Any

from nbtrack.entities import Metric, Param


def log_wine_run(client: Any, experiment_id: str, i: int) -> str:
    """Create run ``run-{i:02d}`` with its params and metrics; return its id (still RUNNING)."""
    run_id: str = client.create_run(experiment_id, run_name=f"run-{i:02d}").info.run_id
    client.log_batch(
        run_id,
        metrics=[Metric("loss", 1.0 / (s + 1) + i / 10, 0, s) for s in range(30)]
        + [Metric("rmse", 1 / (i + 1), 0, 0)],
        params=[Param("model", "rf" if i % 2 else "lr"), Param("alpha", str(i / 10))],
    )
    return run_id
