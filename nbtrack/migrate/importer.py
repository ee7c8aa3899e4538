"""``import_mlflow``: copy a whole MLflow store into an nbtrack store, resumably.

Experiments are matched by name (created when missing; their ids are the
target's), runs keep their ids, and each run is copied by
:func:`~nbtrack.migrate.copy_run.copy_run`, so importing again adds nothing
and an import cut off by Ctrl-C or a kill carries on where it stopped. Then
the experiments' logged models, then the registry (models, versions, aliases,
stages and prompts). A deleted experiment is restored while its runs are
copied and deleted again afterwards. The source is never written.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nbtrack.errors import InvalidInput
from nbtrack.migrate.copy_run import Progress, RunCopy, copy_run
from nbtrack.migrate.registry_copy import copy_logged_models, copy_registered_model
from nbtrack.migrate.sources import Source, open_source

if TYPE_CHECKING:
    from nbtrack.entities import Experiment
    from nbtrack.tracking.client import Client

__all__ = ["ImportSummary", "import_mlflow"]


@dataclass
class ImportSummary:
    """What one import did: run counts by action, points and bytes sent (runs' and logged
    models'), registry objects."""

    source: str
    target: str
    experiments: int = 0
    runs: dict[str, int] = field(default_factory=dict)
    points: int = 0
    bytes: int = 0
    logged_models: int = 0
    model_versions: int = 0
    registered_models: int = 0
    conflicts: list[str] = field(default_factory=list)

    def count(self, result: RunCopy) -> None:
        """Add one run's result."""
        self.runs[result.action] = self.runs.get(result.action, 0) + 1
        if result.reason:
            self.conflicts.append(result.reason)


def _chosen(found: list[Experiment], names: Sequence[str] | None) -> list[Experiment]:
    if not names:
        return found
    by_name = {e.name: e for e in found}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        known = ", ".join(sorted(by_name)) or "none"
        raise InvalidInput(
            f"No experiment {', '.join(repr(n) for n in unknown)} in the MLflow store "
            f"(it has: {known})"
        )
    return [by_name[n] for n in dict.fromkeys(names)]


def _target_experiment(target: Client, exp: Experiment) -> str:
    """Return the id of the target's experiment of this name, made active, tags set."""
    mine = target.get_experiment_by_name(exp.name)
    if mine is None:
        return target.create_experiment(exp.name, tags=dict(exp.tags) or None)
    if mine.lifecycle_stage != "active":
        target.restore_experiment(mine.experiment_id)
    for key, value in exp.tags.items():
        if mine.tags.get(key) != value:
            target.set_experiment_tag(mine.experiment_id, key, value)
    return mine.experiment_id


class _Bar:
    """A tqdm bar over runs whose postfix counts points and bytes (quiet when disabled)."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.bar: Any = None
        self.points = self.bytes = 0
        if enabled:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, unit="run", desc="runs", dynamic_ncols=True)

    def wrote(self, points: int, size: int) -> None:
        self.points += points
        self.bytes += size
        if self.bar is not None:
            self.bar.set_postfix_str(
                f"{self.points:,} points, {self.bytes / 1e6:,.1f} MB", refresh=False
            )

    def run_done(self) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def import_mlflow(
    source: str | os.PathLike[str] | Source,
    to: str | os.PathLike[str] | Client | None = None,
    experiments: Sequence[str] | None = None,
    progress: bool = False,
    on_run: Callable[[RunCopy], None] | None = None,
    on_write: Progress | None = None,
) -> ImportSummary:
    """Copy an MLflow store (or some of its experiments) into an nbtrack store.

    Parameters
    ----------
    source:
        Any MLflow tracking URI: ``sqlite:///mlflow.db``, an ``mlruns`` folder,
        ``postgresql://…``, ``http://host:5000``; or an opened :class:`Source`.
    to:
        The target's tracking URI or Client (the URI in force by default).
    experiments:
        Names of the experiments to copy (all by default). With names, the
        registry versions copied are those of the copied runs.
    progress:
        Show a progress bar of runs, points and bytes.
    on_run, on_write:
        Called after each run (with its :class:`RunCopy`) and each write (with
        points and bytes sent).

    Raises
    ------
    InvalidInput
        SOURCE is not an MLflow store (the message names what it is), or an
        experiment name is unknown.
    """
    from nbtrack.tracking.client import Client

    src = source if not isinstance(source, str | os.PathLike) else open_source(source)
    target = to if isinstance(to, Client) else Client(to)
    try:
        return _import(src, target, experiments, progress, on_run, on_write)
    finally:
        target.flush()
        if src is not source:
            src.close()


def _import(
    src: Source,
    target: Client,
    names: Sequence[str] | None,
    progress: bool,
    on_run: Callable[[RunCopy], None] | None,
    on_write: Progress | None,
) -> ImportSummary:
    chosen = _chosen(src.experiments(), names)
    summary = ImportSummary(src.location, target.tracking_uri, experiments=len(chosen))
    bar = _Bar(src.count_runs([e.experiment_id for e in chosen]), progress)

    def wrote(points: int, size: int) -> None:
        bar.wrote(points, size)
        if on_write is not None:
            on_write(points, size)

    run_uris: dict[str, str] = {}
    located: dict[str, str] = {}
    try:
        for exp in chosen:
            exp_id = _target_experiment(target, exp)
            for run in src.runs(exp.experiment_id):
                uri = run.info.artifact_uri
                repo = src.artifacts(uri) if uri else None
                history = functools.partial(src.metric_history, run.info.run_id)
                result = copy_run(target, run, exp_id, history, repo, wrote)
                summary.count(result)
                if result.action != "conflict":
                    run_uris[run.info.run_id] = uri
                bar.run_done()
                if on_run is not None:
                    on_run(result)
            models = src.logged_models(exp.experiment_id)
            located.update(copy_logged_models(src, target, models, exp_id, wrote))
            summary.logged_models += len(models)
            if exp.lifecycle_stage == "deleted":
                target.delete_experiment(exp_id)
    finally:
        bar.close()
        summary.points, summary.bytes = bar.points, bar.bytes
    for model in src.registered_models():
        if names and not any(v.run_id in run_uris for v in src.model_versions(model.name)):
            continue
        made = copy_registered_model(
            src,
            target,
            model,
            located,
            run_uris,
            keep=(lambda v: v.run_id in run_uris) if names else (lambda v: True),
        )
        summary.model_versions += made
        summary.registered_models += 1
    return summary
