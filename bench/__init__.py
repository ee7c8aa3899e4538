"""Benchmarks that drive nbtrack and MLflow through the same workloads.

``python -m bench`` runs the workloads W1–W5 (see ``bench.workloads``) against
nbtrack; ``python -m bench --against mlflow`` also runs them against MLflow in a
venv of its own and prints both side by side with nbtrack's targets.

Every workload runs in a fresh interpreter (``python -m bench._worker``) that
prints one JSON line, so nothing one workload imported or cached can flatter
the next. The worker and the workloads import only the standard library at
module level: they also run inside MLflow's venv, where nbtrack is not
installed.
"""
