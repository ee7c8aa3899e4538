"""The offline workflow end to end: a notebook logs into its own ``.nbtrack/``, then
``nbtrack sync`` makes every run, metric, artifact and registered model appear on a
team server (read back through ``nbtrack.Client`` on the server's URI).

The notebook runs in a real ``python3`` kernel (nbclient) with no server in
sight; the kernel stays up across the syncs, so a run it keeps open gets more
points after the first sync, and the next sync (``%nbtrack sync`` in the kernel) sends only those.
"""

from __future__ import annotations

from pathlib import Path

import ipykernel  # noqa: F401  (the kernel the notebook runs in)
import nbclient
import nbformat
import pytest
from click.testing import CliRunner
from rest_server import serve_in_thread

import nbtrack as nbt
from nbtrack.cli.main import cli

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

CELLS = [
    "%load_ext nbtrack\nimport nbtrack as nbt\nnbt.set_experiment('offline')",
    "%%track fit\nalpha = 0.5\nrmse = alpha * 2",
    "with nbt.start_run(run_name='train') as run:\n"
    "    nbt.log_param('lr', 0.1)\n"
    "    for step in range(20):\n"
    "        nbt.log_metric('loss', 1 / (step + 1), step=step)\n"
    "    nbt.log_text('hello from the laptop', 'notes/readme.txt')\n"
    "version = nbt.register_model(f'runs:/{run.info.run_id}/notes', 'clf')\n"
    "print(run.info.run_id)",
    "live = nbt.start_run(run_name='live')\nnbt.log_metric('acc', 0.5, step=0)",
]
MORE_POINTS = "for step in range(1, 4):\n    nbt.log_metric('acc', 0.5 + step / 10, step=step)"


def _outputs(cell: nbformat.NotebookNode) -> str:
    errors = [o for o in cell.outputs if o.output_type == "error"]
    assert not errors, errors[0].traceback
    return "".join(o.get("text", "") for o in cell.outputs)


def _sync(url: str) -> str:
    result = CliRunner().invoke(cli, ["sync", "--no-progress", "--to", url], catch_exceptions=False)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result.stdout


def test_a_notebook_logged_offline_appears_on_the_team_server(tmp_dir: Path) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    kernel = nbclient.NotebookClient(
        nb, kernel_name="python3", timeout=300, resources={"metadata": {"path": str(tmp_dir)}}
    )
    with serve_in_thread(str(tmp_dir / "team-store")) as url, kernel.setup_kernel():
        for index, cell in enumerate(nb.cells):
            kernel.execute_cell(cell, index)
        train_id = _outputs(nb.cells[2]).strip().splitlines()[-1]
        assert (tmp_dir / ".nbtrack").is_dir()  # logged locally, no server involved

        def run_cell(source: str) -> str:
            nb.cells.append(nbformat.v4.new_code_cell(source))
            kernel.execute_cell(nb.cells[-1], len(nb.cells) - 1)
            return _outputs(nb.cells[-1])

        dry = run_cell(f"%nbtrack sync --to {url} --dry-run --no-progress")
        assert "Would send 3 runs, 22 points" in dry and "nothing was sent" in dry
        team = nbt.Client(url)
        assert team.get_experiment_by_name("offline") is None

        first = _sync(url)
        assert "Sent 3 runs" in first and "1 model versions" in first
        local = nbt.Client(str(tmp_dir / ".nbtrack"))
        exp = team.get_experiment_by_name("offline")
        assert exp is not None
        local_exp = local.get_experiment_by_name("offline")
        assert local_exp is not None
        local_runs = local.search_runs([local_exp.experiment_id])
        team_runs = team.search_runs([exp.experiment_id])
        assert {r.info.run_id for r in team_runs} == {r.info.run_id for r in local_runs}
        for src in local_runs:
            got = team.get_run(src.info.run_id)
            assert got.data.params == src.data.params and got.data.metrics == src.data.metrics
            assert got.data.tags == src.data.tags and got.info.status == src.info.status
            for key in src.data.metrics:
                assert team.get_metric_history(src.info.run_id, key) == local.get_metric_history(
                    src.info.run_id, key
                )
        notes = team.download_artifacts(train_id, "notes/readme.txt", str(tmp_dir / "dl"))
        assert Path(notes).read_text() == "hello from the laptop"
        (version,) = team.search_model_versions("name = 'clf'")
        assert version.run_id == train_id and version.source == f"runs:/{train_id}/notes"
        fit = next(r for r in local_runs if r.info.run_name == "fit")
        assert team.get_run(fit.info.run_id).data.metrics["rmse"] == 1.0
        assert nbt.lineage(fit.info.run_id, client=team) == nbt.lineage(
            fit.info.run_id, client=local
        )

        assert "Sent 0 runs, 0 points" in _sync(url)

        run_cell(MORE_POINTS)
        live_id = next(r.info.run_id for r in local_runs if r.info.run_name == "live")
        # From the kernel: %nbtrack sync flushes the points still in its buffer first.
        assert "Sent 1 runs, 3 points, 0 bytes" in run_cell(f"%nbtrack sync --to {url}")
        assert [m.value for m in team.get_metric_history(live_id, "acc")] == [0.5, 0.6, 0.7, 0.8]
        assert team.get_run(live_id).info.status == "RUNNING"
