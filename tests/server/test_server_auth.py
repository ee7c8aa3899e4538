"""Who may do what in the Jupyter extension: a real Authorizer on a real server, and XSRF."""

from __future__ import annotations

import json
import re
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any, ClassVar

import pytest
import tornado.httpclient
from jupyter_server.auth.authorizer import Authorizer

import nbtrack as nbt
from nbtrack.server.jupyter import ROUTES


class ReadOnlyAuthorizer(Authorizer):  # type: ignore[misc]
    """A collaborator who may look but not change anything (records what it was asked)."""

    asked: ClassVar[list[tuple[str, str]]] = []

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        if resource == "nbtrack":
            type(self).asked.append((action, handler.request.method))
        return action == "read"


class DenyAllAuthorizer(Authorizer):  # type: ignore[misc]
    """A user with no nbtrack rights at all."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return resource != "nbtrack"


@pytest.fixture
def store(tmp_path: Path) -> Path:
    folder = tmp_path / "store"
    client = nbt.Client(str(folder))
    client.create_experiment("wine")
    client.flush()
    return folder


@pytest.fixture
def authorizer() -> type[Authorizer]:
    return ReadOnlyAuthorizer


@pytest.fixture
def jp_server_config(store: Path, authorizer: type[Authorizer]) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"nbtrack": True}, "authorizer_class": authorizer},
        "NbtrackServer": {"tracking_uri": str(store)},
    }


async def _code(jp_fetch: Any, *path: str, method: str = "GET", body: Any = None) -> int:
    try:
        response = await jp_fetch(
            "nbtrack", "api", *path, method=method, body=None if body is None else json.dumps(body)
        )
    except tornado.httpclient.HTTPClientError as exc:
        return exc.code
    return int(response.code)


async def test_a_read_only_user_reads_but_cannot_export_or_serve(jp_fetch: Any) -> None:
    ReadOnlyAuthorizer.asked = []
    assert await _code(jp_fetch, "experiments") == 200
    assert await _code(jp_fetch, "serving") == 200
    assert await _code(jp_fetch, "export", method="POST", body={"path": "a.ipynb"}) == 403
    assert await _code(jp_fetch, "serving", method="POST", body={"name": "m"}) == 403
    assert await _code(jp_fetch, "serving", "ab12", method="DELETE") == 403
    assert ReadOnlyAuthorizer.asked == [
        ("read", "GET"),
        ("read", "GET"),
        ("write", "POST"),
        ("execute", "POST"),
        ("execute", "DELETE"),
    ]


def _example_path(pattern: str) -> list[str]:
    values = {"run_id": "0" * 32, "key": "loss", "name": "iris", "server_id": "ab12"}
    return re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: values[m[1]], pattern).split("/")


@pytest.mark.parametrize("authorizer", [DenyAllAuthorizer])
async def test_every_route_asks_the_authorizer(jp_fetch: Any) -> None:
    asked = 0
    for pattern, handler in ROUTES:
        for method in ("GET", "POST", "DELETE"):
            if method.lower() not in vars(handler):
                continue
            body = {} if method == "POST" else None
            code = await _code(jp_fetch, *_example_path(pattern), method=method, body=body)
            assert code == 403, (pattern, method)
            asked += 1
    assert asked == len(ROUTES) + 1  # "serving" answers GET and POST


async def test_a_cookie_authenticated_write_without_xsrf_is_refused(
    jp_fetch: Any, jp_base_url: str, jp_http_port: int, jp_auth_header: dict[str, str]
) -> None:
    ReadOnlyAuthorizer.asked = []
    # Log in as a browser does: the token once in the URL, the login cookie from then on.
    await jp_fetch("api", "status")  # the server is up
    base = f"http://127.0.0.1:{jp_http_port}{jp_base_url}"
    http = tornado.httpclient.AsyncHTTPClient()
    token = jp_auth_header["Authorization"].split(" ", 1)[1]
    login = await http.fetch(f"{base}api/me?token={token}")
    cookies = SimpleCookie()
    for header in login.headers.get_list("Set-Cookie"):
        cookies.load(header)
    login_cookie = "; ".join(f"{k}={v.value}" for k, v in cookies.items() if k != "_xsrf")
    assert login_cookie, "the server set no login cookie"

    read = await http.fetch(f"{base}nbtrack/api/experiments", headers={"Cookie": login_cookie})
    assert read.code == 200  # the cookie alone authenticates reads

    for method, path in (("POST", "serving"), ("DELETE", "serving/ab12")):
        with pytest.raises(tornado.httpclient.HTTPClientError) as caught:
            await http.fetch(
                f"{base}nbtrack/api/{path}",
                method=method,
                body="{}" if method == "POST" else None,
                headers={"Cookie": login_cookie},
            )
        assert caught.value.code == 403
        assert "_xsrf" in json.loads(caught.value.response.body)["message"]
    # The check is what refused them: the authorizer was never asked about a write.
    assert [action for action, _ in ReadOnlyAuthorizer.asked] == ["read"]
