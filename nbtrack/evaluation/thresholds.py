"""Thresholds that a candidate model must meet, absolutely or against a baseline model.

MLflow's ``MetricThreshold`` semantics: ``min_absolute`` / ``max_absolute``
bound the candidate's value; ``min_absolute_change`` / ``min_relative_change``
require an improvement over the baseline in the metric's direction.
"""

from __future__ import annotations

from dataclasses import dataclass

from nbtrack.errors import InvalidInput, ModelValidationFailed

__all__ = ["ModelValidationFailed", "Threshold", "check_thresholds", "validate_thresholds"]


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


def validate_thresholds(thresholds: object, has_baseline: bool) -> dict[str, Threshold]:
    """Check ``thresholds`` before anything is computed or logged; return them.

    Raises
    ------
    InvalidInput
        Not a ``{metric: Threshold}`` dict, or a change threshold without a
        baseline model to compare with.
    """
    if not isinstance(thresholds, dict):
        raise InvalidInput(f"thresholds must be a dict of metric -> Threshold, got {thresholds!r}")
    for name, threshold in thresholds.items():
        if not isinstance(threshold, Threshold):
            raise InvalidInput(f"thresholds[{name!r}] must be a Threshold, got {threshold!r}")
        changes = (threshold.min_absolute_change, threshold.min_relative_change)
        if not has_baseline and any(c is not None for c in changes):
            raise InvalidInput(
                f"Threshold on {name!r} compares with a baseline: pass baseline_model="
            )
    return thresholds


def check_thresholds(
    thresholds: dict[str, Threshold],
    candidate: dict[str, float],
    baseline: dict[str, float] | None,
    directions: dict[str, bool],
) -> list[str]:
    """Return one message per missed threshold (empty when all are met).

    Raises
    ------
    InvalidInput
        A threshold names a metric that was not computed, or a change
        threshold has no baseline to compare with.
    """
    failures: list[str] = []
    for name, threshold in thresholds.items():
        if name not in candidate:
            known = ", ".join(sorted(candidate))
            raise InvalidInput(f"Threshold on unknown metric {name!r}; computed: {known}")
        value = candidate[name]
        if threshold.min_absolute is not None and value < threshold.min_absolute:
            failures.append(f"{name}: {value:.6g} is below min_absolute {threshold.min_absolute}")
        if threshold.max_absolute is not None and value > threshold.max_absolute:
            failures.append(f"{name}: {value:.6g} is above max_absolute {threshold.max_absolute}")
        changes = (threshold.min_absolute_change, threshold.min_relative_change)
        if all(c is None for c in changes):
            continue
        if baseline is None or name not in baseline:
            raise InvalidInput(
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
