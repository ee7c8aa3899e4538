"""Prompt providers from installed packages: the ``nbtrack.prompt_providers`` entry-point group."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from plugin_dist import install_distribution

import nbtrack as nbt
from nbtrack.errors import NbtrackWarning
from nbtrack.prompts import providers

PLUGIN = '''
import time
from nbtrack.prompts import Generation


class ShoutModel:
    """What a third-party SDK's model object might look like."""

    def shout(self, text):
        return text.upper()


class ShoutProvider:
    def __init__(self, model):
        self.model = model
        self.identity = "shout-sdk"

    def generate(self, prompt, params, timeout):
        return Generation(self.model.shout(prompt), 0.1, None, 1)


class PLUGIN:
    matches = staticmethod(lambda model: isinstance(model, ShoutModel))
    factory = staticmethod(ShoutProvider)
'''


@pytest.fixture
def plugin_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A real installed distribution (a dist-info folder on sys.path) declaring a provider."""
    site = install_distribution(
        tmp_path / "site",
        "nbt_shout_plugin",
        PLUGIN,
        f"[{providers.ENTRY_POINT_GROUP}]\nshout = nbt_shout_plugin:PLUGIN\n"
        "broken = nbt_no_such_module_xyz:PLUGIN\n",
    )
    monkeypatch.syspath_prepend(str(site))
    factories = list(providers._FACTORIES)
    monkeypatch.setattr(providers, "_entry_points_loaded", False)
    yield
    providers._FACTORIES[:] = factories
    sys.modules.pop("nbt_shout_plugin", None)


def test_an_installed_provider_compares_its_models(plugin_on_path: None, tracking_uri: str) -> None:
    from nbt_shout_plugin import ShoutModel  # type: ignore[import-not-found]

    with pytest.warns(NbtrackWarning, match="nbt_no_such_module_xyz"):
        grid = nbt.compare_prompts(
            ["Say: {{text}}"], {"sdk": ShoutModel()}, [{"text": "hi"}, {"text": "yo"}]
        )
    assert [cell.output for cell in grid.combinations[0].cells] == ["SAY: HI", "SAY: YO"]
    run = nbt.Client().get_run(grid.combinations[0].run_id)
    assert run.data.params["model"] == "sdk"
    assert run.data.metrics["tokens_mean"] == 1.0
