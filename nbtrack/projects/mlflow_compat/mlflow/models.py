"""``mlflow.models``: signatures and model info, from nbtrack."""

from nbtrack.models import ModelInfo, ModelSignature, infer_signature

__all__ = ["ModelInfo", "ModelSignature", "infer_signature"]
