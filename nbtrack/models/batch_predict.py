"""Batch scoring of a file with a model, in chunks: what ``nbtrack models predict`` runs.

A table is read a chunk of rows at a time (CSV and JSON lines through
pandas' chunked readers, Parquet by row batches), each chunk goes through
the model's ``predict`` (signature enforcement included), and the
predictions are appended to the output as they come. Memory therefore
follows the chunk size, not the file. One exception: a ``.json`` file in
MLflow's scoring format (``dataframe_split``, ``dataframe_records``,
``instances`` or ``inputs``) is one document and is read whole, then scored
in chunks, as ``mlflow models predict -t json`` reads it.

Outputs: ``.csv`` and ``.parquet`` (one ``prediction`` column, or the
model's own columns when it returns a DataFrame), ``.jsonl`` (a record per
row), and ``.json`` or no file at all: MLflow's ``{"predictions": [...]}``,
written incrementally.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from nbtrack.errors import InvalidInput
from nbtrack.json_values import json_default

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "INPUT_FORMATS",
    "OUTPUT_FORMATS",
    "format_of",
    "input_chunks",
    "predict_file",
    "predictions_frame",
]

#: File suffix -> input format.
INPUT_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".json": "json"}
INPUT_FORMATS[".jsonl"] = INPUT_FORMATS[".ndjson"] = "jsonl"
#: File suffix -> output format (no output file: ``json`` on stdout).
OUTPUT_FORMATS = {".csv": "csv", ".parquet": "parquet", ".json": "json", ".jsonl": "jsonl"}


def format_of(path: str | Path, formats: dict[str, str], role: str, override: str | None) -> str:
    """The format of ``path`` from its suffix (or ``override``), or InvalidInput naming both."""
    if override:
        if override not in set(formats.values()):
            raise InvalidInput(
                f"Unknown {role} format {override!r}: use one of {sorted(set(formats.values()))}"
            )
        return override
    suffix = Path(path).suffix.lower()
    if suffix not in formats:
        raise InvalidInput(
            f"Cannot tell the {role} format of {str(path)!r} from its suffix {suffix!r}: "
            f"use one of {', '.join(sorted(formats))} (or name the format)"
        )
    return formats[suffix]


def input_chunks(path: str | Path, kind: str, chunk_rows: int) -> Iterator[Any]:
    """Yield the input's rows in DataFrames of at most ``chunk_rows`` rows.

    Raises
    ------
    InvalidInput
        The file cannot be parsed as ``kind`` (the file and the reason are named).
    """
    import pandas as pd

    try:
        if kind == "csv":
            yield from pd.read_csv(path, chunksize=chunk_rows)
        elif kind == "jsonl":
            yield from pd.read_json(path, lines=True, chunksize=chunk_rows)
        elif kind == "parquet":
            yield from _parquet_chunks(path, chunk_rows)
        else:
            frame = _scoring_document(Path(path))
            for start in range(0, len(frame), chunk_rows):
                yield frame.iloc[start : start + chunk_rows]
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"Cannot read {str(path)!r} as {kind}: {exc}") from None


def _parquet_chunks(path: str | Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise InvalidInput("Reading Parquet needs pyarrow: pip install pyarrow") from None
    for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_rows):
        yield batch.to_pandas()


def _scoring_document(path: Path) -> pd.DataFrame:
    """A JSON body in MLflow's scoring formats, as the DataFrame the server would build."""
    import pandas as pd

    from nbtrack.serving.payloads import decode_json, model_input, split_request

    request = split_request(decode_json(path.read_bytes()))
    data = model_input(request)
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, dict):
        return pd.DataFrame({k: list(v) for k, v in data.items()})
    return pd.DataFrame(data)


def predictions_frame(predictions: Any) -> pd.DataFrame:
    """Predictions as a DataFrame: the model's columns, else ``prediction`` (``prediction_i``)."""
    import numpy as np
    import pandas as pd

    if isinstance(predictions, pd.DataFrame):
        return predictions.reset_index(drop=True)
    if isinstance(predictions, pd.Series):
        return pd.DataFrame({"prediction": predictions.to_numpy()})
    values = np.asarray(predictions)
    if values.ndim <= 1:
        return pd.DataFrame({"prediction": values.reshape(-1)})
    flat = values.reshape(len(values), -1)
    return pd.DataFrame({f"prediction_{i}": flat[:, i] for i in range(flat.shape[1])})


