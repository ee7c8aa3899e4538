"""Files a tracked cell creates or changes under the working directory become artifacts."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import nbtrack
from nbtrack.magics._files import changed_files, choose_files, snapshot


def _touch(path: Path, text: str = "x") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_snapshot_skips_hidden_cache_and_excluded_folders(tmp_path: Path) -> None:
    for rel in ("a.txt", "sub/b.txt", ".hidden/c.txt", "__pycache__/d.pyc", "store/db", ".e"):
        _touch(tmp_path / rel)
    snap = snapshot(tmp_path, exclude=[tmp_path / "store"])
    assert sorted(snap.files) == ["a.txt", "sub/b.txt"]
    assert snap.complete


def test_snapshot_walk_is_capped(tmp_path: Path) -> None:
    for i in range(30):
        _touch(tmp_path / f"f{i:02}.txt")
    snap = snapshot(tmp_path, max_entries=10)
    assert not snap.complete and len(snap.files) == 10


def test_changed_files_are_new_or_modified(tmp_path: Path) -> None:
    _touch(tmp_path / "same.txt")
    _touch(tmp_path / "edit.txt", "old")
    before = snapshot(tmp_path)
    _touch(tmp_path / "edit.txt", "newer")
    _touch(tmp_path / "new/out.csv")
    assert changed_files(before, snapshot(tmp_path)) == ["edit.txt", "new/out.csv"]


def test_choose_files_respects_count_and_size_bounds(tmp_path: Path) -> None:
    for i in range(5):
        _touch(tmp_path / f"f{i}.txt", "x" * 10)
    _touch(tmp_path / "big.bin", "x" * 100)
    snap = snapshot(tmp_path)
    kept, notes = choose_files(snap, sorted(snap.files), max_files=3, max_file_bytes=50)
    assert kept == ["f0.txt", "f1.txt", "f2.txt"]
    assert any("1 changed file(s) over" in n for n in notes)
    assert any("only 3 of 6" in n for n in notes)
    kept, notes = choose_files(snap, sorted(snap.files), max_total_bytes=25)
    assert kept == ["f0.txt", "f1.txt"]  # big.bin does not fit; smaller files still do
    assert notes == ["only 2 of 6 changed files were logged (bounds: 100 files, 0 MB in all)"]


def test_tracked_cell_logs_the_files_it_wrote(ip: Any, tmp_dir: Path, capsys: Any) -> None:
    _touch(tmp_dir / "data.txt", "v1")
    _touch(tmp_dir / "untouched.txt")
    old = os.stat(tmp_dir / "data.txt").st_mtime_ns
    os.utime(tmp_dir / "data.txt", ns=(old - 10**9, old - 10**9))
    ip.run_cell(
        "%%track --quiet\nimport pathlib\n"
        "pathlib.Path('results').mkdir()\n"
        "pathlib.Path('results/pred.csv').write_text('y\\n1\\n')\n"
        "pathlib.Path('data.txt').write_text('v2')\n"
        "pathlib.Path('.cache').mkdir()\npathlib.Path('.cache/tmp').write_text('no')\n"
    )
    runs = nbtrack.search_runs(search_all_experiments=True, output_format="list")
    assert isinstance(runs, list) and len(runs) == 1
    client = nbtrack.Client()
    run_id = runs[0].info.run_id
    logged = {f.path for f in client.list_artifacts(run_id, "files")}
    assert logged == {"files/results", "files/data.txt"}
    assert {f.path for f in client.list_artifacts(run_id, "files/results")} == {
        "files/results/pred.csv"
    }
    assert capsys.readouterr().err == ""


def test_a_bound_hit_is_reported_in_one_line(
    ip: Any, tmp_dir: Path, capsys: Any, monkeypatch: Any
) -> None:
    from nbtrack.magics import _files

    monkeypatch.setattr(_files, "MAX_FILES", 1)
    result = ip.run_cell(
        "%%track --quiet\nfor name in ('a.txt', 'b.txt'):\n    open(name, 'w').write(name)\n"
    )
    assert result.success
    err = capsys.readouterr().err
    assert (
        err == "nbtrack: only 1 of 2 changed files were logged (bounds: 1 files, 200 MB in all)\n"
    )


def test_store_folder_as_working_directory_logs_none_of_its_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from IPython.testing.globalipapp import get_ipython

    store = tmp_path / "store"
    store.mkdir()
    monkeypatch.chdir(store)
    nbtrack.set_tracking_uri(str(store))
    shell = get_ipython()
    shell.reset(new_session=True)
    shell.run_line_magic("load_ext", "nbtrack")
    try:
        for i in range(3):
            shell.run_cell(f"%%track --quiet\nx = {i}\nopen('out.txt', 'w').write(str(x))\n")
    finally:
        shell.run_line_magic("unload_ext", "nbtrack")
    client = nbtrack.Client(str(store))
    for run in client.search_runs(["0"]):
        assert [f.path for f in client.list_artifacts(run.info.run_id, "files")] == [
            "files/out.txt"
        ]
