"""The ``ip`` fixture: IPython's in-process shell with ``%load_ext nbtrack`` on a fresh store."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def ip(tracking_uri: str) -> Iterator[Any]:
    """IPython's in-process shell with nbtrack loaded; unloaded and reset afterwards."""
    from IPython.testing.globalipapp import get_ipython

    from nbtrack.magics._notebook import set_notebook_path

    shell = get_ipython()
    # A new session clears the input history too: the kernel hook reads it on load.
    shell.reset(new_session=True)
    shell.run_line_magic("load_ext", "nbtrack")
    try:
        yield shell
    finally:
        shell.run_line_magic("unload_ext", "nbtrack")
        shell.reset(new_session=False)
        set_notebook_path(None)
