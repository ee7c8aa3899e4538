"""``nbtrack models list|show|alias|stage|delete`` against a store with registered models."""

from __future__ import annotations

import json
from typing import Any

import pytest

import nbtrack as nbt


@pytest.fixture
def registry(store_uri: str) -> dict[str, Any]:
    """Models ``iris`` (2 versions, alias champion -> 1) and ``it's`` (1 version), a prompt."""
    client = nbt.Client(store_uri)
    run_id = client.create_run("0").info.run_id
    client.create_registered_model("iris", tags={"team": "ml"}, description="Iris classifier")
    for _ in range(2):
        client.create_model_version("iris", f"runs:/{run_id}/model", run_id)
    client.set_registered_model_alias("iris", "champion", 1)
    client.create_registered_model("it's")
    client.create_model_version("it's", f"runs:/{run_id}/model", run_id)
    nbt.register_prompt("qa", "Q: {{q}}", client=client)
    return {"client": client, "run_id": run_id}


def test_list_shows_models_not_prompts(invoke, registry) -> None:
    lines = invoke("models", "list").stdout.splitlines()
    assert lines[0].split()[:3] == ["name", "latest", "aliases"]
    assert [line.split()[0] for line in lines[1:]] == ["iris", "it's"]
    assert "champion=1" in lines[1]
    rows = json.loads(invoke("models", "list", "--json").stdout)
    assert [r["name"] for r in rows] == ["iris", "it's"]
    assert rows[0]["latest_version"] == 2
    assert rows[0]["aliases"] == {"champion": 1}
    assert rows[0]["tags"] == {"team": "ml"}
    filtered = json.loads(invoke("models", "list", "--filter", "tags.team = 'ml'", "--json").stdout)
    assert [r["name"] for r in filtered] == ["iris"]


def test_show_model_version_and_alias(invoke, registry) -> None:
    text = invoke("models", "show", "iris").stdout
    assert "Registered model iris" in text
    assert "Iris classifier" in text
    assert "champion=1" in text
    data = json.loads(invoke("models", "show", "iris", "--json").stdout)
    assert [v["version"] for v in data["versions"]] == [2, 1]
    assert data["versions"][1]["aliases"] == ["champion"]
    assert data["versions"][0]["run_id"] == registry["run_id"]
    by_alias = json.loads(invoke("models", "show", "iris", "@champion", "--json").stdout)
    assert by_alias["version"] == 1
    assert "Model version iris 2" in invoke("models", "show", "iris", "2").stdout
    quoted = json.loads(invoke("models", "show", "it's", "--json").stdout)
    assert [v["version"] for v in quoted["versions"]] == [1]


def test_alias_set_move_and_delete(invoke, registry) -> None:
    assert invoke("models", "alias", "iris", "champion", "2").stdout == (
        "models:/iris@champion -> version 2\n"
    )
    assert registry["client"].get_model_version_by_alias("iris", "champion").version == 2
    invoke("models", "alias", "iris", "champion", "--delete")
    assert registry["client"].get_registered_model("iris").aliases == {}
    assert "Give the VERSION" in invoke("models", "alias", "iris", "x", code=2).stderr


def test_stage_transition(invoke, registry) -> None:
    out = invoke("models", "stage", "iris", "2", "production").stdout
    assert out == "Model 'iris' version 2 is now in stage Production\n"
    err = invoke("models", "stage", "iris", "2", "Live", code=1).stderr
    assert "Invalid model version stage 'Live'" in err


def test_delete_version_and_model(invoke, registry) -> None:
    client = registry["client"]
    assert "Aborted" in invoke("models", "delete", "iris", "1", code=1, env=None).stderr
    assert client.get_model_version("iris", 1).version == 1  # nothing deleted without --yes
    invoke("models", "delete", "iris", "1", "--yes")
    assert [v.version for v in client.search_model_versions("name = 'iris'")] == [2]
    assert client.get_registered_model("iris").aliases == {}  # the alias went with version 1
    out = invoke("models", "delete", "iris", "--yes").stdout
    assert out == "Deleted registered model 'iris' (1 version(s))\n"
    assert [m.name for m in client.search_registered_models()] == ["it's"]


def test_unknown_names_and_references(invoke, registry) -> None:
    assert invoke("models", "show", "nope", code=1).stderr.startswith("Error: ")
    assert "nope" in invoke("models", "show", "nope", code=1).stderr
    err = invoke("models", "show", "iris", "latest", code=1).stderr
    assert err == "Error: Expected a version number or @alias, got 'latest'\n"
    assert "'missing'" in invoke("models", "show", "iris", "@missing", code=1).stderr
    assert "nope" in invoke("models", "delete", "nope", "--yes", code=1).stderr
