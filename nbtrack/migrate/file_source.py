"""Reading MLflow's ``mlruns`` folder (its file store), only listing and reading files.

The layout, as MLflow 3's file store writes it::

    mlruns/<experiment_id>/meta.yaml              name, artifact_location, lifecycle_stage…
    mlruns/<experiment_id>/tags/<key>              experiment tags (the file holds the value)
    mlruns/<experiment_id>/<run_id>/meta.yaml      run info (status as MLflow's enum number)
    mlruns/<experiment_id>/<run_id>/params/<key>   value
    mlruns/<experiment_id>/<run_id>/tags/<key>     value
    mlruns/<experiment_id>/<run_id>/metrics/<key>  lines "timestamp value step"
    mlruns/<experiment_id>/<run_id>/inputs/<id>/meta.yaml       a dataset input (source_id)
    mlruns/<experiment_id>/datasets/<id>/meta.yaml              the dataset
    mlruns/<experiment_id>/models/<model_id>/meta.yaml (params/, tags/)   logged models
    mlruns/.trash/<experiment_id>/…                deleted experiments
    mlruns/models/<name>/meta.yaml (tags/, aliases/<alias>, version-<n>/meta.yaml, tags/)

Keys may hold ``/`` (then the file sits in sub-folders).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from nbtrack.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    LoggedModel,
    Metric,
    ModelVersion,
    RegisteredModel,
    Run,
    RunData,
    RunInfo,
    RunInputs,
)
from nbtrack.errors import InvalidInput
from nbtrack.migrate.sources import DELETED_STAGE, LOGGED_MODEL_STATUS, MLFLOW_STATUS

__all__ = ["FileSource"]

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _meta(folder: Path) -> dict[str, Any]:
    with (folder / "meta.yaml").open(encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=_LOADER)
    return data if isinstance(data, dict) else {}


def _values(folder: Path) -> dict[str, str]:
    """Read a folder of one-file-per-key values (keys with ``/`` are nested files)."""
    out: dict[str, str] = {}
    if not folder.is_dir():
        return out
    for root, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(root) / name
            key = path.relative_to(folder).as_posix()
            out[key] = path.read_text(encoding="utf-8")
    return out


class FileSource:
    """An ``mlruns`` folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.location = str(root)
        if not (root / "0" / "meta.yaml").is_file() and not any(
            (p / "meta.yaml").is_file() for p in root.iterdir() if p.name.isdigit()
        ):
            if (root / "mlruns").is_dir():
                raise InvalidInput(
                    f"{root} is not an MLflow mlruns folder; it holds one: {root / 'mlruns'}"
                )
            raise InvalidInput(
                f"{root} is a folder without MLflow experiments (no <id>/meta.yaml), "
                "not an MLflow mlruns folder"
            )
        self._exp_dirs: dict[str, Path] = {}
        self._run_dirs: dict[str, Path] = {}

    def close(self) -> None:
        """Nothing to release."""

    # -- experiments and runs ------------------------------------------------------------

    def experiments(self) -> list[Experiment]:
        """Every experiment, deleted ones (``.trash``) too, with tags."""
        out = []
        for parent in (self.root, self.root / ".trash"):
            if not parent.is_dir():
                continue
            for folder in sorted(parent.iterdir()):
                if not folder.name.isdigit() or not (folder / "meta.yaml").is_file():
                    continue
                meta = _meta(folder)
                exp_id = str(meta.get("experiment_id", folder.name))
                self._exp_dirs[exp_id] = folder
                out.append(
                    Experiment(
                        exp_id,
                        str(meta["name"]),
                        str(meta.get("artifact_location") or ""),
                        str(meta.get("lifecycle_stage") or "active"),
                        _values(folder / "tags"),
                        meta.get("creation_time"),
                        meta.get("last_update_time"),
                    )
                )
        return sorted(out, key=lambda e: int(e.experiment_id))

    def _run_folders(self, experiment_id: str) -> list[Path]:
        if not self._exp_dirs:
            self.experiments()
        folder = self._exp_dirs[experiment_id]
        return [
            p for p in sorted(folder.iterdir()) if len(p.name) == 32 and (p / "meta.yaml").is_file()
        ]

    def count_runs(self, experiment_ids: list[str]) -> int:
        """How many runs the experiments hold, deleted ones too."""
        return sum(len(self._run_folders(e)) for e in experiment_ids)

    def runs(self, experiment_id: str) -> Iterator[Run]:
        """Every run of an experiment, oldest first."""
        datasets = self._datasets(experiment_id)
        runs = []
        for folder in self._run_folders(experiment_id):
            meta = _meta(folder)
            run_id = str(meta.get("run_id") or folder.name)
            self._run_dirs[run_id] = folder
            status = meta.get("status")
            info = RunInfo(
                run_id,
                str(meta.get("run_name") or ""),
                experiment_id,
                MLFLOW_STATUS.get(status, str(status)) if isinstance(status, int) else str(status),
                meta.get("start_time"),
                meta.get("end_time"),
                str(meta.get("artifact_uri") or ""),
                str(meta.get("lifecycle_stage") or "active"),
                str(meta.get("user_id") or ""),
            )
            metrics = {}
            for key in _values(folder / "metrics"):
                history = self.metric_history(run_id, key)
                if history:
                    last = max(history, key=lambda m: (m.step, m.timestamp))
                    metrics[key] = last.value
            inputs = []
            inputs_dir = folder / "inputs"
            if inputs_dir.is_dir():
                for item in sorted(inputs_dir.iterdir()):
                    link = _meta(item)
                    if link.get("source_type") == "DATASET" and link.get("source_id") in datasets:
                        tags = {str(k): str(v) for k, v in (link.get("tags") or {}).items()}
                        inputs.append(DatasetInput(datasets[link["source_id"]], tags))
            data = RunData(metrics, _values(folder / "params"), _values(folder / "tags"))
            runs.append(Run(info, data, RunInputs(inputs)))
        runs.sort(key=lambda r: (r.info.start_time or 0, r.info.run_id))
        yield from runs

    def _datasets(self, experiment_id: str) -> dict[str, Dataset]:
        folder = self._exp_dirs[experiment_id] / "datasets"
        out: dict[str, Dataset] = {}
        if folder.is_dir():
            for item in folder.iterdir():
                m = _meta(item)
                out[item.name] = Dataset(
                    str(m.get("name", "")),
                    str(m.get("digest", "")),
                    str(m.get("source_type", "")),
                    str(m.get("source", "")),
                    m.get("schema"),
                    m.get("profile"),
                )
        return out

    def metric_history(self, run_id: str, key: str) -> list[Metric]:
        """One metric's history by step, timestamp, value."""
        path = self._run_dirs[run_id] / "metrics" / key
        points = []
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                parts = line.split()
                if len(parts) >= 2:
                    step = int(parts[2]) if len(parts) > 2 else 0
                    points.append(Metric(key, float(parts[1]), int(parts[0]), step))
        points.sort(key=lambda m: (m.step, m.timestamp, m.value))
        return points

    def artifacts(self, artifact_uri: str) -> Any:
        """The run's or model's artifacts where MLflow put them."""
        from nbtrack.store.artifacts import ArtifactRepository

        return ArtifactRepository(artifact_uri)

    # -- logged models and the registry ---------------------------------------------------

    def logged_models(self, experiment_id: str) -> list[LoggedModel]:
        """The experiment's MLflow 3 logged models."""
        if not self._exp_dirs:
            self.experiments()
        folder = self._exp_dirs[experiment_id] / "models"
        out = []
        if folder.is_dir():
            for item in sorted(folder.iterdir()):
                if not (item / "meta.yaml").is_file():
                    continue
                m = _meta(item)
                status = m.get("status")
                out.append(
                    LoggedModel(
                        model_id=str(m["model_id"]),
                        experiment_id=experiment_id,
                        name=str(m.get("name") or ""),
                        artifact_location=str(m.get("artifact_location") or ""),
                        creation_timestamp=int(m.get("creation_timestamp") or 0),
                        last_updated_timestamp=int(m.get("last_updated_timestamp") or 0),
                        status=LOGGED_MODEL_STATUS.get(status, "LOGGED_MODEL_PENDING")
                        if isinstance(status, int)
                        else str(status),
                        status_message=m.get("status_message"),
                        model_type=m.get("model_type"),
                        source_run_id=m.get("source_run_id"),
                        lifecycle_stage=str(m.get("lifecycle_stage") or "active"),
                        tags=_values(item / "tags"),
                        params=_values(item / "params"),
                    )
                )
        return sorted(out, key=lambda lm: (lm.creation_timestamp, lm.model_id))

    def registered_models(self) -> list[RegisteredModel]:
        """Every registered model and prompt, with tags and aliases."""
        folder = self.root / "models"
        out = []
        if folder.is_dir():
            for item in sorted(folder.iterdir()):
                if not (item / "meta.yaml").is_file():
                    continue
                m = _meta(item)
                aliases = {k: int(v) for k, v in _values(item / "aliases").items()}
                out.append(
                    RegisteredModel(
                        str(m.get("name") or item.name),
                        m.get("creation_timestamp"),
                        m.get("last_updated_timestamp"),
                        m.get("description") or None,
                        tags=_values(item / "tags"),
                        aliases=aliases,
                    )
                )
        return sorted(out, key=lambda rm: (rm.creation_timestamp or 0, rm.name))

    def model_versions(self, name: str) -> list[ModelVersion]:
        """The live versions of ``name`` by number, with tags and aliases."""
        folder = self.root / "models" / name
        aliases: dict[int, list[str]] = {}
        for alias, version in _values(folder / "aliases").items():
            aliases.setdefault(int(version), []).append(alias)
        out = []
        for item in folder.glob("version-*"):
            if not (item / "meta.yaml").is_file():
                continue
            m = _meta(item)
            stage = str(m.get("current_stage") or "None")
            if stage == DELETED_STAGE:
                continue
            number = int(m.get("version") or item.name.split("-", 1)[1])
            out.append(
                ModelVersion(
                    name,
                    number,
                    m.get("creation_timestamp"),
                    m.get("last_updated_timestamp"),
                    m.get("description") or None,
                    m.get("user_id") or None,
                    stage,
                    m.get("source"),
                    m.get("run_id") or None,
                    str(m.get("status") or "READY"),
                    _values(item / "tags"),
                    sorted(aliases.get(number, [])),
                    m.get("run_link") or None,
                )
            )
        return sorted(out, key=lambda v: v.version)
