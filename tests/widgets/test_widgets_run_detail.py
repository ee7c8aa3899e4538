"""One run's panel: params, metrics with sparklines, tags, artifacts (previews), lineage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import nbtrack
from nbtrack.errors import NotFoundError
from nbtrack.widgets.run_detail import RunDetail, show_run

# A 1×1 PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d4944415478da63f8cfc0f01f0005000201a0b1b5b80000000049454e44ae426082"
)


def test_show_run_shows_params_metrics_tags_and_artifacts(seeded, tmp_path: Path) -> None:
    client = seeded.client
    run_id = seeded.run_ids[3]
    client.update_run(run_id, status="RUNNING")  # reopen it to add artifacts
    (tmp_path / "plot.png").write_bytes(PNG)
    client.log_artifact(run_id, tmp_path / "plot.png", "figures")
    client.log_dict(run_id, {"lr": 0.1}, "config.json")
    client.log_text(run_id, "a: 1\nb: <two>\n", "notes/info.yaml")
    (tmp_path / "model.bin").write_bytes(b"\x00\x01")
    client.log_artifact(run_id, tmp_path / "model.bin")
    client.set_terminated(run_id)

    view = show_run(run_id, client=client)
    html = view.html
    assert "Run run-03" in html and "FINISHED" in html
    assert "<td>alpha</td><td>0.3</td>" in html
    assert html.count('class="jp-nbtrack-Spark"') == 1  # loss has 20 points; rmse has one
    assert "<td>team</td><td>ml</td>" in html
    assert "data:image/png;base64," in html  # the image inline
    assert json.dumps({"lr": 0.1}, indent=2)[:5] in html or "&quot;lr&quot;" in html
    assert "b: &lt;two&gt;" in html  # YAML previewed, escaped
    assert "<code>model.bin</code>" in html  # listed only
    assert "No lineage" in html
    data, _ = view._repr_mimebundle_()
    assert "data:image/png;base64," in data["text/html"]


def test_detail_lists_artifacts_in_folders(seeded) -> None:
    client = seeded.client
    run_id = seeded.run_ids[0]
    client.update_run(run_id, status="RUNNING")
    client.log_text(run_id, "x", "a/b/c.txt")
    detail = RunDetail.load(client, run_id)
    assert [p.info.path for p in detail.artifacts] == ["a/b/c.txt"]
    assert detail.artifacts[0].text == "x"
    assert detail.any_running()
    assert show_run(run_id, client=client).live is True


def test_unknown_run_raises(client: nbtrack.Client) -> None:
    with pytest.raises(NotFoundError):
        show_run("0" * 32, client=client)


def test_refreshing_a_running_run_reuses_unchanged_previews(seeded) -> None:
    client = seeded.client
    run_id = seeded.run_ids[2]
    client.update_run(run_id, status="RUNNING")
    client.log_text(run_id, "first", "log.txt")
    view = show_run(run_id, client=client)
    kept = view.detail.artifacts[0]
    client.log_text(run_id, "second", "more.txt")
    view.dispatch({"action": "refresh"})
    by_path = {p.info.path: p for p in view.detail.artifacts}
    assert by_path["log.txt"] is kept  # not downloaded again
    assert by_path["more.txt"].text == "second"
    assert "more.txt" in view.html
