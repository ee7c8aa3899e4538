"""Environment files of runs made in the kernel: installed packages and the git diff."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

import nbtrack
from nbtrack.tracking import context


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def _artifact_paths(run_id: str) -> set[str]:
    client = nbtrack.Client()
    return {f.path for f in client.list_artifacts(run_id, "environment")}


def _read(run_id: str, path: str) -> str:
    return Path(nbtrack.Client().download_artifacts(run_id, path)).read_text()


@pytest.fixture
def repo(tmp_dir: Path) -> Path:
    """The working folder as a git work tree with one commit of ``train.py``."""
    _git(tmp_dir, "init", "-q", "-b", "main")
    (tmp_dir / "train.py").write_text("alpha = 0.5\n")
    (tmp_dir / ".gitignore").write_text("store/\n")
    _git(tmp_dir, "add", "train.py", ".gitignore")
    _git(tmp_dir, "commit", "-q", "-m", "first")
    return tmp_dir


def test_clean_tree_logs_packages_and_git_tags_but_no_diff(ip: Any, repo: Path) -> None:
    ip.run_cell("%%track --quiet\nx = 1\n")
    (run,) = nbtrack.search_runs(output_format="list")
    assert run.data.tags["nbtrack.git.dirty"] == "false"
    assert run.data.tags["nbtrack.git.branch"] == "main"
    assert len(run.data.tags["nbtrack.git.commit"]) == 40
    assert run.data.tags["nbtrack.python"].count(".") == 2
    assert _artifact_paths(run.info.run_id) == {"environment/requirements.txt"}
    requirements = _read(run.info.run_id, "environment/requirements.txt").splitlines()
    assert requirements == sorted(requirements, key=lambda line: line.split("==")[0].lower())
    assert any(line.lower().startswith("ipython==") for line in requirements)
    assert all("==" in line for line in requirements)


def test_dirty_tree_logs_the_diff_of_tracked_files(ip: Any, repo: Path) -> None:
    (repo / "train.py").write_text("alpha = 0.7\n")
    (repo / "untracked.py").write_text("secret = 1\n")
    ip.run_cell("%%track --quiet\nx = 1\n")
    ip.run_cell("import nbtrack as nbt\nwith nbt.start_run(run_name='in-code'):\n    y = 2\n")
    runs = nbtrack.search_runs(output_format="list")
    assert isinstance(runs, list) and len(runs) == 2
    for run in runs:
        assert run.data.tags["nbtrack.git.dirty"] == "true"
        assert _artifact_paths(run.info.run_id) == {
            "environment/git.diff",
            "environment/requirements.txt",
        }
        diff = _read(run.info.run_id, "environment/git.diff")
        assert "-alpha = 0.5\n+alpha = 0.7\n" in diff
        assert "untracked" not in diff


def test_long_diff_is_cut_with_a_note(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / "train.py").write_text("".join(f"line_{i} = {i}\n" for i in range(5000)))
    monkeypatch.setattr(context, "MAX_DIFF_BYTES", 10_000)
    diff = context.git_diff(repo)
    assert diff is not None
    body, note = diff.split("# nbtrack: diff truncated", 1)
    # Cut at a line end, within the bound, and says so.
    assert len(body.encode()) <= 10_000 and body.endswith("\n")
    assert note.startswith(": ") and "bytes, the first 9 KB kept" in note


def test_no_work_tree_no_diff(tmp_dir: Path) -> None:
    assert context.git_diff(tmp_dir) is None
    assert context.git_info(tmp_dir) == {}


def test_requirements_are_computed_once_per_process() -> None:
    assert context.requirements_text() is context.requirements_text()
