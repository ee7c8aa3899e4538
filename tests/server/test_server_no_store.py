"""A folder without a store: the sidebar's reads say so and write nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import tornado.httpclient

import nbtrack as nbt


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    # No tracking_uri: the store is the served folder's .nbtrack/, which does not exist.
    return {"ServerApp": {"jpserver_extensions": {"nbtrack": True}}}


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


async def test_reads_on_a_folder_without_a_store_write_nothing(
    jp_fetch: Any, jp_root_dir: Path
) -> None:
    (jp_root_dir / "train.ipynb").write_text("{}")
    before = _tree(jp_root_dir)
    for path in (("experiments",), ("runs",), ("models",), ("runs", "0" * 32)):
        params = {"experiment_id": "0"} if path == ("runs",) else None
        with pytest.raises(tornado.httpclient.HTTPClientError) as caught:
            await jp_fetch("nbtrack", "api", *path, params=params)
        assert caught.value.code == 404, path
        body = json.loads(caught.value.response.body)
        assert body["message"].startswith("No store here yet:"), body
        assert str(jp_root_dir.resolve() / ".nbtrack") in body["message"]
    assert _tree(jp_root_dir) == before

    # A notebook logs its first run: the next read finds the store.
    client = nbt.Client(str(jp_root_dir / ".nbtrack"))
    client.create_experiment("first")
    client.flush()
    response = await jp_fetch("nbtrack", "api", "experiments")
    names = [e["name"] for e in json.loads(response.body)["experiments"]]
    assert "first" in names
