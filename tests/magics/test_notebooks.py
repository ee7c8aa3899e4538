"""Real notebooks run by nbclient in a real ``python3`` kernel, read back through the store."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import ipykernel  # noqa: F401  (the kernel the notebooks run in)
import nbclient
import nbformat
import pytest
import sklearn  # noqa: F401  (the notebooks train with it)

import nbtrack

NOTEBOOKS = Path(__file__).parent.parent / "data" / "notebooks"

pytestmark = [pytest.mark.kernel, pytest.mark.slow]


def _execute(path: Path, rerun: tuple[str, ...] = ()) -> Any:
    """Execute every cell of ``path`` in a fresh kernel, then the cells with ids ``rerun`` again."""
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(path.parent)}}
    )
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        for cell_id in rerun:
            index = next(i for i, c in enumerate(nb.cells) if c.get("id") == cell_id)
            client.execute_cell(nb.cells[index], index)
    return nb


def test_wine_notebook_tracks_runs_in_a_real_kernel(
    tmp_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebook = tmp_dir / "wine.ipynb"
    shutil.copy(NOTEBOOKS / "wine.ipynb", notebook)
    store = tmp_dir / "store"
    # nbclient tells the kernel neither the store nor the notebook: the environment does.
    monkeypatch.setenv("NBTRACK_TRACKING_URI", str(store))
    monkeypatch.setenv("NBTRACK_NOTEBOOK", str(notebook))

    nb = _execute(notebook, rerun=("baseline",))

    cells = {cell.id: cell for cell in nb.cells}
    errors = [o for o in cells["broken"].outputs if o.output_type == "error"]
    assert len(errors) == 1 and errors[0].ename == "ValueError"
    # The error shows as without nbtrack: the user's frame only.
    assert not any("nbtrack" in line for line in errors[0].traceback)
    status = "".join(o.get("text", "") for o in cells["status"].outputs)
    assert f"store: {store}" in status and f"notebook: {notebook}" in status

    client = nbtrack.Client(str(store))
    experiment = client.get_experiment_by_name("wine")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id], order_by=["attributes.start_time ASC"])
    assert [(r.info.run_name, r.info.status) for r in runs] == [
        ("baseline", "FINISHED"),
        ("broken", "FAILED"),
        ("baseline", "FINISHED"),
    ]
    first, broken, rerun = runs

    # Params from the cell's literals and from the earlier hyperparameter cell.
    assert first.data.params == {"alpha": "0.5", "l1_ratio": "0.1", "max_iter": "5000"}
    assert set(first.data.metrics) == {"rmse"}
    assert 0 < first.data.metrics["rmse"] < 1
    assert rerun.data.metrics["rmse"] == pytest.approx(first.data.metrics["rmse"])

    # Re-runs of a cell share its id (nbclient sends no cellId: a hash of the source).
    cell_id = first.data.tags["nbtrack.source.cell_id"]
    assert rerun.data.tags["nbtrack.source.cell_id"] == cell_id
    assert broken.data.tags["nbtrack.source.cell_id"] != cell_id
    for run in runs:
        assert run.data.tags["nbtrack.source.name"] == str(notebook)
        assert run.data.tags["nbtrack.source.type"] == "NOTEBOOK"

    def artifacts(run_id: str, folder: str | None = None) -> set[str]:
        return {f.path for f in client.list_artifacts(run_id, folder)}

    def read(run_id: str, path: str) -> bytes:
        return Path(client.download_artifacts(run_id, path, tmp_dir / "dl" / run_id)).read_bytes()

    assert {"cell.py", "output.txt", "figures", "notebook"} <= artifacts(first.info.run_id)
    assert artifacts(first.info.run_id, "figures") == {"figures/figure-1.png"}
    assert read(first.info.run_id, "figures/figure-1.png").startswith(b"\x89PNG")
    assert "alpha = 0.5\n" in read(first.info.run_id, "cell.py").decode()
    assert artifacts(first.info.run_id, "notebook") == {"notebook/wine.ipynb"}

    assert "error.txt" in artifacts(broken.info.run_id)
    error = read(broken.info.run_id, "error.txt").decode()
    assert "ValueError: bad data" in error and "raise ValueError('bad data')" in error
    assert "about to fail" in read(broken.info.run_id, "output.txt").decode()
    assert broken.data.params["alpha"] == "2.0"

    # Lineage: the code that had run in the kernel, in execution order, re-runs included.
    from nbtrack.tracking.lineage import lineage

    code = {cell.id: cell.source for cell in nb.cells if cell.cell_type == "code"}
    # The log starts after %load_ext nbtrack.
    in_order = ["data", "hyperparameters", "baseline", "broken", "status", "baseline"]
    assert [e.source for e in lineage(first.info.run_id, client)] == [code[i] for i in in_order[:3]]
    executions = lineage(rerun.info.run_id, client)
    assert [e.source for e in executions] == [code[i] for i in in_order]
    assert [e.ok for e in executions] == [True, True, True, False, True, True]


def test_interrupted_cell_makes_a_killed_run(
    tmp_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio
    import threading
    import time

    store = tmp_dir / "store"
    monkeypatch.setenv("NBTRACK_TRACKING_URI", str(store))
    started = tmp_dir / "started"
    v4 = nbformat.v4
    nb = v4.new_notebook(
        cells=[
            v4.new_code_cell("%load_ext nbtrack", id="load"),
            v4.new_code_cell(
                "%%track slow\nimport pathlib, time\nsteps = 0\n"
                f"pathlib.Path({str(started)!r}).touch()\n"
                "for _ in range(600):\n    time.sleep(0.05)\n    steps += 1\n",
                id="slow",
                metadata={"tags": ["raises-exception"]},
            ),
            v4.new_code_cell("%%track after\nx = 1\n", id="after"),
        ]
    )
    client = nbclient.NotebookClient(
        nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(tmp_dir)}}
    )

    def interrupt_when_started() -> None:
        deadline = time.monotonic() + 60
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        assert client.km is not None
        # nbclient's kernel manager is async; this thread has no loop of its own.
        asyncio.run(client.km.interrupt_kernel())

    with client.setup_kernel():
        client.execute_cell(nb.cells[0], 0)
        interrupter = threading.Thread(target=interrupt_when_started)
        interrupter.start()
        client.execute_cell(nb.cells[1], 1)
        interrupter.join()
        client.execute_cell(nb.cells[2], 2)

    errors = [o for o in nb.cells[1].outputs if o.output_type == "error"]
    assert [e.ename for e in errors] == ["KeyboardInterrupt"]
    runs = nbtrack.Client(str(store)).search_runs(["0"], order_by=["attributes.start_time ASC"])
    assert [(r.info.run_name, r.info.status) for r in runs] == [
        ("slow", "KILLED"),
        ("after", "FINISHED"),
    ]
    assert 0 < runs[0].data.metrics["steps"] < 600


def test_quickstart_example_runs_and_tracks(tmp_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    example = Path(__file__).parents[2] / "examples" / "quickstart.ipynb"
    notebook = tmp_dir / "quickstart.ipynb"
    shutil.copy(example, notebook)
    store = tmp_dir / "store"
    monkeypatch.setenv("NBTRACK_TRACKING_URI", str(store))
    monkeypatch.setenv("NBTRACK_NOTEBOOK", str(notebook))

    nb = _execute(notebook)

    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    client = nbtrack.Client(str(store))
    experiment = client.get_experiment_by_name("quickstart")
    assert experiment is not None
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"
    assert run.data.params == {"C": "1.0", "max_iter": "500"}
    assert 0.8 < run.data.metrics["accuracy"] <= 1.0
    lineage_out = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    assert "# %%track first-model -e quickstart" in lineage_out


def test_run_left_open_ends_finished_at_kernel_shutdown(
    tmp_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_dir / "store"
    monkeypatch.setenv("NBTRACK_TRACKING_URI", str(store))
    v4 = nbformat.v4
    nb = v4.new_notebook(
        cells=[
            v4.new_code_cell("%load_ext nbtrack", id="load"),
            v4.new_code_cell("import nbtrack as nbt\nrun = nbt.start_run(run_name='open')", id="a"),
            v4.new_code_cell("1 / 0", id="b", metadata={"tags": ["raises-exception"]}),
            v4.new_code_cell("%nbtrack status", id="c"),
        ]
    )
    nbclient.NotebookClient(
        nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(tmp_dir)}}
    ).execute()
    status = "".join(o.get("text", "") for o in nb.cells[3].outputs)
    assert "active run: " in status and "(open, experiment 0)" in status
    (run,) = nbtrack.Client(str(store)).search_runs(["0"])
    assert run.info.run_name == "open"
    assert run.info.status == "FINISHED"
