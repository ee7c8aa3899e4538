"""nbtrack's entities as MLflow's REST JSON, and artifact URIs as MLflow's client reads them.

Field names and shapes follow MLflow's messages (``service.proto``,
``model_registry.proto``): tags as ``[{"key", "value"}]``, unset fields left
out, as protobuf's JSON leaves them. Every stored artifact URI under the
server's artifacts destination leaves as ``mlflow-artifacts:/<rest>`` (the
proxy routes serve it); a URI elsewhere (``s3://`` the client may open
itself, a path) leaves unchanged.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from nbtrack.entities import (
    DatasetInput,
    Experiment,
    Metric,
    ModelVersion,
    RegisteredModel,
    Run,
    RunInfo,
)

__all__ = [
    "ArtifactUris",
    "dataset_input_json",
    "dumps_if_finite",
    "experiment_json",
    "kv",
    "metric_json",
    "model_version_json",
    "registered_model_json",
    "run_info_json",
    "run_json",
]

PROXY_SCHEME = "mlflow-artifacts:"
#: (timestamp, step) sent for a latest metric whose store did not keep them.
_NO_TIME = (0, 0)


class ArtifactUris:
    """Rewrites artifact URIs between the store (real ones) and MLflow's client (proxied)."""

    def __init__(self, destination: str) -> None:
        self.destination = destination.rstrip("/")
        self._prefix = self.destination + "/"

    def out(self, uri: str | None) -> str | None:
        """Return ``uri`` as a client should see it."""
        if not uri:
            return uri
        if uri == self.destination:
            return PROXY_SCHEME + "/"
        if uri.startswith(self._prefix):
            return PROXY_SCHEME + "/" + uri[len(self._prefix) :]
        return uri

    def into(self, uri: str | None) -> str | None:
        """Return a client's ``mlflow-artifacts:`` URI as the real one to store."""
        if not uri or not uri.startswith(PROXY_SCHEME):
            return uri
        rest = uri[len(PROXY_SCHEME) :]
        if rest.startswith("//"):  # mlflow-artifacts://host:port/path
            rest = rest[2:].partition("/")[2]
        rest = rest.strip("/")
        return f"{self._prefix}{rest}" if rest else self.destination


def kv(items: Mapping[str, Any] | Iterable[Any]) -> list[dict[str, Any]]:
    """Return a mapping (or entities with ``key``/``value``) as ``[{"key", "value"}]``."""
    if isinstance(items, Mapping):
        return [{"key": k, "value": v} for k, v in items.items()]
    entries: list[Any] = list(items)
    return [{"key": i.key, "value": i.value} for i in entries]


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def experiment_json(exp: Experiment, uris: ArtifactUris) -> dict[str, Any]:
    """An experiment as MLflow's ``Experiment`` message."""
    return _drop_none(
        {
            "experiment_id": exp.experiment_id,
            "name": exp.name,
            "artifact_location": uris.out(exp.artifact_location),
            "lifecycle_stage": exp.lifecycle_stage,
            "last_update_time": exp.last_update_time,
            "creation_time": exp.creation_time,
            "tags": kv(exp.tags),
        }
    )


def run_info_json(info: RunInfo, uris: ArtifactUris) -> dict[str, Any]:
    """A run's info as MLflow's ``RunInfo`` message (``run_uuid`` kept for old clients)."""
    return _drop_none(
        {
            "run_id": info.run_id,
            "run_uuid": info.run_id,
            "run_name": info.run_name,
            "experiment_id": info.experiment_id,
            "user_id": info.user_id,
            "status": info.status,
            "start_time": info.start_time,
            "end_time": info.end_time,
            "artifact_uri": uris.out(info.artifact_uri),
            "lifecycle_stage": info.lifecycle_stage,
        }
    )


def metric_json(m: Metric) -> dict[str, Any]:
    """A metric point as MLflow's ``Metric`` message."""
    return {"key": m.key, "value": m.value, "timestamp": m.timestamp, "step": m.step}


def dataset_input_json(item: DatasetInput) -> dict[str, Any]:
    """A dataset a run used, as MLflow's ``DatasetInput`` message."""
    ds = item.dataset
    return {
        "tags": kv(item.tags),
        "dataset": _drop_none(
            {
                "name": ds.name,
                "digest": ds.digest,
                "source_type": ds.source_type,
                "source": ds.source,
                "schema": ds.schema,
                "profile": ds.profile,
            }
        ),
    }


def run_json(
    run: Run, uris: ArtifactUris, outputs: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A run as MLflow's ``Run`` message.

    Each latest metric carries the timestamp and step of its value, as MLflow
    sends them; a store that does not know them (``RunData.metric_times`` empty)
    sends 0 for both.
    """
    data = run.data
    times = data.metric_times
    out: dict[str, Any] = {
        "info": run_info_json(run.info, uris),
        "data": {
            "metrics": [
                {"key": k, "value": v, "timestamp": ts, "step": step}
                for k, v in data.metrics.items()
                for ts, step in (times.get(k, _NO_TIME),)
            ],
            "params": [{"key": k, "value": v} for k, v in data.params.items()],
            "tags": [{"key": k, "value": v} for k, v in data.tags.items()],
        },
        "inputs": {"dataset_inputs": [dataset_input_json(d) for d in run.inputs.dataset_inputs]},
    }
    if outputs:
        out["outputs"] = {"model_outputs": outputs}
    return out


def model_version_json(mv: ModelVersion, uris: ArtifactUris) -> dict[str, Any]:
    """A model version as MLflow's ``ModelVersion`` message (``version`` is a string)."""
    return _drop_none(
        {
            "name": mv.name,
            "version": str(mv.version),
            "creation_timestamp": mv.creation_timestamp,
            "last_updated_timestamp": mv.last_updated_timestamp,
            "user_id": mv.user_id,
            "current_stage": mv.current_stage,
            "description": mv.description,
            "source": uris.out(mv.source),
            "run_id": mv.run_id,
            "status": mv.status,
            "tags": kv(mv.tags),
            "run_link": mv.run_link,
            "aliases": list(mv.aliases),
        }
    )


def registered_model_json(rm: RegisteredModel, uris: ArtifactUris) -> dict[str, Any]:
    """A registered model as MLflow's ``RegisteredModel`` message."""
    return _drop_none(
        {
            "name": rm.name,
            "creation_timestamp": rm.creation_timestamp,
            "last_updated_timestamp": rm.last_updated_timestamp,
            "description": rm.description,
            "latest_versions": [model_version_json(v, uris) for v in rm.latest_versions],
            "tags": kv(rm.tags),
            "aliases": [{"alias": a, "version": str(v)} for a, v in rm.aliases.items()],
        }
    )


def dumps_if_finite(payload: Any, numbers: Iterable[float]) -> bytes | None:
    """Encode a large answer fast, or return None when ``numbers`` holds NaN or an infinity.

    ``numbers`` are the payload's floats (metric values). Searches and histories
    answer hundreds of kilobytes; orjson encodes them ten times faster than
    ``json`` (30 ms → 2.5 ms for 10,000 points here), but writes NaN as
    ``null`` where MLflow writes ``"NaN"``: such answers go the general way.
    """
    # The sum of finite values is finite unless it overflows (then the general
    # way is merely slower); one NaN or infinity makes it non-finite.
    if not math.isfinite(sum(numbers, 0.0)):
        return None
    try:
        import orjson
    except ImportError:  # an optional speed-up: the standard library is the same JSON
        return json.dumps(payload, separators=(",", ":")).encode()
    try:
        return orjson.dumps(payload)
    except TypeError:  # what orjson cannot hold (an integer past 64 bits): the general way
        return None
