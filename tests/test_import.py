"""``import nbtrack`` stays light, and its public names are pinned."""

from __future__ import annotations

import subprocess
import sys

import nbtrack

HEAVY = (
    "pandas",
    "sqlalchemy",
    "numpy",
    "ipywidgets",
    "altair",
    "tornado",
    "jupyter_server",
    "alembic",
    "IPython",
)


def test_import_pulls_in_no_heavy_library() -> None:
    code = f"import sys, nbtrack; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_all_is_sorted_and_every_name_resolves() -> None:
    assert nbtrack.__all__ == sorted(nbtrack.__all__)
    for name in nbtrack.__all__:
        assert getattr(nbtrack, name) is not None, name


def test_mlflow_client_alias_and_errors_subclass_builtins() -> None:
    assert nbtrack.MlflowClient is nbtrack.Client
    assert issubclass(nbtrack.InvalidFilter, ValueError)
    assert issubclass(nbtrack.NotFoundError, LookupError)
    assert issubclass(nbtrack.MetricValueError, TypeError)
    assert issubclass(nbtrack.SchemaMismatch, nbtrack.NbtrackError)


def test_lazy_fluent_extras_name_every_public_function_of_their_module() -> None:
    # nbtrack/__init__.py lists them literally so `import nbtrack` need not load the module;
    # this keeps that list and the module's __all__ from drifting apart.
    from nbtrack.tracking import fluent_extras

    assert set(nbtrack._FLUENT_EXTRAS) == set(fluent_extras.__all__)
