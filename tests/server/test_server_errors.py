"""Error bodies: the caller's mistakes are 400s; a 500 keeps internal text in the server's log."""

from __future__ import annotations

import json
from typing import Any

import pytest
import tornado.httpclient

from nbtrack.errors import (
    InvalidInput,
    MetricValueError,
    NotAStore,
    NotFoundError,
    RunNotActiveError,
)
from nbtrack.server.api import INTERNAL_MESSAGE, error_body


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (MetricValueError("loss", "high"), 400),
        (RunNotActiveError("ab" * 16, "FINISHED"), 400),
        (InvalidInput("bad"), 400),
        (NotFoundError("no run"), 404),
    ],
)
def test_the_callers_mistakes_are_4xx_with_their_message(error: Exception, status: int) -> None:
    code, body = error_body(error)
    assert code == status
    assert body == {"error_code": error.error_code, "message": error.message}  # type: ignore[attr-defined]


def test_a_500_never_echoes_internal_text() -> None:
    code, body = error_body(RuntimeError("psycopg: password=hunter2 host=db.internal"))
    assert code == 500
    assert body == {"error_code": "INTERNAL_ERROR", "message": INTERNAL_MESSAGE}
    # nbtrack's own server faults are written for the user and keep their message.
    code, body = error_body(NotAStore("/x/mlflow.db", "an MLflow store", "copy it"))
    assert code == 500 and "is an MLflow store" in body["message"]


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    # A database nobody listens on: the driver's error names the host and the password.
    uri = "postgresql+psycopg://nbtrack:hunter2@127.0.0.1:1/nowhere"
    return {
        "ServerApp": {"jpserver_extensions": {"nbtrack": True}},
        "NbtrackServer": {"tracking_uri": uri},
    }


async def test_an_internal_failure_answers_500_without_its_text(jp_fetch: Any) -> None:
    with pytest.raises(tornado.httpclient.HTTPClientError) as caught:
        await jp_fetch("nbtrack", "api", "experiments")
    assert caught.value.code == 500
    body = json.loads(caught.value.response.body)
    assert body == {"error_code": "INTERNAL_ERROR", "message": INTERNAL_MESSAGE}
    assert "hunter2" not in caught.value.response.body.decode()
    assert "127.0.0.1" not in caught.value.response.body.decode()
