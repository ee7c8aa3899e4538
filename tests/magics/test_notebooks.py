"""Real notebooks run by nbclient in a real ``python3`` kernel, read back through the store."""

from __future__ import annotations

import html
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
    # The summary after a %%track cell is a widget whose button opens the run; its
    # static HTML and plain text still carry the line.
    widget = "application/vnd.jupyter.widget-view+json"
    (summary,) = [o for o in cells["baseline"].outputs if widget in o.get("data", {})]
    static = html.unescape(summary.data["text/html"])
    assert "nbtrack: run 'baseline' FINISHED" in static
    assert "open run" not in static and "Static view" not in static  # just the line

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
    # The cell that loaded nbtrack comes from IPython's history: its outcome is unknown.
    in_order = ["load", "data", "hyperparameters", "baseline", "broken", "status", "baseline"]
    assert [e.source for e in lineage(first.info.run_id, client)] == [code[i] for i in in_order[:4]]
    executions = lineage(rerun.info.run_id, client)
    assert [e.source for e in executions] == [code[i] for i in in_order]
    assert [e.ok for e in executions] == [None, True, True, True, False, True, True]


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


def _execute_in_order(path: Path, order: list[str]) -> Any:
    """Execute the cells of ``path`` with the ids in ``order`` (repeats allowed), in one kernel."""
    nb = nbformat.read(path, as_version=4)
    index = {cell.get("id"): i for i, cell in enumerate(nb.cells)}
    client = nbclient.NotebookClient(
        nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(path.parent)}}
    )
    with client.setup_kernel():
        for cell_id in order:
            client.execute_cell(nb.cells[index[cell_id]], index[cell_id])
    return nb


