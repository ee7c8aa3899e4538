"""``sync()``: push the chosen experiments of a local store to a server, and say what went.

Order: experiments (matched by name on the target, created when missing),
runs by start time (a parent before its children, so an MLflow server's new
parent id is known when a child's ``mlflow.parentRunId`` is mapped), then
registered models and versions (their runs are there by then), then lineage.
Every write is recorded in the local store's sync state as it is
acknowledged; a sync that stops midway (a killed process, a server gone)
has lost nothing, and the next one carries on from the state.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nbtrack.entities import Experiment, Run
from nbtrack.errors import NotFoundError
from nbtrack.sync.lineage import sync_lineage
from nbtrack.sync.registry import ModelResult, local_models, sync_model
from nbtrack.sync.runs import RunContext, RunResult, sync_run
from nbtrack.sync.target import MLFLOW, SOURCE_RUN_TAG, SOURCE_VERSION_TAG, open_target

if TYPE_CHECKING:
    from nbtrack.store.base import Store

__all__ = ["SyncReport", "id_policy", "sync"]

_EXPERIMENT = "experiment"


@dataclass(slots=True)
class SyncReport:
    """What a sync sent (or, ``dry_run``, would send) to ``target``."""

    target: str
    kind: str
    dry_run: bool
    runs: list[RunResult] = field(default_factory=list)
    models: list[ModelResult] = field(default_factory=list)
    experiments_created: int = 0
    lineage_cells: int = 0

    @property
    def sent_runs(self) -> list[RunResult]:
        """Runs created or updated on the target."""
        return [r for r in self.runs if r.action in ("created", "updated")]

    @property
    def conflicts(self) -> list[RunResult]:
        """Runs skipped because the target holds another run under their id."""
        return [r for r in self.runs if r.action == "conflict"]

    @property
    def points(self) -> int:
        """Metric points sent."""
        return sum(r.points for r in self.runs)

    @property
    def bytes(self) -> int:
        """Artifact bytes sent."""
        return sum(r.bytes for r in self.runs)

    @property
    def model_versions(self) -> int:
        """Model versions created on the target."""
        return sum(m.versions for m in self.models)

    def lines(self) -> list[tuple[str, bool]]:
        """The report as ``(line, is_problem)``: a line per run and model sent, one per
        conflict (a problem), then the summary."""
        verb = "would " if self.dry_run else ""
        out: list[tuple[str, bool]] = []
        for r in self.sent_runs:
            mapped = "" if r.remote_run_id in (r.run_id, "") else f" as {r.remote_run_id}"
            action = "create" if r.action == "created" else "update"
            done = action if self.dry_run else action + "d"
            out.append(
                (
                    f"  {verb}{done} run {r.run_id}{mapped}: {r.points} points, {r.bytes} bytes",
                    False,
                )
            )
        for m in self.models:
            if m.action != "unchanged":
                copied = "copy" if self.dry_run else "copied"
                out.append((f"  {verb}{copied} model {m.name!r}: {m.versions} new versions", False))
        out += [(f"  conflict, skipped: {r.reason}", True) for r in self.conflicts]
        out.append((self.summary(), False))
        return out

    def summary(self) -> str:
        """One line: ``N runs, P points, B bytes, V model versions`` and what was skipped."""
        verb = "Would send" if self.dry_run else "Sent"
        unchanged = sum(r.action == "unchanged" for r in self.runs)
        text = (
            f"{verb} {len(self.sent_runs)} runs, {self.points} points, {self.bytes} bytes, "
            f"{self.model_versions} model versions to {self.target} "
            f"({len([r for r in self.sent_runs if r.action == 'created'])} runs new, "
            f"{unchanged} unchanged"
        )
        if self.lineage_cells:
            text += f", {self.lineage_cells} lineage cells"
        text += ")"
        if self.conflicts:
            text += f"; {len(self.conflicts)} conflicting runs skipped"
        return text + (" — dry run, nothing was sent" if self.dry_run else "")


def id_policy(kind: str) -> str:
    """How run ids and links are kept on a target of ``kind`` (said before every sync)."""
    if kind == MLFLOW:
        return (
            "an MLflow server: it chooses run ids, so each run gets a new id there, tagged "
            f"{SOURCE_RUN_TAG} with its local id; mlflow.parentRunId and model versions' "
            "run ids and runs:/ sources are mapped to the new ids; versions are numbered "
            f"anew (tag {SOURCE_VERSION_TAG}); lineage tags are copied, the cell log is not "
            "(MLflow has none)"
        )
    return (
        "an nbtrack server: runs keep their ids, so parent runs, model versions' source "
        "runs and lineage keep pointing at the same ids; versions are numbered anew "
        f"(tag {SOURCE_VERSION_TAG})"
    )


def _experiments(store: Store, names: Sequence[str] | None) -> list[Experiment]:
    found = store.search_experiments(max_results=100_000)
    if not names:
        return found
    by_name = {e.name: e for e in found}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise NotFoundError(
            f"No experiment named {', '.join(map(repr, missing))} in {store.location}"
        )
    return [by_name[n] for n in names]


def _remote_experiment(ctx: RunContext, exp: Experiment, known: dict[str, Any]) -> tuple[str, bool]:
    if exp.experiment_id in known:
        return known[exp.experiment_id][0], False
    store = ctx.target.store
    there = store.get_experiment_by_name(exp.name)
    if there is not None:
        remote, created = there.experiment_id, False
    elif ctx.dry_run:
        return f"(new {exp.name})", True
    else:
        tags = {k: v for k, v in exp.tags.items() if not k.startswith("mlflow.")}
        remote, created = store.create_experiment(exp.name, tags=tags), True
    ctx.source.save_sync_object(ctx.target_key, _EXPERIMENT, exp.experiment_id, remote)
    return remote, created


def _runs(store: Store, experiment_id: str) -> list[Run]:
    runs: list[Run] = []
    token: str | None = None
    while True:
        page, token = store.search_runs([experiment_id], max_results=50_000, page_token=token)
        runs += page
        if not token:
            return runs


def sync(
    source: Store,
    to: str,
    experiments: Sequence[str] | None = None,
    dry_run: bool = False,
    progress: bool = False,
    announce: Callable[[str], None] | None = None,
) -> SyncReport:
    """Push the runs, metrics, artifacts and registered models of ``experiments`` (all
    when None) from the local ``source`` store to the server at ``to``.

    Parameters
    ----------
    source:
        The local store (SQL: it holds the sync state).
    to:
        The server's ``http(s)://`` URI: an nbtrack server or an MLflow server.
    experiments:
        Names of the experiments to push; every active experiment when None.
    dry_run:
        Read everything, send nothing, and report what would be sent.
    progress:
        Show tqdm bars of runs and bytes (on stderr).
    announce:
        Called once with a line saying which kind of server this is and how run
        ids and links are kept there, before anything is sent.

    Returns
    -------
    SyncReport

    Raises
    ------
    NotFoundError
        An experiment name the local store does not have.
    StoreError
        The source is not a local store, or the server failed (what was sent
        before is recorded: run the sync again to carry on).
    """
    target = open_target(to)
    if announce is not None:
        announce(f"Target {target.uri} is {id_policy(target.kind)}.")
    states = source.get_sync_runs(target.uri)
    ctx = RunContext(
        source,
        target,
        target.uri,
        {run_id: s.remote_run_id for run_id, s in states.items()},
        dry_run,
    )
    report = SyncReport(target.uri, target.kind, dry_run)
    chosen = _experiments(source, experiments)
    known = source.get_sync_objects(target.uri, _EXPERIMENT)
    work: list[tuple[Run, str]] = []
    for exp in chosen:
        runs = _runs(source, exp.experiment_id)
        if not runs and exp.experiment_id not in known and experiments is None:
            continue  # an empty experiment (the Default one, often) is not made on the target
        remote, created = _remote_experiment(ctx, exp, known)
        report.experiments_created += created
        work += [(r, remote) for r in runs]
    work.sort(key=lambda item: (item[0].info.start_time or 0, item[0].info.run_id))
    with ExitStack() as stack:
        bars = _bars(stack, len(work), progress)
        ctx.progress = bars[1]
        for run, remote in work:
            result = sync_run(ctx, run, states.get(run.info.run_id), remote)
            if result.action != "conflict" and result.remote_run_id:
                ctx.remote_ids[run.info.run_id] = result.remote_run_id
            report.runs.append(result)
            bars[0]()
    synced = {r.run_id for r in report.runs if r.action != "conflict"}
    for model in local_models(ctx, synced if experiments else None):
        report.models.append(sync_model(ctx, model))
    report.lineage_cells = sync_lineage(ctx, (r for r, _ in work if r.info.run_id in synced))
    return report


def _bars(
    stack: ExitStack, total: int, shown: bool
) -> tuple[Callable[[], None], Callable[[int, int], None] | None]:
    if not shown:
        return (lambda: None), None
    from tqdm.auto import tqdm

    runs = stack.enter_context(tqdm(total=total, unit="run", desc="runs"))
    sent = stack.enter_context(tqdm(unit="B", unit_scale=True, desc="artifacts"))

    def on_bytes(_points: int, size: int) -> None:
        if size:
            sent.update(size)

    return (lambda: runs.update(1)), on_bytes
