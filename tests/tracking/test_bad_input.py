"""Bad input gets an error from nbtrack.errors naming the problem, and stores nothing partial."""

from __future__ import annotations

import pytest

import nbtrack as nbt
from nbtrack.entities import Metric, Param, RunTag


def test_param_conflict_names_key_and_values_and_writes_nothing(client: nbt.Client) -> None:
    run = client.create_run("0")
    run_id = run.info.run_id
    client.log_param(run_id, "alpha", 0.5)
    client.log_param(run_id, "alpha", 0.5)  # same value: no-op
    with pytest.raises(nbt.ParamConflict, match=r"'alpha'.*'0\.5'.*'0\.7'") as err:
        client.log_batch(
            run_id,
            metrics=[Metric("m", 1.0, 0, 0)],
            params=[Param("beta", "1"), Param("alpha", "0.7")],
            tags=[RunTag("t", "v")],
        )
    assert isinstance(err.value, ValueError)
    data = client.get_run(run_id).data
    assert data.params == {"alpha": "0.5"}
    assert "m" not in data.metrics and "t" not in data.tags


def test_conflict_inside_one_batch(client: nbt.Client) -> None:
    run_id = client.create_run("0").info.run_id
    with pytest.raises(nbt.ParamConflict, match="'k'"):
        client.log_batch(run_id, params=[Param("k", "1"), Param("k", "2")])
    assert client.get_run(run_id).data.params == {}


@pytest.mark.parametrize("bad", ["abc", None, [1.0], True, {"a": 1}])
def test_non_numeric_metric_is_a_type_error_naming_the_key(tracking_uri: str, bad: object) -> None:
    with nbt.start_run() as run:
        with pytest.raises(TypeError, match="'acc'"):
            nbt.log_metric("acc", bad)  # type: ignore[arg-type]
        with pytest.raises(nbt.MetricValueError, match="'acc'"):
            nbt.log_metrics({"ok": 1.0, "acc": bad})  # type: ignore[dict-item]
    assert nbt.get_run(run.info.run_id).data.metrics == {}


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("", "empty"),
        ("a/../b", "resolves to 'b'"),
        ("/abs", "leading"),
        ("semi;colon", "';'"),
        ("x" * 251, "longer than 250"),
        ("tab\tkey", "'\\\\t'"),
    ],
)
def test_key_rules(client: nbt.Client, key: str, reason: str) -> None:
    run_id = client.create_run("0").info.run_id
    for call in (
        lambda: client.log_metric(run_id, key, 1.0),
        lambda: client.log_param(run_id, key, 1),
        lambda: client.set_tag(run_id, key, "v"),
    ):
        with pytest.raises(nbt.InvalidKey, match=reason):
            call()
    client.flush()
    data = client.get_run(run_id).data
    assert data.params == {} and data.metrics == {}


def test_allowed_key_characters(client: nbt.Client) -> None:
    run_id = client.create_run("0").info.run_id
    client.log_param(run_id, "a_b-c.d/e f", 1)
    assert client.get_run(run_id).data.params == {"a_b-c.d/e f": "1"}


def test_over_long_values(client: nbt.Client) -> None:
    run_id = client.create_run("0").info.run_id
    client.log_param(run_id, "ok", "x" * 6000)
    with pytest.raises(nbt.ValueTooLong, match=r"'long'.*6001.*6000"):
        client.log_param(run_id, "long", "x" * 6001)
    with pytest.raises(nbt.ValueTooLong, match="'tag'"):
        client.set_tag(run_id, "tag", "x" * 8001)
    assert set(client.get_run(run_id).data.params) == {"ok"}


def test_unknown_ids_are_not_found(client: nbt.Client) -> None:
    for call in (
        lambda: client.get_run("0" * 32),
        lambda: client.get_experiment("999"),
        lambda: client.get_experiment("not-a-number"),
        lambda: client.create_run("999"),
        lambda: client.log_param("f" * 32, "a", 1),
        lambda: client.log_metric("f" * 32, "a", 1),
        lambda: client.get_metric_history("f" * 32, "a"),
        lambda: client.delete_run("f" * 32),
    ):
        with pytest.raises(nbt.NotFoundError) as err:
            call()
        assert isinstance(err.value, LookupError)


def test_logging_to_a_finished_or_deleted_run_is_refused(client: nbt.Client) -> None:
    run_id = client.create_run("0").info.run_id
    client.log_metric(run_id, "before", 1.0)
    client.set_terminated(run_id)
    for call in (
        lambda: client.log_metric(run_id, "after", 1.0),
        lambda: client.log_param(run_id, "after", 1),
        lambda: client.log_batch(run_id, tags=[RunTag("after", "1")]),
    ):
        with pytest.raises(nbt.RunNotActiveError, match="FINISHED"):
            call()
    other = client.create_run("0").info.run_id
    client.delete_run(other)
    with pytest.raises(nbt.RunNotActiveError, match="deleted"):
        client.log_param(other, "a", 1)
    data = client.get_run(run_id).data
    assert data.metrics == {"before": 1.0} and "after" not in data.tags


def test_experiment_name_rules(client: nbt.Client) -> None:
    client.create_experiment("dup")
    with pytest.raises(nbt.AlreadyExistsError, match="'dup'"):
        client.create_experiment("dup")
    with pytest.raises(nbt.InvalidInput, match="non-empty"):
        client.create_experiment("  ")
    with pytest.raises(nbt.InvalidInput, match="Default"):
        client.delete_experiment("0")


def test_bad_search_arguments(client: nbt.Client) -> None:
    with pytest.raises(nbt.InvalidFilter) as err:
        client.search_runs(["0"], "metrics.rmse <")
    assert err.value.position >= 0
    with pytest.raises(nbt.InvalidInput, match="run_view_type"):
        client.search_runs(["0"], run_view_type="SOMETIMES")
    with pytest.raises(nbt.InvalidInput, match="page_token"):
        client.search_runs(["0"], page_token="garbage!")
    with pytest.raises(nbt.NotFoundError, match="'nope'"):
        nbt.search_runs(experiment_names=["nope"])


def test_errors_carry_rest_codes(client: nbt.Client) -> None:
    with pytest.raises(nbt.NotFoundError) as err:
        client.get_run("0" * 32)
    assert err.value.to_dict()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert "0" * 32 in err.value.to_dict()["message"]
