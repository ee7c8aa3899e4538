"""The tracking server's ``openapi.yaml`` and permission table agree with its route table.

Both are read by people and tools (the auth middleware consumes the
permissions); a route added, removed or given another method without them
fails here.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from starlette.routing import Route

import nbtrack
from nbtrack.server.tracking.app import all_routes
from nbtrack.server.tracking.permissions_table import PERMISSIONS

METHODS = {"get", "post", "put", "patch", "delete"}


def served() -> set[tuple[str, str]]:
    pairs = set()
    for route in all_routes():
        assert isinstance(route, Route)
        # Starlette answers HEAD wherever GET is served; not an operation of its own.
        pairs |= {(m, route.path) for m in route.methods or () if m != "HEAD"}
    return pairs


def test_openapi_documents_every_route_and_method() -> None:
    spec = yaml.safe_load(
        (Path(nbtrack.__file__).parent / "server" / "tracking" / "openapi.yaml").read_text()
    )
    documented = {
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method in operations
        if method in METHODS
    }
    assert documented == served()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation["summary"], f"{method} {path} has no summary"
            assert "200" in operation["responses"]


def test_every_route_has_a_permission_rule() -> None:
    assert served() <= set(PERMISSIONS)
    assert set(PERMISSIONS) - served() == set()
