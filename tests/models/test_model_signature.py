"""Signatures: inferred from pandas / numpy / lists in MLflow's JSON, enforced by predict."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from nbtrack.errors import InvalidInput, NbtrackWarning
from nbtrack.models.signature import (
    ColSpec,
    ModelSignature,
    Schema,
    TensorSpec,
    enforce,
    infer_schema,
    infer_signature,
)


def _types(schema: Schema) -> dict[str | None, str]:
    return {s.name: s.type for s in schema.inputs if isinstance(s, ColSpec)}


def test_dataframe_columns_get_mlflow_types() -> None:
    frame = pd.DataFrame(
        {
            "i64": np.array([1, 2], dtype="int64"),
            "i32": np.array([1, 2], dtype="int32"),
            "f64": [1.5, 2.5],
            "f32": np.array([1.5, 2.5], dtype="float32"),
            "s": ["a", "b"],
            "b": [True, False],
            "t": pd.to_datetime(["2024-01-01", "2024-01-02"]),
            "raw": [b"x", b"y"],
        }
    )
    assert _types(infer_schema(frame)) == {
        "i64": "long",
        "i32": "integer",
        "f64": "double",
        "f32": "float",
        "s": "string",
        "b": "boolean",
        "t": "datetime",
        "raw": "binary",
    }


def test_numpy_gives_a_tensor_with_a_free_batch_dimension() -> None:
    schema = infer_schema(np.zeros((5, 3, 2), dtype="float32"))
    assert schema.inputs == (TensorSpec("float32", (-1, 3, 2)),)
    assert json.loads(schema.to_json()) == [
        {"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3, 2]}}
    ]


def test_lists_and_dicts() -> None:
    assert _types(infer_schema([{"a": 1, "b": "x"}, {"a": 2, "b": "y"}])) == {
        "a": "long",
        "b": "string",
    }
    assert _types(infer_schema({"a": [1.0, 2.0]})) == {"a": "double"}
    assert _types(infer_schema({"a": 1, "b": True})) == {"a": "long", "b": "boolean"}
    assert infer_schema([[1, 2], [3, 4]]).inputs == (TensorSpec("int64", (-1, 2)),)
    assert infer_schema(["x", "y"]).inputs == (ColSpec("string"),)


def test_json_matches_what_mlflow_writes_and_round_trips() -> None:
    frame = pd.DataFrame({"sepal length (cm)": [5.1]})
    sig = infer_signature(frame, np.array([0]))
    block = sig.to_dict()
    assert block == {
        "inputs": '[{"type": "double", "name": "sepal length (cm)", "required": true}]',
        "outputs": '[{"type": "long", "required": true}]',
        "params": None,
    }
    assert ModelSignature.from_dict(block) == sig


def test_uninferable_column_is_named() -> None:
    with pytest.raises(InvalidInput, match="'mixed'"):
        infer_schema(pd.DataFrame({"mixed": [1, "a", None]}))
    with pytest.raises(InvalidInput):
        infer_schema([])
    with pytest.raises(InvalidInput):
        infer_schema(object())


SIG = ModelSignature(Schema((ColSpec("double", "x"), ColSpec("long", "n"), ColSpec("string", "s"))))


def test_enforce_orders_columns_and_converts_safely() -> None:
    out = enforce(SIG, pd.DataFrame({"s": ["a"], "n": np.array([3], dtype="int32"), "x": [1]}))
    assert list(out.columns) == ["x", "n", "s"]
    assert out["x"].dtype == np.float64 and out["n"].dtype == np.int64
    records = enforce(SIG, [{"x": 1.0, "n": 2, "s": "a"}])
    assert records.shape == (1, 3)
    numeric_text = enforce(SIG, pd.DataFrame({"x": ["1.5"], "n": ["2"], "s": ["a"]}))
    assert numeric_text["x"].iloc[0] == 1.5 and numeric_text["n"].iloc[0] == 2


def test_missing_column_is_named() -> None:
    with pytest.raises(InvalidInput, match="missing required column 'n'") as err:
        enforce(SIG, pd.DataFrame({"x": [1.0], "s": ["a"]}))
    assert isinstance(err.value, ValueError)


def test_uncastable_value_names_column_and_type() -> None:
    with pytest.raises(InvalidInput, match=r"Column 'x' must be of type double.*'abc'"):
        enforce(SIG, pd.DataFrame({"x": ["abc"], "n": [1], "s": ["a"]}))
    with pytest.raises(InvalidInput, match=r"Column 'n' must be of type long.*not integral"):
        enforce(SIG, pd.DataFrame({"x": [1.0], "n": ["1.5"], "s": ["a"]}))
    with pytest.raises(InvalidInput, match=r"Column 'n' must be of type long"):
        enforce(SIG, pd.DataFrame({"x": [1.0], "n": [1.5], "s": ["a"]}))
    with pytest.raises(InvalidInput, match=r"Column 's' must be of type string"):
        enforce(SIG, pd.DataFrame({"x": [1.0], "n": [1], "s": [2.0]}))


def test_extra_columns_are_dropped_with_a_warning() -> None:
    frame = pd.DataFrame({"x": [1.0], "n": [1], "s": ["a"], "junk": [0]})
    with pytest.warns(NbtrackWarning, match="junk"):
        out = enforce(SIG, frame)
    assert list(out.columns) == ["x", "n", "s"]


def test_tensor_enforcement() -> None:
    sig = ModelSignature(Schema((TensorSpec("float64", (-1, 4)),)))
    out = enforce(sig, np.ones((2, 4), dtype="int64"))
    assert out.dtype == np.float64
    assert enforce(sig, [[1.0, 2.0, 3.0, 4.0]]).shape == (1, 4)
    with pytest.raises(InvalidInput, match=r"shape \[-1, 4\]"):
        enforce(sig, np.ones((2, 3)))
    with pytest.raises(InvalidInput, match="dtype float64"):
        enforce(sig, np.array([["a", "b", "c", "d"]]))


def test_no_signature_passes_data_through() -> None:
    data = object()
    assert enforce(None, data) is data


def test_unnamed_columns_are_matched_by_position() -> None:
    sig = infer_signature(pd.Series([1, 2]))
    assert sig.inputs.inputs == (ColSpec("long"),)
    assert enforce(sig, np.array([1, 2], dtype="int32")).dtypes.tolist() == [np.int64]
    assert enforce(infer_signature(["a"]), ["x", "y"]).shape == (2, 1)
    with pytest.raises(
        InvalidInput, match="Column 0 must be of type long; cannot convert value 'a'"
    ):
        enforce(sig, ["a"])
    with pytest.raises(InvalidInput, match="needs 1"):
        enforce(sig, pd.DataFrame())
