"""``%nbtrack runs|compare|registry`` in IPython's in-process shell."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from nbtrack.magics import panels_magic

WIDGET = "application/vnd.jupyter.widget-view+json"


@pytest.fixture
def shell(seeded) -> Iterator[Any]:
    from IPython.testing.globalipapp import get_ipython

    ip = get_ipython()
    ip.reset(new_session=False)
    ip.run_line_magic("load_ext", "nbtrack")
    try:
        yield ip
    finally:
        ip.run_line_magic("unload_ext", "nbtrack")
        ip.reset(new_session=False)


def _shown(shell: Any, line: str) -> list[dict[str, Any]]:
    with capture_output() as captured:
        shell.run_line_magic("nbtrack", line)
    return [output.data for output in captured.outputs]


def test_runs_magic_shows_the_filtered_table(shell, seeded) -> None:
    (data,) = _shown(shell, "runs -e wine metrics.rmse < 0.15")
    assert WIDGET in data
    assert data["text/html"].count("<tr>") == 1 + 6  # rmse = 1 / (i + 1) < 0.15: runs 6 to 11


def test_runs_magic_takes_a_filter_with_strings(shell, seeded) -> None:
    (data,) = _shown(shell, "runs -e wine params.model = 'rf'")
    assert data["text/html"].count("<tr>") == 1 + 6
    (quoted,) = _shown(shell, "runs -e 'wine' \"params.model = 'rf'\"")
    assert quoted["text/html"] == data["text/html"]


def test_runs_magic_reports_a_malformed_filter_with_its_position(shell, seeded) -> None:
    with pytest.raises(UsageError, match="position 14"):
        panels_magic.runs(shell, ["-e", "wine", "metrics.rmse", "<"])
    with pytest.raises(UsageError, match="experiment name"):
        panels_magic.runs(shell, ["-e"])


def test_compare_magic(shell, seeded) -> None:
    (data,) = _shown(shell, f"compare {seeded.run_ids[0]} {seeded.run_ids[1]}")
    assert "Compare 2 runs" in data["text/html"]
    with pytest.raises(UsageError, match="run ids"):
        panels_magic.compare(shell, [])
    with pytest.raises(UsageError):
        panels_magic.compare(shell, ["f" * 32])


def test_registry_magic(shell, seeded) -> None:
    client = seeded.client
    client.create_registered_model("m")
    client.create_model_version("m", f"runs:/{seeded.run_ids[0]}/model")
    (data,) = _shown(shell, "registry m")
    assert "Model registry" in data["text/html"] and "v1" in data["text/html"]
    with pytest.raises(UsageError):
        panels_magic.registry(shell, ["missing"])
    with pytest.raises(UsageError, match="at most one"):
        panels_magic.registry(shell, ["a", "b"])
