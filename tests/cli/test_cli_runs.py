"""``nbtrack runs list|show|delete|restore``."""

from __future__ import annotations

import json
import re
import types
import uuid

import pytest


def _table(stdout: str) -> list[list[str]]:
    """Split a table into cells (its cells have no spaces but the start times')."""
    stdout = re.sub(r"(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)", r"\1T\2", stdout)
    return [line.split() for line in stdout.strip().splitlines()]


def test_list_shows_runs_with_metrics_and_params(invoke, seeded) -> None:
    out = invoke("runs", "list", "-e", "exp-a").stdout
    header, *rows = _table(out)
    assert header[:5] == ["run_id", "name", "status", "start", "duration"]
    assert header[5:] == ["metrics.loss", "metrics.rmse", "params.alpha"]
    by_name = {row[1]: row for row in rows}
    assert set(by_name) == {"alpha-run", "beta-run"}
    alpha = by_name["alpha-run"]
    assert alpha[0] == seeded.alpha[:8]
    assert alpha[2] == "FINISHED"
    assert alpha[-3:] == ["0.25", "0.3", "0.1"]  # latest loss, rmse, alpha
    assert by_name["beta-run"][-2:] == ["0.7", "0.5"]  # no loss: blank cell


def test_list_without_experiment_lists_every_experiment(invoke, seeded) -> None:
    header, *rows = _table(invoke("runs", "list").stdout)
    assert "experiment" in header
    assert {row[1] for row in rows} == {"alpha-run", "beta-run", "gamma-run"}


def test_list_filter_order_and_columns(invoke, seeded) -> None:
    out = invoke(
        "runs",
        "list",
        "--filter",
        "metrics.rmse < 0.5",
        "--order-by",
        "metrics.rmse DESC",
        "--columns",
        "metrics.rmse",
    ).stdout
    header, *rows = _table(out)
    assert header[-1] == "metrics.rmse" and "params.alpha" not in header
    assert [(row[1], row[-1]) for row in rows] == [("alpha-run", "0.3"), ("gamma-run", "0.2")]


def test_list_json_has_full_ids_raw_times_and_every_field(invoke, seeded) -> None:
    rows = json.loads(invoke("runs", "list", "-e", "exp-b", "--json").stdout)
    assert len(rows) == 1
    row = rows[0]
    assert row["run_id"] == seeded.gamma
    assert row["experiment_id"] == seeded.exp_b
    assert isinstance(row["start_time"], int) and row["end_time"] >= row["start_time"]
    assert row["metrics.rmse"] == 0.2
    assert row["metrics.weird"] == "NaN"  # strict JSON has no NaN
    assert row["params.depth"] == "3"
    assert row["tags.team"] == "cli"


def test_list_nan_metric_in_table(invoke, seeded) -> None:
    header, row = _table(invoke("runs", "list", "-e", seeded.exp_b).stdout)
    assert row[header.index("metrics.weird")] == "nan"


def test_list_max_results_says_more_match(invoke, seeded) -> None:
    out = invoke("runs", "list", "--max-results", "2", "--order-by", "metrics.rmse").stdout
    lines = out.strip().splitlines()
    assert len(lines) == 4  # header, 2 runs, the note
    assert "gamma-run" in lines[1] and "alpha-run" in lines[2]
    assert "more match" in lines[3]


def test_list_nothing_found(invoke, seeded) -> None:
    out = invoke("runs", "list", "--filter", "metrics.rmse > 100").stdout
    assert out == "No runs found.\n"


def test_list_malformed_filter_prints_the_caret(invoke, seeded) -> None:
    result = invoke("runs", "list", "--filter", "metrics.rmse <", code=1)
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Error: Invalid filter at position")
    assert lines[1].strip() == "metrics.rmse <"
    assert lines[2].strip() == "^"


def test_list_unknown_experiment(invoke, seeded) -> None:
    result = invoke("runs", "list", "-e", "nope", code=1)
    assert result.stderr.startswith("Error: No experiment named 'nope'")
    assert len(result.stderr.splitlines()) == 1


def test_list_bad_columns_is_a_usage_error(invoke, seeded) -> None:
    result = invoke("runs", "list", "--columns", "rmse", code=2)
    assert "metrics.<key>" in result.stderr


