"""Model signatures: what a model takes and returns, inferred from examples and enforced at predict.

The JSON is MLflow's (``MLmodel``'s ``signature.inputs`` / ``.outputs`` are
JSON strings of column or tensor specs), so signatures written by either tool
read in the other. Enforcement is deliberately narrow: it converts only where
no information is lost (int -> long/double, float32 -> double, object ->
string…) and otherwise names the column, the expected type and a bad value,
because "could not convert string to float" says nothing about *which* input.

pandas and numpy are imported inside the functions that need them.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from typing import Any

from nbtrack.errors import InvalidInput, NbtrackWarning

__all__ = [
    "COLUMN_TYPES",
    "ColSpec",
    "ModelSignature",
    "Schema",
    "TensorSpec",
    "enforce",
    "infer_schema",
    "infer_signature",
]

#: MLflow's scalar column types.
COLUMN_TYPES = ("boolean", "integer", "long", "float", "double", "string", "binary", "datetime")

# The numpy dtype each column type is converted to.
_NUMPY_OF = {
    "boolean": "bool",
    "integer": "int32",
    "long": "int64",
    "float": "float32",
    "double": "float64",
}


@dataclass(frozen=True)
class ColSpec:
    """One column: an MLflow type, an optional name, and whether it must be present."""

    type: str
    name: str | None = None
    required: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Return MLflow's JSON form (``{"type", "name", "required"}``)."""
        out: dict[str, Any] = {"type": self.type}
        if self.name is not None:
            out["name"] = self.name
        out["required"] = self.required
        return out


@dataclass(frozen=True)
class TensorSpec:
    """One tensor: a numpy dtype name and a shape with -1 for free dimensions."""

    dtype: str
    shape: tuple[int, ...]
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return MLflow's JSON form (``{"type": "tensor", "tensor-spec": {...}}``)."""
        out: dict[str, Any] = {"type": "tensor"}
        if self.name is not None:
            out["name"] = self.name
        out["tensor-spec"] = {"dtype": self.dtype, "shape": list(self.shape)}
        return out


@dataclass(frozen=True)
class Schema:
    """A list of column specs, or of tensor specs (never a mix)."""

    inputs: tuple[ColSpec | TensorSpec, ...]

    @property
    def is_tensor(self) -> bool:
        """True when the schema describes tensors rather than columns."""
        return bool(self.inputs) and isinstance(self.inputs[0], TensorSpec)

    def names(self) -> list[str | None]:
        """The column or tensor names, None for unnamed ones."""
        return [spec.name for spec in self.inputs]

    def to_json(self) -> str:
        """Return the JSON string MLflow stores in ``MLmodel``."""
        return json.dumps([spec.to_dict() for spec in self.inputs])

    @classmethod
    def from_json(cls, text: str) -> Schema:
        """Parse MLflow's JSON string (column and tensor specs)."""
        try:
            items = json.loads(text)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"Signature schema is not valid JSON: {exc}") from None
        specs: list[ColSpec | TensorSpec] = []
        for item in items:
            if item.get("type") == "tensor":
                spec = item.get("tensor-spec", {})
                specs.append(TensorSpec(str(spec["dtype"]), tuple(spec["shape"]), item.get("name")))
            else:
                # Object, array and map types are kept by name; they are not enforced.
                specs.append(
                    ColSpec(str(item.get("type")), item.get("name"), item.get("required", True))
                )
        return cls(tuple(specs))


@dataclass(frozen=True)
class ModelSignature:
    """A model's input schema and (optionally) output schema."""

    inputs: Schema
    outputs: Schema | None = None
    params: Any = field(default=None)

    def to_dict(self) -> dict[str, Any]:
        """Return the ``signature`` block of ``MLmodel``: JSON strings, as MLflow writes them."""
        return {
            "inputs": self.inputs.to_json(),
            "outputs": self.outputs.to_json() if self.outputs is not None else None,
            "params": json.dumps(self.params) if self.params is not None else None,
        }

    @classmethod
    def from_dict(cls, block: dict[str, Any]) -> ModelSignature:
        """Read the ``signature`` block of an ``MLmodel`` file."""
        outputs = block.get("outputs")
        params = block.get("params")
        return cls(
            Schema.from_json(block["inputs"]),
            Schema.from_json(outputs) if outputs else None,
            json.loads(params) if isinstance(params, str) else params,
        )


