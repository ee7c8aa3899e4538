"""``import nbtrack as mlflow`` runs MLflow's classic API: submodules, fluent names, client methods.

Each test calls the names as MLflow code calls them and checks what a user
would check: the run, the registry, the files. ``tests/test_mlflow_compat.py``
counts, against the real MLflow, which names exist; this module shows they
behave.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import nbtrack as mlflow
from nbtrack import config
from nbtrack.tracking import system_metrics


@pytest.fixture(autouse=True)
def _fresh_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    # Settings these tests change are process-wide: restore them after each test.
    monkeypatch.setattr(config, "_registry_uri", None)
    monkeypatch.setattr(system_metrics, "_settings", dict(system_metrics._settings))


@pytest.fixture
def iris() -> tuple[pd.DataFrame, pd.Series]:
    x, y = load_iris(return_X_y=True, as_frame=True)
    return x, y


def test_submodules_load_on_attribute_access_without_importing_them() -> None:
    code = (
        "import sys, nbtrack as mlflow\n"
        "names = ['sklearn', 'pyfunc', 'data', 'artifacts', 'exceptions', 'entities', 'models']\n"
        "assert not any(f'nbtrack.{n}' in sys.modules for n in names[:5])\n"
        "mods = [getattr(mlflow, n) for n in names]\n"
        "print(','.join(m.__name__ for m in mods))\n"
        "from nbtrack.tracking import MlflowClient\n"
        "assert MlflowClient is mlflow.MlflowClient is mlflow.tracking.MlflowClient\n"
        "assert mlflow.pyfunc.PythonModel is mlflow.models.PythonModel\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == (
        "nbtrack.sklearn,nbtrack.pyfunc,nbtrack.data,nbtrack.artifacts,nbtrack.exceptions,"
        "nbtrack.entities,nbtrack.models"
    )


def test_nbtrack_errors_are_caught_as_mlflow_exception_with_mlflow_error_codes(
    sql_tracking_uri: str,
) -> None:
    from nbtrack.exceptions import INVALID_PARAMETER_VALUE, RESOURCE_DOES_NOT_EXIST

    with pytest.raises(mlflow.exceptions.MlflowException) as missing:
        mlflow.get_run("0" * 32)
    assert missing.value.error_code == RESOURCE_DOES_NOT_EXIST
    with pytest.raises(mlflow.MlflowException) as bad:
        mlflow.search_runs(filter_string="metrics.a >")
    assert bad.value.error_code == INVALID_PARAMETER_VALUE
    assert mlflow.exceptions.ERROR_CODE_TO_HTTP_STATUS[bad.value.error_code] == 400
    # Code written for MLflow raises it with an error code, and nbtrack's handlers catch it.
    with pytest.raises(mlflow.NbtrackError) as raised:
        raise mlflow.MlflowException("no such thing", error_code=RESOURCE_DOES_NOT_EXIST)
    assert raised.value.to_dict() == {
        "error_code": "RESOURCE_DOES_NOT_EXIST",
        "message": "no such thing",
    }


def test_entities_have_mlflow_names_and_converters() -> None:
    from nbtrack.entities import (
        ExperimentTag,
        InputTag,
        Metric,
        Param,
        RunStatus,
        RunTag,
        SourceType,
        ViewType,
    )

    assert RunStatus.to_string(3) == "FINISHED" == RunStatus.from_string("finished")
    assert RunStatus.is_terminated(RunStatus.from_string("KILLED"))
    assert ViewType.from_string("all") == ViewType.ALL == ViewType.to_string(3)
    assert SourceType.to_string(1) == "NOTEBOOK" == SourceType.from_string("notebook")
    assert Metric("m", 1.0, 5, 2).step == 2
    assert (Param("p", "v").value, RunTag("t", "v").key) == ("v", "t")
    assert ExperimentTag("k", "v") == ExperimentTag("k", "v")
    assert InputTag("mlflow.data.context", "train").value == "train"
    with pytest.raises(mlflow.MlflowException):
        RunStatus.from_string("DONE")


def test_sklearn_log_register_load_and_pyfunc(
    sql_tracking_uri: str, iris: tuple[pd.DataFrame, pd.Series]
) -> None:
    x, y = iris
    model = LogisticRegression(max_iter=300).fit(x, y)
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(
            model, name="model", registered_model_name="iris", input_example=x.head(3)
        )
    assert info.model_uri == f"runs:/{run.info.run_id}/model"
    assert info.registered_model_version == 1
    loaded = mlflow.sklearn.load_model("models:/iris/1")
    assert isinstance(loaded, LogisticRegression)
    assert list(loaded.predict(x.head(5))) == list(model.predict(x.head(5)))
    pyfunc = mlflow.pyfunc.load_model(info.model_uri)
    assert list(pyfunc.predict(x.head(5))) == list(model.predict(x.head(5)))
    meta = mlflow.models.Model.load(info.model_uri)
    assert meta.get_input_schema().names()[0] == "sepal length (cm)"
    assert mlflow.models.get_model_info(info.model_uri).flavors.keys() >= {"sklearn"}


def test_sklearn_save_model_and_options(tmp_dir: Path, iris: tuple[pd.DataFrame, Any]) -> None:
    x, y = iris
    model = LogisticRegression(max_iter=300).fit(x, y)
    mlflow.sklearn.save_model(
        model, tmp_dir / "m", serialization_format="pickle", pyfunc_predict_fn="predict_proba"
    )
    probabilities = mlflow.pyfunc.load_model(tmp_dir / "m").predict(x.head(2))
    assert np.asarray(probabilities).shape == (2, 3)
    with pytest.raises(mlflow.InvalidInput, match="conda_env"):
        mlflow.sklearn.save_model(model, tmp_dir / "n", conda_env={"deps": []})
    signature = mlflow.models.infer_signature(x, model.predict(x))
    mlflow.models.set_signature(tmp_dir / "m", signature)
    assert mlflow.models.Model.load(tmp_dir / "m").signature == signature
    assert any(
        r.startswith("scikit-learn==") for r in mlflow.sklearn.get_default_pip_requirements()
    )


def test_sklearn_autolog_logs_a_fit(sql_tracking_uri: str, iris: tuple[pd.DataFrame, Any]) -> None:
    x, y = iris
    mlflow.sklearn.autolog()
    try:
        LogisticRegression(max_iter=300, C=0.5).fit(x, y)
    finally:
        mlflow.sklearn.autolog(disable=True)
    (run,) = mlflow.search_runs(output_format="list")
    assert run.data.params["C"] == "0.5"
    assert [f.path for f in mlflow.artifacts.list_artifacts(run_id=run.info.run_id)] == ["model"]


def test_data_from_pandas_and_numpy_logged_with_log_input(sql_tracking_uri: str) -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "label": [0, 1, 0]})
    ds = mlflow.data.from_pandas(frame, source="data/wine.csv", targets="label", name="wine")
    assert (ds.name, ds.source.source_type, ds.targets) == ("wine", "local", "label")
    assert ds.source.uri == str(Path("data/wine.csv").resolve())
    assert ds.schema == {
        "mlflow_colspec": [
            {"type": "double", "name": "x", "required": True},
            {"type": "long", "name": "label", "required": True},
        ]
    }
    assert ds.profile == {"num_rows": 3, "num_elements": 6}
    assert ds.digest == mlflow.data.from_pandas(frame.copy()).digest
    assert ds.digest != mlflow.data.from_pandas(frame.assign(x=[1.0, 2.0, 4.0])).digest
    arrays = mlflow.data.from_numpy(np.ones((4, 2)), targets=np.zeros(4), name="ones")
    assert arrays.profile["features_shape"] == [4, 2] and arrays.source.source_type == "code"
    assert json.loads(arrays.schema["mlflow_tensorspec"]["features"])[0]["tensor-spec"] == {
        "dtype": "float64",
        "shape": [-1, 2],
    }
    with mlflow.start_run() as run:
        mlflow.log_input(ds, context="training")
        mlflow.log_inputs([arrays], contexts=["eval"], tags_list=[{"split": "test"}])
    inputs = mlflow.get_run(run.info.run_id).inputs.dataset_inputs
    by_name = {i.dataset.name: i for i in inputs}
    assert by_name["wine"].tags == {"mlflow.data.context": "training"}
    assert by_name["ones"].tags == {"split": "test", "mlflow.data.context": "eval"}
    assert mlflow.data.get_source(by_name["wine"]).uri == ds.source.uri
    found = mlflow.search_runs(filter_string=f"datasets.digest = '{ds.digest}'")
    assert list(found["run_id"]) == [run.info.run_id]
    with pytest.raises(mlflow.InvalidInput, match="targets"):
        mlflow.data.from_pandas(frame, targets="y")


def test_artifacts_module_downloads_and_loads(sql_tracking_uri: str, tmp_dir: Path) -> None:
    from PIL import Image

    with mlflow.start_run() as run:
        mlflow.log_text("hello", "notes/a.txt")
        mlflow.log_dict({"k": [1, 2]}, "conf.json")
        mlflow.log_dict({"k": 3}, "conf.yaml")
        mlflow.log_image(np.zeros((4, 5, 3), dtype=np.uint8), "img.png")
    rid = run.info.run_id
    assert mlflow.artifacts.load_text(f"runs:/{rid}/notes/a.txt") == "hello"
    assert mlflow.artifacts.load_dict(f"runs:/{rid}/conf.json") == {"k": [1, 2]}
    assert mlflow.artifacts.load_dict(f"runs:/{rid}/conf.yaml") == {"k": 3}
    image = mlflow.artifacts.load_image(f"runs:/{rid}/img.png")
    assert isinstance(image, Image.Image) and image.size == (5, 4)
    local = mlflow.artifacts.download_artifacts(run_id=rid, artifact_path="notes", dst_path="out")
    assert Path(local, "a.txt").read_text() == "hello"
    # A run's own artifact URI works as well as runs:/.
    uri = mlflow.get_run(rid).info.artifact_uri
    assert Path(mlflow.artifacts.download_artifacts(f"{uri}/conf.json")).is_file()
    assert {f.path for f in mlflow.artifacts.list_artifacts(f"runs:/{rid}/notes")} == {
        "notes/a.txt"
    }
    with pytest.raises(mlflow.MlflowException, match="exactly one"):
        mlflow.artifacts.download_artifacts()
    with pytest.raises(mlflow.NotFoundError):
        mlflow.artifacts.load_text(f"runs:/{rid}/missing.txt")


def test_runs_carry_mlflow_system_tags(sql_tracking_uri: str) -> None:
    with mlflow.start_run() as run:
        pass
    tags = mlflow.get_run(run.info.run_id).data.tags
    assert tags["mlflow.user"] == tags["nbtrack.user"]
    assert tags["mlflow.source.name"] == tags["nbtrack.source.name"]
    assert tags["mlflow.source.type"] == "LOCAL"
    found = mlflow.search_runs(filter_string=f"tags.`mlflow.user` = '{tags['mlflow.user']}'")
    assert list(found["run_id"]) == [run.info.run_id]
    # A source given as nbtrack's tag (as the kernel hook gives the notebook) is mirrored.
    with mlflow.start_run(tags={"nbtrack.source.name": "nb.ipynb"}) as other:
        pass
    assert mlflow.get_run(other.info.run_id).data.tags["mlflow.source.name"] == "nb.ipynb"


def test_runs_in_a_git_work_tree_carry_the_commit(tmp_dir: Path) -> None:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=tmp_dir, check=True, capture_output=True, text=True
        ).stdout.strip()

    git("init", "-q")
    (tmp_dir / "train.py").write_text("print(1)\n")
    git("add", "train.py")
    git("-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "first")
    commit = git("rev-parse", "HEAD")
    with mlflow.start_run() as run:
        pass
    assert mlflow.get_run(run.info.run_id).data.tags["mlflow.source.git.commit"] == commit


def test_fluent_registry_parent_and_experiment_names(sql_tracking_uri: str) -> None:
    exp_id = mlflow.set_experiment("fluent").experiment_id
    with mlflow.start_run() as parent, mlflow.start_run(nested=True) as child:
        pass
    found = mlflow.get_parent_run(child.info.run_id)
    assert found is not None and found.info.run_id == parent.info.run_id
    assert mlflow.get_parent_run(parent.info.run_id) is None
    mlflow.register_model(f"runs:/{parent.info.run_id}/model", "a-model")
    mlflow.register_model(f"runs:/{child.info.run_id}/model", "b-model")
    mlflow.set_model_version_tag("a-model", "1", "stage", "dev")
    assert [m.name for m in mlflow.search_registered_models()] == ["a-model", "b-model"]
    assert [m.name for m in mlflow.search_registered_models(1, order_by=["name DESC"])] == [
        "b-model"
    ]
    (version,) = mlflow.search_model_versions(filter_string="name = 'a-model'")
    assert version.tags == {"stage": "dev"}
    with pytest.raises(mlflow.InvalidInput, match="max_results"):
        mlflow.search_model_versions("name = 'a-model'")  # type: ignore[arg-type]
    mlflow.delete_experiment(exp_id)
    mlflow.restore_experiment(exp_id)
    assert mlflow.get_experiment(exp_id).lifecycle_stage == "active"


def test_client_registry_extras(sql_tracking_uri: str) -> None:
    client = mlflow.MlflowClient()
    with mlflow.start_run() as run:
        mlflow.log_text("x", "model/MLmodel")
    client.create_registered_model("src")
    client.create_model_version("src", f"runs:/{run.info.run_id}/model", run.info.run_id)
    client.set_registered_model_alias("src", "champion", 1)
    copy = client.copy_model_version("models:/src@champion", "dst")
    assert (copy.name, copy.version, copy.run_id) == ("dst", 1, run.info.run_id)
    uri = client.get_model_version_download_uri("dst", 1)
    assert uri == f"{client.get_run(run.info.run_id).info.artifact_uri}/model"
    assert client.get_model_version_stages("dst", 1) == [
        "None",
        "Staging",
        "Production",
        "Archived",
    ]
    assert client.tracking_uri == sql_tracking_uri
    with pytest.raises(mlflow.InvalidInput):
        client.copy_model_version("runs:/x/model", "dst")


def test_load_table_and_log_stream(sql_tracking_uri: str) -> None:
    mlflow.set_experiment("tables")
    ids = []
    for i in range(2):
        with mlflow.start_run() as run:
            mlflow.log_table({"x": [i, i + 10]}, "t.json")
            mlflow.log_stream(io.BytesIO(b"\x00\x01"), "raw/blob.bin")
        ids.append(run.info.run_id)
    with mlflow.start_run():
        pass  # a run without the table is skipped
    table = mlflow.load_table("t.json", extra_columns=["run_id"])
    assert sorted(table["x"]) == [0, 1, 10, 11]
    assert set(table["run_id"]) == set(ids)
    only = mlflow.MlflowClient().load_table("0", "t.json", run_ids=[ids[0]])
    assert list(only["x"]) == [0, 10]
    assert Path(mlflow.download_artifacts(ids[1], "raw/blob.bin")).read_bytes() == b"\x00\x01"
    with pytest.raises(mlflow.NotFoundError):
        mlflow.load_table("missing.json")


def test_delete_experiment_tag(tracking_uri: str) -> None:
    exp_id = mlflow.set_experiment("tagged").experiment_id
    mlflow.set_experiment_tags({"a": "1", "b": "2"})
    mlflow.delete_experiment_tag("a")
    assert mlflow.get_experiment(exp_id).tags == {"b": "2"}


def test_registry_uri_must_name_the_tracking_store(sql_tracking_uri: str, tmp_dir: Path) -> None:
    assert mlflow.get_registry_uri() == mlflow.get_tracking_uri()
    assert mlflow.is_tracking_uri_set()
    mlflow.set_registry_uri(sql_tracking_uri)
    assert mlflow.search_registered_models() == []
    mlflow.set_registry_uri(str(tmp_dir / "elsewhere"))
    assert mlflow.get_registry_uri() == str(tmp_dir / "elsewhere")
    with pytest.raises(mlflow.InvalidInput, match="keeps registered models in the tracking store"):
        mlflow.search_model_versions()


def test_system_metrics_settings(sql_tracking_uri: str) -> None:
    import psutil  # noqa: F401  (the test extras install it: a missing one must fail, not skip)

    mlflow.enable_system_metrics_logging()
    mlflow.set_system_metrics_sampling_interval(60)
    mlflow.set_system_metrics_samples_before_logging(1)
    mlflow.set_system_metrics_node_id("node1")
    with mlflow.start_run() as run:
        pass
    keys = set(mlflow.get_run(run.info.run_id).data.metrics)
    assert "system/node1/cpu_utilization_percentage" in keys
    mlflow.disable_system_metrics_logging()
    with mlflow.start_run() as quiet:
        pass
    assert mlflow.get_run(quiet.info.run_id).data.metrics == {}
    with pytest.raises(mlflow.InvalidInput):
        mlflow.set_system_metrics_sampling_interval(0)


def test_image_series_and_flushes(sql_tracking_uri: str) -> None:
    image = mlflow.Image(np.full((8, 8, 3), 200, dtype=np.uint8))
    assert image.to_array().shape == (8, 8, 3) and image.resize((4, 4)).size == (4, 4)
    with mlflow.start_run() as run:
        mlflow.log_image(image, key="samples/a", step=2)
        mlflow.log_metric("m", 1.0)
        mlflow.flush_async_logging()
        mlflow.flush_artifact_async_logging()
        assert mlflow.get_metric_history(run.info.run_id, "m")[0].value == 1.0
    files = sorted(f.path for f in mlflow.list_artifacts(run.info.run_id, "images"))
    assert len(files) == 2 and files[0].startswith("images/samples~a+step+2+timestamp+")
    assert {f.rsplit("+", 1)[-1].split(".", 1)[-1] for f in files} == {"png", "webp"}
    assert sum(f.endswith("+compressed.webp") for f in files) == 1
    assert mlflow.get_run(run.info.run_id).data.tags["mlflow.loggedImages"] == "true"
    with pytest.raises(mlflow.InvalidInput):
        mlflow.log_image(image, key="bad key!")


def test_validate_evaluation_results_and_doctor(capsys: pytest.CaptureFixture[str]) -> None:
    from nbtrack.evaluation.thresholds import ModelValidationFailed

    class Result:
        def __init__(self, metrics: dict[str, float]) -> None:
            self.metrics = metrics

    thresholds = {"accuracy_score": mlflow.Threshold(min_absolute=0.8, min_absolute_change=0.01)}
    mlflow.validate_evaluation_results(
        thresholds, Result({"accuracy_score": 0.9}), Result({"accuracy_score": 0.85})
    )
    with pytest.raises(ModelValidationFailed, match="min_absolute"):
        mlflow.validate_evaluation_results(
            thresholds, Result({"accuracy_score": 0.7}), Result({"accuracy_score": 0.6})
        )
    mlflow.doctor(mask_envs=True)
    assert f"nbtrack version: {mlflow.__version__}" in capsys.readouterr().out


def test_run_runs_a_local_mlproject(sql_tracking_uri: str, tmp_dir: Path) -> None:
    project = tmp_dir / "proj"
    project.mkdir()
    (project / "MLproject").write_text(
        "name: p\nentry_points:\n  main:\n    parameters:\n"
        "      alpha: {type: float, default: 0.1}\n"
        "    command: python train.py {alpha}\n"
    )
    (project / "train.py").write_text(
        "import sys, nbtrack as mlflow\nwith mlflow.start_run():\n"
        "    mlflow.log_metric('alpha', float(sys.argv[1]))\n"
    )
    submitted = mlflow.run(str(project), parameters={"alpha": 0.5})
    assert submitted.wait() and submitted.get_status() == "FINISHED"
    assert mlflow.get_run(submitted.run_id).data.metrics["alpha"] == 0.5
    with pytest.raises(mlflow.InvalidInput, match="synchronous"):
        mlflow.run(str(project), synchronous=False)


def test_set_experiment_follows_its_name_into_a_new_store(tmp_dir: Path) -> None:
    mlflow.set_tracking_uri(str(tmp_dir / "a"))
    mlflow.create_experiment("other-a")
    mlflow.set_experiment("mine")  # id 2 in store A
    mlflow.set_tracking_uri(str(tmp_dir / "b"))
    mlflow.create_experiment("unrelated")  # id 1 in store B
    mlflow.create_experiment("taken")  # id 2 in store B: the number, not the name, of A's
    with mlflow.start_run() as run:
        pass
    assert mlflow.get_experiment(run.info.experiment_id).name == "mine"
    # Where the name cannot be followed (binned in store C), the error names it.
    mlflow.set_tracking_uri(str(tmp_dir / "c"))
    mlflow.delete_experiment(mlflow.MlflowClient().create_experiment("mine"))
    with pytest.raises(mlflow.InvalidInput, match=r"active experiment 'mine'.*deleted"):
        mlflow.start_run()


def test_search_accepts_backquoted_entity_types(sql_tracking_uri: str) -> None:
    with mlflow.start_run() as run:
        # MLflow's synchronous= is accepted; these writes are synchronous anyway.
        mlflow.log_param("x", "a", synchronous=False)
        mlflow.log_metric("a", 2.0, synchronous=True)
        mlflow.set_tag("my tag", "t", synchronous=True)
    with mlflow.start_run():
        mlflow.log_param("x", "b")
    for text in (
        "`params`.x = 'a'",
        "`metric`.a > 1",
        "`tags`.`my tag` = 't'",
        "`attributes`.status = 'FINISHED' and `param`.x = 'a'",
    ):
        assert list(mlflow.search_runs(filter_string=text)["run_id"]) == [run.info.run_id], text
    with pytest.raises(mlflow.InvalidFilter, match="unknown entity"):
        mlflow.search_runs(filter_string="`nope`.x = 'a'")


def test_lineage_is_public_and_printable(sql_tracking_uri: str) -> None:
    from nbtrack.entities import CellExecution

    client = mlflow.Client()
    client.log_cell_executions(
        [
            CellExecution("s1", "c1", 1, "x = 1", 0, 1.0, True),
            CellExecution("s1", "c2", 2, "%%track\nprint(x)", 1),
        ]
    )
    with mlflow.start_run(
        tags={"nbtrack.lineage.session_id": "s1", "nbtrack.lineage.end": "2"}
    ) as run:
        pass
    executions = mlflow.lineage(run.info.run_id)
    assert [e.cell_id for e in executions] == ["c1", "c2"]
    text = str(executions)
    assert text == mlflow.lineage_script(executions)
    assert "x = 1" in text and "# %%track" in text
