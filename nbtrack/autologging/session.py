"""The run one autologged training logs to, begun and ended the same way by every integration.

An integration (``sklearn.py``, ``lightgbm.py``) wraps the framework's
training call in :func:`begin` / :func:`fail` / :func:`finish`. The rules
they share live here once: the active run is reused (and left open),
otherwise autolog starts one and ends it; anything that goes wrong while
logging is one ``NbtrackWarning`` (:class:`Warner`) and never reaches the
user's call, its result or its exception. (Over-long param values follow
the one policy of ``nbtrack._validation.captured_param``.)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nbtrack.entities import RunStatus
from nbtrack.errors import NbtrackWarning

if TYPE_CHECKING:
    from nbtrack.tracking.client import Client

__all__ = [
    "Session",
    "Warner",
    "begin",
    "client",
    "end",
    "fail",
    "finish",
    "log_model_into",
    "new_params",
]


class Warner:
    """Turns a logging failure into one ``NbtrackWarning`` (none when the config is silent).

    ``silent`` is asked on each warning, so a later ``autolog(silent=True)`` counts;
    ``call`` names the user's call in the message (``"fit"``, ``"training"``).
    """

    def __init__(self, silent: Callable[[], bool], call: str) -> None:
        self.silent, self.call = silent, call

    def __call__(self, what: str, exc: BaseException) -> None:
        """Warn that autolog could not do ``what``."""
        if self.silent():
            return
        warnings.warn(
            f"nbtrack autolog could not {what}: {type(exc).__name__}: {exc} "
            f"(the {self.call} itself is unaffected)",
            NbtrackWarning,
            stacklevel=3,
        )


class Session:
    """The run one outermost training logs to, and whether autolog started it."""

    def __init__(self, run_id: str, owned: bool) -> None:
        self.run_id = run_id
        self.owned = owned


def client() -> Client:
    """The client of the fluent API's current tracking URI (the one its runs use)."""
    from nbtrack.tracking import fluent

    return fluent.client()


def begin(run_name: str, tags: dict[str, str], warn: Warner) -> Session | None:
    """The active run, or a new one autolog owns; None (and a warning) if neither can be had."""
    from nbtrack.tracking import fluent

    try:
        run = fluent.active_run()
        if run is not None:
            return Session(run.info.run_id, owned=False)
        started = fluent.start_run(run_name=run_name, tags=tags)
        return Session(started.info.run_id, owned=True)
    except Exception as exc:  # guard: autolog must never break the user's training
        warn(f"start a run for {run_name}", exc)
        return None


def end(session: Session, status: str) -> None:
    """End the run if autolog started it (the user's own run stays open)."""
    from nbtrack.tracking import fluent

    if not session.owned:
        return
    active = fluent.active_run()
    if active is not None and active.info.run_id == session.run_id:
        fluent.end_run(status)
    else:
        client().set_terminated(session.run_id, status)


def fail(session: Session, error: BaseException, warn: Warner) -> None:
    """Mark the run of a training that raised ``error`` (KILLED for an interrupt, else FAILED)."""
    status = RunStatus.KILLED if isinstance(error, KeyboardInterrupt) else RunStatus.FAILED
    try:
        end(session, status)
    except Exception as exc:  # guard: the user's own exception must propagate
        warn("mark the run of a failed training", exc)


def finish(session: Session, log: Callable[[], Any], what: str, warn: Warner) -> bool:
    """Run ``log`` then end the run FINISHED; return whether ``log`` succeeded.

    A failure of either becomes a warning: the training succeeded and its
    result must reach the user.
    """
    try:
        try:
            log()
        finally:
            end(session, RunStatus.FINISHED)
    except Exception as exc:  # guard: the training succeeded; its result must reach the user
        warn(f"log {what}", exc)
        return False
    return True


def new_params(session: Session, client: Client, params: dict[str, str]) -> dict[str, str]:
    """The params the run does not hold yet (all of them, in a run autolog started).

    In the user's own run a second training keeps the first values: params are immutable.
    """
    if session.owned:
        return params
    existing = client.get_run(session.run_id).data.params
    return {k: v for k, v in params.items() if k not in existing}


def log_model_into(session: Session, model: Any, flavor: str | None = None) -> None:
    """Log ``model`` as the artifact ``model`` of the session's run, if that run is the active one.

    ``log_model`` writes into the fluent API's active run; a training inside
    another thread's or an ended run logs no model rather than a wrong one.
    """
    from nbtrack.models import log_model
    from nbtrack.tracking import fluent

    active = fluent.active_run()
    if active is None or active.info.run_id != session.run_id:
        return
    log_model(model, "model", flavor=flavor)
