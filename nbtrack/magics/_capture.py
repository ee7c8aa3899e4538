"""One tracked cell from start to end: the run, its params, output, figures, metrics, status.

``CellCapture.begin`` runs before the cell's code and ``finish`` after it,
whether the cell ran through the kernel hook (the usual path, so the cell's
code runs as the cell itself and its traceback is untouched) or through the
``%%track`` magic function called directly. Nothing here may break the
user's cell: every step is guarded, failures are collected and reported as
one warning line, and the run is always ended.
"""

from __future__ import annotations

import contextlib
import glob
import os
import sys
import time
from pathlib import Path
from typing import Any

from nbtrack import _validation as check
from nbtrack.magics import _files
from nbtrack.magics._cellparts import Problems, Tee, TrackOptions, cell_id_for, format_error
from nbtrack.magics._environment import log_environment
from nbtrack.magics._figures import FigureRecorder
from nbtrack.magics._lineage import LineageLog
from nbtrack.magics._notebook import notebook_path
from nbtrack.tracking import inference as infer

__all__ = ["CellCapture", "flush_lineage"]

_NOTEBOOK_LIMIT = 50 * 1024 * 1024


def flush_lineage(log: LineageLog, problems: Problems) -> None:
    """Write ``log``'s pending executions to the store in force; failures go to ``problems``."""
    if not log.pending():
        return  # opening the store would create it: nothing to write, nothing to create
    with problems.guard("save the kernel's execution log"):
        import nbtrack

        log.flush(nbtrack.Client(nbtrack.get_tracking_uri()))


