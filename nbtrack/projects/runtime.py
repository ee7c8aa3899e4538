"""What an exported notebook's ``main.py`` runs on: parameters, the project run, tracked cells.

This file is copied next to ``main.py`` as ``nbtrack_runtime.py``, so it uses
the standard library only and imports a tracking library when it runs:

- under ``nbtrack run`` (``NBTRACK_RUN_ID`` set) it logs with nbtrack into
  the run the runner made;
- under ``mlflow run`` (``MLFLOW_RUN_ID`` set) it logs with MLflow into
  MLflow's run, so the project works where only MLflow is installed;
- run by hand (``python main.py --alpha 0.1``) it starts an nbtrack run, or
  an MLflow one when only MLflow is installed, or tracks nothing (with a
  warning) when neither is.

Each ``%%track`` cell of the notebook becomes a ``with project.track_cell(…)``
block: a nested run that logs the parameters the cell read and the numbers it
computed, as ``%%track`` did in the notebook.
"""

from __future__ import annotations

import argparse
import ast
import atexit
import contextlib
import numbers
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

__all__ = ["ProjectRun", "parse_value"]

#: MLproject parameter types and the notebook literal kinds they come from.
KINDS = ("float", "int", "bool", "string", "path", "none", "literal")


def parse_value(name: str, kind: str, text: str) -> Any:
    """Turn a command-line value into the Python value the notebook's literal had.

    Raises
    ------
    ValueError
        The text is not a value of that kind; the message names the parameter.
    """
    try:
        if kind == "float":
            return float(text)
        if kind == "int":
            return int(text)
        if kind == "bool":
            lowered = text.strip().lower()
            if lowered in ("true", "1", "yes"):
                return True
            if lowered in ("false", "0", "no"):
                return False
            raise ValueError(text)
        if kind == "none":
            return None if text in ("", "None") else text
        if kind == "literal":
            return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise ValueError(f"Parameter {name!r} must be {_describe(kind)}, got {text!r}") from None
    return text


def _describe(kind: str) -> str:
    return {
        "float": "a number",
        "int": "an integer",
        "bool": "true or false",
        "literal": "a Python literal (list, dict, tuple)",
    }.get(kind, "a string")


def _metric_value(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        # numpy scalars register as numbers.Real; numpy bools do not.
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class _Backend:
    """The tracking library in use: nbtrack, MLflow, or none."""

    def __init__(self) -> None:
        self.name = "none"
        self.module: Any = None
        choice = "nbtrack" if os.environ.get("NBTRACK_RUN_ID") else None
        if choice is None and os.environ.get("MLFLOW_RUN_ID"):
            choice = "mlflow"
        for name in [choice] if choice else ["nbtrack", "mlflow"]:
            try:
                self.module = __import__(name)
            except ImportError:
                continue
            self.name = name
            return
        if choice:
            raise RuntimeError(f"This run was started by {choice}, which cannot be imported here")
        print(
            "nbtrack_runtime: neither nbtrack nor mlflow is installed; nothing is tracked",
            file=sys.stderr,
        )


class ProjectRun:
    """The run of one execution of ``main.py``, holding its parameters.

    Parameters
    ----------
    spec:
        ``{name: (kind, default)}`` from the notebook's ``parameters`` cell.
    argv:
        Command-line arguments (``--alpha 0.1``); ``sys.argv[1:]`` by default.
    """

    def __init__(self, spec: Mapping[str, tuple[str, Any]], argv: list[str] | None = None) -> None:
        parser = argparse.ArgumentParser(description="Run the exported notebook.")
        for name, (kind, default) in spec.items():
            parser.add_argument(
                f"--{name}", dest=name, default=None, help=f"{kind}, default {default!r}"
            )
        given = vars(parser.parse_args(argv))
        self.params: dict[str, Any] = {}
        # What the run records: the text given on the command line, as a project
        # runner logs it (MLflow refuses a second, different value for a param).
        self.texts: dict[str, str] = {}
        for name, (kind, default) in spec.items():
            text = given.get(name)
            self.texts[name] = _text(default) if text is None else text
            if text is None:
                self.params[name] = default
                continue
            try:
                self.params[name] = parse_value(name, kind, text)
            except ValueError as exc:
                parser.error(str(exc))
        self.backend = _Backend()
        self._run: Any = None
        self._ended = False
        self.run_id: str | None = None
        module = self.backend.module
        if module is not None:
            resumed = bool(os.environ.get("NBTRACK_RUN_ID") or os.environ.get("MLFLOW_RUN_ID"))
            self._run = module.start_run()
            self.run_id = self._run.info.run_id
            if not resumed and self.texts:  # a project runner logged them already
                module.log_params(self.texts)
            print(f"{self.backend.name} run {self.run_id}", file=sys.stderr)
        self._install_failure_hook()

    def _install_failure_hook(self) -> None:
        previous = sys.excepthook

        def failed(kind: Any, value: Any, traceback: Any) -> None:
            self.end("FAILED")
            previous(kind, value, traceback)

        sys.excepthook = failed
        atexit.register(self.end)

    def autolog(self, enable: bool = True) -> None:
        """``%track_autolog on|off`` of the notebook: the library's autologging."""
        module = self.backend.module
        if module is not None and hasattr(module, "autolog"):
            module.autolog(disable=not enable)

    @contextlib.contextmanager
    def track_cell(
        self,
        name: str | None,
        namespace: dict[str, Any],
        params: Sequence[str] = (),
        metrics: Sequence[str] = (),
        tags: dict[str, str] | None = None,
        source: str | None = None,
    ) -> Iterator[None]:
        """Run a ``%%track`` cell's code as a nested run.

        ``params`` names are logged with their values before the cell runs
        (those set already) and after it (those the cell sets); ``metrics``
        names whose values are real numbers after the cell are logged as
        metrics.
        """
        module = self.backend.module
        if module is None:
            yield
            return
        # In the project run's experiment, whatever the process's default is.
        experiment_id = self._run.info.experiment_id if self._run is not None else None
        module.start_run(run_name=name, nested=True, tags=tags or None, experiment_id=experiment_id)
        before: dict[str, str] = {}
        try:
            before = {k: _text(namespace[k]) for k in params if k in namespace}
            if before:
                module.log_params(before)
            if source:
                module.log_text(source, "cell.py")
            yield
        except BaseException as error:
            status = "KILLED" if isinstance(error, KeyboardInterrupt) else "FAILED"
            module.end_run(status)
            raise
        after = {k: _text(namespace[k]) for k in params if k in namespace and k not in before}
        if after:
            module.log_params(after)
        values = {k: _metric_value(namespace.get(k)) for k in metrics}
        found = {k: v for k, v in values.items() if v is not None}
        if found:
            module.log_metrics(found)
        module.end_run()

    def end(self, status: str = "FINISHED") -> None:
        """End the project run (and any cell run left open) with ``status``."""
        if self._ended or self.backend.module is None:
            return
        self._ended = True
        module = self.backend.module
        while module.active_run() is not None:
            module.end_run(status)


def _text(value: Any) -> str:
    return str(value)
