"""``%track_autolog on|off`` and the autolog line of ``%nbtrack status``, in IPython's shell."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.error import UsageError

import nbtrack


@pytest.fixture(autouse=True)
def _autolog_off() -> Iterator[None]:
    from nbtrack.autologging import autolog

    yield
    autolog(disable=True)


def test_track_autolog_turns_fit_logging_on_and_off(
    ip: Any, capsys: Any, tracking_uri: str
) -> None:
    from sklearn.linear_model import LogisticRegression

    original = LogisticRegression.fit
    ip.run_line_magic("track_autolog", "on --frameworks sklearn --no-models")
    assert "autolog: on (sklearn)" in capsys.readouterr().out
    ip.run_line_magic("nbtrack", "status")
    assert "autolog: on (sklearn)" in capsys.readouterr().out
    ip.run_cell(
        "from sklearn.datasets import load_iris\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "X, y = load_iris(return_X_y=True)\n"
        "model = LogisticRegression(max_iter=300).fit(X, y)\n"
    ).raise_error()
    (run,) = nbtrack.Client(tracking_uri).search_runs(["0"])
    assert run.info.run_name == "LogisticRegression" and "training_score" in run.data.metrics
    # No model; in a kernel with nbtrack loaded every run gets its environment files.
    paths = [f.path for f in nbtrack.Client(tracking_uri).list_artifacts(run.info.run_id)]
    assert paths == ["environment"]
    ip.run_line_magic("track_autolog", "off")
    assert "autolog: off" in capsys.readouterr().out
    assert LogisticRegression.fit is original
    ip.run_line_magic("nbtrack", "status")
    assert "autolog: off" in capsys.readouterr().out


def test_track_autolog_refuses_bad_arguments(ip: Any) -> None:
    with pytest.raises(UsageError, match="'torch'"):
        ip.run_line_magic("track_autolog", "on --frameworks torch")
    with pytest.raises(UsageError):
        ip.run_line_magic("track_autolog", "maybe")


def test_unload_removes_track_autolog(ip: Any) -> None:
    assert "track_autolog" in ip.magics_manager.magics["line"]
    ip.run_line_magic("unload_ext", "nbtrack")
    assert "track_autolog" not in ip.magics_manager.magics["line"]
    ip.run_line_magic("load_ext", "nbtrack")
    assert "track_autolog" in ip.magics_manager.magics["line"]


def test_fit_in_a_tracked_cell_logs_into_the_cells_run(ip: Any, tracking_uri: str) -> None:
    ip.run_line_magic("track_autolog", "on --no-models")
    ip.run_cell(
        "%%track cell --quiet\n"
        "from sklearn.datasets import load_iris\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "from sklearn.metrics import accuracy_score\n"
        "X, y = load_iris(return_X_y=True)\n"
        "C = 0.5\n"
        "model = LogisticRegression(C=C, max_iter=300).fit(X, y)\n"
        "acc = accuracy_score(y, model.predict(X))\n"
    ).raise_error()
    (run,) = nbtrack.Client(tracking_uri).search_runs(["0"])
    assert (run.info.run_name, run.info.status) == ("cell", "FINISHED")
    assert run.data.params["C"] == "0.5" and run.data.params["max_iter"] == "300"
    assert {"acc", "accuracy_score", "training_score"} <= set(run.data.metrics)
