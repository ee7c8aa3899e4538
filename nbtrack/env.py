"""Names of the environment variables nbtrack reads, in one place."""

from __future__ import annotations

__all__ = [
    "JPY_SESSION_NAME",
    "MLFLOW_DEPLOYMENTS_TARGET",
    "MLFLOW_TRACKING_PASSWORD",
    "MLFLOW_TRACKING_TOKEN",
    "MLFLOW_TRACKING_USERNAME",
    "NBTRACK_ARTIFACT_ROOT",
    "NBTRACK_EXPERIMENT_ID",
    "NBTRACK_EXPERIMENT_NAME",
    "NBTRACK_FLUSH_INTERVAL",
    "NBTRACK_GATEWAY_URI",
    "NBTRACK_HTTP_RETRIES",
    "NBTRACK_HTTP_TIMEOUT",
    "NBTRACK_NOTEBOOK",
    "NBTRACK_RUN_ID",
    "NBTRACK_SERVER_ARTIFACTS_DESTINATION",
    "NBTRACK_SERVER_AUTH",
    "NBTRACK_SERVER_BACKEND_STORE_URI",
    "NBTRACK_SERVE_MAX_BODY_BYTES",
    "NBTRACK_SERVE_MODEL_URI",
    "NBTRACK_SYSTEM_METRICS",
    "NBTRACK_SYSTEM_METRICS_INTERVAL",
    "NBTRACK_TRACKING_PASSWORD",
    "NBTRACK_TRACKING_TOKEN",
    "NBTRACK_TRACKING_URI",
    "NBTRACK_TRACKING_USERNAME",
    "NBTRACK_USER",
]

#: Where the store lives: a folder, ``sqlite:///…``, ``postgresql://…`` or ``http(s)://…``.
NBTRACK_TRACKING_URI = "NBTRACK_TRACKING_URI"
#: Where artifacts go (any fsspec URL); defaults to the store's own folder.
NBTRACK_ARTIFACT_ROOT = "NBTRACK_ARTIFACT_ROOT"
#: A run to attach the first top-level ``start_run()`` to (set by ``nbtrack run``).
NBTRACK_RUN_ID = "NBTRACK_RUN_ID"
#: The experiment new runs go to when none is set in code.
NBTRACK_EXPERIMENT_NAME = "NBTRACK_EXPERIMENT_NAME"
NBTRACK_EXPERIMENT_ID = "NBTRACK_EXPERIMENT_ID"
#: Overrides the user name recorded on runs.
NBTRACK_USER = "NBTRACK_USER"
#: Seconds between background flushes of buffered metrics (at most 1).
NBTRACK_FLUSH_INTERVAL = "NBTRACK_FLUSH_INTERVAL"
#: The notebook a kernel runs, for runners that do not tell the kernel (nbclient, papermill).
NBTRACK_NOTEBOOK = "NBTRACK_NOTEBOOK"
#: ``1``/``true`` turns system metrics on for runs that do not say otherwise.
NBTRACK_SYSTEM_METRICS = "NBTRACK_SYSTEM_METRICS"
#: Seconds between system metric samples (default 10).
NBTRACK_SYSTEM_METRICS_INTERVAL = "NBTRACK_SYSTEM_METRICS_INTERVAL"
#: The model a ``nbtrack serve --workers N`` worker process loads.
NBTRACK_SERVE_MODEL_URI = "NBTRACK_SERVE_MODEL_URI"
#: The scoring server's request body limit, in bytes.
NBTRACK_SERVE_MAX_BODY_BYTES = "NBTRACK_SERVE_MAX_BODY_BYTES"
#: Set by Jupyter Server for the kernels it starts: the notebook's path (not nbtrack's own).
JPY_SESSION_NAME = "JPY_SESSION_NAME"
#: Credentials an http(s) tracking URI is called with: a bearer token, or a user and password.
NBTRACK_TRACKING_TOKEN = "NBTRACK_TRACKING_TOKEN"
NBTRACK_TRACKING_USERNAME = "NBTRACK_TRACKING_USERNAME"
NBTRACK_TRACKING_PASSWORD = "NBTRACK_TRACKING_PASSWORD"
#: MLflow's names for the same credentials, read when nbtrack's are unset.
MLFLOW_TRACKING_TOKEN = "MLFLOW_TRACKING_TOKEN"
MLFLOW_TRACKING_USERNAME = "MLFLOW_TRACKING_USERNAME"
MLFLOW_TRACKING_PASSWORD = "MLFLOW_TRACKING_PASSWORD"
#: How ``nbtrack server`` tells its worker processes what to serve (set by the CLI).
NBTRACK_SERVER_BACKEND_STORE_URI = "NBTRACK_SERVER_BACKEND_STORE_URI"
NBTRACK_SERVER_ARTIFACTS_DESTINATION = "NBTRACK_SERVER_ARTIFACTS_DESTINATION"
NBTRACK_SERVER_AUTH = "NBTRACK_SERVER_AUTH"
#: The REST store's retry budget (attempts per request) and per-request timeout in seconds.
NBTRACK_HTTP_RETRIES = "NBTRACK_HTTP_RETRIES"
NBTRACK_HTTP_TIMEOUT = "NBTRACK_HTTP_TIMEOUT"
#: The ``nbtrack gateway`` that ``gateway:<endpoint>`` models and ``get_deploy_client()`` use;
#: MLflow's name for it is read when nbtrack's is unset.
NBTRACK_GATEWAY_URI = "NBTRACK_GATEWAY_URI"
MLFLOW_DEPLOYMENTS_TARGET = "MLFLOW_DEPLOYMENTS_TARGET"
