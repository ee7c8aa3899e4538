"""Start a real ``mlflow server`` (MLflow 3.17, in its own venv) for side-by-side tests.

The same requests go to it and to ``nbtrack server``; tests compare the answers.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
from tracking_servers import free_port

__all__ = ["mlflow_server"]


@contextmanager
def mlflow_server(folder: Path, *extra: str, **env_extra: str) -> Iterator[str]:
    """Run ``mlflow server`` over a fresh SQLite store in ``folder``; yield its base URL."""
    from bench.runner import default_cache_dir, ensure_mlflow

    python = ensure_mlflow(default_cache_dir())
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("NBTRACK_", "MLFLOW_")) and k != "PYTHONPATH"
    }
    # MLflow's CLI starts `uvicorn` by name: the venv's, as if the venv were activated.
    env["PATH"] = str(Path(python).parent) + os.pathsep + env.get("PATH", "")
    env.update(MLFLOW_DISABLE_TELEMETRY="true", **env_extra)
    args = [python, "-m", "mlflow", "server", "--backend-store-uri"]
    args += [f"sqlite:///{folder / 'mlflow.db'}", "--artifacts-destination", str(folder / "art")]
    args += ["--host", "127.0.0.1", "--port", str(port), "--workers", "1", *extra]
    log = folder / "mlflow-server.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            args, cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600  # bounds a hang only: MLflow starts slowly under load
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"mlflow server exited: {log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"mlflow server did not answer: {log.read_text()[-3000:]}")
            time.sleep(0.25)
        yield url
    finally:
        # The whole group: uvicorn's worker process goes with MLflow's CLI.
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait(timeout=30)
