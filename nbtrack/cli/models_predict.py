"""``nbtrack models predict``: score a file with a model from the shell, in bounded memory.

The counterpart of ``mlflow models predict`` (same ``-m``/``-i``/``-o``/``-t``
options; without ``-o`` the predictions go to stdout as MLflow's
``{"predictions": [...]}``), reading and writing a chunk of rows at a time
(:mod:`nbtrack.models.batch_predict`) with a progress bar on stderr.
"""

from __future__ import annotations

import sys

import click

from nbtrack.cli._common import tracking_uri_option

__all__ = ["predict_command"]

_FORMATS = click.Choice(["csv", "json", "jsonl", "parquet"])


@click.command("predict")
@click.option(
    "-m", "--model-uri", required=True, metavar="URI",
    help="A model folder, runs:/<run_id>/<path>, models:/<name>/<version>, models:/<name>@<alias>",
)  # fmt: skip
@click.option(
    "-i", "--input-path", required=True, type=click.Path(exists=True, dir_okay=False),
    help="The rows to score: .csv, .parquet, .jsonl, or .json in MLflow's scoring format.",
)  # fmt: skip
@click.option(
    "-o", "--output-path", type=click.Path(dir_okay=False),
    help="Where predictions go: .csv, .parquet, .jsonl or .json [default: JSON on stdout].",
)  # fmt: skip
@click.option(
    "-t", "--content-type", "input_format", type=_FORMATS,
    help="The input's format, when its suffix does not say it.",
)  # fmt: skip
@click.option(
    "--output-format", type=_FORMATS, help="The output's format, when its suffix does not say it."
)
@click.option(
    "--chunk-size", default=10_000, show_default=True, type=click.IntRange(min=1),
    help="Rows per predict call; memory follows it, not the file's size.",
)  # fmt: skip
@tracking_uri_option
def predict_command(
    model_uri: str,
    input_path: str,
    output_path: str | None,
    input_format: str | None,
    output_format: str | None,
    chunk_size: int,
) -> None:
    """Score INPUT_PATH with MODEL_URI chunk by chunk and write the predictions.

    The model's signature is enforced on every chunk; a refused chunk stops
    the command, names its first row and leaves no partial output file.
    """
    from tqdm.auto import tqdm

    from nbtrack.cli._common import state
    from nbtrack.models.batch_predict import predict_file
    from nbtrack.models.pyfunc import load_model

    st = state()
    if st.tracking_uri:
        # runs:/ and models:/ URIs are resolved against the store given on the command line.
        from nbtrack.config import set_tracking_uri

        set_tracking_uri(st.tracking_uri)
    model = load_model(model_uri)
    # disable=None: a bar on a terminal, nothing in logs and pipes.
    with tqdm(unit=" rows", unit_scale=True, desc="scoring", file=sys.stderr, disable=None) as bar:
        rows = predict_file(
            model.predict,
            input_path,
            output_path,
            stdout=sys.stdout,
            chunk_rows=chunk_size,
            input_format=input_format,
            output_format=output_format,
            on_chunk=bar.update,
        )
    if output_path:
        click.echo(f"Scored {rows:,} rows of {input_path} into {output_path}", err=True)
