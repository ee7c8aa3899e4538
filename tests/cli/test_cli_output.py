"""Tables and JSON for ``nbtrack`` commands."""

from __future__ import annotations

import json
import math
from datetime import datetime

import pytest

from nbtrack.cli import _output as out


def test_format_value() -> None:
    assert out.format_value(None) == ""
    assert out.format_value(0.123456789) == "0.123457"
    assert out.format_value(math.nan) == "nan"
    assert out.format_value(-math.inf) == "-inf"
    assert out.format_value(True) == "true"
    assert out.format_value("x") == "x"


def test_format_time_is_iso_local_time() -> None:
    ms = 1_700_000_000_000
    assert out.format_time(ms) == datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S")
    assert out.format_time(None) == ""


@pytest.mark.parametrize(
    ("ms", "text"),
    [(None, ""), (420, "0.42s"), (12_345, "12.3s"), (245_000, "4m05s"), (7_620_000, "2h07m")],
)
def test_format_duration(ms: int | None, text: str) -> None:
    assert out.format_duration(ms) == text


def test_format_bytes() -> None:
    assert [out.format_bytes(n) for n in (None, 812, 1536, 3 * 1024**2)] == [
        "",
        "812 B",
        "1.5 KB",
        "3.0 MB",
    ]


ROWS = [
    {"id": "a", "long_name": "x" * 30, "n": 1.5},
    {"id": "bb", "long_name": "y", "n": None},
]


def test_table_aligns_text_left_and_numbers_right(capsys: pytest.CaptureFixture[str]) -> None:
    cols = [out.Column("id"), out.Column("n")]
    assert out.echo_table(ROWS, cols) == []
    assert capsys.readouterr().out.splitlines() == ["id    n", "a   1.5", "bb"]


def test_table_drops_columns_to_fit_by_priority(capsys: pytest.CaptureFixture[str]) -> None:
    cols = [
        out.Column("id", required=True),
        out.Column("long_name", priority=2),
        out.Column("n", header="value"),
    ]
    hidden = out.echo_table(ROWS, cols, width=20)
    assert [c.key for c in hidden] == ["long_name"]
    assert capsys.readouterr().out.splitlines()[0] == "id  value"


def test_table_cuts_long_cells(capsys: pytest.CaptureFixture[str]) -> None:
    out.echo_table(ROWS, [out.Column("long_name", max_width=10)])
    assert capsys.readouterr().out.splitlines()[1] == "xxxxxxxxx…"


def test_empty_table(capsys: pytest.CaptureFixture[str]) -> None:
    out.echo_table([], [out.Column("id")], empty="No runs found.")
    assert capsys.readouterr().out == "No runs found.\n"


def test_json_is_strict(capsys: pytest.CaptureFixture[str]) -> None:
    out.echo_json([{"a": math.nan, "b": [math.inf, -math.inf], "c": 1.0}])
    text = capsys.readouterr().out
    assert json.loads(text) == [{"a": "NaN", "b": ["Infinity", "-Infinity"], "c": 1.0}]
