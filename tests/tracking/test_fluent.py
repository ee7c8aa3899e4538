"""The fluent API as a user drives it: the issue's example, run lifecycle, nesting, tags."""

from __future__ import annotations

import math
import subprocess
import threading
from pathlib import Path

import pytest

import nbtrack as nbt
from nbtrack.entities import RunStatus


def test_issue_example_end_to_end(tracking_uri: str, tmp_dir: Path) -> None:
    (tmp_dir / "plot.png").write_bytes(b"\x89PNG fake but bytes are bytes")
    nbt.set_experiment("wine")
    with nbt.start_run(run_name="baseline") as run:
        nbt.log_params({"alpha": 0.5, "l1_ratio": 0.1})
        for step in range(100):
            nbt.log_metric("loss", 1 / (step + 1), step=step)
        nbt.log_metric("rmse", 0.74)
        nbt.set_tag("team", "a")
        nbt.log_dict({"features": ["a", "b"]}, "config.yaml")
        nbt.log_artifact("plot.png")
    with nbt.start_run(run_name="worse"):
        nbt.log_params({"alpha": 0.9, "l1_ratio": 0.1})
        nbt.log_metric("rmse", 0.95)
        nbt.set_tag("team", "b")
    with nbt.start_run(run_name="team-b"):
        nbt.log_params({"alpha": 0.1, "l1_ratio": 0.1})
        nbt.log_metric("rmse", 0.61)
        nbt.set_tag("team", "b")

    df = nbt.search_runs(
        experiment_names=["wine"],
        filter_string="metrics.rmse < 0.8 and (params.alpha = '0.5' or tags.team = 'b')",
        order_by=["metrics.rmse ASC"],
    )
    assert list(df["run_name"]) == ["team-b", "baseline"]
    assert list(df["metrics.rmse"]) == [0.61, 0.74]
    assert list(df["params.alpha"]) == ["0.1", "0.5"]
    for column in ("run_id", "experiment_id", "status", "start_time", "end_time", "artifact_uri"):
        assert column in df.columns
    assert set(df["status"]) == {"FINISHED"}

    stored = nbt.get_run(run.info.run_id)
    assert stored.data.params == {"alpha": "0.5", "l1_ratio": "0.1"}
    assert stored.data.metrics["loss"] == pytest.approx(0.01)
    assert stored.data.tags["team"] == "a"
    history = nbt.get_metric_history(run.info.run_id, "loss")
    assert [m.step for m in history] == list(range(100))
    assert history[0].value == 1.0
    names = {f.path for f in nbt.list_artifacts(run.info.run_id)}
    assert names == {"config.yaml", "plot.png"}
    local = Path(nbt.download_artifacts(run.info.run_id, "config.yaml"))
    assert "features" in local.read_text()


def test_statuses_follow_how_the_block_ends(tracking_uri: str) -> None:
    with nbt.start_run() as ok:
        pass
    with pytest.raises(ZeroDivisionError), nbt.start_run() as failed:
        1 / 0  # noqa: B018
    with pytest.raises(KeyboardInterrupt), nbt.start_run() as killed:
        raise KeyboardInterrupt
    assert nbt.get_run(ok.info.run_id).info.status == RunStatus.FINISHED
    assert nbt.get_run(failed.info.run_id).info.status == RunStatus.FAILED
    assert nbt.get_run(killed.info.run_id).info.status == RunStatus.KILLED
    assert nbt.get_run(ok.info.run_id).info.end_time is not None
    assert nbt.active_run() is None


def test_nested_runs_record_their_parent(tracking_uri: str) -> None:
    with nbt.start_run(run_name="parent") as parent:
        with nbt.start_run(run_name="child", nested=True) as child:
            assert nbt.active_run().info.run_id == child.info.run_id
        assert nbt.active_run().info.run_id == parent.info.run_id
    tags = nbt.get_run(child.info.run_id).data.tags
    assert tags["nbtrack.parent_run_id"] == parent.info.run_id
    kids = nbt.search_runs(filter_string=f"tags.`nbtrack.parent_run_id` = '{parent.info.run_id}'")
    assert list(kids["run_name"]) == ["child"]


def test_starting_a_second_top_level_run_is_refused(tracking_uri: str) -> None:
    with nbt.start_run() as first, pytest.raises(nbt.InvalidInput, match=first.info.run_id):
        nbt.start_run()


