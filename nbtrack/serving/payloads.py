"""MLflow's scoring protocol without a web framework: request bodies in, model input out, JSON back.

Kept apart from the ASGI app so that every rule of the protocol is a plain
function, tested without a server, and so that another front end (a batch
``predict`` command, a notebook helper) can reuse it:

- :func:`media_type` checks ``Content-Type`` (``application/json`` or
  ``text/csv``, UTF-8 only, as MLflow's server does);
- :func:`decode_json` and :func:`split_request` read a JSON body in one of
  the four formats (``dataframe_split``, ``dataframe_records``,
  ``instances``, ``inputs``) plus optional ``params``;
- :func:`model_input` and :func:`csv_input` build what ``predict`` receives:
  a DataFrame for the ``dataframe_*`` formats and CSV, numpy arrays (or a
  dict of them) for the tensor formats, as MLflow does;
- :func:`predictions_json` serialises predictions as MLflow does
  (``{"predictions": ...}``, DataFrames and Series as records).

Every problem raises :class:`PayloadError` with the HTTP status to answer
and a message naming the offending key, column or value. pandas is imported
only by the functions that build DataFrames.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from nbtrack.errors import PayloadError
from nbtrack.json_values import json_default

__all__ = [
    "CSV",
    "FORMATS",
    "JSON",
    "PayloadError",
    "ScoringRequest",
    "csv_input",
    "decode_json",
    "error_body",
    "media_type",
    "model_input",
    "predictions_json",
    "split_request",
]

JSON = "application/json"
CSV = "text/csv"
# MLflow's own docs show `application/csv`, which its server refuses; we take both.
_MEDIA_TYPES = {JSON: JSON, CSV: CSV, "application/csv": CSV}
#: The JSON keys that say how the input is laid out, in MLflow's names.
FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
PARAMS_KEY = "params"
_SPLIT_KEYS = ("columns", "data", "index")


def error_body(error_code: str, message: str) -> bytes:
    """Return MLflow's error body, ``{"error_code": ..., "message": ...}``, as JSON bytes."""
    return json.dumps({"error_code": error_code, "message": message}).encode()


def media_type(content_type: str | None) -> str:
    """Return :data:`JSON` or :data:`CSV` for a ``Content-Type`` header.

    Raises
    ------
    PayloadError
        (415) A missing or other media type, a charset other than UTF-8, or
        an unknown parameter.
    """
    if not content_type:
        raise PayloadError(f"Missing Content-Type header; send {JSON!r} or {CSV!r}", status=415)
    kind, *params = (part.strip() for part in content_type.split(";"))
    found = _MEDIA_TYPES.get(kind.lower())
    if found is None:
        raise PayloadError(
            f"Unsupported Content-Type {content_type!r}; send {JSON!r} or {CSV!r}", status=415
        )
    for param in params:
        if not param:
            continue  # "application/json;" as curl users often type it
        name, _, value = param.partition("=")
        name = name.strip().lower()
        if name != "charset":
            raise PayloadError(
                f"Unsupported Content-Type parameter {name!r} in {content_type!r}; "
                "only charset=utf-8 is accepted",
                status=415,
            )
        if value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise PayloadError(
                f"Unsupported charset {value.strip()!r}: the scoring server reads UTF-8 only",
                status=415,
            )
    return found


def decode_json(body: bytes) -> dict[str, Any]:
    """Parse a JSON request body, which must be an object.

    Raises
    ------
    PayloadError
        The body is not UTF-8, not JSON, or not a JSON object.
    """
    try:
        doc = json.loads(body)
    except UnicodeDecodeError as exc:
        raise PayloadError(f"Request body is not valid UTF-8: {exc}") from None
    except ValueError as exc:
        raise PayloadError(f"Request body is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise PayloadError(
            f"Request body must be a JSON object with exactly one of the keys {list(FORMATS)}; "
            f"got a JSON {_json_kind(doc)}"
        )
    return doc


