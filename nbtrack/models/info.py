"""``get_model_info`` and ``set_signature``: read or amend a saved model's ``MLmodel`` by URI.

MLflow's ``mlflow.models`` helpers for models already saved or logged:
``get_model_info`` tells what a URI holds without loading the model,
``set_signature`` adds (or replaces) the signature of a model logged without one.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from nbtrack.errors import InvalidInput
from nbtrack.models.model import MLMODEL_FILE, Model, ModelInfo
from nbtrack.models.signature import ModelSignature

__all__ = ["get_model_info", "set_signature"]


def get_model_info(model_uri: str | os.PathLike[str]) -> ModelInfo:
    """Return what the model at ``model_uri`` is (flavors, signature, run) without loading it.

    Raises
    ------
    NotFoundError
        Nothing at the URI, or no ``MLmodel`` there.
    """
    uri = os.fspath(model_uri)
    mlmodel = Model.load(uri)
    return ModelInfo(
        model_uri=uri,
        run_id=mlmodel.run_id or "",
        artifact_path=mlmodel.artifact_path or "",
        flavors=mlmodel.flavors,
        signature=mlmodel.signature,
        model_uuid=mlmodel.model_uuid,
        utc_time_created=mlmodel.utc_time_created,
    )


def set_signature(model_uri: str | os.PathLike[str], signature: ModelSignature) -> None:
    """Set the signature of a saved model: a model folder or a ``runs:/`` URI.

    Raises
    ------
    InvalidInput
        ``signature`` is not a ModelSignature, or the URI is a ``models:/`` URI
        (registered versions are immutable: set it on the run's model, then
        register that again).
    """
    if not isinstance(signature, ModelSignature):
        raise InvalidInput(f"signature must be a ModelSignature, not {type(signature).__name__}")
    uri = os.fspath(model_uri)
    if uri.startswith("models:/"):
        raise InvalidInput(
            f"Cannot change the signature of registered model version {uri!r}; set it on "
            "the run's model (runs:/…) and register that again"
        )
    if not uri.startswith("runs:/"):
        mlmodel = Model.load(uri)
        mlmodel.signature = signature
        mlmodel.save(Path(uri[len("file://") :] if uri.startswith("file://") else uri))
        return
    from nbtrack.tracking.client import Client
    from nbtrack.uris import parse_runs_uri

    run_id, path = parse_runs_uri(uri)
    client = Client()
    mlmodel = Model.load(uri)
    mlmodel.signature = signature
    with tempfile.TemporaryDirectory(prefix="nbtrack-signature-") as tmp:
        mlmodel.save(tmp)
        client.log_artifact(run_id, Path(tmp) / MLMODEL_FILE, path or None)