def test_generated_names_and_system_tags(tracking_uri: str, tmp_dir: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_dir)], check=True)
    (tmp_dir / "a.txt").write_text("x")
    subprocess.run(["git", "-C", str(tmp_dir), "add", "a.txt"], check=True)
    subprocess.run(
        [
            "git",
            "-C",
            str(tmp_dir),
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@e",
            "commit",
            "-qm",
            "c",
        ],
        check=True,
    )
    from nbtrack.tracking import context

    context._git_cache.clear()
    with nbt.start_run() as run:
        pass
    got = nbt.get_run(run.info.run_id)
    adjective, noun, number = got.info.run_name.split("-")
    assert adjective.isalpha() and noun.isalpha() and len(number) == 3
    tags = got.data.tags
    head = subprocess.run(
        ["git", "-C", str(tmp_dir), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    assert tags["nbtrack.git.commit"] == head
    assert tags["nbtrack.git.dirty"] == "false"
    assert tags["nbtrack.git.branch"]
    for key in ("nbtrack.user", "nbtrack.python", "nbtrack.host", "nbtrack.source.name"):
        assert tags[key]
    assert tags["mlflow.runName"] == got.info.run_name


def test_log_metric_without_a_run_starts_one(tracking_uri: str) -> None:
    nbt.log_metric("x", 1.0)
    run = nbt.active_run()
    assert run is not None
    nbt.end_run()
    assert nbt.last_active_run().data.metrics == {"x": 1.0}


def test_resuming_a_finished_run_reopens_it(tracking_uri: str) -> None:
    with nbt.start_run() as run:
        nbt.log_metric("a", 1)
    with nbt.start_run(run_id=run.info.run_id):
        assert nbt.get_run(run.info.run_id).info.status == RunStatus.RUNNING
        nbt.log_metric("b", 2)
    got = nbt.get_run(run.info.run_id)
    assert got.info.status == RunStatus.FINISHED
    assert got.data.metrics == {"a": 1.0, "b": 2.0}


def test_nbtrack_run_id_env_attaches_the_first_top_level_run(
    tracking_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    outer = nbt.Client().create_run("0", run_name="made-by-runner")
    monkeypatch.setenv("NBTRACK_RUN_ID", outer.info.run_id)
    with nbt.start_run() as attached:
        nbt.log_param("alpha", 0.1)
    with nbt.start_run() as fresh:
        pass
    assert attached.info.run_id == outer.info.run_id
    assert fresh.info.run_id != outer.info.run_id
    assert nbt.get_run(outer.info.run_id).data.params == {"alpha": "0.1"}


def test_each_thread_has_its_own_active_run(tracking_uri: str) -> None:
    seen: dict[str, str | None] = {}

    def worker() -> None:
        seen["before"] = nbt.active_run() and nbt.active_run().info.run_id
        with nbt.start_run() as run:
            nbt.log_metric("t", 1)
            seen["inside"] = run.info.run_id

    with nbt.start_run() as main_run:
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        assert nbt.active_run().info.run_id == main_run.info.run_id
    assert seen["before"] is None
    assert seen["inside"] != main_run.info.run_id
    assert nbt.get_run(seen["inside"]).data.metrics == {"t": 1.0}


def test_nan_and_infinity_round_trip(tracking_uri: str) -> None:
    with nbt.start_run() as run:
        nbt.log_metric("m", float("nan"), step=0)
        nbt.log_metric("m", float("inf"), step=1)
        nbt.log_metric("m", float("-inf"), step=2)
        nbt.log_metric("last_nan", float("nan"))
    values = [m.value for m in nbt.get_metric_history(run.info.run_id, "m")]
    assert math.isnan(values[0]) and values[1] == math.inf and values[2] == -math.inf
    metrics = nbt.get_run(run.info.run_id).data.metrics
    assert metrics["m"] == -math.inf
    assert math.isnan(metrics["last_nan"])
    df = nbt.search_runs()
    assert math.isnan(df["metrics.last_nan"].iloc[0])


def test_numpy_scalars_are_metrics(tracking_uri: str) -> None:
    import numpy as np

    with nbt.start_run() as run:
        nbt.log_metric("f32", np.float32(0.5))
        nbt.log_metric("i64", np.int64(3))
        nbt.log_metrics({"zero_d": np.array(2.5)})
    assert nbt.get_run(run.info.run_id).data.metrics == {"f32": 0.5, "i64": 3.0, "zero_d": 2.5}


def test_log_input_records_a_dataframe(tracking_uri: str) -> None:
    import pandas as pd

    frame = pd.DataFrame({"x": [1, 2, 3], "y": [0.1, 0.2, 0.3]})
    with nbt.start_run() as run:
        nbt.log_input(frame, context="training")
    (item,) = nbt.get_run(run.info.run_id).inputs.dataset_inputs
    assert item.tags == {"mlflow.data.context": "training"}
    assert '"num_rows": 3' in item.dataset.profile
    assert len(item.dataset.digest) == 8
    by_digest = nbt.search_runs(filter_string=f"datasets.digest = '{item.dataset.digest}'")
    assert list(by_digest["run_id"]) == [run.info.run_id]


def test_default_store_is_dot_nbtrack_in_the_working_folder(tmp_dir: Path) -> None:
    with nbt.start_run() as run:
        nbt.log_metric("x", 1)
    assert (tmp_dir / ".nbtrack" / "nbtrack.db").is_file()
    assert run.info.artifact_uri.startswith(str(tmp_dir / ".nbtrack" / "artifacts"))
    assert run.info.experiment_id == "0"
    assert nbt.get_experiment("0").name == "Default"


def test_default_store_is_found_in_an_ancestor(
    tmp_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_dir / ".nbtrack").mkdir()
    sub = tmp_dir / "notebooks" / "deep"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    with nbt.start_run():
        pass
    assert (tmp_dir / ".nbtrack" / "nbtrack.db").is_file()
    assert not (sub / ".nbtrack").exists()


def test_history_keeps_distinct_points_and_stores_an_exact_repeat_once(
    tracking_uri: str,
) -> None:
    with nbt.start_run() as run:
        nbt.log_metric("m", 1.0, step=0, timestamp=1000)
        nbt.log_metric("m", 2.0, step=0, timestamp=1000)  # same step and time, new value
        nbt.log_metric("m", 1.0, step=0, timestamp=1000)  # the very same point again
        nbt.log_metric("m", float("nan"), step=1, timestamp=1001)
    history = nbt.get_metric_history(run.info.run_id, "m")
    assert [(m.step, m.value) for m in history[:2]] == [(0, 1.0), (0, 2.0)]
    assert len(history) == 3 and math.isnan(history[2].value)
    assert math.isnan(nbt.get_run(run.info.run_id).data.metrics["m"])
    points = nbt.Client().get_metric_points(run.info.run_id, "m")
    assert points[:2] == [(0, 1000, 1.0), (0, 1000, 2.0)]
    assert points[2][:2] == (1, 1001) and math.isnan(points[2][2])
    assert nbt.Client().get_metric_points(run.info.run_id, "other") == []
    with pytest.raises(nbt.NotFoundError):
        nbt.Client().get_metric_points("0" * 32, "m")


def test_in_memory_artifacts_land_in_the_run(tracking_uri: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd
    from PIL import Image

    fig, ax = plt.subplots(figsize=(2, 2), dpi=50)
    ax.plot([1, 2, 3])
    with nbt.start_run() as run:
        nbt.log_text("hello", "notes/readme.txt")
        nbt.log_figure(fig, "plots/curve.png")
        nbt.log_image(np.zeros((8, 12, 3), dtype=np.uint8), "images/black.png")
        nbt.log_table(pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}), "table.json")
        nbt.log_dict({"lr": 0.1}, "config.json")
        with pytest.raises(nbt.InvalidInput, match=r"\.\."):
            nbt.log_text("x", "../escape.txt")
    plt.close(fig)
    run_id = run.info.run_id
    top = {(f.path, f.is_dir) for f in nbt.list_artifacts(run_id)}
    assert top == {
        ("config.json", False),
        ("images", True),
        ("notes", True),
        ("plots", True),
        ("table.json", False),
    }
    folder = Path(nbt.download_artifacts(run_id))
    assert (folder / "notes" / "readme.txt").read_text() == "hello"
    assert Image.open(folder / "plots" / "curve.png").size == (100, 100)
    assert Image.open(folder / "images" / "black.png").size == (12, 8)
    table = pd.read_json(folder / "table.json", orient="split")
    assert table.to_dict("list") == {"a": [1, 2], "b": ["x", "y"]}
    assert not (folder.parent / "escape.txt").exists()
