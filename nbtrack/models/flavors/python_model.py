"""The ``python_model`` and ``callable`` flavors: arbitrary Python, cloudpickled.

A :class:`~nbtrack.models.pyfunc.PythonModel` subclass (with its artifacts
and code paths) or any plain callable is written with cloudpickle, and the
folder's ``python_function`` block names a loader module shipped inside the
folder (``code/nbtrack_pyfunc_loader.py``). That is the form MLflow loads
without our class deriving from its own (see ``_pyfunc_loader``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from nbtrack.errors import InvalidInput, NotFoundError
from nbtrack.models.environment import pickled_modules
from nbtrack.models.flavors import SavedFlavor, reject_unknown
from nbtrack.models.model import Model

__all__ = ["CALLABLE", "LOADER_MODULE", "PYTHON_MODEL", "PythonModelFlavor"]

#: The module name the loader is shipped under in ``code/``.
LOADER_MODULE = "nbtrack_pyfunc_loader"
CODE_DIR = "code"
ARTIFACTS_DIR = "artifacts"


def _copy_into(src: str | os.PathLike[str], folder: Path) -> str:
    source = Path(src)
    if not source.exists():
        raise NotFoundError(f"{source} does not exist")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / source.name
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True)
    else:
        shutil.copy2(source, target)
    return target.name


class PythonModelFlavor:
    """Save and load python models (``kind="python_model"``) or plain callables."""

    loader_modules: tuple[str, ...] = (LOADER_MODULE,)

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.name = kind

    def accepts(self, model: Any) -> bool:
        """A ``PythonModel`` instance, or (for ``callable``) any other callable object."""
        from nbtrack.models.pyfunc import PythonModel

        if self.kind == "python_model":
            return isinstance(model, PythonModel)
        return callable(model) and not isinstance(model, type)

    def save(
        self,
        model: Any,
        path: Path,
        artifacts: dict[str, str | os.PathLike[str]] | None = None,
        code_paths: list[str | os.PathLike[str]] | None = None,
        **options: Any,
    ) -> SavedFlavor:
        """Pickle the model, copy its artifacts and code, ship the loader."""
        import cloudpickle

        reject_unknown(self.name, options, ("artifacts", "code_paths"))
        if artifacts and self.kind != "python_model":
            raise InvalidInput("artifacts are only for PythonModel subclasses, not callables")
        code = path / CODE_DIR
        code.mkdir()
        shutil.copy2(Path(__file__).with_name("_pyfunc_loader.py"), code / f"{LOADER_MODULE}.py")
        for src in code_paths or []:
            _copy_into(src, code)
        saved_artifacts: dict[str, str] = {}
        for name, src in (artifacts or {}).items():
            if "/" in name or name in ("", ".", ".."):
                raise InvalidInput(f"Artifact name {name!r} must be a plain name")
            if "://" in str(src):
                raise InvalidInput(
                    f"Artifact {name!r} is a URI ({src}); download it and pass the local path"
                )
            rel = _copy_into(src, path / ARTIFACTS_DIR / name)
            saved_artifacts[name] = f"{ARTIFACTS_DIR}/{name}/{rel}"
        payload = cloudpickle.dumps(model)
        (path / "python_model.pkl").write_bytes(payload)
        modules = {"cloudpickle", "yaml"} | pickled_modules(payload)
        return SavedFlavor(
            flavors={
                "python_function": {
                    "loader_module": LOADER_MODULE,
                    "code": CODE_DIR,
                    "python_model": "python_model.pkl",
                    "model_kind": self.kind,
                    "artifacts": saved_artifacts,
                    "cloudpickle_version": cloudpickle.__version__,
                }
            },
            modules=sorted(modules),
        )

    def load(self, path: Path, mlmodel: Model) -> Any:
        """Unpickle the model and call its ``load_context`` with its artifacts."""
        from nbtrack.models.flavors._pyfunc_loader import _load_pyfunc

        return _load_pyfunc(str(path))


PYTHON_MODEL = PythonModelFlavor("python_model")
CALLABLE = PythonModelFlavor("callable")
