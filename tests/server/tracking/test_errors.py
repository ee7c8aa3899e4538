"""The one error mapping: nbtrack's errors as MLflow's answers, bugs as a generic 500 in the log.

In-process through httpx's ASGI transport: the mapping itself, not the network.
"""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from nbtrack.errors import AlreadyExistsError, NotFoundError, RunNotActiveError, StoreError
from nbtrack.server.tracking._state import route
from nbtrack.server.tracking.errors import STATUS


def _app(exc: Exception) -> Starlette:
    async def fails(request: Request) -> Response:
        raise exc

    return Starlette(routes=[route("/fails", fails, "GET")])


def _get(app: Starlette) -> httpx.Response:
    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.get("/fails")

    return asyncio.run(get())


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (NotFoundError("No run with id 'x'"), 404, "RESOURCE_DOES_NOT_EXIST"),
        (AlreadyExistsError("Experiment 'a' already exists"), 400, "RESOURCE_ALREADY_EXISTS"),
        (RunNotActiveError("abc", "FINISHED"), 400, "INVALID_STATE"),
    ],
)
def test_nbtrack_errors_answer_as_mlflow(exc: Exception, status: int, code: str) -> None:
    response = _get(_app(exc))
    assert response.status_code == status == STATUS[code]
    assert response.json() == {"error_code": code, "message": str(exc)}


@pytest.mark.parametrize(
    "exc",
    [RuntimeError("password=hunter2 at /srv/secret/db"), StoreError("SELECT * FROM secret")],
)
def test_bugs_answer_a_generic_500_and_log_the_traceback(
    exc: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="nbtrack.server"):
        response = _get(_app(exc))
    assert response.status_code == 500
    body = response.json()
    assert body["error_code"] == "INTERNAL_ERROR"
    assert "secret" not in body["message"] and "hunter2" not in body["message"]
    record = next(r for r in caplog.records if r.name == "nbtrack.server")
    assert "GET /fails" in record.getMessage()
    assert record.exc_info is not None and record.exc_info[1] is exc