def test_out_of_order_and_rerun_cells_in_lineage(
    tmp_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbtrack.tracking.lineage import lineage, lineage_script

    notebook = tmp_dir / "out_of_order.ipynb"
    shutil.copy(NOTEBOOKS / "out_of_order.ipynb", notebook)
    store = tmp_dir / "store"
    monkeypatch.setenv("NBTRACK_TRACKING_URI", str(store))
    order = [
        "load",
        "set_a5",
        "compute_b",
        "set_a1",
        "total",  # 1 + 50: b was computed while a was 5
        "compute_b",
        "total",  # 1 + 10
        "start",
        "set_a5",
        "end",
    ]
    nb = _execute_in_order(notebook, order)
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    code = {cell.id: cell.source for cell in nb.cells if cell.cell_type == "code"}

    client = nbtrack.Client(str(store))
    runs = client.search_runs(["0"], order_by=["attributes.start_time ASC"])
    assert [(r.info.run_name, r.info.status) for r in runs] == [
        ("total", "FINISHED"),
        ("total", "FINISHED"),
        ("in-code", "FINISHED"),
    ]
    first, second, in_code = runs
    assert first.data.metrics["total"] == 51 and second.data.metrics["total"] == 11
    assert in_code.data.metrics == {"b": 10.0}

    def sources(run: Any) -> list[str]:
        return [e.source for e in lineage(run.info.run_id, client)]

    assert sources(first) == [code[i] for i in order[:5]]
    assert sources(second) == [code[i] for i in order[:7]]
    # A run started with nbt.start_run() records its lineage too, up to the cell that ended it.
    assert sources(in_code) == [code[i] for i in order]
    assert in_code.data.tags["nbtrack.lineage.start"] == "7"
    executions = lineage(in_code.info.run_id, client)
    counts = [e.execution_count for e in executions]
    assert counts == sorted(counts) and len(set(counts)) == len(order)
    assert [e.ok for e in executions] == [None] + [True] * (len(order) - 1)

    # The replay script reproduces the second run's result.
    namespace: dict[str, Any] = {}
    exec(lineage_script(lineage(second.info.run_id, client)), namespace)
    assert namespace["total"] == 11


def test_autolog_pipeline_and_grid_search_notebook(
    tmp_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbtrack.tracking.lineage import lineage

    notebook = tmp_dir / "autolog.ipynb"
    shutil.copy(NOTEBOOKS / "autolog.ipynb", notebook)
    store = tmp_dir / "store"
    monkeypatch.setenv("NBTRACK_TRACKING_URI", str(store))

    nb = _execute(notebook)
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    code = {cell.id: cell.source for cell in nb.cells if cell.cell_type == "code"}

    client = nbtrack.Client(str(store))
    runs = client.search_runs(["0"], order_by=["attributes.start_time ASC"])
    by_parent: dict[str | None, list[Any]] = {}
    for run in runs:
        by_parent.setdefault(run.data.tags.get("nbtrack.parent_run_id"), []).append(run)
    pipeline, search = by_parent[None]

    # One run for the Pipeline's fit (its steps' fits log nothing of their own).
    assert (pipeline.info.run_name, pipeline.info.status) == ("Pipeline", "FINISHED")
    assert pipeline.data.tags["estimator_class"] == "sklearn.pipeline.Pipeline"
    assert "steps" in pipeline.data.params
    assert pipeline.data.params["training_data.shape"] == "(112, 4)"
    assert 0.8 < pipeline.data.metrics["training_accuracy"] <= 1.0
    # The accuracy_score call after the fit, in the same cell, went to its run.
    assert 0.8 < pipeline.data.metrics["accuracy_score"] <= 1.0
    artifacts = {f.path for f in client.list_artifacts(pipeline.info.run_id)}
    assert {"model", "environment"} <= artifacts
    assert lineage(pipeline.info.run_id, client)[-1].source == code["pipeline"]

    # The grid search: a parent run with the best candidate, one child run per candidate.
    assert (search.info.run_name, search.info.status) == ("GridSearchCV", "FINISHED")
    assert {"best_C", "best_kernel"} <= set(search.data.params)
    assert "best_cv_score" in search.data.metrics
    children = by_parent[search.info.run_id]
    assert len(children) == 4 and pipeline.info.run_id not in by_parent
    grid = sorted((c.data.params["C"], c.data.params["kernel"]) for c in children)
    assert grid == [("0.1", "linear"), ("0.1", "rbf"), ("1.0", "linear"), ("1.0", "rbf")]
    for child in children:
        assert child.info.status == "FINISHED"
        assert {"mean_test_score", "std_test_score", "rank_test_score"} <= set(child.data.metrics)
    best = min(children, key=lambda c: c.data.metrics["rank_test_score"])
    assert best.data.params["C"] == search.data.params["best_C"]
    assert lineage(search.info.run_id, client)[-1].source == code["search"]


def test_altair_chart_in_a_real_kernel(tmp_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json
    import re

    store = tmp_dir / "store"
    monkeypatch.setenv("NBTRACK_TRACKING_URI", str(store))
    v4 = nbformat.v4
    nb = v4.new_notebook(
        cells=[
            v4.new_code_cell("%load_ext nbtrack", id="load"),
            v4.new_code_cell(
                "%%track chart --quiet\nimport altair as alt, pandas as pd\n"
                "data = pd.DataFrame({'step': [1, 2, 3], 'loss': [0.9, 0.5, 0.3]})\n"
                "alt.Chart(data).mark_line().encode(x='step', y='loss')\n",
                id="chart",
            ),
        ]
    )
    nbclient.NotebookClient(
        nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(tmp_dir)}}
    ).execute()
    # The chart still shows in the notebook (a result, not a display_data).
    assert [o.output_type for o in nb.cells[1].outputs] == ["execute_result"]

    client = nbtrack.Client(str(store))
    (run,) = client.search_runs(["0"])
    assert run.info.status == "FINISHED"
    paths = {f.path for f in client.list_artifacts(run.info.run_id, "figures")}
    assert paths == {"figures/figure-1.html", "figures/figure-1.vl.json"}
    local = Path(client.download_artifacts(run.info.run_id, "figures", tmp_dir / "dl"))
    spec = json.loads((local / "figure-1.vl.json").read_text())
    assert spec["mark"]["type"] == "line" and "vega-lite/v6" in spec["$schema"]
    html = (local / "figure-1.html").read_text()
    assert not re.search(r"<script[^>]*\bsrc=", html) and len(html) > 100_000
