"""``mlflow.tracking``: the client, from nbtrack."""

from nbtrack import MlflowClient, get_tracking_uri, set_tracking_uri

__all__ = ["MlflowClient", "get_tracking_uri", "set_tracking_uri"]
