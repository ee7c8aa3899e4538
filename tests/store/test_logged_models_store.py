"""Logged models (MLflow 3's ``m-<hex>``) in the store's own tables, through ``nbtrack.Client``.

Only the SQL backends: the REST store does not carry logged models yet (its
methods raise StoreError naming the operation, checked below); the server's
``logged-models`` routes are tested with real MLflow in tests/server/tracking/.
"""

from __future__ import annotations

from typing import Any

import pytest
from backends import SQL_BACKENDS

from nbtrack.errors import InvalidInput, NotFoundError, StoreError

_SQL = pytest.mark.parametrize("tracking_uri", SQL_BACKENDS, indirect=True)


def _model(client: Any, exp: str, name: str, **kw: Any) -> Any:
    return client.create_logged_model(exp, name, **kw)


@_SQL
def test_create_get_finalize(client: Any) -> None:
    exp = client.create_experiment("lm")
    run = client.create_run(exp)
    made = _model(
        client,
        exp,
        "clf",
        model_type="sklearn",
        source_run_id=run.info.run_id,
        params={"alpha": 0.5},
        tags={"team": "a"},
    )
    assert made.model_id.startswith("m-")
    assert made.status == "LOGGED_MODEL_PENDING"
    assert made.artifact_location.endswith(f"/models/{made.model_id}/artifacts")
    assert made.artifact_location.startswith(client.get_experiment(exp).artifact_location)

    got = client.get_logged_model(made.model_id)
    assert (got.name, got.model_type, got.source_run_id) == ("clf", "sklearn", run.info.run_id)
    assert got.params == {"alpha": "0.5"} and got.tags == {"team": "a"}
    assert got.experiment_id == exp
    # MlflowClient's argument order: experiment_id, name, source_run_id, tags, params, model_type.
    positional = client.create_logged_model(exp, "p", run.info.run_id, {"t": "1"}, {"q": "2"}, "k")
    assert (positional.source_run_id, positional.tags, positional.params) == (
        run.info.run_id,
        {"t": "1"},
        {"q": "2"},
    )
    assert positional.model_type == "k"

    ready = client.finalize_logged_model(made.model_id, "READY")  # MLflow's short spelling
    assert ready.status == "LOGGED_MODEL_READY"
    assert client.get_logged_model(made.model_id).status == "LOGGED_MODEL_READY"
    assert ready.last_updated_timestamp >= made.creation_timestamp
    with pytest.raises(InvalidInput):
        client.finalize_logged_model(made.model_id, "DONE")


@_SQL
def test_unknown_experiment_or_model(client: Any) -> None:
    with pytest.raises(NotFoundError):
        client.create_logged_model("12345", "x")
    with pytest.raises(NotFoundError):
        client.get_logged_model("m-nope")
    with pytest.raises(NotFoundError):
        client.set_logged_model_tags("m-nope", {"a": "b"})


@_SQL
def test_tags_params_and_delete(client: Any) -> None:
    exp = client.create_experiment("lm")
    m = _model(client, exp, "clf", tags={"a": "1", "b": "2"})
    client.set_logged_model_tags(m.model_id, {"a": "10", "c": "3"})
    client.delete_logged_model_tag(m.model_id, "b")
    client.delete_logged_model_tag(m.model_id, "never-set")
    client.log_model_params(m.model_id, {"depth": 4})
    got = client.get_logged_model(m.model_id)
    assert got.tags == {"a": "10", "c": "3"}
    assert got.params == {"depth": "4"}

    client.delete_logged_model(m.model_id)
    with pytest.raises(NotFoundError):
        client.get_logged_model(m.model_id)
    kept = client.get_logged_model(m.model_id, allow_deleted=True)
    assert kept.lifecycle_stage == "deleted" and kept.tags == {"a": "10", "c": "3"}
    assert client.search_logged_models([exp])[0] == []


@_SQL
def test_search_filters_orders_and_pages(client: Any) -> None:
    exp, other = client.create_experiment("lm"), client.create_experiment("other")
    made = [
        _model(client, exp, f"model-{i}", model_type="t" if i % 2 else None, tags={"i": str(i)})
        for i in range(5)
    ]
    _model(client, other, "elsewhere")
    ids = [m.model_id for m in made]

    found, token = client.search_logged_models([exp])
    assert token is None
    assert {m.model_id for m in found} == set(ids)
    # Newest first by default; equal creation times fall back to the id.
    times = [m.creation_timestamp for m in found]
    assert times == sorted(times, reverse=True)

    by_name = client.search_logged_models([exp], order_by=[("name", True)])[0]
    assert [m.name for m in by_name] == [f"model-{i}" for i in range(5)]

    assert [m.name for m in client.search_logged_models([exp], [("tags.i", "=", "3")])[0]] == [
        "model-3"
    ]
    not_three = client.search_logged_models([exp], [("tags.i", "!=", "3")])[0]
    assert sorted(m.name for m in not_three) == ["model-0", "model-1", "model-2", "model-4"]
    typed = client.search_logged_models([exp], [("model_type", "=", "t")])[0]
    assert sorted(m.name for m in typed) == ["model-1", "model-3"]
    untyped = client.search_logged_models([exp], [("model_type", "!=", "t")])[0]
    assert sorted(m.name for m in untyped) == ["model-0", "model-2", "model-4"]
    both = client.search_logged_models(
        [exp, other], [("name", "=", "elsewhere"), ("status", "=", "LOGGED_MODEL_PENDING")]
    )[0]
    assert [m.name for m in both] == ["elsewhere"]

    pages: list[str] = []
    token = None
    while True:
        page, token = client.search_logged_models(
            [exp], order_by=[("name", False)], max_results=2, page_token=token
        )
        pages.extend(m.name for m in page)
        assert len(page) <= 2
        if token is None:
            break
    assert pages == [f"model-{i}" for i in reversed(range(5))]
    assert client.search_logged_models(["not-an-id", "999"])[0] == []


@pytest.mark.parametrize("tracking_uri", ["rest"], indirect=True)
def test_rest_store_names_what_it_cannot_do(client: Any) -> None:
    exp = client.create_experiment("lm")
    with pytest.raises(StoreError, match="create_logged_model"):
        client.create_logged_model(exp, "x")
