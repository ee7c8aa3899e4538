"""Scripts run by real MLflow 3.17 in its own venv: build a source store, dump it as JSON.

They are plain strings (the venv has no nbtrack); ``TRACKING_URI`` is set by
the caller. The dump is what MLflow's own client reads, so the import tests
compare nbtrack's reading of the target with MLflow's reading of the source.
"""

from __future__ import annotations

BUILD = r"""
import json, os, sys
import mlflow
from mlflow import MlflowClient
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

mlflow.set_tracking_uri(os.environ["TRACKING_URI"])
client = MlflowClient()
exp = mlflow.set_experiment("wine")
client.set_experiment_tag(exp.experiment_id, "team", "vision")
with mlflow.start_run(run_name="parent") as parent:
    mlflow.log_params({"lr": 0.1, "depth": 3})
    mlflow.set_tag("stage", "dev")
    for step in range(50):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step, timestamp=1700000000000 + step)
    mlflow.log_metric("loss", 0.5, step=3, timestamp=1700000009999)  # two points at one step
    mlflow.log_metric("acc", 0.9)
    mlflow.log_text("hello", "notes/hello.txt")
    mlflow.log_dict({"a": 1}, "config.json")
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0, 1, 0]})
    dataset = mlflow.data.from_pandas(df, source="s3://bucket/wine.csv", name="wine")
    mlflow.log_input(dataset, context="training")
    with mlflow.start_run(run_name="child", nested=True) as child:
        mlflow.log_param("fold", 1)
        mlflow.log_metric("loss", 0.3, step=0)
    model = LogisticRegression().fit(np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1]))
    info = mlflow.sklearn.log_model(model, name="model", registered_model_name="wine-model")
client.set_registered_model_tag("wine-model", "owner", "ana")
client.update_registered_model("wine-model", description="classifies wine")
client.set_registered_model_alias("wine-model", "champion", 1)
client.set_model_version_tag("wine-model", "1", "validated", "yes")
client.transition_model_version_stage("wine-model", "1", "Staging")
failed = client.create_run(exp.experiment_id, run_name="failed")
client.log_metric(failed.info.run_id, "loss", 2.0, step=0)
client.set_terminated(failed.info.run_id, "FAILED")
gone = client.create_run(exp.experiment_id, run_name="gone")
client.set_terminated(gone.info.run_id)
client.delete_run(gone.info.run_id)
other = mlflow.set_experiment("other")
with mlflow.start_run(run_name="lonely"):
    mlflow.log_metric("m", 1.5, step=7)
old = client.create_experiment("archived")
client.delete_experiment(old)
mlflow.genai.register_prompt(name="greet", template="Hello {{name}}!", commit_message="first")
mlflow.genai.register_prompt(name="greet", template="Hi {{name}}!", commit_message="second")
mlflow.genai.set_prompt_alias("greet", "prod", 2)
print(json.dumps({"parent": parent.info.run_id, "child": child.info.run_id}))
"""

BULK = r"""
import json, os, time
import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric, Param

mlflow.set_tracking_uri(os.environ["TRACKING_URI"])
client = MlflowClient()
runs, points = int(os.environ["RUNS"]), int(os.environ["POINTS"])
exp = client.create_experiment("bulk")
now = int(time.time() * 1000)
for r in range(runs):
    run = client.create_run(exp, run_name=f"r{r}")
    params = [Param(f"p{i}", str(i * r)) for i in range(20)]
    client.log_batch(run.info.run_id, params=params)
    for k in range(5):
        metrics = [Metric(f"m{k}", float(s) / (r + 1), now + s, s) for s in range(points)]
        client.log_batch(run.info.run_id, metrics=metrics)
    client.set_terminated(run.info.run_id)
print(json.dumps({"experiment_id": exp}))
"""

DUMP = r"""
import json, os
from mlflow import MlflowClient
from mlflow.entities import ViewType

import mlflow
mlflow.set_tracking_uri(os.environ["TRACKING_URI"])  # mlflow.genai reads prompts through it
client = MlflowClient(os.environ["TRACKING_URI"])
out = {"experiments": [], "runs": {}, "models": [], "prompts": []}
for exp in client.search_experiments(view_type=ViewType.ALL):
    out["experiments"].append({
        "name": exp.name, "lifecycle_stage": exp.lifecycle_stage,
        "tags": {k: v for k, v in exp.tags.items()},
    })
    runs = client.search_runs([exp.experiment_id], run_view_type=ViewType.ALL, max_results=50000)
    for run in runs:
        i = run.info
        hist = {}
        for k in run.data.metrics:
            points = client.get_metric_history(i.run_id, k)
            hist[k] = sorted([m.step, m.timestamp, m.value] for m in points)
        arts, stack = {}, [None]
        while stack:
            for f in client.list_artifacts(i.run_id, stack.pop()):
                if f.is_dir:
                    stack.append(f.path)
                else:
                    arts[f.path] = f.file_size
        out["runs"][i.run_id] = {
            "experiment": exp.name, "run_name": i.run_name, "status": i.status,
            "start_time": i.start_time, "end_time": i.end_time,
            "lifecycle_stage": i.lifecycle_stage, "user_id": i.user_id,
            "params": run.data.params, "tags": run.data.tags, "metrics": run.data.metrics,
            "history": hist, "artifacts": arts,
            "inputs": sorted(
                [d.dataset.name, d.dataset.digest, d.dataset.source_type, d.dataset.source,
                 d.dataset.schema, d.dataset.profile, {t.key: t.value for t in d.tags}]
                for d in (run.inputs.dataset_inputs if run.inputs else [])
            ),
        }
for rm in client.search_registered_models(max_results=1000):
    versions = []
    for found in client.search_model_versions(f"name='{rm.name}'"):
        v = client.get_model_version(rm.name, found.version)  # search leaves aliases out
        versions.append({"version": int(v.version), "run_id": v.run_id, "stage": v.current_stage,
                         "status": v.status, "description": v.description or None,
                         "tags": v.tags, "aliases": sorted(v.aliases)})
    aliases = {k: int(v) for k, v in dict(rm.aliases).items()}
    out["models"].append({"name": rm.name, "description": rm.description or None,
                          "tags": rm.tags, "aliases": aliases,
                          "versions": sorted(versions, key=lambda v: v["version"])})
import mlflow.genai
for p in mlflow.genai.search_prompts():
    for version in (1, 2):
        try:
            pv = mlflow.genai.load_prompt(f"prompts:/{p.name}/{version}")
        except Exception:
            continue
        out["prompts"].append({"name": p.name, "version": pv.version, "template": pv.template,
                               "commit_message": pv.commit_message, "aliases": sorted(pv.aliases)})
print(json.dumps(out, sort_keys=True))
"""
