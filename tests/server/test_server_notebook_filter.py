"""'Show runs of this notebook' matches the notebook's whole path, not its tail."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import tornado.httpclient

import nbtrack as nbt

TAG = "nbtrack.source.name"


@pytest.fixture
def store(tmp_path: Path, jp_root_dir: Path) -> Path:
    """Runs tagged as kernels tag them: absolute or relative, and look-alike names."""
    folder = tmp_path / "store"
    client = nbt.Client(str(folder))
    exp = client.create_experiment("nb")
    root = str(jp_root_dir)
    for name, source in {
        "absolute": f"{root}/work/track.ipynb",
        "relative": "work/track.ipynb",
        "suffix": f"{root}/work/backtrack.ipynb",
        "other-folder": f"{root}/other/work/track.ipynb",
        "elsewhere": "/somewhere/else/work/track.ipynb",
        "odd": f"{root}/it's 50%_off.ipynb",
        "odd-wildcard": f"{root}/it's 50%xoff.ipynb",
    }.items():
        client.create_run(exp, run_name=name, tags={TAG: source})
    client.flush()
    return folder


async def _notebook_runs(jp_fetch: Any, path: str) -> list[str]:
    response = await jp_fetch("nbtrack", "api", "notebook-filter", params={"path": path})
    filter_string = json.loads(response.body)["filter"]
    experiments = json.loads((await jp_fetch("nbtrack", "api", "experiments")).body)
    ids = ",".join(e["experiment_id"] for e in experiments["experiments"])
    response = await jp_fetch(
        "nbtrack", "api", "runs", params={"experiment_id": ids, "filter": filter_string}
    )
    return sorted(r["info"]["run_name"] for r in json.loads(response.body)["runs"])


async def test_only_the_notebooks_own_runs_are_shown(jp_fetch: Any) -> None:
    assert await _notebook_runs(jp_fetch, "work/track.ipynb") == ["absolute", "relative"]
    assert await _notebook_runs(jp_fetch, "it's 50%_off.ipynb") == ["odd"]


async def test_a_path_leaving_the_served_folder_is_refused(jp_fetch: Any) -> None:
    for bad in ("", "../x.ipynb", "/etc/x.ipynb"):
        with pytest.raises(tornado.httpclient.HTTPClientError) as caught:
            await jp_fetch("nbtrack", "api", "notebook-filter", params={"path": bad})
        assert caught.value.code == 400, bad
