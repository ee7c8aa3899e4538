"""copy_run between two nbtrack stores: ids kept, idempotent, a half copy completed, conflicts."""

from __future__ import annotations

from pathlib import Path

import nbtrack
from nbtrack.entities import Metric
from nbtrack.migrate.copy_run import METRIC_CHUNK, copy_run, walk_artifacts


def _source(tmp_path: Path) -> tuple[nbtrack.Client, str]:
    src = nbtrack.Client(f"sqlite:///{tmp_path / 'src.db'}")
    exp = src.create_experiment("e")
    run = src.create_run(exp, run_name="r", start_time=1_700_000_000_000)
    rid = run.info.run_id
    src.log_batch(rid, params=[nbtrack.entities.Param("lr", "0.1")])
    points = [Metric("loss", 1.0 / (i + 1), 1_700_000_000_000 + i, i) for i in range(2500)]
    for i in range(0, len(points), METRIC_CHUNK):
        src.log_batch(rid, metrics=points[i : i + METRIC_CHUNK])
    src.log_text(rid, "hi", "notes/a.txt")
    src.set_terminated(rid, "FAILED", end_time=1_700_000_100_000)
    return src, rid


def _copy(src: nbtrack.Client, dst: nbtrack.Client, rid: str, exp: str) -> str:
    run = src.get_run(rid)
    repo = src.store.artifact_repository(run.info.artifact_uri)
    result = copy_run(dst, run, exp, lambda k: src.get_metric_history(rid, k), repo)
    return result.action


def test_copy_keeps_everything_and_is_idempotent(tmp_path: Path) -> None:
    src, rid = _source(tmp_path)
    dst = nbtrack.Client(f"sqlite:///{tmp_path / 'dst.db'}")
    exp = dst.create_experiment("e")
    assert _copy(src, dst, rid, exp) == "created"
    assert _copy(src, dst, rid, exp) == "skipped"
    got, want = dst.get_run(rid), src.get_run(rid)
    assert got.info.status == "FAILED" and got.info.end_time == want.info.end_time
    assert got.info.start_time == want.info.start_time and got.info.run_name == "r"
    assert got.data.params == want.data.params and got.data.tags == want.data.tags
    assert dst.get_metric_points(rid, "loss") == src.get_metric_points(rid, "loss")
    assert walk_artifacts(dst.store.artifact_repository(got.info.artifact_uri)) == {
        "notes/a.txt": 2
    }


def test_half_copy_is_completed_without_duplicates(tmp_path: Path) -> None:
    src, rid = _source(tmp_path)
    dst = nbtrack.Client(f"sqlite:///{tmp_path / 'dst.db'}")
    exp = dst.create_experiment("e")
    # What an interrupted copy leaves: the run, some params, the first chunk of points.
    dst.store.create_run(exp, "someone", 1_700_000_000_000, [], "r", rid)
    dst.log_batch(rid, metrics=src.get_metric_history(rid, "loss")[:METRIC_CHUNK])
    assert _copy(src, dst, rid, exp) == "completed"
    assert dst.get_metric_points(rid, "loss") == src.get_metric_points(rid, "loss")
    assert dst.get_run(rid).info.status == "FAILED"


def test_a_run_with_other_content_is_a_conflict(tmp_path: Path) -> None:
    src, rid = _source(tmp_path)
    dst = nbtrack.Client(f"sqlite:///{tmp_path / 'dst.db'}")
    exp = dst.create_experiment("e")
    dst.store.create_run(exp, "someone", 1, [], "r", rid)
    dst.log_batch(rid, params=[nbtrack.entities.Param("lr", "0.5")])
    run = src.get_run(rid)
    result = copy_run(dst, run, exp, lambda k: src.get_metric_history(rid, k))
    assert result.action == "conflict" and "'lr'" in result.reason
    assert dst.get_run(rid).data.params == {"lr": "0.5"}
    assert dst.get_metric_points(rid, "loss") == []