class ScoringRequest:
    """A JSON request split into its layout, its data and its params.

    Attributes
    ----------
    format:
        One of :data:`FORMATS`.
    data:
        The value under that key, as parsed from JSON.
    params:
        The ``params`` object, or None.
    """

    __slots__ = ("data", "format", "params")

    def __init__(self, format: str, data: Any, params: dict[str, Any] | None) -> None:
        self.format = format
        self.data = data
        self.params = params


def split_request(doc: dict[str, Any]) -> ScoringRequest:
    """Find the one input format of a decoded JSON body, and its ``params``.

    Keys other than the formats and ``params`` are ignored, as MLflow does.

    Raises
    ------
    PayloadError
        No format key or more than one, or ``params`` that is not an object.
    """
    found = [key for key in FORMATS if key in doc]
    if len(found) != 1:
        what = f"found {found}" if found else f"found only {sorted(doc)}"
        raise PayloadError(
            f"Request body must have exactly one of the keys {list(FORMATS)}; {what}"
        )
    params = doc.get(PARAMS_KEY)
    if params is not None and not isinstance(params, dict):
        raise PayloadError(
            f"'params' must be a JSON object of parameter names to values; "
            f"got a JSON {_json_kind(params)}"
        )
    return ScoringRequest(found[0], doc[found[0]], params)


def model_input(request: ScoringRequest, column_names: list[str] | None = None) -> Any:
    """Build the input ``predict`` receives from a split request.

    Parameters
    ----------
    request:
        The output of :func:`split_request`.
    column_names:
        The signature's column names, if it names its columns: a tensor-format
        list given to a one-column model becomes that column, as in MLflow.

    Returns
    -------
    Any
        A DataFrame (``dataframe_split``, ``dataframe_records``), a numpy
        array or a ``{name: array}`` dict (``instances``, ``inputs``), or the
        JSON value itself when it is ragged or a scalar.

    Raises
    ------
    PayloadError
        The data does not have the layout its key promises (the key and
        what is wrong are named).
    """
    if request.format == "dataframe_split":
        return _split_frame(request.data)
    if request.format == "dataframe_records":
        return _records_frame(request.data)
    return _tensor_input(request.format, request.data, column_names)


def _split_frame(data: Any) -> Any:
    import pandas as pd

    if not isinstance(data, dict):
        raise PayloadError(
            "'dataframe_split' must be an object with 'data' and optionally 'columns' and "
            f"'index'; got a JSON {_json_kind(data)}"
        )
    extra = sorted(set(data) - set(_SPLIT_KEYS))
    if "data" not in data or extra:
        problem = f"unknown keys {extra}" if extra else "no 'data' key"
        raise PayloadError(
            f"'dataframe_split' must have 'data' and optionally 'columns' and 'index'; "
            f"it has {problem}"
        )
    rows = data["data"]
    if not isinstance(rows, list):
        raise PayloadError(f"'dataframe_split.data' must be a list of rows; got {_json_kind(rows)}")
    columns = data.get("columns")
    if columns is not None and not isinstance(columns, list):
        raise PayloadError(
            f"'dataframe_split.columns' must be a list of names; got {_json_kind(columns)}"
        )
    index = data.get("index")
    if index is not None and (not isinstance(index, list) or len(index) != len(rows)):
        size = f"{len(index)} labels" if isinstance(index, list) else f"a JSON {_json_kind(index)}"
        raise PayloadError(
            f"'dataframe_split.index' must be a list of one label per row; it has {size} "
            f"for {len(rows)} rows"
        )
    if columns is not None:
        for i, row in enumerate(rows):
            if isinstance(row, list) and len(row) != len(columns):
                raise PayloadError(
                    f"Row {i} of 'dataframe_split.data' has {len(row)} values but "
                    f"'columns' names {len(columns)}: {columns}"
                )
    try:
        return pd.DataFrame(data=rows, columns=columns, index=index)
    except (ValueError, TypeError) as exc:
        raise PayloadError(
            f"'dataframe_split' is not a valid split-oriented table: {exc}"
        ) from None


