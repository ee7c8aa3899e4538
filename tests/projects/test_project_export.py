"""``nbtrack export --to mlproject``: the files written, checked against golden copies."""

from __future__ import annotations

import filecmp
import platform
from importlib.metadata import version
from pathlib import Path

import nbformat
import pytest
import yaml

from nbtrack.errors import InvalidInput
from nbtrack.projects import export_mlproject, runtime
from nbtrack.projects.parameters import split_parameters_cell
from nbtrack.projects.script import notebook_to_script

DATA = Path(__file__).parent.parent / "data" / "projects"


def test_export_writes_the_golden_project(tmp_path: Path) -> None:
    out = tmp_path / "project"
    project = export_mlproject(DATA / "train.ipynb", out)
    assert sorted(p.name for p in out.iterdir()) == [
        "MLproject",
        "conda.yaml",
        "main.py",
        "nbtrack_runtime.py",
        "python_env.yaml",
        "requirements.txt",
        "train.ipynb",
    ]
    for name in ("MLproject", "main.py"):
        expected = (DATA / "golden" / name).read_text()
        assert (out / name).read_text() == expected, f"{name} differs from the golden copy"
    assert filecmp.cmp(out / "nbtrack_runtime.py", runtime.__file__, shallow=False)
    env = yaml.safe_load((out / "python_env.yaml").read_text())
    assert env["python"] == platform.python_version()
    assert env["dependencies"] == ["-r requirements.txt"]
    assert (out / "requirements.txt").read_text().splitlines() == [
        f"numpy=={version('numpy')}",
        f"scikit-learn=={version('scikit-learn')}",
    ]
    assert nbformat.read(out / "train.ipynb", 4) == nbformat.read(DATA / "train.ipynb", 4)
    assert [p.name for p in project.parameters] == ["alpha", "l1_ratio", "max_iter", "label"]
    assert project.warnings == [
        "cell 4: shell escape \"!echo 'shell escapes do not run in main.py'\" "
        "commented out in main.py"
    ]
    compile((out / "main.py").read_text(), "main.py", "exec")


def test_parameters_cell_types_and_defaults() -> None:
    params, rest = split_parameters_cell(
        "alpha = 0.5\nepochs = 10\nuse_gpu = False\nname = 'adam'\n"
        "data = 'data/wine.csv'\nurl = 'https://example.com/x.csv'\nseed = None\n"
        "layers = [64, 32]\nscale: float = -1e-3\nepochs = 20\n"
        "derived = epochs * 2\n@decorator\ndef f():\n    return 1\n"
    )
    found = {p.name: (p.kind, p.mlproject_type, p.mlproject_default) for p in params}
    assert found == {
        "alpha": ("float", "float", 0.5),
        "use_gpu": ("bool", "string", "False"),
        "name": ("string", "string", "adam"),
        "data": ("path", "path", "data/wine.csv"),
        "url": ("string", "string", "https://example.com/x.csv"),
        "seed": ("none", "string", "None"),
        "layers": ("literal", "string", "[64, 32]"),
        "scale": ("float", "float", -0.001),
        "epochs": ("int", "int", 20),  # the later assignment wins, as when the cell runs
    }
    assert rest == "derived = epochs * 2\n@decorator\ndef f():\n    return 1"


def _script(*sources: str, tags: dict[int, list[str]] | None = None) -> tuple[str, list[str]]:
    cells = [
        nbformat.v4.new_code_cell(s, metadata={"tags": (tags or {}).get(i, [])})
        for i, s in enumerate(sources)
    ]
    result = notebook_to_script(nbformat.v4.new_notebook(cells=cells), "nb.ipynb")
    compile(result.text, "main.py", "exec")
    return result.text, result.warnings


def test_ipython_syntax_becomes_python_or_a_warning() -> None:
    text, warnings = _script(
        "%matplotlib inline\n%load_ext nbtrack\n%time x = 1\n%track_autolog on\n"
        "!pip install foo\nfiles = !ls\n%pip install bar\n%who",
        "%%time\ny = 2",
        "%%bash\necho hi",
        "%track_autolog off",
    )
    assert "pass  # %matplotlib inline (notebook only)" in text
    assert "x = 1  # %time" in text
    assert "_project.autolog(True)  # %track_autolog on" in text
    assert "_project.autolog(False)  # %track_autolog off" in text
    assert "pass  # !pip install foo (shell escape, not run)" in text
    assert "\ny = 2\n" in text
    assert "# %%bash\n# echo hi" in text
    assert warnings == [
        "cell 1: shell escape '!pip install foo' commented out in main.py",
        "cell 1: shell escape 'files = !ls' commented out in main.py",
        "cell 1: %pip is IPython-only; commented out in main.py",
        "cell 1: %who is IPython-only; commented out in main.py",
        "cell 3: cell magic %%bash is IPython-only; its cell is commented out",
    ]
    assert "get_ipython" not in text


def test_track_cells_keep_their_inference_and_options() -> None:
    text, _ = _script(
        "lr = 0.1\nbatch = 32",
        "%%track fit -e exp -t team=ml\nsteps = 5\nloss = lr * steps\nq = '''keep\n  this'''",
        "%%track -p batch -m loss --nested\nloss = batch / 2",
        "%%track --no-infer\nz = lr + 1",
        "%%track empty",
    )
    assert (
        "with _project.track_cell(\n    'fit',\n    globals(),\n"
        "    params=['lr', 'steps', 'q'],\n    metrics=['loss'],\n"
        "    tags={'team': 'ml', 'nbtrack.notebook.experiment': 'exp'},\n):\n"
        "    steps = 5\n    loss = lr * steps\n    q = '''keep\n  this'''" in text
    )
    assert "with _project.track_cell(None, globals(), params=['batch'], metrics=['loss']):" in text
    assert "with _project.track_cell(None, globals()):\n    z = lr + 1" in text
    assert "with _project.track_cell('empty', globals()):\n    pass" in text


def test_bad_input_names_the_cell_and_writes_nothing(tmp_path: Path) -> None:
    cells = [nbformat.v4.new_code_cell("%%track -x\nx = 1")]
    bad = tmp_path / "bad.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells), bad)
    with pytest.raises(InvalidInput, match=r"bad.ipynb: cell 1: cannot read %%track '-x'"):
        export_mlproject(bad, tmp_path / "out")
    assert not (tmp_path / "out").exists()

    broken = tmp_path / "broken.ipynb"
    broken.write_text("{not json")
    with pytest.raises(InvalidInput, match=r"Cannot read .*broken\.ipynb as a notebook"):
        export_mlproject(broken, tmp_path / "out")
    with pytest.raises(InvalidInput, match="No notebook at"):
        export_mlproject(tmp_path / "missing.ipynb", tmp_path / "out")

    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "keep.txt").write_text("mine")
    with pytest.raises(InvalidInput, match="is not an empty folder"):
        export_mlproject(DATA / "train.ipynb", taken)
    assert [p.name for p in taken.iterdir()] == ["keep.txt"]
