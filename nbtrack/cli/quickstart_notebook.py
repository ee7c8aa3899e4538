"""The notebook half of ``nbtrack quickstart``: a small ``%%track`` notebook, executed for real.

The quickstart's command-line runs show the store; this shows the point of
nbtrack: a notebook cell with no logging code becomes a run with its params,
metrics and the exact code that ran. The notebook is written beside the user's
store and executed in a real ipykernel (nbclient), so the first thing a
newcomer opens in JupyterLab already has its outputs and its run.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from nbtrack import env
from nbtrack.errors import InvalidInput

__all__ = ["NOTEBOOK_NAME", "NotebookRun", "run_quickstart_notebook", "write_quickstart_notebook"]

NOTEBOOK_NAME = "quickstart.ipynb"

_INTRO = """\
# nbtrack quickstart

`%load_ext nbtrack` once; then every `%%track` cell is a run. Literal assignments
(`lr = 0.3`) become params, computed numbers (`rmse = …`) become metrics, and the
cell's code is kept with the run. Change `lr` and run the cell again: a new run."""

_TRAIN = """\
%%track notebook-run -e quickstart
import math, random

lr = 0.3
epochs = 20

rng = random.Random(0)
xs = [2 * i / 49 - 1 for i in range(50)]
ys = [3.0 * x + 0.5 + rng.gauss(0, 0.2) for x in xs]
w = b = 0.0
for _ in range(epochs):
    errors = [w * x + b - y for x, y in zip(xs, ys)]
    w -= lr * 2 * sum(e * x for e, x in zip(errors, xs)) / len(xs)
    b -= lr * 2 * sum(errors) / len(xs)
rmse = math.sqrt(sum((w * x + b - y) ** 2 for x, y in zip(xs, ys)) / len(xs))
print(f"w={w:.3f} b={b:.3f} rmse={rmse:.4f}")"""

_SEARCH = """\
import nbtrack as nbt

nbt.search_runs(experiment_names=["quickstart"], order_by=["metrics.rmse ASC"])[
    ["run_name", "status", "params.lr", "metrics.rmse"]
]"""


@dataclass(frozen=True, slots=True)
class NotebookRun:
    """The executed quickstart notebook and the run its ``%%track`` cell made."""

    path: Path
    run_id: str
    rmse: float


def write_quickstart_notebook(folder: Path) -> Path:
    """Write ``quickstart.ipynb`` into ``folder`` (kept if it is already there) and return it."""
    import nbformat

    path = folder / NOTEBOOK_NAME
    if path.exists():
        return path
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    notebook.cells = [
        nbformat.v4.new_markdown_cell(_INTRO),
        nbformat.v4.new_code_cell("%load_ext nbtrack"),
        nbformat.v4.new_code_cell(_TRAIN),
        nbformat.v4.new_code_cell(_SEARCH),
    ]
    nbformat.write(notebook, path)
    return path


def run_quickstart_notebook(path: Path, tracking_uri: str, timeout: int = 300) -> NotebookRun:
    """Execute the notebook in a real ``python3`` kernel against ``tracking_uri``; save outputs.

    Raises
    ------
    InvalidInput
        A cell failed (its last error line is quoted), or the ``%%track`` cell made no run.
    """
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    from nbtrack.tracking.client import Client

    notebook = nbformat.read(path, as_version=4)
    absolute = tracking_uri if "://" in tracking_uri else os.path.abspath(tracking_uri)
    kernel_env = {
        **os.environ,
        env.NBTRACK_TRACKING_URI: absolute,
        env.NBTRACK_NOTEBOOK: str(path.resolve()),
    }
    started = int(time.time() * 1000)
    try:
        # IPC sockets in a folder of their own: the kernel is local, and over TCP it
        # prints an encryption warning a newcomer should not have to read.
        with tempfile.TemporaryDirectory(prefix="nbtrack-kernel-") as sockets:
            manager = KernelManager(
                kernel_name="python3", transport="ipc", ip=os.path.join(sockets, "kernel")
            )
            try:
                NotebookClient(
                    notebook,
                    km=manager,
                    timeout=timeout,
                    resources={"metadata": {"path": str(path.parent.resolve())}},
                ).execute(env=kernel_env)
            finally:
                # nbclient leaves a kernel manager it was handed running; left alone, the
                # kernel outlives this process and prints "Parent appears to have exited".
                if manager.has_kernel:
                    manager.shutdown_kernel(now=False)
    except CellExecutionError as exc:
        lines = str(exc).strip().splitlines()
        raise InvalidInput(
            f"{path.name} failed while running: {lines[-1] if lines else exc}"
        ) from None
    nbformat.write(notebook, path)
    client = Client(absolute)
    experiment = client.get_experiment_by_name("quickstart")
    runs = (
        client.search_runs(
            [experiment.experiment_id],
            f"attributes.run_name = 'notebook-run' and attributes.start_time >= {started}",
            order_by=["attributes.start_time DESC"],
            max_results=1,
        )
        if experiment is not None
        else []
    )
    if not runs:
        raise InvalidInput(f"{path.name} ran, but its %%track cell logged no run")
    run = runs[0]
    return NotebookRun(path, run.info.run_id, run.data.metrics["rmse"])
