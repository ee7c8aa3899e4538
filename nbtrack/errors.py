"""Every error nbtrack raises, in one hierarchy.

Each class also subclasses the builtin a caller would naturally catch, so
``except ValueError`` keeps working for code written against MLflow::

    NbtrackError                      base; .error_code, .to_dict()
                                      (also MLflow's MlflowException: nbtrack.exceptions)
    ├── InvalidInput (ValueError)     a value a user passed is wrong
    │   ├── InvalidKey                a metric/param/tag key breaks the key rules
    │   ├── InvalidFilter             a search filter or order_by is malformed
    │   ├── ParamConflict             a param logged again with another value
    │   ├── ValueTooLong              a param/tag value over the length limit
    │   ├── PayloadError              a scoring request the server cannot score (its status)
    │   ├── GatewayConfigError        nbtrack gateway's config names a bad endpoint key
    │   └── AlreadyExistsError        e.g. an experiment name already taken
    ├── MetricValueError (TypeError)  a metric value is not a real number
    ├── RunNotActiveError (RuntimeError)  logging to a finished or deleted run
    ├── ProviderError (RuntimeError)  a model call (an LLM endpoint, a pipeline) failed
    │   └── ProviderTimeout (TimeoutError)  the model did not answer in time
    ├── ModelValidationFailed (AssertionError)  nbt.evaluate's thresholds were missed
    ├── NotFoundError (LookupError)   an unknown run, experiment, artifact…
    │   └── StoreNotFound             no store at this location yet (a read never makes one)
    └── StoreError (RuntimeError)     the store cannot do what was asked
        ├── SchemaMismatch            the store was written by a newer nbtrack
        └── NotAStore                 the file is another program's database (MLflow's…)

Leaves carry the offending values and build their own message; servers map
``error_code`` to an HTTP status in one place.
"""

from __future__ import annotations

__all__ = [
    "AlreadyExistsError",
    "GatewayConfigError",
    "InvalidFilter",
    "InvalidInput",
    "InvalidKey",
    "MetricValueError",
    "ModelValidationFailed",
    "NbtrackError",
    "NbtrackWarning",
    "NotAStore",
    "NotFoundError",
    "ParamConflict",
    "PayloadError",
    "ProviderError",
    "ProviderTimeout",
    "RunNotActiveError",
    "SchemaMismatch",
    "StoreError",
    "StoreNotFound",
    "ValueTooLong",
]


class NbtrackWarning(UserWarning):
    """Something went wrong that must not stop the user's code (e.g. a failed flush)."""


class NbtrackError(Exception):
    """Base of every nbtrack error.

    Attributes
    ----------
    error_code:
        MLflow-compatible code used by REST servers (``RESOURCE_DOES_NOT_EXIST``…).
    """

    error_code = "INTERNAL_ERROR"

    def __init__(self, message: str, error_code: str | None = None, **kwargs: object) -> None:
        # error_code= and extra keywords as MLflow's MlflowException takes them, so code
        # raising ``MlflowException(msg, error_code=INVALID_PARAMETER_VALUE)`` runs.
        super().__init__(message)
        self.message = message
        if error_code is not None:
            self.error_code = str(error_code)
        self.json_kwargs = kwargs

    def to_dict(self) -> dict[str, str]:
        """Return ``{"error_code", "message"}`` as REST servers send it."""
        return {"error_code": self.error_code, "message": self.message}


class InvalidInput(NbtrackError, ValueError):
    """A value passed by the user is not acceptable."""

    error_code = "INVALID_PARAMETER_VALUE"


class InvalidKey(InvalidInput):
    """A metric, param or tag key breaks the key rules."""

    def __init__(self, key: object, reason: str) -> None:
        self.key = key
        super().__init__(f"Invalid key {key!r}: {reason}")


class ValueTooLong(InvalidInput):
    """A param or tag value exceeds the stored length limit."""

    def __init__(self, kind: str, key: str, length: int, limit: int) -> None:
        self.key, self.length, self.limit = key, length, limit
        super().__init__(f"{kind} {key!r} has a value of {length} characters; the limit is {limit}")


class ParamConflict(InvalidInput):
    """A param was logged again in the same run with a different value."""

    def __init__(self, run_id: str, key: str, old: str, new: str) -> None:
        self.run_id, self.key, self.old_value, self.new_value = run_id, key, old, new
        super().__init__(
            f"Param {key!r} of run {run_id} is already {old!r}; params are immutable, "
            f"cannot change it to {new!r}"
        )


