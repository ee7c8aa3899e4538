"""``mlflow.exceptions`` under nbtrack's names: ``except MlflowException`` catches nbtrack's errors.

``MlflowException`` *is* :class:`nbtrack.errors.NbtrackError`, the base of
every error nbtrack raises (the hierarchy is drawn in ``nbtrack/errors.py``),
so code written for MLflow catches nbtrack's errors unchanged and reads the
same ``error_code`` strings (``RESOURCE_DOES_NOT_EXIST``…). The error-code
names MLflow exports from this module are here too, as the strings nbtrack's
errors carry.
"""

from __future__ import annotations

from nbtrack.errors import NbtrackError, NotFoundError, StoreError

__all__ = [
    "ABORTED",
    "BAD_REQUEST",
    "ENDPOINT_NOT_FOUND",
    "ERROR_CODE_TO_HTTP_STATUS",
    "INTERNAL_ERROR",
    "INVALID_PARAMETER_VALUE",
    "INVALID_STATE",
    "NOT_FOUND",
    "NOT_IMPLEMENTED",
    "PERMISSION_DENIED",
    "RESOURCE_ALREADY_EXISTS",
    "RESOURCE_DOES_NOT_EXIST",
    "TEMPORARILY_UNAVAILABLE",
    "UNAUTHENTICATED",
    "MissingConfigException",
    "MlflowException",
    "RestException",
    "get_error_code",
]

#: MLflow's name for nbtrack's base error: one class, so either name catches both.
MlflowException = NbtrackError
#: Errors a store raises; MLflow's REST client raises ``RestException`` for server replies.
RestException = StoreError
#: A resource that a configuration names is missing.
MissingConfigException = NotFoundError

ABORTED = "ABORTED"
BAD_REQUEST = "BAD_REQUEST"
ENDPOINT_NOT_FOUND = "ENDPOINT_NOT_FOUND"
INTERNAL_ERROR = "INTERNAL_ERROR"
INVALID_PARAMETER_VALUE = "INVALID_PARAMETER_VALUE"
INVALID_STATE = "INVALID_STATE"
NOT_FOUND = "NOT_FOUND"
NOT_IMPLEMENTED = "NOT_IMPLEMENTED"
PERMISSION_DENIED = "PERMISSION_DENIED"
RESOURCE_ALREADY_EXISTS = "RESOURCE_ALREADY_EXISTS"
RESOURCE_DOES_NOT_EXIST = "RESOURCE_DOES_NOT_EXIST"
TEMPORARILY_UNAVAILABLE = "TEMPORARILY_UNAVAILABLE"
UNAUTHENTICATED = "UNAUTHENTICATED"

#: The HTTP status MLflow's servers answer with for each code.
ERROR_CODE_TO_HTTP_STATUS: dict[str, int] = {
    ABORTED: 409,
    BAD_REQUEST: 400,
    ENDPOINT_NOT_FOUND: 404,
    INTERNAL_ERROR: 500,
    INVALID_PARAMETER_VALUE: 400,
    INVALID_STATE: 400,
    NOT_FOUND: 404,
    NOT_IMPLEMENTED: 501,
    PERMISSION_DENIED: 403,
    RESOURCE_ALREADY_EXISTS: 400,
    RESOURCE_DOES_NOT_EXIST: 404,
    TEMPORARILY_UNAVAILABLE: 503,
    UNAUTHENTICATED: 401,
}


def get_error_code(http_status: int) -> str:
    """Return MLflow's error code for an HTTP status (``INTERNAL_ERROR`` when unknown)."""
    for code, status in ERROR_CODE_TO_HTTP_STATUS.items():
        if status == http_status:
            return code
    return INTERNAL_ERROR
