"""The runs W3 creates and W4 searches: their data, and the fast way to build many.

Every run gets 20 params, 5 metrics and 3 tags drawn from a seeded generator,
so both libraries store the same values and W4 knows how many rows its filter
must return. ``p0`` takes five values and ``m0`` is uniform on [0, 1), so
``metrics.m0 < 0.5 and params.p0 = 'v1'`` matches about 10% of the runs.

A store records how it was built in ``bench-store.json`` beside the database,
so W4 can reuse the store W3 left behind and say where it came from.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench._api import Api

__all__ = [
    "FILTER",
    "ORDER_BY",
    "RunData",
    "StoreInfo",
    "build_runs_store",
    "expected_matches",
    "run_data",
]

#: W4's filter: a metric and a param clause, ~10% of the runs match.
FILTER = "metrics.m0 < 0.5 and params.p0 = 'v1'"
#: W4's ordering.
ORDER_BY = ["metrics.m0 ASC"]

_SEED = 20240601
_INFO_FILE = "bench-store.json"


@dataclass(frozen=True, slots=True)
class RunData:
    """What one run logs: 20 params, 5 metrics, 3 tags."""

    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str]


@dataclass(slots=True)
class StoreInfo:
    """How a store of runs came to be (kept in ``bench-store.json``)."""

    experiment_id: str
    n_runs: int
    built_by: str
    build_s: float

    def save(self, folder: Path) -> None:
        """Write this record beside the store in ``folder``."""
        (folder / _INFO_FILE).write_text(json.dumps(asdict(self)))

    @classmethod
    def load(cls, folder: Path) -> StoreInfo | None:
        """The record of the store in ``folder``, or None if there is none."""
        path = folder / _INFO_FILE
        return cls(**json.loads(path.read_text())) if path.exists() else None


def run_data(n: int) -> Iterator[RunData]:
    """The data of runs ``0 … n-1``; the same sequence on every call."""
    rng = random.Random(_SEED)
    for i in range(n):
        params = {"p0": f"v{rng.randrange(5)}"}
        params.update({f"p{j}": f"value-{j}-{rng.randrange(100)}" for j in range(1, 20)})
        metrics = {f"m{j}": rng.random() for j in range(5)}
        tags = {"team": "bench", "group": f"g{i % 10}", "seed": str(rng.randrange(1000))}
        yield RunData(params, metrics, tags)


def expected_matches(n: int) -> int:
    """How many of the first ``n`` runs :data:`FILTER` matches."""
    return sum(r.metrics["m0"] < 0.5 and r.params["p0"] == "v1" for r in run_data(n))


def build_runs_store(api: Api, folder: Path, n: int) -> StoreInfo:
    """Fill a new store in ``folder`` with ``n`` runs by the library's fastest path.

    nbtrack: ``Client.create_run`` + one ``Client.log_batch`` (params, metrics,
    tags) + ``set_terminated`` per run. MLflow: the same calls cost ~27 ms a
    run here (10,000 runs ≈ 4.5 min), so the rows those calls would write are
    bulk-inserted into MLflow's own tables through its ORM models instead.
    """
    api.use_store(folder)
    experiment_id = api.create_experiment(f"bench-runs-{n}", folder)
    start = time.perf_counter()
    if api.lib == "mlflow":
        _bulk_insert_mlflow_runs(api, folder, experiment_id, n)
        how = (
            "MLflow: one SQLAlchemy Core bulk insert into MLflow's own ORM tables "
            "(runs, params, metrics, latest_metrics, tags), the rows "
            "MlflowClient.create_run + log_batch + set_terminated write"
        )
    else:
        _client_runs(api, experiment_id, n)
        how = "nbtrack: Client.create_run + Client.log_batch + set_terminated per run"
    info = StoreInfo(experiment_id, n, how, time.perf_counter() - start)
    info.save(folder)
    return info


def _client_runs(api: Api, experiment_id: str, n: int) -> None:
    client = api.client()
    for data in run_data(n):
        run_id = client.create_run(experiment_id).info.run_id
        timestamp = int(time.time() * 1000)
        client.log_batch(
            run_id,
            metrics=[api.metric(k, v, timestamp, 0) for k, v in data.metrics.items()],
            params=[api.param(k, v) for k, v in data.params.items()],
            tags=[api.tag(k, v) for k, v in data.tags.items()],
        )
        client.set_terminated(run_id)
    api.flush()


def _bulk_insert_mlflow_runs(api: Api, folder: Path, experiment_id: str, n: int) -> None:
    # MLflow internals, pinned by the venv's version (3.17). The store is
    # created by MLflow (schema, migrations, experiment); only the run rows are
    # written here.
    from mlflow.store.tracking.dbmodels.models import (
        SqlLatestMetric,
        SqlMetric,
        SqlParam,
        SqlRun,
        SqlTag,
    )
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
    from sqlalchemy import insert

    store = SqlAlchemyStore(api.db_uri(folder), (folder / "artifacts").as_uri())
    artifact_root = api.client().get_experiment(experiment_id).artifact_location
    runs, params, metrics, tags = [], [], [], []
    now = int(time.time() * 1000)
    for i, data in enumerate(run_data(n)):
        run_uuid = uuid.uuid4().hex
        name = f"bench-run-{i}"
        runs.append(
            {
                "run_uuid": run_uuid,
                "name": name,
                "source_type": "UNKNOWN",
                "source_name": "",
                "entry_point_name": "",
                "user_id": "unknown",
                "status": "FINISHED",
                "start_time": now + i,
                "end_time": now + i + 1,
                "source_version": "",
                "lifecycle_stage": "active",
                "artifact_uri": f"{artifact_root}/{run_uuid}/artifacts",
                "experiment_id": int(experiment_id),
            }
        )
        params += [{"key": k, "value": v, "run_uuid": run_uuid} for k, v in data.params.items()]
        metrics += [
            {
                "key": k,
                "value": v,
                "timestamp": now + i,
                "step": 0,
                "is_nan": False,
                "run_uuid": run_uuid,
            }
            for k, v in data.metrics.items()
        ]
        tags += [{"key": k, "value": v, "run_uuid": run_uuid} for k, v in data.tags.items()]
        tags.append({"key": "mlflow.runName", "value": name, "run_uuid": run_uuid})
    with store.engine.begin() as conn:
        conn.execute(insert(SqlRun.__table__), runs)
        conn.execute(insert(SqlParam.__table__), params)
        conn.execute(insert(SqlMetric.__table__), metrics)
        conn.execute(insert(SqlLatestMetric.__table__), metrics)
        conn.execute(insert(SqlTag.__table__), tags)
    store.engine.dispose()
