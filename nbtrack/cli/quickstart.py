"""``nbtrack quickstart``: fill a store with a few real-looking runs, then show them.

The "training" is gradient descent on a synthetic linear regression in pure
Python (no numpy, no scikit-learn), seeded, so that it runs on a fresh install
and every machine prints the same numbers. Learning rates are chosen so that
some runs converge (rmse below 0.5), one is too slow and one overshoots: the
filter suggested at the end has something to find.
"""

from __future__ import annotations

import math
import random
import shlex
import time
from pathlib import Path

import click

from nbtrack.cli._common import get_client, state, tracking_uri_option
from nbtrack.entities import Metric, Param, RunStatus
from nbtrack.errors import InvalidInput

__all__ = ["EXPERIMENT", "quickstart", "train"]

EXPERIMENT = "quickstart"
LEARNING_RATES = (0.01, 0.03, 0.1, 0.3, 1.0)
EPOCHS = 20
_TRUE_W, _TRUE_B, _NOISE, _POINTS, _SEED = 3.0, 0.5, 0.2, 50, 0


def _data() -> tuple[list[float], list[float]]:
    rng = random.Random(_SEED)
    xs = [2 * i / (_POINTS - 1) - 1 for i in range(_POINTS)]
    ys = [_TRUE_W * x + _TRUE_B + rng.gauss(0, _NOISE) for x in xs]
    return xs, ys


def train(lr: float, epochs: int) -> tuple[list[float], float, float, float]:
    """Fit ``y = w·x + b`` by full-batch gradient descent on the MSE.

    Returns
    -------
    tuple
        The loss (MSE) after each epoch, the final RMSE, ``w`` and ``b``.
    """
    xs, ys = _data()
    n = len(xs)
    w = b = 0.0
    losses = []
    for _ in range(epochs):
        errors = [w * x + b - y for x, y in zip(xs, ys, strict=True)]
        w -= lr * 2 * sum(e * x for e, x in zip(errors, xs, strict=True)) / n
        b -= lr * 2 * sum(errors) / n
        losses.append(sum((w * x + b - y) ** 2 for x, y in zip(xs, ys, strict=True)) / n)
    return losses, math.sqrt(losses[-1]), w, b


def _now_ms() -> int:
    return int(time.time() * 1000)


def _log_run(experiment_id: str, lr: float, epochs: int) -> tuple[str, float]:
    from nbtrack.tracking.context import system_tags

    client = get_client()
    tags = {**system_tags(), "model": "linear-regression", "source": "nbtrack quickstart"}
    run = client.create_run(experiment_id, tags=tags, run_name=f"lr{lr:g}-ep{epochs}")
    run_id = run.info.run_id
    status = RunStatus.FAILED
    try:
        losses, rmse, w, b = train(lr, epochs)
        now = _now_ms()
        metrics = [Metric("loss", loss, now, step) for step, loss in enumerate(losses)]
        metrics.append(Metric("rmse", rmse, now, epochs))
        params = [Param("lr", str(lr)), Param("epochs", str(epochs))]
        client.log_batch(run_id, metrics=metrics, params=params)
        config = {
            "model": {"kind": "linear", "w": round(w, 6), "b": round(b, 6)},
            "training": {"optimizer": "gradient descent", "lr": lr, "epochs": epochs},
            "data": {"points": _POINTS, "seed": _SEED, "noise": _NOISE},
        }
        client.log_dict(run_id, config, "config.yaml")
        status = RunStatus.FINISHED
    finally:
        client.set_terminated(run_id, status)
    return run_id, rmse


def _run_notebook(folder: Path, tracking_uri: str) -> None:
    from nbtrack.cli.quickstart_notebook import run_quickstart_notebook, write_quickstart_notebook

    path = write_quickstart_notebook(folder)
    click.echo(f"\nExecuting {path.name} in a Python kernel (its %%track cell is a run)…")
    done = run_quickstart_notebook(path, tracking_uri)
    click.echo(
        f"Its cell logged run {done.run_id[:8]} (params lr, epochs; metric rmse={done.rmse:.6f};"
        f" the cell's code: nbtrack lineage {done.run_id[:8]})\n"
        f"Open it in JupyterLab: pip install 'nbtrack[lab]' && jupyter lab {path.name}"
    )


def _experiment_id() -> str:
    client = get_client()
    exp = client.get_experiment_by_name(EXPERIMENT)
    if exp is None:
        return client.create_experiment(EXPERIMENT)
    if exp.lifecycle_stage != "active":
        raise InvalidInput(
            f"Experiment {EXPERIMENT!r} is deleted; bring it back with "
            f"`nbtrack experiments restore {EXPERIMENT}` or purge it with `nbtrack gc`"
        )
    return exp.experiment_id


@click.command("quickstart")
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Use the store in DIR/.nbtrack (created if missing) instead of the current folder's.",
)
@click.option(
    "--runs",
    "n_runs",
    default=5,
    show_default=True,
    type=click.IntRange(1, 1000),
    help="How many runs to log.",
)
@click.option(
    "--notebook/--no-notebook",
    default=True,
    show_default=True,
    help="Also write quickstart.ipynb and execute its %%track cell in a real kernel.",
)
@tracking_uri_option
def quickstart(folder: Path | None, n_runs: int, notebook: bool) -> None:
    """Log a few example runs to experiment "quickstart", then show them.

    Each run fits a line by gradient descent with a different learning rate and
    records params (lr, epochs), the loss of every epoch, the final rmse, tags
    and a config.yaml artifact. Then it writes quickstart.ipynb, whose %%track
    cell trains the same model with no logging code, and executes it in a real
    kernel. Without --dir or --tracking-uri the runs go to the default store:
    the nearest .nbtrack/ folder, else ./.nbtrack.
    """
    from nbtrack.cli._runtable import echo_runs

    st = state()
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        st.tracking_uri, st.uri_source, st.client = str(folder / ".nbtrack"), "option", None
    client = get_client(create=True)
    exp_id = _experiment_id()
    results = []
    for i in range(n_runs):
        lr = LEARNING_RATES[i % len(LEARNING_RATES)]
        results.append(_log_run(exp_id, lr, EPOCHS * (1 + i // len(LEARNING_RATES))))
    click.echo(f"Logged {n_runs} runs to experiment {EXPERIMENT!r} in {client.tracking_uri}\n")
    echo_runs(client, [exp_id])
    best_id = min(results, key=lambda r: r[1])[0]
    if notebook:
        _run_notebook(folder or Path.cwd(), client.tracking_uri)
    flag = ""
    if folder is None and st.tracking_uri and st.uri_source == "option":
        flag = f" --tracking-uri {shlex.quote(st.tracking_uri)}"
    python_uri = f"  nbt.set_tracking_uri({st.tracking_uri!r})\n" if flag else ""
    cd = f"  cd {shlex.quote(str(folder))}\n" if folder is not None else ""
    click.echo(
        "\nNext, try:\n"
        f"{cd}"
        f'  nbtrack runs list{flag} --filter "metrics.rmse < 0.5"\n'
        f"  nbtrack runs show{flag} {best_id[:8]}\n"
        f'  nbtrack runs list{flag} -e {EXPERIMENT} --order-by "metrics.rmse ASC" --json\n'
        "\nor in Python (a notebook in this folder uses the same store):\n"
        "  import nbtrack as nbt\n"
        f"{python_uri}"
        f"  nbt.search_runs(experiment_names=[{EXPERIMENT!r}], "
        'filter_string="metrics.rmse < 0.5")'
    )
