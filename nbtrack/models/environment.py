"""A model folder's environment files: ``requirements.txt``, ``python_env.yaml``, ``conda.yaml``.

A model is only as reproducible as its dependencies, so each distribution the
model needs is pinned to the version installed now. Versions come from
``importlib.metadata`` (no pip subprocess: MLflow's pip-based inference is
most of its multi-second ``save_model``).
"""

from __future__ import annotations

import platform
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

__all__ = [
    "CONDA_FILE",
    "PYTHON_ENV_FILE",
    "REQUIREMENTS_FILE",
    "pickled_modules",
    "pinned",
    "write_environment",
]

REQUIREMENTS_FILE = "requirements.txt"
PYTHON_ENV_FILE = "python_env.yaml"
CONDA_FILE = "conda.yaml"


# Import name -> distribution name, for the common ones that differ.
_ALIASES = {
    "sklearn": "scikit-learn",
    "yaml": "PyYAML",
    "PIL": "pillow",
    "cv2": "opencv-python",
    "skimage": "scikit-image",
}


@lru_cache(maxsize=1)
def _module_distributions() -> dict[str, list[str]]:
    from importlib.metadata import packages_distributions

    return dict(packages_distributions())


@lru_cache(maxsize=256)
def _version(distribution: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def pinned(modules: Iterable[str]) -> list[str]:
    """Return ``name==version`` lines for the distributions providing ``modules``.

    Parameters
    ----------
    modules:
        Top-level import names (``sklearn``) or distribution names
        (``scikit-learn``); unknown names are skipped.

    Returns
    -------
    list of str
        Sorted, without duplicates.
    """
    lines: dict[str, str] = {}
    for module in modules:
        top = module.split(".", 1)[0]
        # Most import names are their distribution's name; only the rest need the
        # (tens of milliseconds) scan of every installed distribution.
        known = _ALIASES.get(top, top)
        dists = [known] if _version(known) is not None else _module_distributions().get(top, [])
        for dist in dists:
            found = _version(dist)
            if found is not None:
                lines[dist.lower()] = f"{dist}=={found}"
    return [lines[k] for k in sorted(lines)]


def write_environment(path: str | Path, requirements: list[str]) -> dict[str, str]:
    """Write the three environment files into a model folder.

    Parameters
    ----------
    path:
        The model folder.
    requirements:
        pip requirement lines (usually from :func:`pinned`).

    Returns
    -------
    dict
        The ``env`` block of the ``python_function`` flavor
        (``{"conda": ..., "virtualenv": ...}``).
    """
    import yaml

    folder = Path(path)
    python = platform.python_version()
    (folder / REQUIREMENTS_FILE).write_text("\n".join(requirements) + "\n")
    pip = _version("pip")
    build = [f"pip=={pip}" if pip else "pip", "setuptools", "wheel"]
    (folder / PYTHON_ENV_FILE).write_text(
        yaml.safe_dump(
            {
                "python": python,
                "build_dependencies": build,
                "dependencies": [f"-r {REQUIREMENTS_FILE}"],
            },
            sort_keys=False,
        )
    )
    (folder / CONDA_FILE).write_text(
        yaml.safe_dump(
            {
                "channels": ["conda-forge"],
                "dependencies": [f"python={python}", "pip", {"pip": list(requirements)}],
                "name": "nbtrack-env",
            },
            sort_keys=False,
        )
    )
    return {"conda": CONDA_FILE, "virtualenv": PYTHON_ENV_FILE}


def pickled_modules(payload: bytes) -> set[str]:
    """Top-level third-party modules a pickle refers to (what it needs installed to load).

    Every string in the pickle that names an imported module counts; standard
    library modules and nbtrack are left out.
    """
    import pickletools
    import sys

    found: set[str] = set()
    for opcode, arg, _ in pickletools.genops(payload):
        if isinstance(arg, str) and opcode.name in (
            "SHORT_BINUNICODE",
            "BINUNICODE",
            "UNICODE",
            "GLOBAL",
        ):
            name = arg.split(" ", 1)[0]
            if name in sys.modules:
                top = name.split(".", 1)[0]
                # nbtrack itself is not needed: the shipped loader stands in for its classes.
                if top not in sys.stdlib_module_names and top not in ("__main__", "nbtrack"):
                    found.add(top)
    return found
