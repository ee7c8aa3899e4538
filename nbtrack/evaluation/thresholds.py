"""Thresholds that a candidate model must meet, absolutely or against a baseline model.

MLflow's ``MetricThreshold`` semantics: ``min_absolute`` / ``max_absolute``
bound the candidate's value; ``min_absolute_change`` / ``min_relative_change``
require an improvement over the baseline in the metric's direction.
"""

from __future__ import annotations

from dataclasses import dataclass

from nbtrack.errors import NbtrackError

__all__ = ["ModelValidationFailed", "Threshold", "check_thresholds"]


class ModelValidationFailed(NbtrackError, AssertionError):
    """The candidate missed one or more thresholds; ``failures`` lists each, readable."""

    error_code = "INVALID_STATE"

    def __init__(self, failures: list[str]) -> None:
        self.failures = failures
        super().__init__("Model validation failed:\n" + "\n".join(f"- {f}" for f in failures))


@dataclass(frozen=True)
class Threshold:
    """What a metric must reach.

    Attributes
    ----------
    min_absolute, max_absolute:
        Bounds on the candidate's value.
    min_absolute_change, min_relative_change:
        Least improvement over the baseline (a difference, or a fraction of
        the baseline's value), in the metric's direction.
    greater_is_better:
        The direction; None takes the metric's own (known for the defaults).
    """

    min_absolute: float | None = None
    max_absolute: float | None = None
    min_absolute_change: float | None = None
    min_relative_change: float | None = None
    greater_is_better: bool | None = None


def check_thresholds(
    thresholds: dict[str, Threshold],
    candidate: dict[str, float],
    baseline: dict[str, float] | None,
    directions: dict[str, bool],
) -> list[str]:
    """Return one message per missed threshold (empty when all are met).

    Raises
    ------
    ValueError
        A threshold names a metric that was not computed, or a change
        threshold has no baseline to compare with.
    """
    failures: list[str] = []
    for name, threshold in thresholds.items():
        if name not in candidate:
            known = ", ".join(sorted(candidate))
            raise ValueError(f"Threshold on unknown metric {name!r}; computed metrics: {known}")
        value = candidate[name]
        if threshold.min_absolute is not None and value < threshold.min_absolute:
            failures.append(f"{name}: {value:.6g} is below min_absolute {threshold.min_absolute}")
        if threshold.max_absolute is not None and value > threshold.max_absolute:
            failures.append(f"{name}: {value:.6g} is above max_absolute {threshold.max_absolute}")
        changes = (threshold.min_absolute_change, threshold.min_relative_change)
        if all(c is None for c in changes):
            continue
        if baseline is None or name not in baseline:
            raise ValueError(
                f"Threshold on {name!r} compares with a baseline: pass baseline_model="
            )
        better = threshold.greater_is_better
        if better is None:
            better = directions.get(name, True)
        base = baseline[name]
        gain = value - base if better else base - value
        if threshold.min_absolute_change is not None and gain < threshold.min_absolute_change:
            failures.append(
                f"{name}: {value:.6g} vs baseline {base:.6g} improves by {gain:.6g}, "
                f"less than min_absolute_change {threshold.min_absolute_change}"
            )
        if threshold.min_relative_change is not None:
            relative = gain / abs(base) if base else float("inf") if gain > 0 else 0.0
            if relative < threshold.min_relative_change:
                failures.append(
                    f"{name}: {value:.6g} vs baseline {base:.6g} improves by {relative:.2%}, "
                    f"less than min_relative_change {threshold.min_relative_change:.2%}"
                )
    return failures