class CellCapture:
    """Track one cell in a run.

    Parameters
    ----------
    shell:
        The IPython shell running the cell.
    options:
        The parsed ``%%track`` line.
    body:
        The cell's code without the ``%%track`` line (as the user wrote it).
    code:
        ``body`` with IPython syntax transformed to Python (for the AST inference).
    cell_id:
        The front end's cell id, if it sent one.
    session:
        Names earlier cells set by a literal assignment.
    lineage:
        The session's execution log; the run records its position in it.
    """

    def __init__(
        self,
        shell: Any,
        options: TrackOptions,
        body: str,
        code: str,
        cell_id: str | None,
        session: infer.SessionLiterals,
        lineage: LineageLog,
    ) -> None:
        self.shell, self.options, self.body, self.code = shell, options, body, code
        self.cell_id = cell_id_for(cell_id, body)
        self.session = session
        self.lineage = lineage
        self.problems = Problems()
        self.run: Any = None
        self.client: Any = None
        self.params: dict[str, str] = {}
        self.metrics: dict[str, float] = {}
        self.status = "RUNNING"
        self._names: infer.CellNames | None = None
        self._out: list[str] = []
        self._out_size = [0]
        self._streams: tuple[Any, Any] | None = None
        self._figures = FigureRecorder(shell, self.problems)
        self._started = 0.0
        self._before: _files.FileSnapshot | None = None
        self._logged_files: set[Path] = set()
        self.notes: list[str] = []

    # begin ---------------------------------------------------------------------

    def begin(self) -> None:
        """Start the run, log what is known before the cell runs, start capturing output."""
        self._started = time.perf_counter()
        with self.problems.guard("start the run"):
            self._start_run()
        if self.run is None:
            return
        with self.problems.guard("log the cell's params"):
            self._log_params_before()
        with self.problems.guard("save the cell's source"):
            self.client.log_text(self.run_id, self.body, "cell.py")
        with self.problems.guard("snapshot the notebook"):
            self._snapshot_notebook()
        with self.problems.guard("list the working directory"):
            self._before = _files.snapshot(Path.cwd(), self._store_paths())
        log_environment(self.client, self.run_id, self.problems)
        self._figures.start()
        self._tee_streams()

    @property
    def run_id(self) -> str:
        """The run's id."""
        return self.run.info.run_id

    def _start_run(self) -> None:
        import nbtrack
        from nbtrack.tracking.lineage import LINEAGE_SESSION, LINEAGE_START

        client = nbtrack.Client(nbtrack.get_tracking_uri())
        experiment_id = None
        if self.options.experiment:
            experiment_id = _experiment_id(client, self.options.experiment)
        flush_lineage(self.lineage, self.problems)
        tags = {
            "nbtrack.source.cell_id": self.cell_id,
            LINEAGE_SESSION: self.lineage.session_id,
            LINEAGE_START: str(self.lineage.count),
        }
        path = notebook_path(self.shell.user_ns)
        if path:
            tags["nbtrack.source.name"] = path
            tags["nbtrack.source.type"] = "NOTEBOOK"
        tags.update(self.options.tags)
        self.run = nbtrack.start_run(
            run_name=self.options.name,
            experiment_id=experiment_id,
            nested=self.options.nested,
            tags=tags,
            log_system_metrics=True if self.options.system_metrics else None,
        )
        self.client = client

    def _names_of_cell(self) -> infer.CellNames | None:
        if self._names is None:
            with contextlib.suppress(SyntaxError, ValueError):
                self._names = infer.analyse_cell(self.code)
        return self._names

    def _store_paths(self) -> list[str]:
        """The store's own local files and folders, never logged as the cell's files."""
        import nbtrack
        from nbtrack.uris import DB_FILE

        paths = []
        uri = nbtrack.get_tracking_uri()
        db = None
        if uri.startswith("sqlite:///"):
            db = uri[len("sqlite:///") :]
        elif "://" not in uri:
            paths.append(uri)
            # The folder itself may be the working directory: name its files too.
            db = os.path.join(uri, DB_FILE)
        if db is not None:
            paths += [db + suffix for suffix in ("", "-wal", "-shm", "-journal", ".lock")]
        root = str(self.client.store.artifact_root)
        if root.startswith("file://"):
            root = root[len("file://") :]
        if "://" not in root:
            paths.append(root)
        return paths

    def _log_params_before(self) -> None:
        from nbtrack.entities import Param

        ns = self.shell.user_ns
        values: dict[str, Any] = {}
        names = self._names_of_cell()
        if self.options.params is not None:
            literals = names.literals if names else {}
            # A name the cell computes is logged after it, with its new value.
            later = set(names.computed) if names else set()
            for key in self.options.params:
                if key in literals:
                    values[key] = literals[key]
                elif key in ns and key not in later:
                    values[key] = ns[key]
        elif self.options.infer and names is not None:
            values = infer.infer_params(names, self.session.names, ns)
        self._log_params(values, Param)

    def _log_params(self, values: dict[str, Any], param: Any) -> None:
        batch = []
        for key, value in values.items():
            if key not in self.params:
                # Over-long values are cut and warned about, as autolog does.
                text = check.captured_param(key, value)
                batch.append(param(key, text))
                self.params[key] = text
        if batch:
            self.client.log_batch(self.run_id, params=batch)

    def _snapshot_notebook(self) -> None:
        path = notebook_path(self.shell.user_ns)
        if path and os.path.isfile(path) and os.path.getsize(path) <= _NOTEBOOK_LIMIT:
            self.client.log_artifact(self.run_id, path, "notebook")

    def _tee_streams(self) -> None:
        self._streams = (sys.stdout, sys.stderr)
        sys.stdout = Tee(sys.stdout, self._out, self._out_size)
        sys.stderr = Tee(sys.stderr, self._out, self._out_size)

    # finish --------------------------------------------------------------------

    def _restore(self) -> None:
        if self._streams is not None:
            sys.stdout, sys.stderr = self._streams
            self._streams = None
        self._figures.stop()

    def finish(self, error: BaseException | None) -> None:
        """Log metrics and artifacts, end the run with the cell's status, print the summary."""
        self._restore()
        if self.run is None:
            self.problems.report(sys.stderr)
            return
        if error is None:
            self.status = "FINISHED"
        elif isinstance(error, KeyboardInterrupt):
            self.status = "KILLED"
        else:
            self.status = "FAILED"
        with self.problems.guard("log the cell's metrics"):
            self._log_after()
        with self.problems.guard("save the cell's output"):
            self.client.log_text(self.run_id, "".join(self._out), "output.txt")
        if error is not None:
            with self.problems.guard("save the traceback"):
                self.client.log_text(self.run_id, format_error(error), "error.txt")
        with self.problems.guard("save the cell's figures"):
            self._figures.save(self.client, self.run_id)
        self.notes += self._figures.notes
        for pattern in self.options.artifacts:
            with self.problems.guard(f"save the files matching {pattern!r}"):
                self._save_glob(pattern)
        with self.problems.guard("save the run's lineage"):
            from nbtrack.tracking.lineage import LINEAGE_END

            self.lineage.flush(self.client)
            self.client.set_tag(self.run_id, LINEAGE_END, str(self.lineage.count))
            # The kernel hook leaves runs whose end is recorded alone (see _hook).
            self.run.data.tags[LINEAGE_END] = str(self.lineage.count)
        if self._before is not None:
            with self.problems.guard("save the files the cell changed"):
                self._save_changed_files()
        with self.problems.guard("end the run"):
            self._end_run(error)
        if not self.options.quiet:
            self._show_summary()
        if self.notes:
            sys.stderr.write("nbtrack: " + "; ".join(self.notes) + "\n")
        self.problems.report(sys.stderr)

    def _log_after(self) -> None:
        from nbtrack.entities import Metric, Param

        ns = self.shell.user_ns
        if self.options.params:
            late = {k: ns[k] for k in self.options.params if k not in self.params and k in ns}
            self._log_params(late, Param)
            missing = [k for k in self.options.params if k not in self.params]
            if missing:
                self.problems.errors.append(
                    ("log a param", NameError(f"-p {', '.join(missing)}: not defined or too long"))
                )
        if self.options.metrics is not None:
            for key in self.options.metrics:
                number = infer.as_metric_value(ns.get(key))
                if number is not None:
                    self.metrics[key] = number
                else:
                    shown = "undefined" if key not in ns else f"{type(ns[key]).__name__}"
                    self.problems.errors.append(
                        ("log a metric", TypeError(f"-m {key}: not a real number ({shown})"))
                    )
        elif self.options.infer:
            names = self._names_of_cell()
            if names is not None:
                self.metrics = infer.infer_metrics(names, ns)
                for key in self.params:
                    self.metrics.pop(key, None)
        if self.metrics:
            now = int(time.time() * 1000)
            batch = [Metric(k, v, now, 0) for k, v in self.metrics.items()]
            self.client.log_batch(self.run_id, metrics=batch)

    def _save_glob(self, pattern: str) -> None:
        cwd = Path.cwd()
        for match in sorted(glob.glob(pattern, recursive=True)):
            path = Path(match)
            if not path.is_file():
                continue
            try:
                parent = path.resolve().parent.relative_to(cwd).as_posix()
            except ValueError:
                parent = ""
            self._log_file(path, parent)

    def _log_file(self, path: Path, parent: str) -> None:
        if path.resolve() in self._logged_files:
            return
        folder = "files" if parent in ("", ".") else f"files/{parent}"
        self.client.log_artifact(self.run_id, path, folder)
        self._logged_files.add(path.resolve())

    def _save_changed_files(self) -> None:
        before = self._before
        assert before is not None
        after = _files.snapshot(before.root, self._store_paths())
        kept, notes = _files.choose_files(
            after,
            _files.changed_files(before, after),
            _files.MAX_FILES,
            _files.MAX_FILE_BYTES,
            _files.MAX_TOTAL_BYTES,
        )
        self.notes += notes
        if not (before.complete and after.complete):
            self.notes.append(
                f"the working directory has over {_files.MAX_ENTRIES} entries: "
                "only part of it was checked for files the cell changed"
            )
        for rel in kept:
            parent = Path(rel).parent.as_posix()
            self._log_file(before.root / rel, parent)

    def _end_run(self, error: BaseException | None) -> None:
        import nbtrack

        exc_info = (type(error), error, None) if error is not None else (None, None, None)
        if isinstance(self.run, nbtrack.ActiveRun) and nbtrack.active_run() is not None:
            self.run.__exit__(*exc_info)
        if self.client.get_run(self.run_id).info.status == "RUNNING":
            self.client.set_terminated(self.run_id, self.status)

    def _show_summary(self) -> None:
        """The summary line: in a live kernel with a button opening the run, else as text."""
        text = self.summary()
        try:
            from nbtrack.widgets._refresh import in_kernel
            from nbtrack.widgets.run_summary import RunSummary
        except ImportError:  # nbtrack without its widgets extra
            in_kernel = None  # type: ignore[assignment]
        if in_kernel is not None and in_kernel():
            with self.problems.guard("show the run's summary"):
                from IPython.display import display

                display(RunSummary(self.run_id, text, self.client))
                return
        sys.stdout.write(text + "\n")

    def summary(self) -> str:
        """Return the one-line summary shown after the cell."""
        seconds = time.perf_counter() - self._started
        parts = [f"nbtrack: run {self.run.info.run_name!r} {self.status} in {seconds:.2f} s"]
        if self.params:
            parts.append("params " + ", ".join(f"{k}={v}" for k, v in self.params.items()))
        if self.metrics:
            parts.append("metrics " + ", ".join(f"{k}={v:.4g}" for k, v in self.metrics.items()))
        parts.append(f"run_id {self.run_id}")
        return " · ".join(parts)


def _experiment_id(client: Any, name: str) -> str:
    from nbtrack.errors import AlreadyExistsError

    found = client.get_experiment_by_name(name)
    if found is None:
        with contextlib.suppress(AlreadyExistsError):
            return client.create_experiment(name)
        found = client.get_experiment_by_name(name)
    return found.experiment_id