def test_show_text(invoke, seeded) -> None:
    out = invoke("runs", "show", seeded.alpha).stdout
    assert out.startswith(f"Run {seeded.alpha}  alpha-run\n")
    assert "experiment  exp-a" in out
    assert "status      FINISHED" in out
    params = out.split("Params:")[1].split("Metrics:")[0]
    assert params.split() == ["alpha", "0.1"]
    metrics = out.split("Metrics:")[1].split("Tags:")[0]
    assert metrics.split() == ["loss", "0.25", "rmse", "0.3"]
    assert "team" in out.split("Tags:")[1]
    artifacts = out.split("Artifacts:")[1].split()
    assert artifacts[:2] == ["model/", "model/weights.txt"]
    assert "notes.txt" in artifacts


def test_show_json(invoke, seeded) -> None:
    data = json.loads(invoke("runs", "show", seeded.alpha, "--json").stdout)
    assert data["info"]["run_id"] == seeded.alpha
    assert data["info"]["experiment_name"] == "exp-a"
    assert data["params"] == {"alpha": "0.1"}
    assert data["metrics"] == {"loss": 0.25, "rmse": 0.3}
    assert data["tags"]["stage"] == "test"
    paths = {a["path"]: a for a in data["artifacts"]}
    assert paths["notes.txt"]["file_size"] == len("some notes")
    assert paths["model"]["is_dir"] is True


def test_show_accepts_a_unique_prefix(invoke, seeded) -> None:
    out = invoke("runs", "show", seeded.beta[:12]).stdout
    assert out.startswith(f"Run {seeded.beta}  beta-run")


def test_show_unknown_and_too_short_ids(invoke, seeded) -> None:
    unknown = "f" * 32 if not seeded.alpha.startswith("f") else "e" * 32
    assert invoke("runs", "show", unknown, code=1).stderr == f"Error: No run with id '{unknown}'\n"
    short = invoke("runs", "show", "abc", code=1).stderr
    assert "at least 4 characters" in short


def test_show_ambiguous_prefix(invoke, store_uri, monkeypatch: pytest.MonkeyPatch) -> None:
    import nbtrack
    from nbtrack.store.sql import core as sql_core

    ids = iter(["abcd" + "1" * 28, "abcd" + "2" * 28])
    fake = types.SimpleNamespace(uuid4=lambda: uuid.UUID(next(ids)))
    monkeypatch.setattr(sql_core, "uuid", fake)
    client = nbtrack.Client(store_uri)
    client.create_run("0", run_name="one")
    client.create_run("0", run_name="two")
    monkeypatch.undo()
    err = invoke("runs", "show", "abcd", code=1).stderr
    assert "matches several runs" in err
    assert invoke("runs", "show", "abcd2").stdout.startswith("Run abcd2222")


def test_delete_and_restore(invoke, seeded) -> None:
    out = invoke("runs", "delete", seeded.alpha, seeded.beta[:8]).stdout
    assert f"Deleted run {seeded.alpha} (alpha-run)" in out
    assert f"Deleted run {seeded.beta} (beta-run)" in out
    assert "nbtrack gc" in out
    assert invoke("runs", "list", "-e", "exp-a").stdout == "No runs found.\n"
    header, *rows = _table(invoke("runs", "list", "-e", "exp-a", "--view", "deleted").stdout)
    assert {r[1] for r in rows} == {"alpha-run", "beta-run"}
    header, *rows = _table(invoke("runs", "list", "--view", "all").stdout)
    stage = header.index("stage")
    assert {r[1]: r[stage] for r in rows} == {
        "alpha-run": "deleted",
        "beta-run": "deleted",
        "gamma-run": "active",
    }

    assert invoke("runs", "restore", seeded.alpha).stdout == (
        f"Restored run {seeded.alpha} (alpha-run)\n"
    )
    rows = json.loads(invoke("runs", "list", "-e", "exp-a", "--json").stdout)
    assert [r["run_name"] for r in rows] == ["alpha-run"]


def test_delete_checks_every_id_before_changing_anything(invoke, seeded) -> None:
    result = invoke("runs", "delete", seeded.alpha, "0" * 32, code=1)
    assert "No run with id" in result.stderr
    rows = json.loads(invoke("runs", "list", "-e", "exp-a", "--json").stdout)
    assert len(rows) == 2


def test_delete_needs_an_id(invoke) -> None:
    invoke("runs", "delete", code=2)
