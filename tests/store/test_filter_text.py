"""One quoting helper: a model named ``a\\``, ``it's`` or ``50%_off`` means itself everywhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import nbtrack as nbt
from nbtrack.cli.main import cli
from nbtrack.server import api
from nbtrack.store.filter_text import equals, like_literal, quote
from nbtrack.store.search_filter import parse_experiment_filter
from nbtrack.widgets.registry_panel import RegistryData

NAMES = ["a\\", "it's", "50%_off"]
# Names a wildcard or a lost backslash would also match.
DECOYS = ["a", "a\\\\", "its", "50a_off", "50%xoff", "50%_offer"]


@pytest.mark.parametrize("name", [*NAMES, "", "\\'", "''", "%", "_\\%"])
def test_a_quoted_value_reads_back_as_itself(name: str) -> None:
    node = parse_experiment_filter(equals("name", name))
    assert node is not None and node.value == name  # type: ignore[union-attr]


@pytest.fixture
def client(tmp_path: Path) -> nbt.Client:
    client = nbt.Client(str(tmp_path / "store"))
    run_id = client.create_run("0").info.run_id
    for name in NAMES + DECOYS:
        client.create_registered_model(name)
        client.create_model_version(name, f"runs:/{run_id}/model", run_id)
        client.create_model_version(name, f"runs:/{run_id}/model", run_id)
    client.flush()
    return client


def test_the_api_cli_and_registry_panel_find_each_name(client: nbt.Client, tmp_path: Path) -> None:
    runner = CliRunner()
    for name in NAMES:
        detail = api.model_detail(client, name)
        assert {v["name"] for v in detail["versions"]} == {name}
        assert [v["version"] for v in detail["versions"]] == [2, 1]

        shown = runner.invoke(
            cli,
            ["--tracking-uri", str(tmp_path / "store"), "models", "show", name, "--json"],
            catch_exceptions=False,
        )
        assert shown.exit_code == 0, shown.stdout
        assert {v["name"] for v in json.loads(shown.stdout)["versions"]} == {name}

        data = RegistryData.load(client, name)
        assert {v.name for v in data.versions[name]} == {name}
        assert len(data.versions[name]) == 2


def test_a_like_literal_matches_only_its_text(client: nbt.Client) -> None:
    for name in NAMES:
        found = client.search_registered_models(f"name LIKE {quote(like_literal(name))}")
        assert [m.name for m in found] == [name]
    prefix = client.search_registered_models(f"name LIKE {quote(like_literal('50%_off') + '%')}")
    assert sorted(m.name for m in prefix) == ["50%_off", "50%_offer"]
