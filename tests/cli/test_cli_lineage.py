"""``nbtrack lineage RUN_ID``: a %%track run's kernel history as a runnable script."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbtrack
from nbtrack.entities import CellExecution


def test_lineage_prints_a_runnable_script(invoke, store_uri: str, tmp_path: Path) -> None:
    client = nbtrack.Client(store_uri)
    sources = ["%matplotlib inline\na = 2", "b = a * 3", "%%track demo\nc = a + b\nprint(c)"]
    client.log_cell_executions(
        [
            CellExecution("sess", None, i + 1, src, 1000 + i, 1.0, True)
            for i, src in enumerate(sources)
        ]
    )
    run = client.create_run(
        "0", tags={"nbtrack.lineage.session_id": "sess", "nbtrack.lineage.end": "3"}
    )
    script = invoke("lineage", run.info.run_id[:8]).stdout
    assert "# %matplotlib inline" in script and "# %%track demo" in script
    path = tmp_path / "replay.py"
    invoke("lineage", run.info.run_id, "-o", str(path))
    assert path.read_text() == script
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, check=True)
    assert done.stdout == "8\n"


def test_lineage_of_a_run_without_one_is_an_error(invoke, store_uri: str) -> None:
    run = nbtrack.Client(store_uri).create_run("0")
    result = invoke("lineage", run.info.run_id, code=1)
    assert "no lineage" in result.stderr
