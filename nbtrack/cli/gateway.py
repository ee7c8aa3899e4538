"""``nbtrack gateway --config endpoints.yaml``: MLflow Deployments' server on uvicorn.

The config is loaded (and every provider built, local models included) before
the server binds, so a bad file ends the command with one ``Error:`` line.
"""

from __future__ import annotations

import os

import click

__all__ = ["gateway"]


@click.command()
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="MLflow Deployments' YAML config (endpoints: ...).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option(
    "--port", "-p", type=click.IntRange(0, 65535), default=5005, show_default=True, help="Port."
)
@click.option(
    "--require-key-env",
    default=None,
    metavar="NAME",
    help="Environment variable holding a key clients must send as a Bearer token.",
)
@click.option(
    "--watch/--no-watch",
    default=True,
    show_default=True,
    help="Also re-read the config when the file changes (SIGHUP always does).",
)
def gateway(
    config_path: str, host: str, port: int, require_key_env: str | None, watch: bool
) -> None:
    """Serve the endpoints of CONFIG: MLflow's /endpoints/{name}/invocations and OpenAI's /v1.

    Values written $NAME in the config are read from this process's
    environment; keys never leave the server except to their provider. The
    config is re-read on SIGHUP and when the file changes.
    """
    import logging

    import uvicorn

    from nbtrack.errors import InvalidInput
    from nbtrack.gateway.app import Gateway, create_app

    required = None
    if require_key_env:
        required = os.environ.get(require_key_env)
        if not required:
            raise InvalidInput(f"--require-key-env: ${require_key_env} is not set")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = create_app(Gateway(config_path, required), watch_file=watch)
    uvicorn.run(app, host=host, port=port, log_level="info")
