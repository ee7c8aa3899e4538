"""Copy the kernel sessions' execution logs that synced runs point into (``nbt.lineage``).

Only an nbtrack server holds lineage (MLflow has no such log): runs keep their
``nbtrack.lineage.*`` tags either way, but on an MLflow server the log itself
is not there. A session's log only grows, so what is missing on the target
is its tail: the target's length is read before sending (one request per
session with news), which keeps a resumed sync from appending a tail twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nbtrack.entities import Run
    from nbtrack.sync.runs import RunContext

__all__ = ["LINEAGE_SESSION_TAG", "sync_lineage"]

LINEAGE_SESSION_TAG = "nbtrack.lineage.session_id"
_KIND = "lineage_session"


def sync_lineage(ctx: RunContext, runs: Iterable[Run]) -> int:
    """Send the executions the target lacks of every session ``runs`` name; return how many."""
    if not ctx.target.keeps_run_ids:
        return 0
    sessions = sorted(
        {r.data.tags[LINEAGE_SESSION_TAG] for r in runs if LINEAGE_SESSION_TAG in r.data.tags}
    )
    known = ctx.source.get_sync_objects(ctx.target_key, _KIND)
    sent = 0
    for session in sessions:
        local = ctx.source.get_cell_executions(session)
        if known.get(session, ("", None))[1] == str(len(local)):
            continue
        have = 0 if ctx.dry_run else len(ctx.target.store.get_cell_executions(session))
        tail = local[have:]
        if tail and not ctx.dry_run:
            ctx.target.store.log_cell_executions(tail)
        sent += len(tail)
        if not ctx.dry_run:
            ctx.source.save_sync_object(ctx.target_key, _KIND, session, session, str(len(local)))
    return sent
