"""The sync state in the local store (migration 0006), through the Store protocol."""

from __future__ import annotations

from typing import Any

import pytest
from backends import SQL_BACKENDS

from nbtrack.errors import StoreError
from nbtrack.store.base import SyncRunState

_SQL = pytest.mark.parametrize("tracking_uri", SQL_BACKENDS, indirect=True)


@_SQL
def test_run_state_round_trips_and_updates_in_parts(client: Any) -> None:
    store = client.store
    target = "http://team:5000"
    assert store.get_sync_runs(target) == {}
    state = SyncRunState(
        run_id="a" * 32,
        remote_run_id="b" * 32,
        remote_experiment_id="7",
        status="RUNNING",
        params={"lr": "d1"},
        tags={"mlflow.runName": "d2"},
        metrics={"loss": (3, 2, 1000), "acc": (1, 0, 900)},
        artifacts={"model/MLmodel": (120, "f" * 64)},
    )
    store.save_sync_run(target, state)
    assert store.get_sync_runs(target) == {"a" * 32: state}
    assert store.get_sync_runs("http://other:5000") == {}

    # One metric's progress alone: the other metric and the artifacts stay as they were.
    state.metrics["loss"] = (5, 4, 2000)
    state.status, state.end_time, state.digest = "FINISHED", 3000, "x" * 64
    store.save_sync_run(target, state, metric_keys=["loss"], artifact_paths=[])
    got = store.get_sync_runs(target)["a" * 32]
    assert got.metrics == {"loss": (5, 4, 2000), "acc": (1, 0, 900)}
    assert got.artifacts == {"model/MLmodel": (120, "f" * 64)}
    assert (got.status, got.end_time, got.digest) == ("FINISHED", 3000, "x" * 64)


@_SQL
def test_objects_map_local_ids_to_remote_ids(client: Any) -> None:
    store = client.store
    store.save_sync_object("t", "experiment", "3", "12")
    store.save_sync_object("t", "model_version", "clf/1", "4", "dig")
    store.save_sync_object("t", "experiment", "3", "13")
    assert store.get_sync_objects("t", "experiment") == {"3": ("13", None)}
    assert store.get_sync_objects("t", "model_version") == {"clf/1": ("4", "dig")}
    assert store.get_sync_objects("u", "experiment") == {}


def test_the_rest_store_names_the_operation_it_cannot_do() -> None:
    from nbtrack.store.rest import RestStore

    store = RestStore("http://127.0.0.1:9")
    for call in (
        lambda: store.get_sync_runs("t"),
        lambda: store.save_sync_run("t", SyncRunState("a", "a", "0")),
        lambda: store.get_sync_objects("t", "experiment"),
        lambda: store.save_sync_object("t", "experiment", "1", "1"),
    ):
        with pytest.raises(StoreError, match=r"_sync_\w+ is not supported by the REST store"):
            call()
