"""``nbtrack serve MODEL_URI``: MLflow's scoring protocol over HTTP, on uvicorn.

The model is loaded before the server starts, so a bad URI or a model that
cannot load ends the command with one ``Error:`` line instead of a worker
crash loop. With ``--workers N > 1`` uvicorn starts N processes that each
build the app from the environment (``nbtrack.serving.app:app_from_env``):
the parent resolves the URI to a local folder once, and the workers load
that folder.
"""

from __future__ import annotations

import os

import click

from nbtrack.cli._common import tracking_uri_option

__all__ = ["serve"]


@click.command()
@click.argument("model_uri")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface to bind; 0.0.0.0 exposes the model to the network.",
)
@click.option(
    "--port",
    "-p",
    type=click.IntRange(0, 65535),
    default=5001,
    show_default=True,
    help="Port to listen on.",
)
@click.option(
    "--workers",
    "-w",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Worker processes, each with its own copy of the model.",
)
@click.option(
    "--max-body-bytes",
    type=click.IntRange(min=1),
    default=None,
    help="Largest request body accepted (larger ones get HTTP 413). [default: 100 MB]",
)
@tracking_uri_option
def serve(model_uri: str, host: str, port: int, workers: int, max_body_bytes: int | None) -> None:
    """Serve MODEL_URI with MLflow's scoring protocol (POST /invocations).

    MODEL_URI is a model folder, runs:/<run_id>/<path>, models:/<name>/<version>
    or models:/<name>@<alias>. Send JSON ({"dataframe_split": ...},
    {"dataframe_records": ...}, {"instances": ...} or {"inputs": ...}) or CSV;
    GET /ping, /health, /version and /metadata describe the server.
    """
    import uvicorn

    from nbtrack.cli._common import state
    from nbtrack.models.pyfunc import load_model, resolve_model_uri
    from nbtrack.serving.app import (
        ENV_MAX_BODY_BYTES,
        ENV_MODEL_URI,
        MAX_BODY_BYTES,
        create_app,
        freeze_heap,
    )

    st = state()
    if st.tracking_uri:
        # runs:/ and models:/ URIs are resolved against the store given on the command line.
        from nbtrack.config import set_tracking_uri

        set_tracking_uri(st.tracking_uri)
    limit = max_body_bytes or MAX_BODY_BYTES
    folder = resolve_model_uri(model_uri)
    model = load_model(folder)
    click.echo(
        f"nbtrack: serving {model_uri} at http://{host}:{port}/invocations "
        f"({workers} worker{'s' if workers > 1 else ''}); Ctrl+C stops it",
        err=True,
    )
    # Per-request access logs cost more than scoring a small request.
    options = {"host": host, "port": port, "access_log": False, "log_level": "warning"}
    if workers == 1:
        app = create_app(model, limit)
        freeze_heap()
        uvicorn.run(app, **options)  # type: ignore[arg-type]
        return
    del model  # each worker loads its own copy
    os.environ[ENV_MODEL_URI] = os.path.abspath(folder)
    os.environ[ENV_MAX_BODY_BYTES] = str(limit)
    uvicorn.run(
        "nbtrack.serving.app:app_from_env",
        factory=True,
        workers=workers,
        **options,  # type: ignore[arg-type]
    )
