"""Stores the panel tests read: a few runs with known values, written through ``Client``."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

import nbtrack
from nbtrack.entities import Metric, Param, RunTag

#: Start times are fixed so "newest first" is known: run i started at T0 + i seconds.
T0 = 1_700_000_000_000


@dataclass
class Seeded:
    """What :func:`seed_runs` wrote."""

    client: nbtrack.Client
    experiment_id: str
    run_ids: list[str]  # in creation order: run i is run_ids[i]


def seed_runs(client: nbtrack.Client, n: int = 12, experiment: str = "wine") -> Seeded:
    """``n`` finished runs: ``rmse = 1 / (i + 1)``, ``loss`` history of 20 steps, params
    ``alpha = i / 10``, ``model`` rf/lr alternating, ``depth`` i % 3; tag ``team``."""
    experiment_id = client.create_experiment(experiment)
    ids = []
    for i in range(n):
        run = client.create_run(experiment_id, start_time=T0 + i * 1000, run_name=f"run-{i:02d}")
        run_id = run.info.run_id
        metrics = [Metric("loss", 10.0 / (s + 1) + i, T0 + s, s) for s in range(20)]
        metrics.append(Metric("rmse", 1 / (i + 1), T0, 0))
        params = [
            Param("alpha", str(i / 10)),
            Param("model", "rf" if i % 2 else "lr"),
            Param("depth", str(i % 3)),
        ]
        client.log_batch(run_id, metrics=metrics, params=params, tags=[RunTag("team", "ml")])
        client.set_terminated(run_id, end_time=T0 + i * 1000 + 500)
        ids.append(run_id)
    return Seeded(client, experiment_id, ids)


@pytest.fixture
def seeded(client: nbtrack.Client) -> Seeded:
    """Twelve finished runs in experiment ``wine`` (see :func:`seed_runs`)."""
    return seed_runs(client)
