"""How much of MLflow's classic API ``import nbtrack as mlflow`` covers, against MLflow 3.17.

The names come from the real MLflow in its venv (``mlflow.__all__`` and the
public methods of ``mlflow.MlflowClient``), so the figure follows MLflow, not
a list kept here. *Classic* means MLflow's tracking, registry and models API,
that is every name except those matched by :data:`EXCLUDED` (the rule, with
the reason for each group):

- ``genai``: tracing, spans, assessments/feedback/expectations, prompts,
  sessions and issues, GenAI evaluation datasets, MCP servers, the AI gateway;
- ``databricks``: names that only work against Databricks (``login``,
  ``import_checkpoints``);
- ``mlflow3``: MLflow 3 additions outside the classic API: logged models and
  the active model (``LoggedModel``, its params/outputs/artifacts), workspaces,
  webhooks and the ``mlflow.test`` pytest marker.

A classic name counts when nbtrack has it *and* it behaves: it is called in
some test (the regex scan below; the smoke tests at the end call those no
other test does), and it is not in :data:`NOT_YET_BEHAVING`. The slow test
prints the names still absent, then asserts at least 95% of the fluent names
and 90% of the client methods.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
from pathlib import Path

import pytest

import nbtrack as mlflow

TESTS = Path(__file__).parent

#: The exclusion rule (see the module docstring): group -> regex on the name (any case).
EXCLUDED = {
    "genai": r"trace|span|assessment|feedback|expectation|prompt|session|issue|dataset|mcp|"
    r"gateway|^context$",
    "databricks": r"^login$|^import_checkpoints$",
    "mlflow3": r"logged_model|active_?model|external_model|model_params|^log_outputs$|"
    r"log_model_artifact|workspace|webhook|^test$",
}
#: Present but not behaving yet, with why (each has a strict xfail test).
NOT_YET_BEHAVING: dict[str, str] = {}

_LIST_NAMES = (
    "import json, mlflow\n"
    "client = sorted(m for m in dir(mlflow.MlflowClient) if not m.startswith('_'))\n"
    "print(json.dumps({'fluent': sorted(set(mlflow.__all__)), 'client': client}))\n"
)


def _excluded_group(name: str) -> str | None:
    for group, pattern in EXCLUDED.items():
        if re.search(pattern, name, re.IGNORECASE):
            return group
    return None


def _test_sources() -> str:
    files = [*TESTS.rglob("*.py")]
    return "\n".join(p.read_text(encoding="utf-8") for p in files)


def _imported_from_nbtrack(text: str) -> set[str]:
    names: set[str] = set()
    for match in re.finditer(r"from nbtrack(?:\.\w+)* import (\([^)]*\)|[^\n]*)", text):
        names |= set(re.findall(r"\w+", match.group(1)))
    return names


def _fluent_called(name: str, text: str, imported: set[str]) -> bool:
    return name in imported or re.search(rf"\b(?:mlflow|nbt|nbtrack)\.{name}\b", text) is not None


def _client_called(name: str, text: str) -> bool:
    pattern = rf"(?:client|MlflowClient\(\)|Client\([^)]*\))\.{name}\b"
    return re.search(pattern, text) is not None


@pytest.mark.slow
def test_classic_mlflow_names_exist_and_behave(tmp_dir: Path) -> None:
    from bench.runner import default_cache_dir, ensure_mlflow

    python = ensure_mlflow(default_cache_dir())
    out = subprocess.run(
        [python, "-c", _LIST_NAMES], capture_output=True, text=True, check=True, cwd=tmp_dir
    ).stdout
    theirs = json.loads(out.strip().splitlines()[-1])
    client = mlflow.MlflowClient(str(tmp_dir / "store"))
    text = _test_sources()
    imported = _imported_from_nbtrack(text)

    report = []
    ratios = {}
    for kind, names in (("fluent", theirs["fluent"]), ("client", theirs["client"])):
        excluded = {n: g for n in names if (g := _excluded_group(n))}
        classic = [n for n in names if n not in excluded]
        if kind == "fluent":
            present = [n for n in classic if hasattr(mlflow, n)]
            uncalled = [n for n in present if not _fluent_called(n, text, imported)]
        else:
            present = [n for n in classic if hasattr(client, n)]
            uncalled = [n for n in present if not _client_called(n, text)]
        # Every name counted must be exercised by a test, or the count could drift.
        assert not uncalled, f"{kind} names no test calls: {uncalled}"
        behaving = [n for n in present if n not in NOT_YET_BEHAVING]
        absent = [n for n in classic if n not in behaving]
        ratios[kind] = len(behaving) / len(classic)
        groups = {g: sum(1 for v in excluded.values() if v == g) for g in EXCLUDED}
        report.append(
            f"{kind}: {len(behaving)}/{len(classic)} classic names ({ratios[kind]:.1%}); "
            f"excluded {groups}; still absent or not behaving: {absent or 'none'}"
        )
    print("\n".join(report))
    assert ratios["fluent"] >= 0.95, report[0]
    assert ratios["client"] >= 0.90, report[1]


# Smoke calls for the classic names no other test calls -----------------------------------


def test_fluent_run_tag_and_bin_names(sql_tracking_uri: str) -> None:
    exp_id = mlflow.create_experiment("smoke")
    assert mlflow.get_experiment_by_name("smoke").experiment_id == exp_id  # type: ignore[union-attr]
    with mlflow.start_run(experiment_id=exp_id) as run:
        assert isinstance(run, mlflow.ActiveRun)
        mlflow.set_tags({"a": "1", "b": "2"})
        mlflow.delete_tag("a")
        assert mlflow.get_artifact_uri("x/y.txt") == f"{run.info.artifact_uri}/x/y.txt"
    assert mlflow.get_run(run.info.run_id).data.tags.get("b") == "2"
    assert "a" not in mlflow.get_run(run.info.run_id).data.tags
    mlflow.delete_run(run.info.run_id)
    assert mlflow.get_run(run.info.run_id).info.lifecycle_stage == "deleted"
    mlflow.restore_run(run.info.run_id)
    assert mlflow.get_run(run.info.run_id).info.lifecycle_stage == "active"


def test_client_experiment_and_artifact_names(sql_tracking_uri: str) -> None:
    import numpy as np

    client = mlflow.MlflowClient()
    exp_id = client.create_experiment("c-smoke")
    client.set_experiment_tag(exp_id, "team", "ml")
    client.rename_experiment(exp_id, "c-smoke-2")
    assert client.get_experiment(exp_id).name == "c-smoke-2"
    assert client.get_experiment(exp_id).tags == {"team": "ml"}
    client.delete_experiment(exp_id)
    client.restore_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == "active"
    parent = client.create_run(exp_id)
    child = client.create_run(exp_id, tags={"mlflow.parentRunId": parent.info.run_id})
    found = client.get_parent_run(child.info.run_id)
    assert found is not None and found.info.run_id == parent.info.run_id
    rid = child.info.run_id
    client.set_tag(rid, "t", "v")
    client.delete_tag(rid, "t")
    client.log_table(rid, {"x": [1, 2]}, "t.json")
    client.log_image(rid, np.zeros((2, 2), dtype=np.uint8), "i.png")
    client.log_figure(rid, _chart(), "chart.json")
    client.log_stream(rid, io.BytesIO(b"abc"), "s.bin")
    client.log_inputs(rid, [mlflow.entities.DatasetInput(mlflow.entities.Dataset("d", "1"))])
    run = client.get_run(rid)
    assert "t" not in run.data.tags and run.inputs.dataset_inputs[0].dataset.name == "d"
    assert {f.path for f in client.list_artifacts(rid)} == {
        "t.json",
        "i.png",
        "chart.json",
        "s.bin",
    }
    assert list(client.load_table(exp_id, "t.json")["x"]) == [1, 2]


def test_client_delete_experiment_tag(tracking_uri: str) -> None:
    client = mlflow.MlflowClient()
    exp_id = client.create_experiment("tagged", tags={"a": "1", "b": "2"})
    client.delete_experiment_tag(exp_id, "a")
    assert client.get_experiment(exp_id).tags == {"b": "2"}
    with pytest.raises(mlflow.NotFoundError, match="no tag 'a'"):
        client.delete_experiment_tag(exp_id, "a")
    assert client.get_experiment(exp_id).tags == {"b": "2"}


def _chart():  # type: ignore[no-untyped-def]
    import altair as alt
    import pandas as pd

    return alt.Chart(pd.DataFrame({"x": [1, 2]})).mark_point().encode(x="x")
