"""``nbtrack gateway``: MLflow Deployments' server (one interface to many model providers).

:mod:`~nbtrack.gateway.config` reads MLflow's config file,
:mod:`~nbtrack.gateway.providers` answers the requests,
:mod:`~nbtrack.gateway.app` serves MLflow's and OpenAI's routes. Clients use
:func:`nbtrack.deployments.get_deploy_client` or any OpenAI client.
"""

from __future__ import annotations

__all__: list[str] = []