# inference ----------------------------------------------------------------------


def _scalar_type(value: Any) -> str | None:
    import datetime as dt

    import numpy as np

    if isinstance(value, (bool, np.bool_)):
        return "boolean"
    if isinstance(value, (int, np.integer)):
        return "long"
    if isinstance(value, (float, np.floating)):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (bytes, bytearray)):
        return "binary"
    if isinstance(value, (dt.date, np.datetime64)):
        return "datetime"
    return None


def _column_type(name: Any, series: Any) -> str:
    import pandas as pd

    dtype = series.dtype
    if isinstance(dtype, pd.StringDtype):
        return "string"
    if isinstance(dtype, pd.CategoricalDtype):
        return _column_type(name, series.astype(dtype.categories.dtype))
    kind = getattr(dtype, "kind", "O")
    itemsize = getattr(dtype, "itemsize", 8)
    if kind == "b":
        return "boolean"
    if kind in "iu":
        return "integer" if itemsize < 4 or (kind == "i" and itemsize == 4) else "long"
    if kind == "f":
        return "float" if itemsize <= 4 else "double"
    if kind == "M":
        return "datetime"
    if kind == "S":
        return "binary"
    if kind == "U":
        return "string"
    found = {_scalar_type(v) for v in series.dropna().tolist()}
    if len(found) == 1:
        only = found.pop()
        if only is not None:
            return only
    if found in ({"long", "double"}, set()):
        return "double"
    raise InvalidInput(
        f"Cannot infer an MLflow type for column {name!r}: its values are of types "
        f"{sorted(t or 'unsupported' for t in found)}; give a signature explicitly"
    )


def infer_schema(data: Any) -> Schema:
    """Infer a schema from an example.

    Parameters
    ----------
    data:
        A pandas DataFrame or Series, a numpy array, a dict (column -> values
        or scalar), a list of dicts (records), a list of scalars, or a list of
        lists (treated as a 2-d array).

    Returns
    -------
    Schema
        Column specs for tabular data, a tensor spec (batch dimension -1) for arrays.

    Raises
    ------
    InvalidInput
        A column's values have no MLflow type.
    """
    import numpy as np
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return Schema(tuple(ColSpec(_column_type(c, data[c]), str(c)) for c in data.columns))
    if isinstance(data, pd.Series):
        name = None if data.name is None else str(data.name)
        return Schema((ColSpec(_column_type(name, data), name),))
    if isinstance(data, np.ndarray):
        if data.dtype.kind == "O":
            raise InvalidInput("Cannot infer a tensor spec from an object-dtype array")
        return Schema((TensorSpec(str(data.dtype), (-1, *data.shape[1:])),))
    if isinstance(data, dict):
        return infer_schema(_dict_frame(data))
    if isinstance(data, (list, tuple)):
        if not data:
            raise InvalidInput("Cannot infer a signature from an empty list")
        if all(isinstance(r, dict) for r in data):
            return infer_schema(pd.DataFrame(list(data)))
        if all(isinstance(r, (list, tuple, np.ndarray)) for r in data):
            return infer_schema(np.asarray(data))
        return infer_schema(pd.Series(list(data)))
    kind = _scalar_type(data)
    if kind is not None:
        return Schema((ColSpec(kind),))
    raise InvalidInput(
        f"Cannot infer a signature from a {type(data).__name__}; use a DataFrame, a numpy "
        "array, a dict or a list"
    )


