"""``nbtrack recipes new``: each template runs end to end in a real kernel and exports."""

from __future__ import annotations

import json
from pathlib import Path

import nbclient
import nbformat
import pytest

import nbtrack

pytestmark = [pytest.mark.slow, pytest.mark.kernel]

STEPS = ["ingest", "split", "train", "evaluate", "register"]


def _execute(path: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, kernel_name="python3", timeout=300, resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    return nb


@pytest.mark.parametrize(
    ("kind", "metric"), [("classification", "accuracy_score"), ("regression", "r2_score")]
)
def test_recipe_runs_end_to_end_and_exports(
    invoke, store_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, metric: str
) -> None:
    name = f"demo-{kind}"
    out = invoke("recipes", "new", kind, name, "--dir", str(tmp_path)).stdout
    notebook = tmp_path / f"{name}.ipynb"
    assert out == f"Wrote {notebook}; open it with: jupyter lab {notebook}\n"
    nb = nbformat.read(notebook, as_version=4)
    assert [c.metadata.get("tags") for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    tracked = [c.source.splitlines()[0] for c in nb.cells if c.source.startswith("%%track")]
    assert tracked == [f"%%track {step}" for step in STEPS]

    monkeypatch.setenv("NBTRACK_TRACKING_URI", store_uri)
    monkeypatch.setenv("NBTRACK_NOTEBOOK", str(notebook))
    executed = _execute(notebook)
    errors = [o for c in executed.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, errors

    client = nbtrack.Client(store_uri)
    experiment = client.get_experiment_by_name(name)
    assert experiment is not None
    runs = {r.info.run_name: r for r in client.search_runs([experiment.experiment_id])}
    assert sorted(runs) == sorted(STEPS)
    assert {r.info.status for r in runs.values()} == {"FINISHED"}
    (ingest,) = client.get_run(runs["ingest"].info.run_id).inputs.dataset_inputs
    assert ingest.tags == {"mlflow.data.context": "ingest"}
    split = client.get_run(runs["split"].info.run_id).inputs.dataset_inputs
    contexts = {i.tags["mlflow.data.context"] for i in split}
    assert contexts == {"training", "evaluation"}
    assert metric in runs["evaluate"].data.metrics
    (version,) = client.search_model_versions(f"name = '{name}'")
    assert version.run_id == runs["train"].info.run_id
    # The evaluation's report is shown inline.
    evaluate_cell = next(c for c in executed.cells if c.source.startswith("%%track evaluate"))
    assert any(o.output_type == "display_data" for o in evaluate_cell.outputs)

    project = tmp_path / "project"
    exported = invoke("export", str(notebook), "--to", "mlproject", str(project)).stdout
    assert exported.startswith(f"Wrote {project} (parameters: test_size, random_state")
    assert (project / "MLproject").is_file()
    assert json.loads((project / f"{name}.ipynb").read_text())["cells"]


def test_recipe_errors(invoke, tmp_path: Path) -> None:
    invoke("recipes", "new", "regression", "r1", "--dir", str(tmp_path))
    err = invoke("recipes", "new", "regression", "r1", "--dir", str(tmp_path), code=1).stderr
    assert "exists; pick another name or overwrite it with --force" in err
    invoke("recipes", "new", "classification", "r1", "--dir", str(tmp_path), "--force")
    assert "breast_cancer" in (tmp_path / "r1.ipynb").read_text()
    err = invoke("recipes", "new", "regression", "../x", code=1).stderr
    assert "must start with a letter or digit" in err
    err = invoke("recipes", "new", "ranking", "x", code=2).stderr
    assert "'ranking' is not one of 'classification', 'regression'" in err
