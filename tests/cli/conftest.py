"""Fixtures of the CLI tests: a store with known runs, and a runner pointed at it."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from nbtrack.cli.main import cli
from nbtrack.entities import Metric, Param, RunTag

Invoke = Callable[..., Result]


@pytest.fixture
def store_uri(tmp_path: Path) -> str:
    """A store folder (created by the first command that writes)."""
    return str(tmp_path / "store")


@pytest.fixture
def invoke(store_uri: str) -> Invoke:
    """Run ``nbtrack --tracking-uri <store_uri> ARGS…`` in-process; check the exit code.

    ``invoke(*args, code=0, uri=True, env=None)`` returns click's Result, whose
    ``stdout`` and ``stderr`` are separate.
    """
    runner = CliRunner()

    def run(
        *args: str, code: int = 0, uri: bool = True, env: dict[str, str] | None = None
    ) -> Result:
        argv = ["--tracking-uri", store_uri, *args] if uri else list(args)
        result = runner.invoke(cli, argv, env=env, catch_exceptions=False)
        assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
        if code == 1:
            assert "Traceback" not in result.output
        return result

    return run


@dataclass
class Seeded:
    """Ids of the runs the ``seeded`` fixture logged."""

    uri: str
    exp_a: str
    exp_b: str
    alpha: str  # exp-a, alpha=0.1, rmse=0.3, artifacts notes.txt and model/weights.txt
    beta: str  # exp-a, alpha=0.5, rmse=0.7
    gamma: str  # exp-b, rmse=0.2, weird=NaN


@pytest.fixture
def seeded(store_uri: str) -> Seeded:
    """A store with experiments exp-a (runs alpha-run, beta-run) and exp-b (gamma-run)."""
    import nbtrack

    client = nbtrack.Client(store_uri)
    exp_a = client.create_experiment("exp-a")
    exp_b = client.create_experiment("exp-b")

    def make(exp: str, name: str, params: dict[str, str], metrics: dict[str, float]) -> str:
        run = client.create_run(exp, run_name=name, tags={"team": "cli"})
        run_id = run.info.run_id
        client.log_batch(
            run_id,
            metrics=[Metric(k, v, 1_700_000_000_000, 0) for k, v in metrics.items()],
            params=[Param(k, v) for k, v in params.items()],
            tags=[RunTag("stage", "test")],
        )
        return run_id

    alpha = make(exp_a, "alpha-run", {"alpha": "0.1"}, {"rmse": 0.3})
    for step, loss in enumerate([0.9, 0.5, 0.25]):
        client.log_batch(alpha, metrics=[Metric("loss", loss, 1_700_000_000_000 + step, step)])
    client.log_text(alpha, "some notes", "notes.txt")
    client.log_text(alpha, "0 1 2", "model/weights.txt")
    beta = make(exp_a, "beta-run", {"alpha": "0.5"}, {"rmse": 0.7})
    gamma = make(exp_b, "gamma-run", {"depth": "3"}, {"rmse": 0.2, "weird": math.nan})
    for run_id in (alpha, beta, gamma):
        client.set_terminated(run_id)
    return Seeded(store_uri, exp_a, exp_b, alpha, beta, gamma)
