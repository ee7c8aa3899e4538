"""The registry panel: models → versions, and its actions change the store."""

from __future__ import annotations

import pytest

import nbtrack
from nbtrack.errors import NotFoundError
from nbtrack.widgets.registry_panel import RegistryData, show_registry


@pytest.fixture
def registry(seeded):
    client = seeded.client
    client.create_registered_model("wine-model", description="predicts quality")
    for run_id in seeded.run_ids[:3]:
        client.create_model_version("wine-model", f"runs:/{run_id}/model", run_id)
    client.create_registered_model("o'brien")
    client.create_model_version("o'brien", "/tmp/somewhere")
    return seeded


def test_models_and_versions_newest_first(registry) -> None:
    data = RegistryData.load(registry.client)
    assert [m.name for m in data.models] == ["o'brien", "wine-model"]
    assert [v.version for v in data.versions["wine-model"]] == [3, 2, 1]
    assert [v.version for v in data.versions["o'brien"]] == [1]
    one = RegistryData.load(registry.client, "wine-model")
    assert [m.name for m in one.models] == ["wine-model"]


def test_panel_shows_versions_with_source_runs_and_stages(registry) -> None:
    panel = show_registry(client=registry.client)
    html = panel.html
    assert "wine-model" in html and "predicts quality" in html
    assert "o&#x27;brien" in html
    assert f'data-run="{registry.run_ids[0]}"' in html
    assert html.count('data-action="transition"') == 4
    static = panel._repr_mimebundle_()[0]["text/html"].split("</style>", 1)[1]
    assert "data-action=" not in static and "v3" in static


def test_set_alias_through_the_panel_changes_the_store(registry) -> None:
    client = registry.client
    panel = show_registry("wine-model", client=client)
    panel.dispatch(
        {
            "action": "set_alias",
            "model": "wine-model",
            "version": "2",
            "row": "2",
            "alias-2": "champion",
        }
    )
    assert client.get_model_version_by_alias("wine-model", "champion").version == 2
    assert "@champion" in panel.html
    panel.dispatch(
        {"action": "delete_alias", "model": "wine-model", "version": "2", "alias": "champion"}
    )
    with pytest.raises(NotFoundError):
        client.get_model_version_by_alias("wine-model", "champion")


def test_transition_through_the_panel_changes_the_store(registry) -> None:
    client = registry.client
    panel = show_registry(client=client)
    panel.dispatch(
        {"action": "transition", "model": "wine-model", "version": "1", "value": "Production"}
    )
    assert client.get_model_version("wine-model", 1).current_stage == "Production"
    assert '<option value="Production" selected>' in panel.html


def test_an_invalid_alias_is_shown_in_the_panel(registry) -> None:
    panel = show_registry("wine-model", client=registry.client)
    panel.dispatch(
        {
            "action": "set_alias",
            "model": "wine-model",
            "version": "1",
            "row": "1",
            "alias-1": "latest",
        }
    )
    assert 'role="alert"' in panel.html and "latest" in panel.html


def test_source_run_opens_under_the_registry(registry) -> None:
    panel = show_registry("wine-model", client=registry.client)
    panel.dispatch({"action": "show_run", "run": registry.run_ids[1]})
    assert "Run run-01" in panel.html


def test_unknown_model_raises(client: nbtrack.Client) -> None:
    with pytest.raises(NotFoundError):
        show_registry("missing", client=client)
