"""MLflow's REST JSON <-> nbtrack entities, for the REST store.

The shapes are those of MLflow's ``service.proto`` and ``model_registry.proto``
as the server writes them: tags as ``[{key, value}]`` lists, int64 fields as
numbers (or strings, as protobuf's JSON printer writes them), metric values as
numbers or ``"NaN"``/``"Infinity"`` strings.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from nbtrack.entities import (
    CellExecution,
    Dataset,
    DatasetInput,
    Experiment,
    Metric,
    ModelVersion,
    RegisteredModel,
    Run,
    RunData,
    RunInfo,
    RunInputs,
)

__all__ = [
    "cell_execution",
    "cell_execution_json",
    "dataset_input_json",
    "experiment",
    "kv_list",
    "metric_json",
    "model_version",
    "registered_model",
    "run",
    "run_info",
]


def _int(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


def _float(value: Any) -> float:
    return float(value)  # float("NaN"), float("Infinity") read MLflow's strings


def kv_list(pairs: Mapping[str, Any]) -> list[dict[str, str]]:
    """Return ``[{key, value}]`` from a dict."""
    return [{"key": str(k), "value": str(v)} for k, v in pairs.items()]


def _tags(items: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    return {t["key"]: t.get("value", "") for t in items or ()}


def metric_json(key: str, value: float, timestamp: int, step: int) -> dict[str, Any]:
    """One metric as log-batch sends it; non-finite values as MLflow's strings."""
    if math.isfinite(value):
        return {"key": key, "value": value, "timestamp": timestamp, "step": step}
    text = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return {"key": key, "value": text, "timestamp": timestamp, "step": step}


def metric(body: Mapping[str, Any]) -> Metric:
    """A history point from MLflow's Metric JSON."""
    return Metric(
        body["key"],
        _float(body["value"]),
        _int(body.get("timestamp")) or 0,
        _int(body.get("step")) or 0,
    )


def run_info(body: Mapping[str, Any]) -> RunInfo:
    """RunInfo from MLflow's RunInfo JSON."""
    return RunInfo(
        run_id=body.get("run_id") or body["run_uuid"],
        run_name=body.get("run_name", ""),
        experiment_id=str(body["experiment_id"]),
        status=body.get("status", "RUNNING"),
        start_time=_int(body.get("start_time")),
        end_time=_int(body.get("end_time")),
        artifact_uri=body.get("artifact_uri", ""),
        lifecycle_stage=body.get("lifecycle_stage", "active"),
        user_id=body.get("user_id", ""),
    )


def _dataset_input(body: Mapping[str, Any]) -> DatasetInput:
    ds = body.get("dataset", {})
    return DatasetInput(
        dataset=Dataset(
            name=ds.get("name", ""),
            digest=ds.get("digest", ""),
            source_type=ds.get("source_type", ""),
            source=ds.get("source", ""),
            schema=ds.get("schema"),
            profile=ds.get("profile"),
        ),
        tags=_tags(body.get("tags")),
    )


def dataset_input_json(item: DatasetInput) -> dict[str, Any]:
    """MLflow's DatasetInput JSON of one input."""
    ds = item.dataset
    dataset: dict[str, Any] = {
        "name": ds.name,
        "digest": ds.digest,
        "source_type": ds.source_type,
        "source": ds.source,
    }
    if ds.schema is not None:
        dataset["schema"] = ds.schema
    if ds.profile is not None:
        dataset["profile"] = ds.profile
    return {"tags": kv_list(item.tags), "dataset": dataset}


def run(body: Mapping[str, Any]) -> Run:
    """Run from MLflow's Run JSON (latest metric values with their timestamp and step)."""
    data = body.get("data", {})
    inputs = body.get("inputs", {})
    metrics = data.get("metrics", ())
    return Run(
        info=run_info(body["info"]),
        data=RunData(
            metrics={m["key"]: _float(m["value"]) for m in metrics},
            params={p["key"]: p.get("value", "") for p in data.get("params", ())},
            tags=_tags(data.get("tags")),
            metric_times={
                m["key"]: (int(m.get("timestamp", 0)), int(m.get("step", 0))) for m in metrics
            },
        ),
        inputs=RunInputs([_dataset_input(d) for d in inputs.get("dataset_inputs", ())]),
    )


def experiment(body: Mapping[str, Any]) -> Experiment:
    """Experiment from MLflow's Experiment JSON."""
    return Experiment(
        experiment_id=str(body["experiment_id"]),
        name=body["name"],
        artifact_location=body.get("artifact_location", ""),
        lifecycle_stage=body.get("lifecycle_stage", "active"),
        tags=_tags(body.get("tags")),
        creation_time=_int(body.get("creation_time")),
        last_update_time=_int(body.get("last_update_time")),
    )


def model_version(body: Mapping[str, Any]) -> ModelVersion:
    """ModelVersion from the registry's JSON."""
    return ModelVersion(
        name=body["name"],
        version=int(body["version"]),
        creation_timestamp=_int(body.get("creation_timestamp")),
        last_updated_timestamp=_int(body.get("last_updated_timestamp")),
        description=body.get("description"),
        user_id=body.get("user_id"),
        current_stage=body.get("current_stage", "None"),
        source=body.get("source"),
        run_id=body.get("run_id") or None,
        status=body.get("status", "READY"),
        tags=_tags(body.get("tags")),
        aliases=list(body.get("aliases", ())),
        run_link=body.get("run_link") or None,
    )


def registered_model(body: Mapping[str, Any]) -> RegisteredModel:
    """RegisteredModel from the registry's JSON."""
    return RegisteredModel(
        name=body["name"],
        creation_timestamp=_int(body.get("creation_timestamp")),
        last_updated_timestamp=_int(body.get("last_updated_timestamp")),
        description=body.get("description"),
        latest_versions=[model_version(v) for v in body.get("latest_versions", ())],
        tags=_tags(body.get("tags")),
        aliases={a["alias"]: int(a["version"]) for a in body.get("aliases", ())},
    )


def cell_execution_json(item: CellExecution) -> dict[str, Any]:
    """One lineage entry as ``lineage/log`` takes it."""
    return {
        "session_id": item.session_id,
        "cell_id": item.cell_id,
        "execution_count": item.execution_count,
        "source": item.source,
        "start_time": item.start_time,
        "duration_ms": item.duration_ms,
        "ok": item.ok,
    }


def cell_execution(body: Mapping[str, Any]) -> CellExecution:
    """CellExecution from ``lineage/get``'s JSON."""
    return CellExecution(
        session_id=body["session_id"],
        cell_id=body.get("cell_id"),
        execution_count=_int(body.get("execution_count")),
        source=body.get("source", ""),
        start_time=int(body["start_time"]),
        duration_ms=body.get("duration_ms"),
        ok=body.get("ok"),
    )
