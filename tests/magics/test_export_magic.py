"""``%nbtrack export`` in IPython's in-process shell."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError

import nbtrack as nbt

TRAIN = Path(__file__).parent.parent / "data" / "projects" / "train.ipynb"


def test_export_the_notebook_as_an_mlproject(ip: Any, tmp_path: Path, capsys: Any) -> None:
    with pytest.raises(UsageError, match="does not know its notebook"):
        ip.run_line_magic("nbtrack", f"export --to mlproject {tmp_path / 'none'}")
    ip.run_line_magic("nbtrack", f"notebook {TRAIN}")
    ip.run_line_magic("nbtrack", f"export --to mlproject {tmp_path / 'project'}")
    out = capsys.readouterr()
    assert "parameters: alpha, l1_ratio, max_iter, label" in out.out
    assert "shell escape" in out.err
    assert (tmp_path / "project" / "MLproject").is_file()
    with pytest.raises(UsageError, match="--to"):
        ip.run_line_magic("nbtrack", f"export {tmp_path / 'x'}")


def test_export_a_kernel_variable_as_a_model(ip: Any, tmp_path: Path) -> None:
    ip.run_cell(
        "from sklearn.linear_model import LinearRegression\n"
        "clf = LinearRegression().fit([[0.0], [1.0], [2.0]], [0.0, 2.0, 4.0])"
    )
    with pytest.raises(UsageError, match="no variable 'model'"):
        ip.run_line_magic("nbtrack", f"export --to model {tmp_path / 'm'}")
    ip.run_line_magic("nbtrack", f"export --to model {tmp_path / 'm'} --model-var clf")
    assert nbt.load_model(str(tmp_path / "m")).predict([[3.0]])[0] == pytest.approx(6.0)