class _Writer:
    """Appends prediction chunks to one output; ``close`` finishes the file."""

    def __init__(self, kind: str, target: Path | None, stdout: IO[str]) -> None:
        self.kind = kind
        self.target = target
        self._stdout = stdout
        self._text: IO[str] | None = None
        self._parquet: Any = None
        self._first = True

    def _stream(self) -> IO[str]:
        if self._text is None:
            self._text = self.target.open("w", encoding="utf-8") if self.target else self._stdout
        return self._text

    def write(self, frame: pd.DataFrame) -> None:
        if self.kind == "csv":
            frame.to_csv(self._stream(), index=False, header=self._first)
        elif self.kind == "parquet":
            self._write_parquet(frame)
        elif self.kind == "jsonl":
            for record in frame.to_dict(orient="records"):
                self._stream().write(json.dumps(record, default=json_default) + "\n")
        else:
            self._write_json(frame)
        self._first = False

    def _write_parquet(self, frame: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self._parquet is None:
            assert self.target is not None
            self._parquet = pq.ParquetWriter(self.target, table.schema)
        self._parquet.write_table(table)

    def _write_json(self, frame: pd.DataFrame) -> None:
        # MLflow's body: a list of values for one column, of records otherwise.
        if list(frame.columns) == ["prediction"]:
            items = frame["prediction"].tolist()
        else:
            items = frame.to_dict(orient="records")
        out = self._stream()
        for item in items:
            out.write('{"predictions": [' if self._first else ", ")
            out.write(json.dumps(item, default=json_default))
            self._first = False

    def close(self) -> None:
        if self.kind == "json":
            self._stream().write('{"predictions": []}\n' if self._first else "]}\n")
        if self._parquet is not None:
            self._parquet.close()
        if self._text is not None and self._text is not self._stdout:
            self._text.close()
        elif self._text is not None:
            self._text.flush()


def predict_file(
    predict: Callable[[Any], Any],
    input_path: str | Path,
    output_path: str | Path | None,
    *,
    stdout: IO[str],
    chunk_rows: int = 10_000,
    input_format: str | None = None,
    output_format: str | None = None,
    on_chunk: Callable[[int], None] | None = None,
) -> int:
    """Score ``input_path`` chunk by chunk with ``predict``; write to ``output_path`` (or stdout).

    Parameters
    ----------
    predict:
        Usually a loaded model's ``predict`` (signature enforcement included).
    input_path, output_path:
        Formats come from the suffixes unless named; no output path writes
        MLflow's JSON to ``stdout``.
    chunk_rows:
        Rows per ``predict`` call; memory follows it.
    on_chunk:
        Called with each chunk's row count (a progress bar).

    Returns
    -------
    int
        The number of rows scored.

    Raises
    ------
    InvalidInput
        An unknown format, an unreadable input, or a chunk the model refuses
        (the message names the chunk's first row and the model's reason).
    """
    if chunk_rows < 1:
        raise InvalidInput(f"chunk_rows must be at least 1, got {chunk_rows}")
    in_kind = format_of(input_path, INPUT_FORMATS, "input", input_format)
    out_kind = (
        format_of(output_path, OUTPUT_FORMATS, "output", output_format)
        if output_path is not None
        else (output_format or "json")
    )
    if out_kind == "parquet" and output_path is None:
        raise InvalidInput("Parquet output needs an output file (-o out.parquet)")
    # A failure midway must not leave a truncated file under the name asked for: write
    # beside it and rename once every chunk is in.
    final = Path(output_path) if output_path is not None else None
    partial = final.with_name(f".{final.name}.partial") if final is not None else None
    writer = _Writer(out_kind, partial, stdout)
    rows = 0
    done = False
    try:
        for chunk in input_chunks(input_path, in_kind, chunk_rows):
            try:
                predictions = predict(chunk)
            except InvalidInput as exc:
                raise InvalidInput(
                    f"Rows from {rows} of {str(input_path)!r}: {exc.message}"
                ) from None
            writer.write(predictions_frame(predictions))
            rows += len(chunk)
            if on_chunk is not None:
                on_chunk(len(chunk))
        done = True
    finally:
        writer.close()
        if partial is not None and final is not None:
            if done:
                partial.replace(final)
            else:
                partial.unlink(missing_ok=True)
    return rows