def _dict_frame(data: dict[Any, Any]) -> Any:
    import pandas as pd

    if all(not isinstance(v, (list, tuple)) and getattr(v, "ndim", 0) == 0 for v in data.values()):
        return pd.DataFrame([data])
    return pd.DataFrame(data)


def infer_signature(
    model_input: Any, model_output: Any = None, params: dict[str, Any] | None = None
) -> ModelSignature:
    """Infer a signature from an input example and, optionally, the model's output on it.

    Parameters
    ----------
    model_input:
        An input example (see :func:`infer_schema`).
    model_output:
        What the model returned for it, or None.
    params:
        Inference parameters (stored as given).

    Returns
    -------
    ModelSignature
    """
    import numpy as np
    import pandas as pd

    inputs = infer_schema(model_input)
    outputs = None
    if model_output is not None:
        # A 1-d prediction for tabular input is one unnamed column, as MLflow writes it.
        if isinstance(model_output, np.ndarray) and model_output.ndim == 1 and not inputs.is_tensor:
            model_output = pd.Series(model_output)
        outputs = infer_schema(model_output)
    return ModelSignature(inputs, outputs, params)


# enforcement --------------------------------------------------------------------


def _fail(column: Any, expected: str, value: Any, detail: str = "") -> InvalidInput:
    extra = f" ({detail})" if detail else ""
    return InvalidInput(
        f"Column {column!r} must be of type {expected}; cannot convert value {value!r}{extra}"
    )


def _first_bad(series: Any, converted: Any) -> Any:
    bad = series[converted.isna() & series.notna()]
    return bad.iloc[0] if len(bad) else (series.iloc[0] if len(series) else None)


def _cast_column(name: Any, series: Any, expected: str) -> Any:
    import numpy as np
    import pandas as pd

    found = series.dtype
    kind = getattr(found, "kind", "O")
    if expected == "string":
        if kind in "OU" or isinstance(found, pd.StringDtype):
            return series
        raise _fail(name, expected, series.iloc[0] if len(series) else None, f"found {found}")
    if expected == "binary":
        if kind in "OS" or isinstance(found, pd.StringDtype):
            return series
        raise _fail(name, expected, series.iloc[0] if len(series) else None, f"found {found}")
    if expected == "datetime":
        converted = pd.to_datetime(series, errors="coerce")
        if converted.isna().sum() > series.isna().sum():
            raise _fail(name, expected, _first_bad(series, converted))
        return converted
    target = np.dtype(_NUMPY_OF.get(expected, "O"))
    if target.kind == "O":
        return series  # object/array/map specs are not enforced here
    if found == target:
        return series
    if kind in "biuf" and np.can_cast(found, target, casting="safe"):
        return series.astype(target)
    if kind in "iu" and target.kind == "f":
        return series.astype(target)  # int -> double, as MLflow allows
    if kind == "O" or isinstance(found, pd.StringDtype):
        values = series.infer_objects() if kind == "O" else series
        inner = getattr(values.dtype, "kind", "O")
        if inner in "biuf" and np.can_cast(values.dtype, target, casting="safe"):
            return values.astype(target)
        if inner in "iu" and target.kind == "f":
            return values.astype(target)
        if expected != "boolean":
            converted = pd.to_numeric(series, errors="coerce")
            if converted.notna().sum() == series.notna().sum():
                if target.kind in "iu" and not (converted.dropna() % 1 == 0).all():
                    raise _fail(name, expected, _first_bad(series, converted), "not integral")
                return converted.astype(target)
            raise _fail(name, expected, _first_bad(series, converted))
    raise _fail(name, expected, series.iloc[0] if len(series) else None, f"found {found}")


