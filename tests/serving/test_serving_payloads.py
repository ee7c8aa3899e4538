"""The scoring protocol's rules as plain functions: content types, formats, inputs, outputs."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from nbtrack.serving.payloads import (
    CSV,
    JSON,
    PayloadError,
    ScoringRequest,
    csv_input,
    decode_json,
    error_body,
    media_type,
    model_input,
    predictions_json,
    split_request,
)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("application/json", JSON),
        ("application/json; charset=utf-8", JSON),
        ("application/json;charset=UTF-8", JSON),
        ("application/json;", JSON),
        ("Application/JSON", JSON),
        ("text/csv", CSV),
        ("text/csv; charset=utf-8", CSV),
        ("application/csv", CSV),
    ],
)
def test_media_type_accepts_json_and_csv_with_utf8(header: str, expected: str) -> None:
    assert media_type(header) == expected


@pytest.mark.parametrize(
    ("header", "named"),
    [
        (None, "Missing Content-Type"),
        ("text/plain", "'text/plain'"),
        ("application/x-www-form-urlencoded", "'application/x-www-form-urlencoded'"),
        ("application/json; charset=latin-1", "'latin-1'"),
        ("application/json; format=pandas-split", "'format'"),
    ],
)
def test_media_type_refuses_others_with_415(header: str | None, named: str) -> None:
    with pytest.raises(PayloadError) as caught:
        media_type(header)
    assert caught.value.status == 415
    assert named in caught.value.message


def test_decode_json_refuses_bad_json_non_objects_and_bad_utf8() -> None:
    with pytest.raises(PayloadError, match="not valid JSON"):
        decode_json(b'{"inputs": [1, 2')
    with pytest.raises(PayloadError, match="got a JSON list"):
        decode_json(b"[[1, 2]]")
    with pytest.raises(PayloadError, match="got a JSON number"):
        decode_json(b"3")
    with pytest.raises(PayloadError, match="not valid UTF-8"):
        decode_json(b'{"inputs": "\xff\xfe"}')
    assert decode_json(b'{"inputs": [1]}') == {"inputs": [1]}


def test_split_request_finds_the_one_format_and_params() -> None:
    request = split_request({"inputs": [[1, 2]], "params": {"k": 3}, "ignored": True})
    assert (request.format, request.data, request.params) == ("inputs", [[1, 2]], {"k": 3})
    assert split_request({"dataframe_records": []}).params is None


def test_split_request_names_missing_extra_format_keys_and_bad_params() -> None:
    with pytest.raises(PayloadError, match=r"found only \['columns', 'data'\]"):
        split_request({"columns": ["a"], "data": [[1]]})
    with pytest.raises(PayloadError, match=r"found \['dataframe_split', 'inputs'\]"):
        split_request({"dataframe_split": {}, "inputs": []})
    with pytest.raises(PayloadError, match="'params' must be a JSON object"):
        split_request({"inputs": [1], "params": [1, 2]})


def _input(format: str, data: object, names: list[str] | None = None) -> object:
    return model_input(ScoringRequest(format, data, None), names)


def test_dataframe_split_becomes_a_frame_with_columns_and_index() -> None:
    frame = _input(
        "dataframe_split", {"columns": ["a", "b"], "index": [7, 8], "data": [[1, 2], [3, 4]]}
    )
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["a", "b"]
    assert list(frame.index) == [7, 8]
    assert frame.to_numpy().tolist() == [[1, 2], [3, 4]]


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ([[1, 2]], "must be an object"),
        ({"columns": ["a"]}, "no 'data' key"),
        ({"data": [[1]], "rows": 1}, "unknown keys ['rows']"),
        ({"columns": ["a", "b"], "data": [[1, 2], [3]]}, "Row 1 of 'dataframe_split.data' has 1"),
        ({"columns": "a", "data": [[1]]}, "'dataframe_split.columns' must be a list"),
        ({"data": {"a": 1}}, "'dataframe_split.data' must be a list"),
        ({"columns": ["a"], "index": [1, 2], "data": [[1]]}, "it has 2 labels for 1 rows"),
        ({"columns": ["a", "b"], "data": [1, 2]}, "not a valid split-oriented"),
    ],
)
def test_dataframe_split_errors_name_the_problem(data: object, named: str) -> None:
    with pytest.raises(PayloadError) as caught:
        _input("dataframe_split", data)
    assert named in caught.value.message
    assert caught.value.status == 400


def test_dataframe_records_becomes_a_frame_and_checks_records() -> None:
    frame = _input("dataframe_records", [{"a": 1, "b": 2}, {"a": 3, "b": 4}])
    assert isinstance(frame, pd.DataFrame)
    assert frame.to_dict(orient="list") == {"a": [1, 3], "b": [2, 4]}
    with pytest.raises(PayloadError, match="must be a list of records"):
        _input("dataframe_records", {"a": [1]})
    with pytest.raises(PayloadError, match="Record 1 of 'dataframe_records'"):
        _input("dataframe_records", [{"a": 1}, [2]])


def test_instances_rows_of_objects_become_one_array_per_name() -> None:
    data = [{"a": "t1", "b": [1, 2, 3]}, {"a": "t2", "b": [4, 5, 6]}]
    got = _input("instances", data)
    assert isinstance(got, dict)
    assert got["a"].tolist() == ["t1", "t2"]
    assert got["b"].shape == (2, 3)
    with pytest.raises(PayloadError, match="same keys"):
        _input("instances", [{"a": 1, "b": 2}, {"a": 3}])


def test_inputs_become_arrays_and_ragged_lists_stay_lists() -> None:
    array = _input("inputs", [[1, 2], [3, 4]])
    assert isinstance(array, np.ndarray)
    assert array.shape == (2, 2)
    assert _input("inputs", [["Cheese"], ["and", "Crackers"]]) == [["Cheese"], ["and", "Crackers"]]
    columns = _input("inputs", {"q": ["x", "y"], "n": [1, 2]})
    assert isinstance(columns, dict)
    assert columns["n"].tolist() == [1, 2]
    assert _input("inputs", 5) == 5
    assert _input("inputs", [{"a": 1}, {"a": 2}]) == [{"a": 1}, {"a": 2}]


def test_a_plain_list_for_a_one_column_model_is_that_column() -> None:
    got = _input("inputs", ["a", "b"], names=["text"])
    assert isinstance(got, dict)
    assert got["text"].tolist() == ["a", "b"]


def test_csv_input_reads_a_header_and_rows() -> None:
    frame = csv_input(b"a,b\n1,2\n3,4\n")
    assert frame.to_dict(orient="list") == {"a": [1, 3], "b": [2, 4]}
    with pytest.raises(PayloadError, match="CSV body could not be read"):
        csv_input(b"")
    with pytest.raises(PayloadError, match="not valid UTF-8"):
        csv_input(b"a\n\xff\n")


def test_predictions_json_matches_mlflow_for_arrays_frames_series_and_dicts() -> None:
    def decoded(value: object) -> object:
        return json.loads(predictions_json(value))

    assert decoded(np.array([0, 2, 1])) == {"predictions": [0, 2, 1]}
    assert decoded(np.array([[0.25, 0.75]])) == {"predictions": [[0.25, 0.75]]}
    frame = pd.DataFrame({"label": ["x", "y"], "p": [0.5, 0.25]})
    assert decoded(frame) == {"predictions": [{"label": "x", "p": 0.5}, {"label": "y", "p": 0.25}]}
    assert decoded(pd.Series([1, 2], name="y")) == {"predictions": [{"y": 1}, {"y": 2}]}
    assert decoded({"scores": np.array([1.5, 2.5]), "n": np.int64(2)}) == {
        "predictions": {"scores": [1.5, 2.5], "n": 2}
    }
    assert decoded([np.float32(0.5), b"ab", dt.date(2024, 1, 2)]) == {
        "predictions": [0.5, "YWI=", "2024-01-02"]
    }
    assert decoded("text") == {"predictions": "text"}
    with pytest.raises(TypeError, match="Cannot serialise a object"):
        predictions_json(object())


def test_error_body_is_mlflows_shape() -> None:
    assert json.loads(error_body("BAD_REQUEST", "column 'a' is missing")) == {
        "error_code": "BAD_REQUEST",
        "message": "column 'a' is missing",
    }
