"""Artifact payloads: real matplotlib, PIL, pandas and YAML; fakes only for altair/plotly."""

from __future__ import annotations

import importlib.util
import io
import json
import re
import subprocess
import sys
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image

from nbtrack.errors import InvalidInput
from nbtrack.tracking._artifact_payloads import (
    dict_payload,
    figure_payload,
    image_payload,
    table_payload,
)

matplotlib.use("Agg")


def test_import_is_light() -> None:
    code = (
        "import sys\n"
        "import nbtrack.tracking._artifact_payloads\n"
        "heavy = {'pandas', 'numpy', 'PIL', 'matplotlib', 'yaml', 'altair'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def read_image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


# -- dicts --------------------------------------------------------------------------------

CONFIG = {"zeta": 1, "alpha": [1.5, "two", None], "nested": {"b": True, "a": "é"}}


def test_dict_json() -> None:
    data = dict_payload(CONFIG, "config.json")
    assert json.loads(data) == CONFIG
    assert data.decode().startswith('{\n  "zeta": 1')  # indent 2, as MLflow


@pytest.mark.parametrize("name", ["config.yaml", "dir/config.YML"])
def test_dict_yaml_keeps_key_order(name: str) -> None:
    text = dict_payload(CONFIG, name).decode("utf-8")
    assert yaml.safe_load(text) == CONFIG
    assert list(yaml.safe_load(text)) == ["zeta", "alpha", "nested"]
    assert "{" not in text  # block style
    assert "é" in text


def test_dict_other_suffix_is_json() -> None:
    assert json.loads(dict_payload(CONFIG, "config.txt")) == CONFIG


@pytest.mark.parametrize(("name", "key"), [("m.json", "7"), ("m.yaml", 7)])
def test_dict_numpy_values_become_plain(name: str, key: object) -> None:
    value = {"acc": np.float32(0.5), "n": np.int64(3), "w": np.arange(3), np.int64(7): "k"}
    loaded = yaml.safe_load(dict_payload(value, name))  # YAML reads JSON too
    assert loaded == {"acc": 0.5, "n": 3, "w": [0, 1, 2], key: "k"}


@pytest.mark.parametrize("name", ["bad.json", "bad.yaml"])
def test_dict_unserialisable_value(name: str) -> None:
    with pytest.raises(InvalidInput, match=name):
        dict_payload({"f": object()}, name)


# -- figures ------------------------------------------------------------------------------


@pytest.fixture
def figure() -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 3), dpi=50)
    fig.add_subplot().plot([0, 1, 2], [2, 0, 1])
    return fig


def test_matplotlib_png(figure: Any) -> None:
    image = read_image(figure_payload(figure, "plots/curve.png"))
    assert image.format == "PNG"
    assert image.size == (200, 150)


def test_matplotlib_other_formats(figure: Any) -> None:
    assert b"<svg" in figure_payload(figure, "c.svg")
    assert figure_payload(figure, "c.pdf").startswith(b"%PDF")
    assert read_image(figure_payload(figure, "c.jpg")).format == "JPEG"
    assert read_image(figure_payload(figure, "c.png", {"dpi": 100})).size == (400, 300)


@pytest.mark.parametrize("name", ["c.docx", "no-suffix"])
def test_matplotlib_unknown_suffix(figure: Any, name: str) -> None:
    with pytest.raises(InvalidInput, match=r"\.png"):
        figure_payload(figure, name)


def test_not_a_figure() -> None:
    with pytest.raises(InvalidInput, match=re.escape("builtins.dict")):
        figure_payload({}, "x.png")
    with pytest.raises(InvalidInput, match="DataFrame"):
        figure_payload(pd.DataFrame(TABLE), "x.html")


class FakeChart:
    """Quacks like an altair Chart (to_json, to_html, save)."""

    def to_json(self) -> str:
        return '{"mark": "point"}'

    def to_html(self) -> str:
        return "<html>chart</html>"

    def save(self, fp: Any, format: str) -> None:
        fp.write("<svg/>" if format == "svg" else b"\x89PNG fake")


def test_altair_html_and_json() -> None:
    assert figure_payload(FakeChart(), "c.html") == b"<html>chart</html>"
    assert json.loads(figure_payload(FakeChart(), "c.json")) == {"mark": "point"}
    with pytest.raises(InvalidInput, match=r"\.html"):
        figure_payload(FakeChart(), "c.pdf")


