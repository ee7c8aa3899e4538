"""More of ``MlflowClient``'s methods on ``nbt.Client``: parents, tables, streams, copies.

Kept out of ``client.py`` (the store gateway) because each is composed from
the client's own methods: nothing here talks to a store directly except
through ``self``. ``Client`` inherits these.
"""

from __future__ import annotations

import io
import json
import posixpath
from typing import TYPE_CHECKING, Any

from nbtrack.entities import ModelVersionStage
from nbtrack.errors import InvalidInput, NotFoundError

if TYPE_CHECKING:
    import pandas as pd

    from nbtrack.entities import ModelVersion, Run
    from nbtrack.store.base import Store
    from nbtrack.tracking.client import Client

__all__ = ["ClientExtrasMixin"]

#: MLflow's key for a child run's parent (nbtrack also writes ``nbtrack.parent_run_id``).
PARENT_TAG = "mlflow.parentRunId"


def _read_table(payload: bytes, artifact_file: str) -> pd.DataFrame:
    import pandas as pd

    suffix = posixpath.splitext(artifact_file)[1].lower()
    if suffix == ".csv":
        return pd.read_csv(io.BytesIO(payload))
    if suffix == ".parquet":
        return pd.read_parquet(io.BytesIO(payload))
    doc = json.loads(payload)
    if not isinstance(doc, dict) or "columns" not in doc or "data" not in doc:
        raise InvalidInput(f"{artifact_file!r} is not a table logged with log_table")
    return pd.DataFrame(doc["data"], columns=doc["columns"])


class ClientExtrasMixin:
    """Methods of ``MlflowClient`` built on the rest of ``Client``."""

    store: Store
    tracking_uri: str

    @property
    def _as_client(self) -> Client:
        # The methods below run on a Client; this gives them its type.
        return self  # type: ignore[return-value]

    def get_parent_run(self, run_id: str) -> Run | None:
        """Return the parent of a nested run, or None for a top-level run.

        Raises
        ------
        NotFoundError
            ``run_id`` (or its recorded parent) does not exist.
        """
        parent = self._as_client.get_run(run_id).data.tags.get(PARENT_TAG)
        return self._as_client.get_run(parent) if parent else None

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        """Remove one tag of an experiment.

        Raises
        ------
        NotFoundError
            No such experiment, or it has no tag ``key``.
        """
        self.store.delete_experiment_tag(str(experiment_id), key)

    def log_stream(self, run_id: str, stream: Any, artifact_file: str) -> None:
        """Save what a binary file-like object (``io.BytesIO``…) holds as an artifact file."""
        data = stream.read()
        if isinstance(data, str):
            raise InvalidInput("log_stream needs a binary stream; use log_text for text")
        self._as_client._repo(run_id).write_bytes(artifact_file, bytes(data))

    def load_table(
        self,
        experiment_id: str,
        artifact_file: str,
        run_ids: list[str] | None = None,
        extra_columns: list[str] | None = None,
    ) -> pd.DataFrame:
        """Concatenate the table ``artifact_file`` of every run that logged it (``log_table``).

        Parameters
        ----------
        experiment_id:
            Whose runs to read (ignored when ``run_ids`` is given).
        artifact_file:
            The table's artifact path, as given to ``log_table``.
        run_ids:
            Read only these runs.
        extra_columns:
            Run attributes to add as columns (``run_id``, ``run_name``, ``status``…).

        Raises
        ------
        NotFoundError
            No run holds that table.
        InvalidInput
            An unknown extra column.
        """
        import pandas as pd

        runs = (
            [self._as_client.get_run(r) for r in run_ids]
            if run_ids
            else list(self._as_client.search_runs([str(experiment_id)], "", "ACTIVE_ONLY", 50_000))
        )
        frames = []
        for run in runs:
            try:
                payload = self._as_client._repo(run.info.run_id, writing=False).read_bytes(
                    artifact_file
                )
            except NotFoundError:
                continue
            frame = _read_table(payload, artifact_file)
            for column in extra_columns or []:
                if not hasattr(run.info, column):
                    raise InvalidInput(f"Unknown extra column {column!r}; use a run attribute")
                frame[column] = getattr(run.info, column)
            frames.append(frame)
        if not frames:
            raise NotFoundError(f"No run of experiment {experiment_id} logged {artifact_file!r}")
        return pd.concat(frames, ignore_index=True)

    # registry ----------------------------------------------------------------

    def get_model_version_stages(self, name: str, version: int | str) -> list[str]:
        """Return the stages a version may move to (MLflow's legacy stages)."""
        self._as_client.get_model_version(name, version)
        return list(ModelVersionStage.ALL)

    def get_model_version_download_uri(self, name: str, version: int | str) -> str:
        """Return where a version's files are: the run's artifact URI of its model, or its source.

        Raises
        ------
        NotFoundError
            No such model or version.
        """
        found = self._as_client.get_model_version(name, version)
        source = found.source or ""
        if source.startswith("runs:/"):
            from nbtrack.uris import parse_runs_uri

            run_id, path = parse_runs_uri(source)
            base = self._as_client.get_run(run_id).info.artifact_uri.rstrip("/")
            return f"{base}/{path}" if path else base
        return source

    def copy_model_version(self, src_model_uri: str, dst_name: str) -> ModelVersion:
        """Register the version ``src_model_uri`` names (``models:/name/3``…) under ``dst_name``.

        The copy keeps the source's model files and run; ``dst_name`` is
        created if it does not exist.

        Raises
        ------
        InvalidInput
            ``src_model_uri`` is not a ``models:/`` URI.
        NotFoundError
            The source version does not exist.
        """
        import contextlib

        from nbtrack.errors import AlreadyExistsError
        from nbtrack.models.registry import resolve_models_uri

        if not src_model_uri.startswith("models:/"):
            raise InvalidInput(f"copy_model_version needs a models:/ URI, not {src_model_uri!r}")
        src = resolve_models_uri(src_model_uri, self._as_client)
        with contextlib.suppress(AlreadyExistsError):
            self._as_client.create_registered_model(dst_name)
        return self._as_client.create_model_version(
            dst_name,
            src.source or src_model_uri,
            run_id=src.run_id,
            tags=dict(src.tags),
            description=src.description,
        )
