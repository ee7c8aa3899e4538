"""Bench for projects (issue: export and run): export time of a 100-cell notebook, and
the time ``nbtrack run --env-manager local`` adds over running ``python main.py`` directly.

Run with ``python -m bench.projects``; prints one JSON line.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _notebook(path: Path, cells: int) -> None:
    import nbformat

    sources = ["%load_ext nbtrack", "alpha = 0.5\nsteps = 10"]
    for index in range(cells - 2):
        if index % 10 == 0:
            sources.append(f"%%track step{index}\nloss_{index} = alpha * {index} + 1.0")
        else:
            sources.append(f"import math\nvalue_{index} = math.sqrt({index}) * alpha\n# note")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.cells[1].metadata["tags"] = ["parameters"]
    nbformat.write(nb, path)


def _cli(*args: str, cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "nbtrack", *args], cwd=cwd, env=env, check=True, capture_output=True
    )
    return time.perf_counter() - started


def main(repeats: int = 5) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _notebook(folder / "nb.ipynb", 100)
        env = {**os.environ, "NBTRACK_TRACKING_URI": str(folder / "store")}
        exports = []
        for index in range(repeats):
            exports.append(
                _cli("export", "nb.ipynb", "--to", "mlproject", f"p{index}", cwd=folder, env=env)
            )
        project = folder / "p0"
        direct, via_run = [], []
        for _ in range(repeats):
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "main.py"], cwd=project, env=env, check=True, capture_output=True
            )
            direct.append(time.perf_counter() - started)
            via_run.append(_cli("run", str(project), cwd=folder, env=env))
    result = {
        "export_100_cells_s": statistics.median(exports),
        "python_main_py_s": statistics.median(direct),
        "nbtrack_run_s": statistics.median(via_run),
    }
    result["run_overhead_ms"] = (result["nbtrack_run_s"] - result["python_main_py_s"]) * 1000
    return result


if __name__ == "__main__":
    print(json.dumps({"workload": "projects", **main()}))
