"""A client of ``nbtrack gateway`` (or MLflow's Deployments server), as ``mlflow.deployments``.

>>> client = nbt.deployments.get_deploy_client("http://127.0.0.1:5005")
>>> client.list_endpoints()
>>> client.predict(endpoint="chat", inputs={"messages": [{"role": "user", "content": "Hi"}]})
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from nbtrack.errors import InvalidInput, NotFoundError, ProviderError

__all__ = ["DeploymentClient", "get_deploy_client"]

_DETAIL_CHARS = 500


class DeploymentClient:
    """MLflow's ``MlflowDeploymentClient`` methods over HTTP.

    Parameters
    ----------
    target_uri:
        The gateway's base URL, e.g. ``http://127.0.0.1:5005``.
    timeout:
        Seconds to wait for each answer.
    """

    def __init__(self, target_uri: str, timeout: float = 120.0) -> None:
        self.target_uri = target_uri.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.target_uri + path, data, {"Content-Type": "application/json"}, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            text = exc.read().decode(errors="replace")
            try:
                message = json.loads(text).get("message", text)
            except (ValueError, AttributeError):
                message = text
            message = f"HTTP {exc.code} from {self.target_uri}{path}: {message[:_DETAIL_CHARS]}"
            if exc.code == 404:
                raise NotFoundError(message) from None
            if exc.code == 400:
                raise InvalidInput(message) from None
            raise ProviderError(message, exc.code == 429 or exc.code >= 500) from None
        except (urllib.error.URLError, OSError) as exc:
            raise ProviderError(f"Cannot reach {self.target_uri}: {exc}", True) from None

    def list_endpoints(self) -> list[dict[str, Any]]:
        """Every endpoint the gateway serves (MLflow's ``Endpoint`` bodies, full URLs)."""
        endpoints: list[dict[str, Any]] = []
        token = None
        while True:
            query = "" if token is None else "?" + urllib.parse.urlencode({"page_token": token})
            page = self._call("GET", "/api/2.0/endpoints/" + query)
            endpoints.extend(self._absolute(e) for e in page.get("endpoints", []))
            token = page.get("next_page_token")
            if not token:
                return endpoints

    def get_endpoint(self, endpoint: str) -> dict[str, Any]:
        """One endpoint's description.

        Raises
        ------
        NotFoundError
            The gateway has no such endpoint.
        """
        return self._absolute(self._call("GET", f"/api/2.0/endpoints/{endpoint}"))

    def predict(
        self,
        deployment_name: str | None = None,
        inputs: dict[str, Any] | None = None,
        endpoint: str | None = None,
    ) -> dict[str, Any]:
        """Send ``inputs`` (MLflow's request body) to ``endpoint`` and return its answer."""
        name = endpoint or deployment_name
        if not name:
            raise InvalidInput("predict() needs endpoint='<name>'")
        answer: dict[str, Any] = self._call("POST", f"/endpoints/{name}/invocations", inputs or {})
        return answer

    def _absolute(self, endpoint: dict[str, Any]) -> dict[str, Any]:
        url = endpoint.get("endpoint_url")
        if isinstance(url, str) and url.startswith("/"):
            endpoint = {**endpoint, "endpoint_url": self.target_uri + url}
        return endpoint


def get_deploy_client(target_uri: str | None = None) -> DeploymentClient:
    """A client of the gateway at ``target_uri`` (default: ``$NBTRACK_GATEWAY_URI``, then
    ``$MLFLOW_DEPLOYMENTS_TARGET``).

    Raises
    ------
    InvalidInput
        No URI given and neither variable is set, or the URI is not http(s).
    """
    uri = target_uri or gateway_uri()
    if not uri.startswith(("http://", "https://")):
        raise InvalidInput(f"A gateway URI is http(s)://host:port, got {uri!r}")
    return DeploymentClient(uri)


def gateway_uri() -> str:
    """The gateway URI from the environment.

    Raises
    ------
    InvalidInput
        Neither ``NBTRACK_GATEWAY_URI`` nor ``MLFLOW_DEPLOYMENTS_TARGET`` is set.
    """
    import os

    from nbtrack import env

    uri = os.environ.get(env.NBTRACK_GATEWAY_URI) or os.environ.get(env.MLFLOW_DEPLOYMENTS_TARGET)
    if not uri:
        raise InvalidInput(
            f"No gateway URI: pass one, or set ${env.NBTRACK_GATEWAY_URI} "
            f"(or ${env.MLFLOW_DEPLOYMENTS_TARGET})"
        )
    return uri