def _as_frame(data: Any, schema: Schema) -> Any:
    import numpy as np
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    names = schema.names()
    if isinstance(data, pd.Series):
        return data.to_frame(names[0] if len(names) == 1 and names[0] else data.name or 0)
    if isinstance(data, dict):
        return _dict_frame(data)
    if isinstance(data, (list, tuple)) and data and all(isinstance(r, dict) for r in data):
        return pd.DataFrame(list(data))
    array = np.asarray(data)
    if array.ndim == 1:
        array = array.reshape(-1, 1) if len(names) == 1 else array.reshape(1, -1)
    if array.ndim != 2 or array.shape[1] != len(names):
        raise InvalidInput(
            f"Input of shape {array.shape} does not match the signature's {len(names)} columns"
        )
    return pd.DataFrame(array, columns=[n if n else i for i, n in enumerate(names)])


def _enforce_columns(data: Any, schema: Schema) -> Any:
    import pandas as pd

    frame = _as_frame(data, schema)
    specs = [s for s in schema.inputs if isinstance(s, ColSpec)]
    if all(s.name is None for s in specs):
        # Unnamed columns are matched by position.
        if frame.shape[1] < len(specs):
            raise InvalidInput(
                f"Input has {frame.shape[1]} columns; the signature needs {len(specs)}"
            )
        labels = [c.item() if hasattr(c, "item") else c for c in frame.columns]
        columns = {
            labels[i]: _cast_column(labels[i], frame.iloc[:, i], spec.type)
            for i, spec in enumerate(specs)
        }
        return pd.DataFrame(columns, index=frame.index)
    present = {str(c): c for c in frame.columns}
    missing = [s.name for s in specs if s.required and s.name not in present]
    if missing:
        raise InvalidInput(
            f"Input is missing required column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(m) for m in missing)}; the model expects "
            f"{[s.name for s in specs]}"
        )
    wanted = {s.name for s in specs}
    extra = [name for name in present if name not in wanted]
    if extra:
        warnings.warn(
            f"Dropping input columns not in the model's signature: {extra}",
            NbtrackWarning,
            stacklevel=4,
        )
    out = {}
    for spec in specs:
        if spec.name in present:
            out[spec.name] = _cast_column(spec.name, frame[present[spec.name]], spec.type)
    return pd.DataFrame(out, index=frame.index)


def _enforce_tensor(data: Any, spec: TensorSpec) -> Any:
    import numpy as np
    import pandas as pd

    array = data.to_numpy() if isinstance(data, (pd.DataFrame, pd.Series)) else np.asarray(data)
    target = np.dtype(spec.dtype)
    name = spec.name or "input"
    if array.dtype != target:
        if array.dtype.kind == "O" or not np.can_cast(array.dtype, target, casting="same_kind"):
            raise InvalidInput(f"Tensor {name!r} must be of dtype {spec.dtype}; got {array.dtype}")
        array = array.astype(target)
    if len(spec.shape) != array.ndim or any(
        want not in (-1, got) for want, got in zip(spec.shape, array.shape, strict=False)
    ):
        raise InvalidInput(
            f"Tensor {name!r} must have shape {list(spec.shape)} (-1 = any); got "
            f"{list(array.shape)}"
        )
    return array


def enforce(signature: ModelSignature | Schema | None, data: Any) -> Any:
    """Check and convert ``data`` to match a signature's inputs.

    Parameters
    ----------
    signature:
        The model's signature (or just its input schema); None passes data through.
    data:
        What the caller gave to ``predict``.

    Returns
    -------
    Any
        A DataFrame with the signature's columns in order (extra columns
        dropped with a warning), or a numpy array for tensor signatures.

    Raises
    ------
    InvalidInput
        A required column is missing (named), a value cannot be converted
        (column, expected type and value named), or a tensor's dtype or shape
        does not fit.
    """
    if signature is None:
        return data
    schema = signature.inputs if isinstance(signature, ModelSignature) else signature
    if not schema.inputs:
        return data
    if schema.is_tensor:
        if len(schema.inputs) != 1:
            return data  # several named tensors: left to the model
        return _enforce_tensor(data, schema.inputs[0])  # type: ignore[arg-type]
    return _enforce_columns(data, schema)
