"""A real installed distribution for plug-in tests: a module and its dist-info on a site dir."""

from __future__ import annotations

from pathlib import Path


def install_distribution(site: Path, module: str, source: str, entry_points: str) -> Path:
    """Write ``module.py`` and its ``dist-info`` (with ``entry_points``, INI text) into ``site``.

    Put ``site`` on ``sys.path`` (``monkeypatch.syspath_prepend``) and
    ``importlib.metadata`` finds the distribution as if pip had installed it.
    """
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{module}.py").write_text(source)
    info = site / f"{module}-0.1.dist-info"
    info.mkdir()
    name = module.replace("_", "-")
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(entry_points)
    return site