def _records_frame(data: Any) -> Any:
    import pandas as pd

    if not isinstance(data, list):
        raise PayloadError(
            f"'dataframe_records' must be a list of records (objects); got a JSON "
            f"{_json_kind(data)}"
        )
    for i, record in enumerate(data):
        if not isinstance(record, dict):
            raise PayloadError(
                f"Record {i} of 'dataframe_records' must be an object of column names to "
                f"values; got a JSON {_json_kind(record)}"
            )
    return pd.DataFrame(data)


def _tensor_input(key: str, data: Any, column_names: list[str] | None) -> Any:
    if key == "instances" and isinstance(data, list) and data and isinstance(data[0], dict):
        # Row format: a list of named instances becomes one array per name.
        columns: dict[str, list[Any]] = {}
        for i, item in enumerate(data):
            if not isinstance(item, dict):
                raise PayloadError(
                    f"Item {i} of 'instances' must be an object like item 0; got a JSON "
                    f"{_json_kind(item)}"
                )
            for name, value in item.items():
                columns.setdefault(name, []).append(value)
        lengths = {name: len(values) for name, values in columns.items()}
        if len(set(lengths.values())) > 1:
            raise PayloadError(
                f"Every item of 'instances' must have the same keys; counts per key: {lengths}"
            )
        return {name: _array(values) for name, values in columns.items()}
    if isinstance(data, dict):
        return {name: _array(values) for name, values in data.items()}
    if isinstance(data, list) and data and all(isinstance(v, dict) for v in data):
        return data  # records: the signature (or the model) makes a table of them
    one_column = column_names is not None and len(column_names) == 1
    if one_column and isinstance(data, list) and not any(isinstance(v, dict) for v in data):
        # A plain list for a one-column model is that column, as in MLflow.
        assert column_names is not None
        return {column_names[0]: _array(data)}
    if isinstance(data, list):
        return _array(data)
    return data


def _array(values: Any) -> Any:
    import numpy as np

    if not isinstance(values, list):
        return values
    try:
        return np.asarray(values)
    except ValueError:
        return values  # ragged: the model gets the lists as sent


def csv_input(body: bytes) -> Any:
    """Parse a ``text/csv`` body (a header row, then data) into a DataFrame.

    Raises
    ------
    PayloadError
        The body is empty, not UTF-8, or not CSV pandas can read.
    """
    import io

    import pandas as pd

    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PayloadError(f"CSV body is not valid UTF-8: {exc}") from None
    try:
        return pd.read_csv(io.BytesIO(body))
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise PayloadError(f"CSV body could not be read as a table: {exc}") from None


def predictions_json(predictions: Any) -> bytes:
    """Serialise predictions as MLflow's server does: ``{"predictions": ...}``.

    numpy arrays become (nested) lists, DataFrames and Series a list of
    records, numpy scalars Python numbers, bytes base64 text and dates ISO
    8601 text; dicts and lists are walked.

    Raises
    ------
    TypeError
        A value has no JSON form.
    """
    tolist = getattr(predictions, "tolist", None)
    if tolist is not None and type(predictions).__module__ == "numpy":
        # The common case (an estimator's array) without walking it in Python.
        return json.dumps({"predictions": tolist()}, default=_jsonable).encode()
    return json.dumps({"predictions": _records(predictions)}, default=_jsonable).encode()


def _records(value: Any) -> Any:
    pandas = sys.modules.get("pandas")
    if pandas is not None:
        if isinstance(value, pandas.DataFrame):
            return value.to_dict(orient="records")
        if isinstance(value, pandas.Series):
            return value.to_frame().to_dict(orient="records")
    return value


def _jsonable(value: Any) -> Any:
    # Frames nested in a prediction go as records; every other value by the one rule.
    pandas = sys.modules.get("pandas")
    if pandas is not None and isinstance(value, (pandas.DataFrame, pandas.Series)):
        return _records(value)
    return json_default(value)


def _json_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"
