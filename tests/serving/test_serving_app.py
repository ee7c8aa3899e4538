"""The scoring app in-process (``httpx.ASGITransport``): MLflow's documented requests, and bad ones.

The request bodies marked "MLflow docs" are copied from MLflow's
documentation (``mlflow models serve --help`` and the "Deploy MLflow Model
as a Local Inference Server" page), so a client written against MLflow works
unchanged.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import nbtrack as nbt
from nbtrack.models.pyfunc import PythonModel
from nbtrack.serving.scorer import Scorer

JSON_HEADERS = {"Content-Type": "application/json"}


def _ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()["predictions"]


def _still_serving(client: Any, iris: Any) -> None:
    assert client.get("/ping").status_code == 200
    assert _ok(client.post("/invocations", json=iris.split())) == [0]


# --- the issue's example and MLflow's documented requests ---------------------------


def test_the_issues_curl_example_scores_the_setosa(in_app: Any, iris: Any) -> None:
    client = in_app(iris.model)
    body = json.dumps(iris.split())
    response = client.post("/invocations", content=body, headers=JSON_HEADERS)
    assert response.json() == {"predictions": [0]}


def test_iris_in_all_four_formats_and_csv_gives_the_same_classes(in_app: Any, iris: Any) -> None:
    client = in_app(iris.model)
    rows = [iris.setosa, [6.7, 3.0, 5.2, 2.3]]
    records = [dict(zip(iris.columns, row, strict=True)) for row in rows]
    expected = [0, 2]
    assert _ok(client.post("/invocations", json=iris.split(*rows))) == expected
    assert _ok(client.post("/invocations", json={"dataframe_records": records})) == expected
    assert _ok(client.post("/invocations", json={"instances": records})) == expected
    assert _ok(client.post("/invocations", json={"inputs": rows})) == expected
    assert _ok(client.post("/invocations", json={"inputs": records})) == expected
    columns = {c: [row[i] for row in rows] for i, c in enumerate(iris.columns)}
    assert _ok(client.post("/invocations", json={"inputs": columns})) == expected
    csv = ",".join(iris.columns) + "\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n"
    response = client.post(
        "/invocations", content=csv, headers={"Content-Type": "text/csv; charset=utf-8"}
    )
    assert _ok(response) == expected


def test_columns_in_another_order_or_extra_ones_are_matched_by_name(in_app: Any, iris: Any) -> None:
    client = in_app(iris.model)
    body = {
        "dataframe_split": {
            "columns": ["id", *reversed(iris.columns)],
            "data": [[17, *reversed(iris.setosa)]],
        }
    }
    assert _ok(client.post("/invocations", json=body)) == [0]


def test_fast_path_and_general_route_agree_on_many_rows(in_app: Any, iris: Any) -> None:
    from sklearn.datasets import load_iris

    X, _ = load_iris(return_X_y=True, as_frame=True)
    rows = X.to_numpy().tolist()
    assert Scorer(iris.model).fast is not None
    client = in_app(iris.model)
    fast = _ok(client.post("/invocations", json=iris.split(*rows)))
    # Strings force the general route (pandas and the signature's casts).
    strings = [[str(v) for v in row] for row in rows]
    general = _ok(client.post("/invocations", json=iris.split(*strings)))
    assert fast == general == iris.model.predict(X).tolist()
    assert set(fast) == {0, 1, 2}


def test_mlflow_docs_dataframe_records(in_app: Any, ab_model: Any) -> None:
    body = '{"dataframe_records": [{"a":1, "b":2}, {"a":3, "b":4}, {"a":5, "b":6}]}'
    predictions = _ok(in_app(ab_model).post("/invocations", content=body, headers=JSON_HEADERS))
    assert len(predictions) == 3
    assert set(predictions) <= {0, 1}


def test_mlflow_docs_dataframe_split_with_index(in_app: Any, ab_model: Any) -> None:
    body = """{
        "dataframe_split": {"columns": ["a", "b"],
                            "index": [0, 1, 2],
                            "data": [[1, 2], [3, 4], [5, 6]]}
    }"""
    client = in_app(ab_model)
    split = _ok(client.post("/invocations", content=body, headers=JSON_HEADERS))
    records = '{"dataframe_records": [{"a":1, "b":2}, {"a":3, "b":4}, {"a":5, "b":6}]}'
    assert split == _ok(client.post("/invocations", content=records, headers=JSON_HEADERS))


def test_mlflow_docs_inputs_list_of_rows(in_app: Any, ab_model: Any) -> None:
    body = '{"inputs": [[1, 2], [3, 4], [5, 6]]}'
    assert len(_ok(in_app(ab_model).post("/invocations", content=body, headers=JSON_HEADERS))) == 3


def test_mlflow_docs_instances_of_named_tensors(in_app: Any, describe_model: Any) -> None:
    body = """{
        "instances": [
            {"a": "t1", "b": [1, 2, 3]},
            {"a": "t2", "b": [4, 5, 6]},
            {"a": "t3", "b": [7, 8, 9]}
        ]
    }"""
    got = _ok(in_app(describe_model).post("/invocations", content=body, headers=JSON_HEADERS))
    assert got == {
        "input": {"a": {"array": [3], "kind": "U"}, "b": {"array": [3, 3], "kind": "i"}},
        "params": None,
    }


def test_mlflow_docs_instances_of_numbers(in_app: Any, describe_model: Any) -> None:
    body = '{"instances": [1.0, 2.0, 5.0]}'
    got = _ok(in_app(describe_model).post("/invocations", content=body, headers=JSON_HEADERS))
    assert got["input"] == {"array": [3], "kind": "f"}


def test_mlflow_docs_ragged_inputs_reach_the_model_as_lists(
    in_app: Any, describe_model: Any
) -> None:
    body = '{"inputs": [["Cheese"], ["and", "Crackers"]]}'
    got = _ok(in_app(describe_model).post("/invocations", content=body, headers=JSON_HEADERS))
    assert got["input"] == {"value": [["Cheese"], ["and", "Crackers"]]}


def test_mlflow_docs_inputs_with_params(in_app: Any, describe_model: Any) -> None:
    body = """{
    "inputs": {"question": ["What color is it?"],
                "context": ["Some people said it was green but I know that it is pink."]},
    "params": {"max_answer_len": 10}
}"""
    got = _ok(in_app(describe_model).post("/invocations", content=body, headers=JSON_HEADERS))
    assert got == {
        "input": {"question": {"array": [1], "kind": "U"}, "context": {"array": [1], "kind": "U"}},
        "params": {"max_answer_len": 10},
    }


def test_mlflow_docs_csv_with_application_csv(in_app: Any, describe_model: Any) -> None:
    response = in_app(describe_model).post(
        "/invocations", content="1,2,3,4", headers={"Content-Type": "application/csv"}
    )
    assert _ok(response)["input"] == {"frame": ["1", "2", "3", "4"], "rows": 0}


# --- the other endpoints -----------------------------------------------------------


def test_ping_health_version_and_metadata(in_app: Any, iris: Any) -> None:
    client = in_app(iris.model)
    for path in ("/ping", "/health"):
        assert client.get(path).status_code == 200
    version = client.get("/version")
    assert (version.status_code, version.text) == (200, nbt.__version__)
    meta = client.get("/metadata").json()
    assert meta["run_id"] == iris.model.metadata.run_id
    assert meta["flavors"] == ["python_function", "sklearn"]
    assert [c["name"] for c in meta["signature"]["inputs"]] == iris.columns
    assert {c["type"] for c in meta["signature"]["inputs"]} == {"double"}
    example = meta["input_example"]
    assert example["dataframe_split"]["columns"] == iris.columns
    # The example is a request body as it stands.
    assert _ok(client.post("/invocations", json=example)) == [0, 0, 0, 0, 0]


def test_metadata_of_a_model_without_signature(in_app: Any, describe_model: Any) -> None:
    meta = in_app(describe_model).get("/metadata").json()
    assert meta["signature"] is None
    assert meta["input_example"] is None


# --- bad requests: status, MLflow's error body naming the problem, and still serving ---


def _bad(client: Any, iris: Any, status: int, named: str, **request: Any) -> None:
    response = client.post("/invocations", **request)
    assert response.status_code == status, response.text
    assert response.json()["error_code"] == "BAD_REQUEST"
    assert named in response.json()["message"]
    _still_serving(client, iris)


def test_bad_json_is_400(in_app: Any, iris: Any) -> None:
    _bad(in_app(iris.model), iris, 400, "not valid JSON", content=b"{", headers=JSON_HEADERS)


def test_a_json_list_is_400(in_app: Any, iris: Any) -> None:
    _bad(in_app(iris.model), iris, 400, "got a JSON list", json=[[5.1, 3.5, 1.4, 0.2]])


def test_no_format_key_is_400_naming_the_keys(in_app: Any, iris: Any) -> None:
    body = {"columns": iris.columns, "data": [iris.setosa]}
    _bad(in_app(iris.model), iris, 400, "found only ['columns', 'data']", json=body)


def test_two_format_keys_are_400(in_app: Any, iris: Any) -> None:
    body = {**iris.split(), "inputs": [iris.setosa]}
    _bad(in_app(iris.model), iris, 400, "found ['dataframe_split', 'inputs']", json=body)


def test_a_missing_column_is_400_naming_it(in_app: Any, iris: Any) -> None:
    body = {"dataframe_split": {"columns": iris.columns[:3], "data": [iris.setosa[:3]]}}
    _bad(in_app(iris.model), iris, 400, "missing required column 'petal width (cm)'", json=body)


def test_an_uncastable_value_is_400_naming_column_and_value(in_app: Any, iris: Any) -> None:
    body = iris.split(["abc", 3.5, 1.4, 0.2])
    _bad(
        in_app(iris.model),
        iris,
        400,
        "Column 'sepal length (cm)' must be of type double",
        json=body,
    )
    _bad(in_app(iris.model), iris, 400, "'abc'", json=body)


def test_records_missing_a_column_are_400(in_app: Any, iris: Any) -> None:
    record = dict(zip(iris.columns[1:], iris.setosa[1:], strict=True))
    body = {"dataframe_records": [record]}
    _bad(in_app(iris.model), iris, 400, "'sepal length (cm)'", json=body)


def test_a_row_of_the_wrong_length_is_400(in_app: Any, iris: Any) -> None:
    body = iris.split(iris.setosa, [1.0, 2.0])
    _bad(in_app(iris.model), iris, 400, "Row 1 of 'dataframe_split.data' has 2 values", json=body)


def test_tensor_input_of_the_wrong_width_is_400(in_app: Any, iris: Any) -> None:
    _bad(
        in_app(iris.model),
        iris,
        400,
        "does not match the signature's 4 columns",
        json={"inputs": [[1.0, 2.0, 3.0]]},
    )


def test_params_that_are_not_an_object_are_400(in_app: Any, iris: Any) -> None:
    body = {**iris.split(), "params": "fast"}
    _bad(in_app(iris.model), iris, 400, "'params' must be a JSON object", json=body)


@pytest.mark.parametrize(
    ("content_type", "named"),
    [
        ("text/plain", "Unsupported Content-Type 'text/plain'"),
        ("application/json; charset=latin-1", "Unsupported charset 'latin-1'"),
        ("application/json; format=pandas-split", "parameter 'format'"),
    ],
)
def test_wrong_content_type_is_415(in_app: Any, iris: Any, content_type: str, named: str) -> None:
    body = json.dumps(iris.split())
    _bad(in_app(iris.model), iris, 415, named, content=body, headers={"Content-Type": content_type})


def test_a_missing_content_type_is_415(in_app: Any, iris: Any) -> None:
    client = in_app(iris.model)
    response = client.post("/invocations", content=json.dumps(iris.split()))
    assert response.status_code == 415
    assert "Missing Content-Type" in response.json()["message"]


def test_an_oversized_body_is_413_naming_the_limit(in_app: Any, iris: Any) -> None:
    client = in_app(iris.model, max_body_bytes=1000)
    body = iris.split(*[iris.setosa] * 100)
    _bad(client, iris, 413, "over the server's limit of 1,000 bytes", json=body)
    assert _ok(client.post("/invocations", json=iris.split(*[iris.setosa] * 3))) == [0, 0, 0]


def test_bad_csv_is_400(in_app: Any, iris: Any) -> None:
    headers = {"Content-Type": "text/csv"}
    _bad(
        in_app(iris.model),
        iris,
        400,
        "CSV body is not valid UTF-8",
        content=b"a\n\xff",
        headers=headers,
    )
    _bad(in_app(iris.model), iris, 400, "CSV body could not be read", content=b"", headers=headers)


def test_unknown_paths_and_methods_get_mlflows_error_shape(in_app: Any, iris: Any) -> None:
    client = in_app(iris.model)
    missing = client.get("/predict")
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    assert "/predict" in missing.json()["message"]
    wrong = client.get("/invocations")
    assert wrong.status_code == 405
    assert "GET /invocations" in wrong.json()["message"]
    _still_serving(client, iris)


# --- failures of the model itself ---------------------------------------------------------


class Failing(PythonModel):
    """Fails like a model with a bug (RuntimeError) or like one refusing its input (ValueError)."""

    def predict(self, context: Any, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        kind = (params or {}).get("fail")
        if kind == "bug":
            raise RuntimeError("weights are corrupt")
        if kind == "input":
            raise ValueError("x must be positive")
        if kind == "output":
            return object()
        return [1]


def test_model_errors_are_400_for_the_input_and_500_for_the_model(
    in_app: Any, tmp_path: Any, caplog: Any
) -> None:
    nbt.save_model(Failing(), tmp_path / "failing")
    client = in_app(nbt.load_model(tmp_path / "failing"))
    refused = client.post("/invocations", json={"inputs": [1], "params": {"fail": "input"}})
    assert refused.status_code == 400
    assert refused.json() == {
        "error_code": "BAD_REQUEST",
        "message": "The model could not score this input: ValueError: x must be positive",
    }
    for kind, named in (
        ("bug", "RuntimeError: weights are corrupt"),
        ("output", "Cannot serialise"),
    ):
        broken = client.post("/invocations", json={"inputs": [1], "params": {"fail": kind}})
        assert broken.status_code == 500
        assert broken.json()["error_code"] == "INTERNAL_ERROR"
        assert named in broken.json()["message"]
    assert "The model failed on a request" in caplog.text
    assert client.get("/ping").status_code == 200
    assert _ok(client.post("/invocations", json={"inputs": [1]})) == [1]


def test_a_body_over_a_megabyte_is_scored_too(in_app: Any, iris: Any) -> None:
    rows = [iris.setosa, [6.7, 3.0, 5.2, 2.3]] * 30_000
    body = json.dumps(iris.split(*rows))
    assert len(body) > 1024 * 1024
    client = in_app(iris.model)
    predictions = _ok(client.post("/invocations", content=body, headers=JSON_HEADERS))
    assert predictions == [0, 2] * 30_000
    bad = json.dumps(iris.split(*rows, ["x", 1.0, 1.0, 1.0]))
    _bad(client, iris, 400, "cannot convert value 'x'", content=bad, headers=JSON_HEADERS)
