"""Reading MLflow's ``MLproject`` format: entry points, typed parameters, the environment.

The rules are MLflow's (``mlflow/projects/_project_spec.py``): a folder without
an ``MLproject`` file can still run a ``.py`` or ``.sh`` entry point;
parameters are ``float``, ``int``, ``string``, ``path`` or ``uri`` with an
optional default; values are shell-quoted into the command. nbtrack checks
more before anything runs: a value of the wrong type or a parameter the entry
point does not declare is an error naming it.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbtrack.errors import InvalidInput

__all__ = ["EntryPoint", "Parameter", "Project", "load_project"]

TYPES = ("float", "int", "string", "path", "uri")


@dataclass(frozen=True, slots=True)
class Parameter:
    """One declared parameter of an entry point."""

    name: str
    type: str = "string"
    default: Any = None

    def resolve(self, text: str, folders: list[Path]) -> str:
        """Check ``text`` against the type and return the value to substitute.

        ``path`` values are made absolute, looked up in ``folders`` in order
        (the working directory, then the project).

        Raises
        ------
        InvalidInput
            The text is not of the parameter's type, or a path does not exist.
        """
        if self.type == "float":
            try:
                float(text)
            except ValueError:
                raise InvalidInput(
                    f"Parameter {self.name!r} must be a float, got {text!r}"
                ) from None
        elif self.type == "int":
            try:
                int(text)
            except ValueError:
                raise InvalidInput(
                    f"Parameter {self.name!r} must be an int, got {text!r}"
                ) from None
        elif self.type == "path" and "://" not in text:
            for folder in folders:
                candidate = (folder / text).resolve()
                if candidate.exists():
                    return str(candidate)
            where = " or ".join(str(f) for f in folders)
            raise InvalidInput(
                f"Parameter {self.name!r} is a path, but {text!r} exists in neither {where}"
            )
        elif self.type == "uri" and not text:
            raise InvalidInput(f"Parameter {self.name!r} must be a URI, got an empty value")
        return text


@dataclass(frozen=True, slots=True)
class EntryPoint:
    """A named command with its parameters."""

    name: str
    command: str
    parameters: dict[str, Parameter] = field(default_factory=dict)

    def values(self, given: dict[str, str], folders: list[Path]) -> dict[str, str]:
        """Return every parameter's value (given or default), checked.

        Raises
        ------
        InvalidInput
            An unknown parameter, a missing one without default, or a bad value.
        """
        unknown = sorted(set(given) - set(self.parameters))
        if unknown:
            known = ", ".join(self.parameters) or "none"
            raise InvalidInput(
                f"Unknown parameter {unknown[0]!r} for entry point {self.name!r}; "
                f"its parameters: {known}"
            )
        values: dict[str, str] = {}
        for name, parameter in self.parameters.items():
            if name in given:
                text = given[name]
            elif parameter.default is not None:
                text = str(parameter.default)
            else:
                raise InvalidInput(f"No value given for parameter {name!r}, which has no default")
            values[name] = parameter.resolve(text, folders)
        return values

    def command_line(self, values: dict[str, str]) -> str:
        """The command with the values substituted, each shell-quoted."""
        try:
            return self.command.format(**{k: shlex.quote(v) for k, v in values.items()})
        except (KeyError, IndexError) as exc:
            raise InvalidInput(
                f"Entry point {self.name!r}'s command uses {exc} which is not a parameter"
            ) from None


@dataclass(frozen=True, slots=True)
class Project:
    """An MLproject folder."""

    path: Path
    name: str
    entry_points: dict[str, EntryPoint]
    python_env: Path | None = None
    conda_env: Path | None = None
    docker_env: dict[str, Any] | None = None

    def entry_point(self, name: str) -> EntryPoint:
        """Return a declared entry point, or one for a ``.py``/``.sh`` file of the project.

        Raises
        ------
        InvalidInput
            Neither a declared entry point nor a runnable file.
        """
        if name in self.entry_points:
            return self.entry_points[name]
        suffix = os.path.splitext(name)[1]
        runners = {".py": "python", ".sh": os.environ.get("SHELL", "bash")}
        if suffix in runners and (self.path / name).is_file():
            return EntryPoint(name, f"{runners[suffix]} {shlex.quote(name)}")
        declared = ", ".join(self.entry_points) or "none"
        raise InvalidInput(
            f"No entry point {name!r} in {self.path} (declared: {declared}) and no "
            f".py or .sh file by that name"
        )


def _parameter(name: str, spec: Any, where: str) -> Parameter:
    if isinstance(spec, str):
        kind, default = spec, None
    elif isinstance(spec, dict):
        kind, default = spec.get("type", "string"), spec.get("default")
    else:
        raise InvalidInput(f"{where}: parameter {name!r} must be a type or a mapping")
    if kind not in TYPES:
        raise InvalidInput(
            f"{where}: parameter {name!r} has unknown type {kind!r}; use one of {', '.join(TYPES)}"
        )
    return Parameter(name, kind, default)


def _find_file(folder: Path) -> Path | None:
    for child in folder.iterdir():
        if child.name.lower() == "mlproject" and child.is_file():
            return child
    return None


def load_project(path: str | os.PathLike[str]) -> Project:
    """Read the project in folder ``path``.

    Raises
    ------
    InvalidInput
        Not a local folder, an unreadable ``MLproject``, an unknown parameter
        type, or an environment file it names that is missing.
    """
    import yaml

    folder = Path(path)
    if "://" in str(path) or str(path).startswith("git@"):
        raise InvalidInput(f"Only local project folders can be run, not {str(path)!r}")
    if not folder.is_dir():
        raise InvalidInput(f"No project folder at {folder}")
    folder = folder.resolve()
    spec_file = _find_file(folder)
    if spec_file is None:
        python_env = folder / "python_env.yaml"
        return Project(folder, folder.name, {}, python_env if python_env.is_file() else None)
    try:
        document = yaml.safe_load(spec_file.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise InvalidInput(f"Cannot read {spec_file}: {exc}") from None
    if not isinstance(document, dict):
        raise InvalidInput(f"{spec_file} must be a YAML mapping")
    entry_points: dict[str, EntryPoint] = {}
    for name, entry in (document.get("entry_points") or {}).items():
        where = f"{spec_file.name}, entry point {name!r}"
        if not isinstance(entry, dict) or not isinstance(entry.get("command"), str):
            raise InvalidInput(f"{where} needs a command")
        parameters = {
            str(key): _parameter(str(key), value, where)
            for key, value in (entry.get("parameters") or {}).items()
        }
        entry_points[str(name)] = EntryPoint(str(name), entry["command"], parameters)

    def env_file(key: str) -> Path | None:
        name = document.get(key)
        if name is None:
            return None
        env_path = folder / str(name)
        if not env_path.is_file():
            raise InvalidInput(f"{spec_file.name} names {key} {name!r}, which does not exist")
        return env_path

    return Project(
        path=folder,
        name=str(document.get("name") or folder.name),
        entry_points=entry_points,
        python_env=env_file("python_env"),
        conda_env=env_file("conda_env"),
        docker_env=document.get("docker_env"),
    )
