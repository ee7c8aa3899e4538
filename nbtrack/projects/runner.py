"""``nbtrack run``: run an MLproject's entry point as one tracked run.

The runner checks every parameter before anything runs, creates the run
(tagged as MLflow tags project runs), and starts the command in the project
folder with ``NBTRACK_RUN_ID`` and ``NBTRACK_TRACKING_URI`` set, so the
process logs into that run. Its output streams through; its exit code
decides the run's status (FAILED on non-zero, KILLED on interrupt).

Projects written for MLflow (``import mlflow``) log into the run too: when
MLflow is not installed where the project runs, a stand-in ``mlflow``
package (:mod:`nbtrack.projects.mlflow_compat`) serves its calls.

Environments: ``local`` runs with this interpreter first on ``PATH``;
``virtualenv`` builds a venv from the project's ``python_env.yaml`` (cached
by the content of its files) with nbtrack installed in it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from nbtrack import env
from nbtrack.errors import InvalidInput

if TYPE_CHECKING:
    from nbtrack.entities import Param
    from nbtrack.projects.mlproject import Project
    from nbtrack.tracking.client import Client

__all__ = ["ENV_MANAGERS", "ProjectRunResult", "run_project"]

ENV_MANAGERS = ("local", "virtualenv")


@dataclass(frozen=True, slots=True)
class ProjectRunResult:
    """The run a project execution made, and the command's exit code."""

    run_id: str
    exit_code: int
    status: str


def _absolute_uri(uri: str) -> str:
    # The child runs in the project folder: a relative store path must not move.
    return uri if "://" in uri or ":" in uri.split("/")[0] else os.path.abspath(uri)


def _experiment_id(client: Client, name: str | None) -> str:
    from nbtrack.errors import AlreadyExistsError

    name = name or os.environ.get(env.NBTRACK_EXPERIMENT_NAME)
    if not name:
        return os.environ.get(env.NBTRACK_EXPERIMENT_ID) or "0"
    found = client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    try:
        return client.create_experiment(name)
    except AlreadyExistsError:  # made by another process meanwhile
        found = client.get_experiment_by_name(name)
        assert found is not None
        return found.experiment_id


def _cache_root() -> Path:
    root = os.environ.get("NBTRACK_CACHE_DIR")
    return Path(root) if root else Path.home() / ".cache" / "nbtrack"


def _nbtrack_requirement() -> str:
    """How pip installs this nbtrack: its source folder when installed from one."""
    import json
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        dist = distribution("nbtrack")
    except PackageNotFoundError:
        return str(Path(__file__).resolve().parents[2])
    direct = dist.read_text("direct_url.json")
    if direct:
        url = json.loads(direct).get("url", "")
        if url.startswith("file://"):
            return url[len("file://") :]
    return f"nbtrack=={dist.version}"


def _python_for(version: str | None) -> str:
    if not version:
        return sys.executable
    wanted = ".".join(str(version).split(".")[:2])
    current = f"{sys.version_info.major}.{sys.version_info.minor}"
    if wanted == current:
        return sys.executable
    found = shutil.which(f"python{wanted}")
    if found is None:
        raise InvalidInput(
            f"The project's python_env.yaml asks for Python {version}, which is not installed "
            f"here (this is Python {current}); install it or run with --env-manager local"
        )
    return found


