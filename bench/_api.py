"""One shim over nbtrack and MLflow, so a single workload drives either.

nbtrack speaks MLflow's names, so most calls go straight to the module. The
shim covers only what differs: where the store lives, how an experiment is
created (MLflow's artifacts must stay inside the benchmark's temporary folder),
the client class, and ``flush`` (MLflow logs synchronously and has none).

Only the standard library is imported at module level; the library under test
is imported by :class:`Api` itself.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

__all__ = ["LIBS", "Api"]

#: The libraries a workload can drive.
LIBS = ("nbtrack", "mlflow")


class Api:
    """The tracking library ``lib`` behind the names nbtrack and MLflow share.

    Parameters
    ----------
    lib
        ``"nbtrack"`` or ``"mlflow"``.
    """

    def __init__(self, lib: str) -> None:
        if lib not in LIBS:
            raise ValueError(f"unknown library {lib!r}; expected one of {LIBS}")
        self.lib = lib
        self.mod: Any = importlib.import_module(lib)
        self.entities: Any = importlib.import_module(f"{lib}.entities")
        self.version: str = getattr(self.mod, "__version__", "unknown")
        self._client_class: Any = self.mod.MlflowClient if lib == "mlflow" else self.mod.Client

    def use_store(self, folder: Path) -> None:
        """Point the library at a store kept in ``folder``.

        nbtrack takes the folder itself (SQLite at ``<folder>/nbtrack.db``);
        MLflow gets ``sqlite:///<folder>/mlflow.db``.
        """
        if self.lib == "mlflow":
            self.mod.set_tracking_uri(self.db_uri(folder))
        else:
            self.mod.set_tracking_uri(str(folder))

    @staticmethod
    def db_uri(folder: Path) -> str:
        """MLflow's SQLAlchemy URL for a store kept in ``folder``."""
        return f"sqlite:///{folder / 'mlflow.db'}"

    def create_experiment(self, name: str, folder: Path) -> str:
        """Create experiment ``name``, make it the active one and return its id.

        MLflow's experiments get an artifact location inside ``folder`` so that
        nothing is written to the working directory.
        """
        if self.lib == "mlflow":
            artifacts = (folder / "artifacts").as_uri()
            experiment_id = self.client().create_experiment(name, artifact_location=artifacts)
            self.mod.set_experiment(experiment_id=experiment_id)
            return str(experiment_id)
        return str(self.mod.set_experiment(name).experiment_id)

    def client(self) -> Any:
        """A new low-level client (``MlflowClient`` or ``nbtrack.Client``)."""
        return self._client_class()

    def flush(self) -> None:
        """Make buffered metrics durable (a no-op for MLflow, which does not buffer)."""
        if self.lib == "nbtrack":
            self.mod.flush()

    def metric(self, key: str, value: float, timestamp: int, step: int) -> Any:
        """A ``Metric`` entity of the library."""
        return self.entities.Metric(key, value, timestamp, step)

    def param(self, key: str, value: str) -> Any:
        """A ``Param`` entity of the library."""
        return self.entities.Param(key, value)

    def tag(self, key: str, value: str) -> Any:
        """A ``RunTag`` entity of the library."""
        return self.entities.RunTag(key, value)
