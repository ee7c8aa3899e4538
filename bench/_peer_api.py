"""Each library's own way to log a metric and to read it back: the peer workloads' adapters.

One class per library, each written the way that library's documentation
writes it: nbtrack and MLflow ``start_run`` / ``log_metric`` / ``end_run``;
trackio ``init`` / ``log`` / ``finish``; W&B ``wandb.init(mode="offline")`` /
``wandb.log`` / ``finish``; Aim ``Run`` / ``track`` / ``close``. The timed loop
(:meth:`log_points`) is in each class, in the library's own calls, so no shim
sits between the caller and the library on each point.

"Durable" means: after :meth:`end` returns, a fresh process reads every point
back through the library's own reader (:meth:`read`). What :meth:`end` waits
for, library by library:

- nbtrack: ``end_run`` writes the run's buffered points and its end in one
  SQLite transaction (WAL) before it returns.
- MLflow: every ``log_metric`` is a synchronous SQLite write; ``end_run``
  records the end.
- trackio: ``finish`` joins the background thread that writes the queued
  points to the project's SQLite file (``$TRACKIO_DIR/<project>.db``).
- W&B offline: ``finish`` returns once the wandb-core service has written and
  closed the run's transaction log, ``<dir>/wandb/offline-run-…/run-<id>.wandb``
  (its ``exit`` record is the last one); the reader is wandb's own,
  ``wandb leet inspect --json <file>`` (the wandb-core binary decodes the
  records; it is called directly, as that command does), and takes the
  ``history`` records' ``_step`` and ``loss``.
- Aim: ``Run.close`` writes the run's last records to its chunk of the
  repository (``<store>/.aim/meta/chunks/<hash>``, RocksDB); the reader merges
  that chunk into the repository's index with Aim's own ``RepoIndexManager``
  (what ``aim up`` does in the background; a closed run is invisible to
  ``Repo`` until then, and the read time includes it), then reads the series
  with ``Repo.get_run(hash).get_metric("loss")``.

The library is imported inside :meth:`begin` (P1 times that import);
only the standard library is imported at module level.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["ADAPTERS", "Adapter", "version_of"]

#: The project / experiment every peer workload logs into.
PROJECT = "bench-peers"
#: The metric every peer workload logs.
KEY = "loss"


def version_of(lib: str) -> str:
    """The installed version of ``lib`` (``aim.__version__`` is a module, not a string)."""
    from importlib.metadata import PackageNotFoundError, version

    found = getattr(__import__(lib), "__version__", None)
    if isinstance(found, str):
        return found
    try:
        return version(lib)
    except PackageNotFoundError:
        return "unknown"


class Adapter:
    """A library's run: begin it, log points, end it, read a metric back.

    Subclasses implement the four methods in the library's own API.
    ``end`` returns the reference :meth:`read` needs (a run id, a file…).
    """

    lib = ""

    def begin(self, store: Path, name: str) -> None:
        """Import the library, point it at ``store`` and start a run called ``name``."""
        raise NotImplementedError

    def log_points(self, values: list[float]) -> None:
        """Log ``values[i]`` as metric ``loss`` at step ``i``, one library call per point."""
        raise NotImplementedError

    def end(self) -> str:
        """End the run, waiting for what makes it durable; return its reference."""
        raise NotImplementedError

    def prepare_read(self, store: Path) -> str:
        """Import what :meth:`read` uses (so a timed read excludes it); return the version."""
        __import__(self.lib)
        return version_of(self.lib)

    def read(self, store: Path, ref: str) -> list[tuple[int, float]]:
        """The ``(step, value)`` points of ``loss`` in run ``ref``, read by the library."""
        raise NotImplementedError


class _MlflowLike(Adapter):
    """nbtrack and MLflow: the same fluent calls, each against its own store."""

    def _uri(self, store: Path) -> str:
        return str(store) if self.lib == "nbtrack" else f"sqlite:///{store / 'mlflow.db'}"

    def begin(self, store: Path, name: str) -> None:
        """``set_tracking_uri``, ``set_experiment`` and ``start_run(run_name=name)``."""
        self.mod: Any = __import__(self.lib)
        self.mod.set_tracking_uri(self._uri(store))
        self.mod.set_experiment(PROJECT)
        self.run_id: str = self.mod.start_run(run_name=name).info.run_id

    def log_points(self, values: list[float]) -> None:
        """``log_metric("loss", value, step=i)`` per point."""
        log_metric = self.mod.log_metric
        for i, value in enumerate(values):
            log_metric(KEY, value, step=i)

    def end(self) -> str:
        """``end_run()``; the reference is the run id."""
        self.mod.end_run()
        return self.run_id

    def read(self, store: Path, ref: str) -> list[tuple[int, float]]:
        """``get_metric_history`` through a new client."""
        mod = __import__(self.lib)
        if self.lib == "mlflow":
            client = mod.MlflowClient(tracking_uri=self._uri(store))
        else:
            mod.set_tracking_uri(self._uri(store))
            client = mod.Client()
        return [(m.step, m.value) for m in client.get_metric_history(ref, KEY)]


class Nbtrack(_MlflowLike):
    """nbtrack's fluent API over a folder store (SQLite in WAL mode)."""

    lib = "nbtrack"


class Mlflow(_MlflowLike):
    """MLflow's fluent API over ``sqlite:///<store>/mlflow.db``."""

    lib = "mlflow"


