"""``nbtrack artifacts list|download``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path


def test_list_root(invoke, seeded) -> None:
    lines = invoke("artifacts", "list", seeded.alpha).stdout.splitlines()
    assert lines[0].split() == ["path", "size"]
    assert [line.split()[0] for line in lines[1:]] == ["model/", "notes.txt"]
    assert lines[2].split()[1:] == ["10", "B"]


def test_list_folder_file_and_recursive(invoke, seeded) -> None:
    folder = json.loads(invoke("artifacts", "list", seeded.alpha, "model", "--json").stdout)
    assert folder == [{"path": "model/weights.txt", "is_dir": False, "file_size": 5}]
    one = json.loads(invoke("artifacts", "list", seeded.alpha, "notes.txt", "--json").stdout)
    assert [e["path"] for e in one] == ["notes.txt"]
    every = json.loads(invoke("artifacts", "list", seeded.alpha[:8], "-r", "--json").stdout)
    assert [e["path"] for e in every] == ["model", "model/weights.txt", "notes.txt"]


def test_list_empty_run(invoke, seeded) -> None:
    out = invoke("artifacts", "list", seeded.beta).stdout
    assert out == f"No artifacts in run {seeded.beta}.\n"


def test_list_missing_path_is_an_error(invoke, seeded) -> None:
    err = invoke("artifacts", "list", seeded.alpha, "nope", code=1).stderr
    assert err == f"Error: Run {seeded.alpha} has no artifact 'nope'\n"
    err = invoke("artifacts", "list", seeded.alpha, "../etc", code=1).stderr
    assert err.startswith("Error: ") and len(err.splitlines()) == 1


def test_download_file_and_everything(invoke, seeded, tmp_path: Path) -> None:
    dst = tmp_path / "dl"
    out = invoke("artifacts", "download", seeded.alpha, "notes.txt", "-d", str(dst)).stdout
    assert out.strip() == str(dst / "notes.txt")
    assert (dst / "notes.txt").read_text() == "some notes"
    out = invoke("artifacts", "download", seeded.alpha, "--dst", str(tmp_path / "all")).stdout
    local = Path(out.strip())
    assert (local / "model" / "weights.txt").read_text() == "0 1 2"


def test_download_default_destination_is_a_new_folder(invoke, seeded) -> None:
    out = invoke("artifacts", "download", seeded.alpha, "model").stdout
    local = Path(out.strip())
    try:
        assert local.parent.name.startswith("nbtrack-artifacts-")
        assert (local / "weights.txt").read_text() == "0 1 2"
    finally:
        shutil.rmtree(local.parent)


def test_download_missing_artifact(invoke, seeded, tmp_path: Path) -> None:
    err = invoke(
        "artifacts", "download", seeded.alpha, "nope.txt", "-d", str(tmp_path), code=1
    ).stderr
    assert err.startswith("Error: Artifact 'nope.txt' not found")


def test_unknown_run(invoke, seeded) -> None:
    err = invoke("artifacts", "list", "0" * 32, code=1).stderr
    assert err == f"Error: No run with id '{'0' * 32}'\n"
