"""``%%track`` and ``%nbtrack`` in IPython's in-process shell, read back through ``nbt.Client``."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
from backends import SQL_BACKENDS
from IPython.core.error import UsageError

import nbtrack
from nbtrack.entities import Run


def _runs(experiment: str | None = None) -> list[Run]:
    runs = nbtrack.search_runs(
        experiment_names=[experiment] if experiment else None,
        search_all_experiments=experiment is None,
        output_format="list",
        order_by=["attributes.start_time ASC"],
    )
    assert isinstance(runs, list)
    return runs


def _only_run(experiment: str | None = None) -> Run:
    runs = _runs(experiment)
    assert len(runs) == 1, runs
    return runs[0]


def _artifact(run: Run, path: str) -> bytes:
    local = nbtrack.Client().download_artifacts(run.info.run_id, path)
    return Path(local).read_bytes()


def _artifact_paths(run: Run, folder: str | None = None) -> list[str]:
    return [f.path for f in nbtrack.Client().list_artifacts(run.info.run_id, folder)]


def test_track_logs_params_metrics_source_output_and_figure(ip: Any, capsys: Any) -> None:
    ip.run_cell(
        "import numpy as np\nimport matplotlib\nmatplotlib.use('Agg')\n"
        "import matplotlib.pyplot as plt"
    )
    cell = (
        "%%track baseline -e wine\n"
        "alpha = 0.5\n"
        "l1_ratio = -0.1\n"
        "layers = [64, 32]\n"
        "rmse = np.float64(0.25) * 2\n"
        "n = 0\n"
        "n += 3\n"
        "better = rmse < 1\n"
        "print('training done')\n"
        "plt.figure(); plt.plot([1, 2, 3]); plt.show()\n"
    )
    result = ip.run_cell(cell)
    assert result.success
    out = capsys.readouterr().out
    assert "training done" in out
    summary = [line for line in out.splitlines() if line.startswith("nbtrack: run 'baseline'")]
    assert len(summary) == 1
    assert "FINISHED" in summary[0] and "alpha=0.5" in summary[0] and "rmse=0.5" in summary[0]

    run = _only_run("wine")
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "baseline"
    assert run.data.params == {"alpha": "0.5", "l1_ratio": "-0.1", "layers": "[64, 32]"}
    assert run.data.metrics == {"rmse": 0.5, "n": 3.0}
    assert run.data.tags["nbtrack.source.cell_id"].startswith("sha1-")
    assert _artifact(run, "cell.py").decode() == cell.split("\n", 1)[1]
    assert "training done" in _artifact(run, "output.txt").decode()
    assert _artifact_paths(run, "figures") == ["figures/figure-1.png"]
    assert _artifact(run, "figures/figure-1.png").startswith(b"\x89PNG")
    # The cell's code ran in the user namespace as usual, and nothing stays patched.
    assert ip.user_ns["rmse"] == 0.5
    assert "publish" not in vars(ip.display_pub)
    assert type(sys.stdout).__name__ != "Tee" and type(sys.stderr).__name__ != "Tee"


def _traceback(out: str) -> str:
    start = out.index("-" * 20)
    return out[start : out.index("nbtrack: run") if "nbtrack: run" in out else len(out)]


def test_failed_cell_keeps_its_exception_and_traceback(ip: Any, capsys: Any) -> None:
    body = "a = 1\nb = 2\nc = 3\nd = {}\nd['missing']\n"
    plain = ip.run_cell("#\n" + body)
    plain_out = capsys.readouterr().out
    tracked = ip.run_cell("%%track broken\n" + body)
    tracked_out = capsys.readouterr().out

    assert isinstance(plain.error_in_exec, KeyError)
    assert isinstance(tracked.error_in_exec, KeyError)
    assert not tracked.success
    # The notebook shows the error exactly as without nbtrack.
    assert _traceback(tracked_out) == _traceback(plain_out)
    assert "nbtrack" not in _traceback(tracked_out)
    assert "line 6" in _traceback(tracked_out)

    run = _only_run()
    assert run.info.status == "FAILED"
    error = _artifact(run, "error.txt").decode()
    assert "KeyError: 'missing'" in error and "d['missing']" in error
    assert "nbtrack: run 'broken' FAILED" in tracked_out


def test_syntax_error_makes_a_failed_run(ip: Any) -> None:
    result = ip.run_cell("%%track\nx = (\n")
    assert isinstance(result.error_before_exec, SyntaxError)
    run = _only_run()
    assert run.info.status == "FAILED"
    assert "SyntaxError" in _artifact(run, "error.txt").decode()


def test_keyboard_interrupt_makes_a_killed_run(ip: Any) -> None:
    result = ip.run_cell("%%track\nx = 1\nraise KeyboardInterrupt\n")
    assert isinstance(result.error_in_exec, KeyboardInterrupt)
    run = _only_run()
    assert run.info.status == "KILLED"
    assert nbtrack.active_run() is None


def test_explicit_logging_in_the_cell_goes_to_its_run(ip: Any) -> None:
    ip.run_cell(
        "%%track --quiet\nimport nbtrack as nbt\n"
        "for step in range(3):\n    nbt.log_metric('loss', 1.0 / (step + 1), step=step)\n"
        "nbt.log_param('optimizer', 'adam')\nnbt.set_tag('stage', 'dev')\n"
    )
    run = _only_run()
    assert run.info.status == "FINISHED"
    assert run.data.params["optimizer"] == "adam"
    assert run.data.tags["stage"] == "dev"
    history = nbtrack.get_metric_history(run.info.run_id, "loss")
    assert [m.step for m in history] == [0, 1, 2]


def test_nested_run_under_a_run_started_in_code(ip: Any) -> None:
    ip.run_cell("import nbtrack as nbt\nparent = nbt.start_run(run_name='parent')")
    ip.run_cell("%%track child --nested\nx = 1\n")
    parent_id = ip.user_ns["parent"].info.run_id
    assert nbtrack.active_run() is not None and nbtrack.active_run().info.run_id == parent_id
    ip.run_cell("nbt.end_run()")
    child = next(r for r in _runs() if r.info.run_name == "child")
    assert child.data.tags["nbtrack.parent_run_id"] == parent_id
    assert child.info.status == "FINISHED"


def test_explicit_names_tags_globs_and_no_infer(ip: Any, tmp_dir: Path, capsys: Any) -> None:
    (tmp_dir / "out").mkdir()
    ip.run_cell("model = 'stale'")
    ip.run_cell(
        "%%track -p alpha,model -m score -a 'out/*.csv' -a missing.txt -t team=ml -t 'note=a b'\n"
        "alpha = 0.5\nbeta = 0.7\nmodel = 'enet-' + str(alpha)\nscore = 0.9\nother = 1.0 * 2\n"
        "open('out/pred.csv', 'w').write('y\\n1\\n')\n"
    )
    run = _only_run()
    assert run.data.params == {"alpha": "0.5", "model": "enet-0.5"}
    assert run.data.metrics == {"score": 0.9}
    assert run.data.tags["team"] == "ml" and run.data.tags["note"] == "a b"
    assert _artifact(run, "files/out/pred.csv") == b"y\n1\n"

    assert capsys.readouterr().err == ""

    ip.run_cell("%%track -p nowhere -m missing --quiet\nx = 1\n")
    warnings = _warnings(capsys.readouterr().err)
    assert len(warnings) == 1 and "-p nowhere" in warnings[0] and "(and 1 more)" in warnings[0]

    ip.run_cell("%%track --no-infer\nalpha = 0.5\nscore = 0.9 * 1\n")
    second = _runs()[-1]
    assert second.data.params == {} and second.data.metrics == {}


def test_params_read_from_an_earlier_literal_cell(ip: Any) -> None:
    ip.run_cell("lr = 0.01\nepochs = 5\nunused = 'x'\n")
    ip.run_cell("%%track\nscore = lr * epochs\n")
    run = _only_run()
    assert run.data.params == {"epochs": "5", "lr": "0.01"}
    assert run.data.metrics == {"score": pytest.approx(0.05)}


def test_rerun_groups_by_cell_id(ip: Any) -> None:
    cell = "%%track --quiet\nx = 1\n"
    ip.run_cell(cell)
    ip.run_cell(cell)
    ip.run_cell(cell, cell_id="cell-abc")
    ids = [r.data.tags["nbtrack.source.cell_id"] for r in _runs()]
    assert ids[0] == ids[1] and ids[0].startswith("sha1-")
    assert ids[2] == "cell-abc"


def test_invalid_track_line_is_a_usage_error_and_runs_nothing(ip: Any, capsys: Any) -> None:
    result = ip.run_cell("%%track --bogus\nran = True\n")
    assert isinstance(result.error_in_exec, UsageError)
    assert "ran" not in ip.user_ns
    assert _runs() == []
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err
    with pytest.raises(UsageError, match="KEY=VALUE"):
        ip.run_cell_magic("track", "-t novalue", "x = 1")


def test_direct_magic_call_tracks_and_reraises(ip: Any) -> None:
    ip.run_cell_magic("track", "direct --quiet", "alpha = 0.5\nrmse = alpha * 2\n")
    with pytest.raises(ZeroDivisionError):
        ip.run_cell_magic("track", "boom --quiet", "1 / 0\n")
    ok, failed = _runs()
    assert (ok.info.status, ok.data.params, ok.data.metrics) == (
        "FINISHED",
        {"alpha": "0.5"},
        {"rmse": 1.0},
    )
    assert failed.info.status == "FAILED"
    assert "ZeroDivisionError" in _artifact(failed, "error.txt").decode()


def test_nbtrack_status_and_unknown_subcommand(ip: Any, capsys: Any, tracking_uri: str) -> None:
    ip.run_line_magic("nbtrack", "status")
    out = capsys.readouterr().out
    assert f"store: {tracking_uri}" in out
    assert "active run: none" in out and "autolog: off" in out
    ip.run_cell("import nbtrack as nbt\nr = nbt.start_run(run_name='open')")
    ip.run_line_magic("nbtrack", "")
    assert ip.user_ns["r"].info.run_id in capsys.readouterr().out
    ip.run_cell("nbt.end_run()")
    with pytest.raises(UsageError, match=r"'frobnicate'.*notebook, status"):
        ip.run_line_magic("nbtrack", "frobnicate now")


def test_notebook_path_tags_and_snapshot(ip: Any, tmp_dir: Path, capsys: Any) -> None:
    notebook = tmp_dir / "analysis.ipynb"
    notebook.write_text('{"cells": []}')
    ip.run_line_magic("nbtrack", f"notebook {notebook}")
    assert f"notebook: {notebook}" in capsys.readouterr().out
    ip.run_cell("%%track --quiet\nx = 1\n")
    run = _only_run()
    assert run.data.tags["nbtrack.source.name"] == str(notebook)
    assert run.data.tags["nbtrack.source.type"] == "NOTEBOOK"
    assert _artifact(run, "notebook/analysis.ipynb") == b'{"cells": []}'


@pytest.mark.parametrize("where", ["env", "session", "vscode"])
def test_notebook_path_from_the_environment(
    ip: Any, tmp_dir: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    notebook = tmp_dir / "nb.ipynb"
    notebook.write_text("{}")
    if where == "env":
        monkeypatch.setenv("NBTRACK_NOTEBOOK", "nb.ipynb")
    elif where == "session":
        ip.user_ns["__session__"] = str(notebook)
    else:
        ip.user_ns["__vsc_ipynb_file__"] = str(notebook)
    ip.run_cell("%%track --quiet\nx = 1\n")
    run = _only_run()
    assert run.data.tags["nbtrack.source.name"] == str(notebook)
    assert "notebook/nb.ipynb" in _artifact_paths(run, "notebook")


def _warnings(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("nbtrack warning")]


def test_unwritable_store_never_breaks_the_cell(ip: Any, tmp_dir: Path, capsys: Any) -> None:
    # Running as root, a read-only folder is still writable: a store under a
    # regular file cannot be created by anyone.
    (tmp_dir / "blocker").write_text("not a folder")
    nbtrack.set_tracking_uri(str(tmp_dir / "blocker" / "store"))
    ok = ip.run_cell("%%track\nvalue = 41 + 1\nvalue\n")
    assert ok.success and ok.result == 42
    captured = capsys.readouterr()
    assert len(_warnings(captured.err)) == 1
    assert "ran as usual" in captured.err

    failed = ip.run_cell("%%track\n1 / 0\n")
    assert isinstance(failed.error_in_exec, ZeroDivisionError)
    captured = capsys.readouterr()
    assert len(_warnings(captured.err)) == 1
    assert "ZeroDivisionError" in captured.out


# SQL backends only: the cell breaks the run's artifact folder on disk, which a server keeps.
@pytest.mark.parametrize("tracking_uri", SQL_BACKENDS, indirect=True)
def test_store_broken_during_the_cell_warns_once_and_ends_the_run(ip: Any, capsys: Any) -> None:
    # The cell replaces its run's artifact folder by a file: every artifact
    # write after it fails, yet the cell's result stands and the run ends.
    result = ip.run_cell(
        "%%track\nimport nbtrack as nbt, pathlib, shutil\n"
        "folder = pathlib.Path(nbt.active_run().info.artifact_uri)\n"
        "shutil.rmtree(folder, ignore_errors=True)\nfolder.write_text('in the way')\n"
        "print('still printing')\n'done'\n"
    )
    assert result.success and result.result == "done"
    captured = capsys.readouterr()
    assert "still printing" in captured.out
    warnings = _warnings(captured.err)
    assert len(warnings) == 1 and "save the cell's output" in warnings[0]
    run = _only_run()
    assert run.info.status == "FINISHED"
    assert nbtrack.active_run() is None


def test_unload_removes_the_hook(ip: Any) -> None:
    ip.run_line_magic("unload_ext", "nbtrack")
    try:
        assert "track" not in ip.magics_manager.magics["cell"]
        ip.run_cell("x = 1")
        assert _runs() == []
    finally:
        ip.run_line_magic("load_ext", "nbtrack")


def test_summary_is_one_line(ip: Any, capsys: Any) -> None:
    ip.run_cell("%%track s\nalpha = 1\nloss = alpha / 4\n")
    out = capsys.readouterr().out
    pattern = r"^nbtrack: run 's' FINISHED in \d+\.\d\d s · params alpha=1 · metrics loss=0\.25"
    assert re.search(pattern + r" · run_id \w+$", out, re.M)


def test_enable_is_load_ext_from_code(ip: Any) -> None:
    from nbtrack.magics import enable

    ip.run_line_magic("unload_ext", "nbtrack")
    assert "track" not in ip.magics_manager.magics["cell"]
    ip.run_cell("from nbtrack.magics import enable\nenable()\nenable()")
    assert "track" in ip.magics_manager.magics["cell"]
    assert "nbtrack" in ip.extension_manager.loaded
    ip.run_cell("%%track --quiet\nx = 1\n")
    assert _only_run().info.status == "FINISHED"
    assert callable(enable)


def test_an_over_long_param_is_cut_with_a_warning_as_autolog_does(ip: Any) -> None:
    import warnings

    from nbtrack.errors import NbtrackWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ip.run_cell('%%track long\nprompt = "' + "x" * 7000 + '"\nscore = 1.0\n')
    run = _only_run()
    value = run.data.params["prompt"]
    assert len(value) == 6000 and value.endswith("... (truncated by nbtrack)")
    (warned,) = [w for w in caught if issubclass(w.category, NbtrackWarning)]
    assert "Param 'prompt' has a value of 7000 characters" in str(warned.message)