def _virtualenv(project: Project) -> Path:
    """Return the bin folder of a venv built from the project's python_env.yaml (cached)."""
    import yaml

    if project.python_env is None:
        raise InvalidInput(
            f"{project.path} has no python_env.yaml to build a virtualenv from; "
            "run with --env-manager local"
        )
    spec = yaml.safe_load(project.python_env.read_text(encoding="utf-8")) or {}
    requirements = [str(r) for r in spec.get("dependencies") or []]
    digest = hashlib.sha256(project.python_env.read_bytes())
    for line in requirements:
        if line.startswith("-r"):
            digest.update((project.path / line[2:].strip()).read_bytes())
    nbtrack_source = _nbtrack_requirement()
    digest.update(nbtrack_source.encode())
    folder = _cache_root() / "envs" / digest.hexdigest()[:16]
    ready = folder / ".nbtrack-ready"
    bin_dir = folder / ("Scripts" if os.name == "nt" else "bin")
    if ready.exists():
        return bin_dir
    shutil.rmtree(folder, ignore_errors=True)
    python = _python_for(spec.get("python"))
    print(f"nbtrack: building a virtualenv for {project.name} in {folder}", file=sys.stderr)
    subprocess.run([python, "-m", "venv", str(folder)], check=True)
    pip = [str(bin_dir / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    build = [str(b) for b in spec.get("build_dependencies") or []]
    if build:
        subprocess.run([*pip, *build], check=True, cwd=project.path)
    if requirements:
        args = [part for line in requirements for part in line.split(maxsplit=1)]
        subprocess.run([*pip, *args], check=True, cwd=project.path)
    subprocess.run([*pip, nbtrack_source], check=True)
    ready.write_text(nbtrack_source)
    return bin_dir


def _has_mlflow(bin_dir: Path) -> bool:
    """Whether the project's Python can import the real MLflow (else the shim stands in)."""
    if bin_dir == Path(sys.executable).parent:
        import importlib.util

        return importlib.util.find_spec("mlflow") is not None
    probe = "import importlib.util, sys; sys.exit(importlib.util.find_spec('mlflow') is None)"
    return subprocess.run([str(bin_dir / "python"), "-c", probe], check=False).returncode == 0


def run_project(
    uri: str | os.PathLike[str],
    parameters: dict[str, str] | None = None,
    entry_point: str = "main",
    env_manager: str = "local",
    experiment_name: str | None = None,
    run_name: str | None = None,
    client: Client | None = None,
    tracking_uri: str | None = None,
) -> ProjectRunResult:
    """Run an entry point of the MLproject at ``uri`` as a tracked run.

    Parameters
    ----------
    uri:
        A local project folder.
    parameters:
        ``{name: text}`` values; the others take their defaults.
    entry_point:
        A declared entry point, or a ``.py``/``.sh`` file of the project.
    env_manager:
        ``local`` (this Python environment) or ``virtualenv``.
    experiment_name:
        Created if needed; the default experiment otherwise.
    run_name:
        The run's name (generated when None).
    client:
        The store to track into; the current tracking URI's by default.
    tracking_uri:
        The store, when no ``client`` is given (opened after the process starts).

    Returns
    -------
    ProjectRunResult

    Raises
    ------
    InvalidInput
        A bad folder, entry point, parameter (named) or environment, found
        before anything runs.
    """
    from nbtrack.entities import RunStatus
    from nbtrack.projects.mlproject import load_project
    from nbtrack.tracking.client import Client

    if env_manager not in ENV_MANAGERS:
        raise InvalidInput(
            f"Unknown env manager {env_manager!r}; use one of {', '.join(ENV_MANAGERS)}"
        )
    project = load_project(uri)
    entry = project.entry_point(entry_point)
    values = entry.values(dict(parameters or {}), [Path.cwd(), project.path])
    command = entry.command_line(values)
    if project.docker_env is not None:
        raise InvalidInput(f"{project.path} needs docker_env, which nbtrack run does not support")
    if project.conda_env is not None and env_manager != "local":
        if shutil.which("conda") is None:
            raise InvalidInput(
                f"{project.path} declares conda_env, but conda is not installed here; "
                "run with --env-manager local or give the project a python_env.yaml"
            )
        raise InvalidInput("conda environments are not supported; use --env-manager local")
    bin_dir = _virtualenv(project) if env_manager == "virtualenv" else Path(sys.executable).parent

    # The process starts first and the run is created while it boots (imports
    # take longer than an insert): its start_run() waits for the announced id.
    # This keeps nbtrack run's own cost off the project's start-up time.
    run_id = uuid.uuid4().hex
    if client is not None:
        tracking_uri = client.tracking_uri
    elif tracking_uri is None:
        from nbtrack.config import get_tracking_uri

        tracking_uri = get_tracking_uri()
    tracking_uri = _absolute_uri(tracking_uri)
    child_env = {
        **os.environ,
        env.NBTRACK_RUN_ID: run_id,
        env.NBTRACK_TRACKING_URI: tracking_uri,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    child_env.pop(env.NBTRACK_EXPERIMENT_ID, None)
    if experiment_name:
        child_env[env.NBTRACK_EXPERIMENT_NAME] = experiment_name
    if not _has_mlflow(bin_dir):
        shim = str(Path(__file__).parent / "mlflow_compat")
        child_env["PYTHONPATH"] = os.pathsep.join(
            p for p in (shim, os.environ.get("PYTHONPATH")) if p
        )
    if env_manager == "virtualenv":
        child_env["VIRTUAL_ENV"] = str(bin_dir.parent)
    shell = os.environ.get("SHELL") or "/bin/sh"
    print(f"nbtrack: running {command!r} in run {run_id}", file=sys.stderr)
    process = subprocess.Popen([shell, "-c", command], cwd=project.path, env=child_env)
    try:
        client = client or Client(tracking_uri)
        experiment_id = _experiment_id(client, experiment_name)
        tags = {
            "mlflow.source.type": "PROJECT",
            "mlflow.source.name": str(project.path),
            "mlflow.project.entryPoint": entry.name,
            "mlflow.project.backend": "local",
            "mlflow.project.env": env_manager,
            "nbtrack.project.command": command,
        }
        client.create_run(experiment_id, run_name=run_name, tags=tags, run_id=run_id)
        client.log_batch(run_id, params=_params(values))
    except BaseException:
        process.kill()
        process.wait()
        raise
    try:
        exit_code = process.wait()
    except KeyboardInterrupt:
        process.terminate()
        process.wait()
        client.set_terminated(run_id, RunStatus.KILLED)
        raise
    status = RunStatus.FINISHED if exit_code == 0 else RunStatus.FAILED
    client.set_terminated(run_id, status)
    return ProjectRunResult(run_id, exit_code, status)


def _params(values: dict[str, str]) -> list[Param]:
    from nbtrack.entities import Param

    return [Param(name, value) for name, value in values.items()]
