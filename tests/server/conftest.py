"""The Jupyter server of these tests: nbtrack's extension on, over each module's ``store``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def jp_server_config(store: Path) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"nbtrack": True}},
        "NbtrackServer": {"tracking_uri": str(store)},
    }
