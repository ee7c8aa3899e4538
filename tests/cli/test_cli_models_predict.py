"""``nbtrack models predict``: a model scores files chunk by chunk, as ``mlflow models predict``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import nbtrack as nbt


@pytest.fixture
def iris(store_uri: str) -> dict[str, Any]:
    """LogisticRegression on iris registered as ``iris@champion``; the rows and what it predicts."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True, as_frame=True)
    nbt.set_tracking_uri(store_uri)
    with nbt.start_run():
        estimator = LogisticRegression(max_iter=500).fit(X, y)
        info = nbt.log_model(estimator, "model", input_example=X[:5], registered_model_name="iris")
    nbt.Client(store_uri).set_registered_model_alias("iris", "champion", 1)
    return {"X": X, "expected": estimator.predict(X).tolist(), "run_uri": info.model_uri}


def test_csv_in_chunks_to_csv_equals_one_predict(invoke, iris, tmp_path: Path) -> None:
    source, out = tmp_path / "rows.csv", tmp_path / "scored.csv"
    iris["X"].to_csv(source, index=False)
    result = invoke(
        "models", "predict", "-m", "models:/iris@champion", "-i", str(source), "-o", str(out),
        "--chunk-size", "7",
    )  # fmt: skip
    scored = pd.read_csv(out)
    # 150 rows in chunks of 7: one header, every row once, in order.
    assert list(scored.columns) == ["prediction"]
    assert scored["prediction"].tolist() == iris["expected"]
    assert "Scored 150 rows" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rows.csv", "scored.csv", "store"]


def test_parquet_and_json_lines(invoke, iris, tmp_path: Path) -> None:
    source = tmp_path / "rows.parquet"
    iris["X"].to_parquet(source, index=False)
    invoke("models", "predict", "-m", iris["run_uri"], "-i", str(source),
           "-o", str(tmp_path / "scored.parquet"), "--chunk-size", "40")  # fmt: skip
    assert pd.read_parquet(tmp_path / "scored.parquet")["prediction"].tolist() == iris["expected"]

    lines = tmp_path / "rows.jsonl"
    iris["X"].to_json(lines, orient="records", lines=True)
    invoke("models", "predict", "-m", iris["run_uri"], "-i", str(lines),
           "-o", str(tmp_path / "scored.jsonl"), "--chunk-size", "64")  # fmt: skip
    records = [json.loads(x) for x in (tmp_path / "scored.jsonl").read_text().splitlines()]
    assert [r["prediction"] for r in records] == iris["expected"]


def test_mlflow_json_body_to_stdout(invoke, iris, tmp_path: Path) -> None:
    # The input MLflow's `models predict -t json` takes; the output MLflow prints.
    X = iris["X"]
    body = {"dataframe_split": {"columns": list(X.columns), "data": X.values.tolist()}}
    source = tmp_path / "body.json"
    source.write_text(json.dumps(body))
    result = invoke("models", "predict", "-m", "models:/iris/1", "-i", str(source),
                    "--chunk-size", "50")  # fmt: skip
    assert json.loads(result.stdout) == {"predictions": iris["expected"]}


def test_refused_chunk_names_the_column_and_leaves_no_output(invoke, iris, tmp_path: Path) -> None:
    source, out = tmp_path / "rows.csv", tmp_path / "scored.csv"
    rows = iris["X"].astype(object)
    # Row 120 holds text where the signature wants a double: the first two chunks of 50
    # score, the third is refused.
    rows.iloc[120, 3] = "wide"
    rows.to_csv(source, index=False)
    result = invoke("models", "predict", "-m", iris["run_uri"], "-i", str(source), "-o", str(out),
                    "--chunk-size", "50", code=1)  # fmt: skip
    assert "Rows from 100" in result.stderr
    assert "petal width (cm)" in result.stderr
    assert not out.exists()
    assert not any(p.name.endswith(".partial") for p in tmp_path.iterdir())
    # A table without a column the signature needs is refused before anything is written.
    iris["X"].drop(columns=["sepal length (cm)"]).to_csv(source, index=False)
    result = invoke("models", "predict", "-m", iris["run_uri"], "-i", str(source), "-o", str(out),
                    code=1)  # fmt: skip
    assert "Rows from 0" in result.stderr and "sepal length (cm)" in result.stderr
    assert not out.exists()


def test_unknown_suffix_is_named(invoke, iris, tmp_path: Path) -> None:
    source = tmp_path / "rows.xlsx"
    source.write_text("a,b\n1,2\n")
    result = invoke("models", "predict", "-m", iris["run_uri"], "-i", str(source), code=1)
    assert "'.xlsx'" in result.stderr and ".csv" in result.stderr
    # -t names the format when the suffix does not say it.
    iris["X"].to_csv(source, index=False)
    out = tmp_path / "scored.csv"
    invoke("models", "predict", "-m", iris["run_uri"], "-i", str(source), "-t", "csv",
           "-o", str(out))  # fmt: skip
    assert pd.read_csv(out)["prediction"].tolist() == iris["expected"]