class Trackio(Adapter):
    """trackio, local: one SQLite file per project under ``$TRACKIO_DIR``."""

    lib = "trackio"

    def begin(self, store: Path, name: str) -> None:
        """``trackio.init(project, name)``, its data kept in ``<store>/trackio``."""
        # trackio reads its folder from the environment once, at import.
        os.environ["TRACKIO_DIR"] = str(store / "trackio")
        import trackio

        self.mod: Any = trackio
        self.name = name
        trackio.init(project=PROJECT, name=name)

    def log_points(self, values: list[float]) -> None:
        """``trackio.log({"loss": value})`` per point (the step counts up by itself)."""
        log = self.mod.log
        for value in values:
            log({KEY: value})

    def end(self) -> str:
        """``trackio.finish()``; the reference is the run's name."""
        self.mod.finish()
        return self.name

    def prepare_read(self, store: Path) -> str:
        """Point trackio at ``<store>/trackio`` and import its reader."""
        os.environ["TRACKIO_DIR"] = str(store / "trackio")
        import trackio.sqlite_storage  # noqa: F401

        return version_of(self.lib)

    def read(self, store: Path, ref: str) -> list[tuple[int, float]]:
        """trackio's own reader of a project's file, ``SQLiteStorage.get_logs``."""
        from trackio.sqlite_storage import SQLiteStorage

        logs = SQLiteStorage.get_logs(PROJECT, run=ref)
        return [(int(row["step"]), float(row[KEY])) for row in logs if KEY in row]


class Wandb(Adapter):
    """Weights & Biases in offline mode: a run's records in a file under ``<store>/wandb``."""

    lib = "wandb"

    def begin(self, store: Path, name: str) -> None:
        """``wandb.init(mode="offline", dir=store, project, name)``."""
        import wandb

        self.mod: Any = wandb
        self.run: Any = wandb.init(mode="offline", dir=str(store), project=PROJECT, name=name)

    def log_points(self, values: list[float]) -> None:
        """``wandb.log({"loss": value})`` per point (wandb's ``_step`` counts up)."""
        log = self.mod.log
        for value in values:
            log({KEY: value})

    def end(self) -> str:
        """``wandb.finish()``; the reference is the path of the run's ``.wandb`` file."""
        sync_file = str(self.run.settings.sync_file)
        self.mod.finish()
        return sync_file

    def prepare_read(self, store: Path) -> str:
        """Import wandb and find wandb-core, the binary that reads run files."""
        from wandb.util import get_core_path

        self.core = str(get_core_path())
        return version_of(self.lib)

    def read(self, store: Path, ref: str) -> list[tuple[int, float]]:
        """The run file's ``history`` records, as ``wandb leet inspect --json`` prints them."""
        import json
        import subprocess

        # wandb 0.31 reads a run's transaction log only in wandb-core (its
        # Python reader is gone). `wandb leet inspect` resolves these arguments
        # and execs the binary; calling it directly spares a second interpreter.
        wandb_dir = str(Path(ref).parent.parent)
        args = [self.core, "leet", "inspect", "--no-observability", "--json"]
        proc = subprocess.run(
            [*args, "--run-file", ref, wandb_dir], capture_output=True, text=True, check=True
        )
        points = []
        for line in proc.stdout.splitlines():
            record = json.loads(line)
            if record.get("type") == "history" and KEY in record["history"]["item"]:
                item = record["history"]["item"]
                points.append((int(item["_step"]), float(item[KEY])))
        return points


class Aim(Adapter):
    """Aim: a run's series in a repository at ``<store>/.aim``."""

    lib = "aim"

    def begin(self, store: Path, name: str) -> None:
        """``aim.Run(repo=store, experiment)``, named ``name``."""
        from aim import Run

        self.run: Any = Run(repo=str(store), experiment=PROJECT)
        self.run.name = name

    def log_points(self, values: list[float]) -> None:
        """``run.track(value, name="loss", step=i)`` per point."""
        track = self.run.track
        for i, value in enumerate(values):
            track(value, name=KEY, step=i)

    def end(self) -> str:
        """``run.close()``; the reference is the run's hash."""
        run_hash = str(self.run.hash)
        self.run.close()
        return run_hash

    def prepare_read(self, store: Path) -> str:
        """Import Aim's reader (``Repo``) and its index manager."""
        import aim.sdk.index_manager  # noqa: F401

        return version_of(self.lib)

    def read(self, store: Path, ref: str) -> list[tuple[int, float]]:
        """Index the run as ``aim up`` would, then ``Repo.get_run(hash).get_metric("loss")``."""
        from aim import Repo
        from aim.sdk.index_manager import RepoIndexManager
        from aim.storage.context import Context

        repo = Repo.from_path(str(store))
        # Aim 3.29's Repo sees a closed run only once its chunk is merged into
        # the repository's index, which `aim up` does in a background thread
        # every few seconds; a reader on its own does that merge itself.
        RepoIndexManager.get_index_manager(repo).index(ref)
        run = repo.get_run(ref)
        metric = None if run is None else run.get_metric(KEY, Context({}))
        if metric is None:
            return []
        steps, (values, *_) = metric.data.items_list()
        return [(int(s), float(v)) for s, v in zip(steps, values, strict=True)]


#: Adapters by library name.
ADAPTERS: dict[str, type[Adapter]] = {
    cls.lib: cls for cls in (Nbtrack, Mlflow, Trackio, Wandb, Aim)
}
