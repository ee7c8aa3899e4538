"""``nbt.evaluate``: metrics, altair plots, thresholds and an inline report for a model.

The package is ``evaluation``, not ``evaluate``: importing a submodule named
``nbtrack.evaluate`` would replace the function ``nbt.evaluate`` on the package.
"""

from nbtrack.evaluation.api import MODEL_TYPES, evaluate
from nbtrack.evaluation.metrics import EvaluationMetric, make_metric
from nbtrack.evaluation.result import EvaluationResult
from nbtrack.evaluation.similarity import OpenAIEmbeddings
from nbtrack.evaluation.thresholds import ModelValidationFailed, Threshold

__all__ = [
    "MODEL_TYPES",
    "EvaluationMetric",
    "EvaluationResult",
    "ModelValidationFailed",
    "OpenAIEmbeddings",
    "Threshold",
    "evaluate",
    "make_metric",
]