class PayloadError(InvalidInput):
    """A request the scoring server cannot score; ``status`` is the HTTP status to answer with.

    Attributes
    ----------
    status:
        400 (bad body), 413 (too large) or 415 (unsupported content type).
    """

    error_code = "BAD_REQUEST"

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class InvalidFilter(InvalidInput):
    """A search filter or order_by clause is malformed.

    Attributes
    ----------
    text:
        The whole filter string.
    position:
        0-based offset of the offending character in ``text``.
    """

    def __init__(self, text: str, position: int, reason: str) -> None:
        self.text, self.position, self.reason = text, position, reason
        pointer = f"\n  {text}\n  {' ' * position}^" if text else ""
        super().__init__(f"Invalid filter at position {position}: {reason}{pointer}")


class AlreadyExistsError(InvalidInput):
    """A resource with this name already exists."""

    error_code = "RESOURCE_ALREADY_EXISTS"


class MetricValueError(NbtrackError, TypeError):
    """A metric value is not a real number."""

    error_code = "INVALID_PARAMETER_VALUE"

    def __init__(self, key: str, value: object) -> None:
        self.key, self.value = key, value
        super().__init__(
            f"Metric {key!r} got {value!r} of type {type(value).__name__}; "
            "metric values must be real numbers"
        )


class RunNotActiveError(NbtrackError, RuntimeError):
    """Data was logged to a run that has ended or was deleted."""

    error_code = "INVALID_STATE"

    def __init__(self, run_id: str, state: str) -> None:
        self.run_id, self.state = run_id, state
        super().__init__(
            f"Run {run_id} is {state}; resume it with nbtrack.start_run(run_id={run_id!r}) "
            "before logging to it"
        )


class ModelValidationFailed(NbtrackError, AssertionError):
    """The candidate missed one or more thresholds; ``failures`` lists each, readable."""

    error_code = "INVALID_STATE"

    def __init__(self, failures: list[str]) -> None:
        self.failures = failures
        super().__init__("Model validation failed:\n" + "\n".join(f"- {f}" for f in failures))


class ProviderError(NbtrackError, RuntimeError):
    """A model call failed (an HTTP endpoint, a local pipeline).

    Attributes
    ----------
    retryable:
        Whether trying again may help (a 429, a 5xx, an unreachable server).
    """

    error_code = "TEMPORARILY_UNAVAILABLE"

    def __init__(self, message: str, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class ProviderTimeout(ProviderError, TimeoutError):
    """A model call did not answer in time (the gateway answers 504)."""

    error_code = "DEADLINE_EXCEEDED"


class GatewayConfigError(InvalidInput):
    """``nbtrack gateway``'s config cannot be used; the message names the endpoint and key."""


class NotFoundError(NbtrackError, LookupError):
    """An unknown run, experiment, artifact or model was asked for."""

    error_code = "RESOURCE_DOES_NOT_EXIST"


class StoreNotFound(NotFoundError):
    """No store exists at a location that was only to be read (opening would create it)."""

    def __init__(self, location: str) -> None:
        self.location = location
        super().__init__(
            f"No store here yet: {location} does not exist. It is created when a notebook "
            "logs its first run (nbt.start_run()), or by `nbtrack db upgrade`."
        )


class StoreError(NbtrackError, RuntimeError):
    """The store cannot carry out the request."""


class NotAStore(StoreError):
    """A file named as the store is something else: another program's database, or no database.

    Attributes
    ----------
    path:
        The file.
    kind:
        What it is, as a phrase (``"an MLflow store"``, ``"not an SQLite database"``…).
    """

    def __init__(self, path: str, kind: str, advice: str) -> None:
        self.path, self.kind = path, kind
        super().__init__(f"{path} is {kind}, not an nbtrack store (left untouched); {advice}")


class SchemaMismatch(StoreError):
    """The store's schema is newer than this nbtrack understands."""

    def __init__(self, location: str, found: str, known: str) -> None:
        self.location, self.found, self.known = location, found, known
        super().__init__(
            f"The store at {location} has schema revision {found!r}, which this version of "
            f"nbtrack does not know (newest known: {known!r}). Upgrade nbtrack to open it."
        )