def test_altair_images_need_vl_convert(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name == "vl_convert" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(ModuleNotFoundError, match="pip install vl-convert-python"):
        figure_payload(FakeChart(), "c.png")


def test_altair_images_with_vl_convert(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return object() if name == "vl_convert" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    assert figure_payload(FakeChart(), "c.png") == b"\x89PNG fake"
    assert figure_payload(FakeChart(), "c.svg") == b"<svg/>"


def test_plotly_html() -> None:
    class Figure:
        def to_html(self, include_plotlyjs: str) -> str:
            return f"<html>{include_plotlyjs}</html>"

    Figure.__module__ = "plotly.graph_objs._figure"
    assert figure_payload(Figure(), "p.html") == b"<html>cdn</html>"


# -- images -------------------------------------------------------------------------------


@pytest.fixture
def rgb() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(12, 20, 3), dtype=np.uint8)


def test_numpy_rgb_round_trip(rgb: np.ndarray) -> None:
    image = read_image(image_payload(rgb, "img.png"))
    assert image.format == "PNG" and image.mode == "RGB" and image.size == (20, 12)
    np.testing.assert_array_equal(np.asarray(image), rgb)


def test_numpy_gray_rgba_and_single_channel(rgb: np.ndarray) -> None:
    gray = rgb[:, :, 0]
    np.testing.assert_array_equal(np.asarray(read_image(image_payload(gray, "g.png"))), gray)
    single = np.asarray(read_image(image_payload(gray[:, :, None], "g.png")))
    np.testing.assert_array_equal(single, gray)
    rgba = np.dstack([rgb, np.full(gray.shape, 128, np.uint8)])
    np.testing.assert_array_equal(np.asarray(read_image(image_payload(rgba, "a.png"))), rgba)
    ints = np.asarray(read_image(image_payload(rgb.astype(np.int64), "i.png")))
    np.testing.assert_array_equal(ints, rgb)


def test_float_images_are_scaled_like_mlflow() -> None:
    values = np.linspace(0, 1, 24).reshape(4, 6)
    image = np.asarray(read_image(image_payload(values, "f.png")))
    np.testing.assert_array_equal(image, (values * 255).astype(np.uint8))
    assert image.max() == 255


def test_pil_image_and_formats(rgb: np.ndarray) -> None:
    pil = Image.fromarray(rgb)
    assert read_image(image_payload(pil, "no-suffix")).format == "PNG"
    rgba = pil.convert("RGBA")
    jpeg = read_image(image_payload(rgba, "photo.JPG"))
    assert jpeg.format == "JPEG" and jpeg.mode == "RGB" and jpeg.size == (20, 12)


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((4, 4, 2), np.uint8), r"shape \(4, 4, 2\)"),
        (np.zeros((2, 4, 4, 3), np.uint8), r"shape \(2, 4, 4, 3\)"),
        (np.zeros(5, np.uint8), r"shape \(5,\)"),
        (np.zeros((0, 4), np.uint8), "no pixels"),
        (np.full((2, 2), 1.5), r"\[0, 1\].*1\.5"),
        (np.full((2, 2), -1), r"\[0, 255\].*-1"),
        (np.full((2, 2), 300, np.int32), r"\[0, 255\]"),
        (np.full((2, 2), np.nan), "NaN"),
        (np.array([["a", "b"]]), "dtype <U1"),
    ],
)
def test_bad_image_arrays(array: np.ndarray, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        image_payload(array, "x.png")


def test_bad_image_objects_and_suffix(rgb: np.ndarray) -> None:
    with pytest.raises(InvalidInput, match=re.escape("builtins.str")):
        image_payload("img.png", "x.png")
    with pytest.raises(InvalidInput, match=re.escape("x.txt")):
        image_payload(rgb, "x.txt")


# -- tables -------------------------------------------------------------------------------

TABLE = {"inputs": ["What is MLflow?", "What is nbtrack?"], "score": [0.5, 1.25], "n": [1, 2]}


@pytest.mark.parametrize("data", [TABLE, pd.DataFrame(TABLE)], ids=["dict", "frame"])
def test_table_json_is_mlflows_format(data: Any) -> None:
    payload = table_payload(data, "eval/results.json")
    assert json.loads(payload) == {
        "columns": ["inputs", "score", "n"],
        "data": [["What is MLflow?", 0.5, 1], ["What is nbtrack?", 1.25, 2]],
    }
    back = pd.read_json(io.StringIO(payload.decode()), orient="split")
    pd.testing.assert_frame_equal(back, pd.DataFrame(TABLE))


def test_table_json_drops_a_custom_index() -> None:
    frame = pd.DataFrame(TABLE, index=["x", "y"])
    assert "index" not in json.loads(table_payload(frame, "t.json"))


def test_table_csv_and_parquet() -> None:
    frame = pd.DataFrame(TABLE)
    pd.testing.assert_frame_equal(pd.read_csv(io.BytesIO(table_payload(frame, "t.csv"))), frame)
    parquet = table_payload(frame, "t.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(io.BytesIO(parquet)), frame)


def test_table_refusals() -> None:
    with pytest.raises(InvalidInput, match=re.escape("t.xlsx")):
        table_payload(TABLE, "t.xlsx")
    with pytest.raises(InvalidInput, match=re.escape("builtins.list")):
        table_payload([1, 2], "t.json")
    with pytest.raises(InvalidInput, match="equally long"):
        table_payload({"a": [1, 2], "b": [1]}, "t.json")
