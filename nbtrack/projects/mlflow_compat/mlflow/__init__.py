"""nbtrack under MLflow's name (see ``nbtrack.projects.mlflow_compat``)."""

from nbtrack import *  # noqa: F403  (the point: MLflow's fluent API, served by nbtrack)
from nbtrack import MlflowClient, __all__, __version__, pyfunc  # noqa: F401

from . import models, sklearn, tracking  # noqa: F401
