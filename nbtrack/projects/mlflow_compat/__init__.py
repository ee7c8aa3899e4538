"""A stand-in ``mlflow`` package that logs with nbtrack, for MLflow projects run by ``nbtrack run``.

MLflow's example projects (``sklearn_elasticnet_wine``…) ``import mlflow``.
When MLflow is not installed where such a project runs, ``nbtrack run`` puts
this folder on ``PYTHONPATH``: its ``mlflow`` package re-exports nbtrack's
MLflow-compatible API, so the project's calls land in the nbtrack run.
"""
