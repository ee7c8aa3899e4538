"""What an MLflow store offers the importer, and which reader opens a given SOURCE.

Every reader (:mod:`~nbtrack.migrate.sql_source` for MLflow's SQL schema,
:mod:`~nbtrack.migrate.file_source` for the ``mlruns`` layout,
:mod:`~nbtrack.migrate.rest_source` for an MLflow server) returns nbtrack's
entities, so the importer does not know which kind of store it reads. A
reader never writes its source: databases are opened read-only, folders only
listed and read.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from nbtrack.entities import Experiment, LoggedModel, Metric, ModelVersion, RegisteredModel, Run
from nbtrack.errors import InvalidInput

__all__ = ["MLFLOW_STATUS", "Source", "open_source"]

#: MLflow's RunStatus enum numbers (the ``mlruns`` layout stores them).
MLFLOW_STATUS = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
#: MLflow's LoggedModelStatus numbers, as nbtrack's names.
LOGGED_MODEL_STATUS = {
    0: "LOGGED_MODEL_PENDING",
    1: "LOGGED_MODEL_PENDING",
    2: "LOGGED_MODEL_READY",
    3: "LOGGED_MODEL_UPLOAD_FAILED",
}
#: The stage MLflow gives a model version it deleted but keeps a row of.
DELETED_STAGE = "Deleted_Internal"


class Source(Protocol):
    """An MLflow store opened for reading."""

    location: str

    def experiments(self) -> list[Experiment]:
        """Every experiment, deleted ones too, with tags."""
        ...

    def count_runs(self, experiment_ids: list[str]) -> int:
        """How many runs (deleted ones too) the experiments hold."""
        ...

    def runs(self, experiment_id: str) -> Iterator[Run]:
        """Every run of an experiment (deleted ones too), with params, tags, latest
        metrics and dataset inputs."""
        ...

    def metric_history(self, run_id: str, key: str) -> list[Metric]:
        """One metric's full history, by step, timestamp, value."""
        ...

    def artifacts(self, artifact_uri: str) -> Any:
        """The artifact repository (``list_artifacts``, ``open_read``) of a run or model."""
        ...

    def logged_models(self, experiment_id: str) -> list[LoggedModel]:
        """The MLflow 3 logged models of an experiment, deleted ones too."""
        ...

    def registered_models(self) -> list[RegisteredModel]:
        """Every registered model and prompt, with tags and aliases."""
        ...

    def model_versions(self, name: str) -> list[ModelVersion]:
        """The live versions of one registered model, by number, with tags."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def _sqlite_path(uri: str) -> str:
    path = uri[len("sqlite:///") :] if uri.startswith("sqlite:///") else uri
    return path.split("?", 1)[0]


def open_source(uri: str | os.PathLike[str]) -> Source:
    """Open the MLflow store at ``uri`` read-only.

    Parameters
    ----------
    uri:
        ``sqlite:///mlflow.db`` (or a path to the file), an ``mlruns`` folder
        (or ``file://`` URI), ``postgresql://…``, or ``http(s)://host:port``.

    Raises
    ------
    InvalidInput
        Nothing is there, or what is there is not an MLflow store (the message
        names what it is).
    """
    text = os.fspath(uri)
    if text.startswith(("http://", "https://")):
        from nbtrack.migrate.rest_source import RestSource

        return RestSource(text)
    if text.startswith(("postgresql", "postgres://")):
        from nbtrack.migrate.sql_source import SqlSource

        return SqlSource.postgres(text)
    if text.startswith("file://"):
        text = text[len("file://") :]
    path = Path(_sqlite_path(text)).expanduser()
    if not path.exists():
        raise InvalidInput(f"No MLflow store at {text!r}: nothing is there")
    if path.is_dir():
        from nbtrack.migrate.file_source import FileSource

        return FileSource(path)
    from nbtrack.migrate.sql_source import SqlSource

    return SqlSource.sqlite(path)
