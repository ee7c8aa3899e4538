"""Bringing runs from elsewhere: ``nbtrack import-mlflow`` readers and the run-copy primitive.

- :mod:`nbtrack.migrate.copy_run` copies one run with its id (import and sync use it);
- :mod:`nbtrack.migrate.sources` opens an MLflow store read-only (SQL, ``mlruns``, REST);
- :mod:`nbtrack.migrate.importer` copies a whole MLflow store through ``nbtrack.Client``.
"""

from __future__ import annotations
