"""``nbt.lineage(run_id)``: the code that had run in the kernel when a run was made.

Runs made in a kernel with nbtrack loaded (``%%track`` cells, and runs
started in code: ``nbt.start_run()``, autolog) carry the kernel session's id
and the length of its execution log at the run's start and end (tags
``nbtrack.lineage.*``); the
log itself is in the store (``cell_executions``). The lineage is the
session's executions up to the run's end, out-of-order execution and
re-executed cells included, as they happened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nbtrack.entities import CellExecution
from nbtrack.errors import NotFoundError

if TYPE_CHECKING:
    from nbtrack.tracking.client import Client

__all__ = [
    "LINEAGE_END",
    "LINEAGE_SESSION",
    "LINEAGE_START",
    "Lineage",
    "lineage",
    "lineage_script",
]

LINEAGE_SESSION = "nbtrack.lineage.session_id"
LINEAGE_START = "nbtrack.lineage.start"
LINEAGE_END = "nbtrack.lineage.end"


class Lineage(list[CellExecution]):
    """A run's cell executions, in order; ``print()`` it to read them as one script."""

    @property
    def script(self) -> str:
        """The executions as one Python script (see :func:`lineage_script`)."""
        return lineage_script(self)

    def __str__(self) -> str:
        return self.script


def lineage(run_id: str, client: Client | None = None) -> Lineage:
    """Return the cell executions of the run's kernel session up to the run's end, in order.

    ``print(nbt.lineage(run_id))`` shows them as a script to replay; the
    result is a list of :class:`~nbtrack.entities.CellExecution` otherwise.

    Parameters
    ----------
    run_id:
        A run made in a kernel with nbtrack loaded (by ``%%track`` or in code).
    client:
        The client to read with (default: the tracking URI in force).

    Raises
    ------
    NotFoundError
        If the run does not exist or was not made in a kernel with nbtrack loaded.
    """
    if client is None:
        from nbtrack.tracking.client import Client

        client = Client()
    tags = client.get_run(run_id).data.tags
    session, end = tags.get(LINEAGE_SESSION), tags.get(LINEAGE_END)
    if not session or end is None:
        raise NotFoundError(
            f"Run {run_id} has no lineage: only runs made in a kernel with nbtrack loaded "
            "(%load_ext nbtrack) record one"
        )
    return Lineage(client.get_cell_executions(session, int(end)))


def _as_python(source: str) -> str:
    lines = source.splitlines()
    if lines and lines[0].startswith("%%track"):
        return "\n".join([f"# {lines[0]}", *lines[1:]])
    if lines and lines[0].startswith("%%"):
        return "\n".join(f"# {line}" for line in lines)
    return "\n".join(
        f"# {line}" if line.lstrip().startswith(("%", "!")) else line for line in lines
    )


def lineage_script(executions: list[CellExecution]) -> str:
    """Return ``executions`` as one Python script, IPython-only lines commented out."""
    parts = ["# Code run in the kernel, in execution order (written by nbtrack).\n"]
    for number, execution in enumerate(executions, start=1):
        status = "" if execution.ok is None else ("  ok" if execution.ok else "  error")
        count = execution.execution_count
        header = f"# [{number}] In[{count if count is not None else ' '}]{status}"
        parts.append(f"{header}\n{_as_python(execution.source)}\n")
    return "\n".join(parts)
