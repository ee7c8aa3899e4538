"""A fresh store and an empty output cache for each prompt-comparison test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import nbtrack as nbt
from nbtrack.prompts import clear_cache


@pytest.fixture
def store(tmp_dir: Path) -> Iterator[nbt.Client]:
    nbt.set_tracking_uri(str(tmp_dir / "store"))
    clear_cache()
    yield nbt.Client()
    clear_cache()
