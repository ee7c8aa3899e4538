"""The figures a tracked cell shows: matplotlib as PNG, altair as HTML and vega-lite JSON.

Two taps catch them while the cell runs. ``display_formatter.format`` sees
every object the cell displays, through ``display()`` and as the cell's last
expression alike (the latter never reaches ``display_pub``), so altair
charts are caught whatever renderer is on; ``display_pub.publish`` sees
published PNGs and raw vega-lite bundles. Pyplot figures the cell opened but
never showed are saved at the end.

A chart becomes ``figures/figure-N.vl.json`` (its spec) and
``figures/figure-N.html``: a self-contained page with vega, vega-lite and
vega-embed inlined by vl-convert (``bundle=True``), so it opens offline with
no CDN. Without vl-convert only the spec is saved, with a note.
"""

from __future__ import annotations

import base64
import io
import json
import re
import sys
import types
from pathlib import Path
from typing import Any

from nbtrack.magics._cellparts import Problems

__all__ = ["FigureRecorder", "chart_html"]

_VEGALITE_MIME = re.compile(r"^application/vnd\.vegalite\.v\d+(\+json|\.json)$")
_SCHEMA_VERSION = re.compile(r"/vega-lite/v(\d+)\.(\d+)")


def chart_html(spec: dict[str, Any]) -> str:
    """Return a self-contained HTML page rendering the vega-lite ``spec``, with no CDN script.

    Raises
    ------
    ImportError
        If vl-convert-python is not installed.
    """
    import vl_convert

    version = None
    found = _SCHEMA_VERSION.search(str(spec.get("$schema", "")))
    if found:
        wanted = f"{found.group(1)}.{found.group(2)}"
        known = vl_convert.get_vegalite_versions()
        same_major = [v for v in known if v.split(".")[0] == found.group(1)]
        # The spec's own minor version when vl-convert has it, else the newest of its major.
        if wanted in known:
            version = wanted
        elif same_major:
            version = max(same_major, key=lambda v: tuple(int(p) for p in v.split(".")))
    html: str = vl_convert.vegalite_to_html(spec, vl_version=version, bundle=True)
    return html


def _is_chart(obj: Any) -> bool:
    """Whether ``obj`` is a top-level altair chart (parts such as ``alt.X`` cannot be saved)."""
    if not type(obj).__module__.startswith("altair."):
        return False
    return all(callable(getattr(obj, name, None)) for name in ("to_dict", "save"))


class _Patch:
    """An instance attribute replaced by a wrapper, restored only if still ours."""

    def __init__(self, owner: Any, name: str, wrapper: Any) -> None:
        self.owner, self.name, self.wrapper = owner, name, wrapper
        self.original = getattr(owner, name)
        self.own = name in vars(owner)
        setattr(owner, name, wrapper)

    def undo(self) -> None:
        # Something installed after our wrapper stays.
        if vars(self.owner).get(self.name) is self.wrapper:
            if self.own:
                setattr(self.owner, self.name, self.original)
            else:
                delattr(self.owner, self.name)


class FigureRecorder:
    """Collects what a cell displays between :meth:`start` and :meth:`stop`.

    Parameters
    ----------
    shell:
        The IPython shell running the cell.
    problems:
        Where a failure to capture a figure is recorded (never raised).
    """

    def __init__(self, shell: Any, problems: Problems) -> None:
        self.shell = shell
        self.problems = problems
        #: One entry per figure: ("png", bytes) or ("chart", vega-lite spec).
        self.figures: list[tuple[str, Any]] = []
        self.notes: list[str] = []
        self._fignums: set[int] = set()
        self._patches: list[_Patch] = []
        self._chart_keys: set[str] = set()

    def start(self) -> None:
        """Remember the open pyplot figures and tap the display machinery."""
        self._fignums = set(_open_figures())
        formatter = getattr(self.shell, "display_formatter", None)
        if formatter is not None:
            original_format = formatter.format

            def format(obj: Any, *args: Any, **kwargs: Any) -> Any:
                if _is_chart(obj):
                    with self.problems.guard("capture a displayed chart"):
                        self._keep_chart(obj.to_dict(validate=False))
                return original_format(obj, *args, **kwargs)

            self._patches.append(_Patch(formatter, "format", format))
        pub = getattr(self.shell, "display_pub", None)
        if pub is not None:
            original_publish = pub.publish

            def publish(data: Any, *args: Any, **kwargs: Any) -> Any:
                with self.problems.guard("capture a displayed figure"):
                    self._keep_display(data)
                return original_publish(data, *args, **kwargs)

            self._patches.append(_Patch(pub, "publish", publish))

    def stop(self) -> None:
        """Undo the taps (the figures stay collected)."""
        while self._patches:
            self._patches.pop().undo()

    def _keep_chart(self, spec: Any) -> None:
        # A chart shown with altair's mimetype renderer arrives twice: as an
        # object to format and as the published spec. Keep it once.
        key = json.dumps(spec, sort_keys=True, default=str)
        if key not in self._chart_keys:
            self._chart_keys.add(key)
            self.figures.append(("chart", spec))

    def _keep_display(self, data: Any) -> None:
        if not isinstance(data, dict):
            return
        png = data.get("image/png")
        if png is not None:
            raw = png if isinstance(png, bytes) else base64.b64decode(png)
            self.figures.append(("png", raw))
        for mime, payload in data.items():
            if _VEGALITE_MIME.match(mime) and isinstance(payload, dict):
                self._keep_chart(payload)

    def files(self) -> list[tuple[str, bytes]]:
        """Return (file name, content) of every figure, pyplot figures never shown included."""
        entries = list(self.figures)
        for num, figure in _open_figures().items():
            if num not in self._fignums:
                buf = io.BytesIO()
                figure.savefig(buf, format="png")
                entries.append(("png", buf.getvalue()))
        out: list[tuple[str, bytes]] = []
        for counter, (kind, payload) in enumerate(entries, start=1):
            name = f"figure-{counter}"
            if kind == "png":
                out.append((f"{name}.png", payload))
                continue
            out.append((f"{name}.vl.json", json.dumps(payload, indent=1).encode("utf-8")))
            with self.problems.guard("render a chart as HTML"):
                try:
                    html = chart_html(payload)
                except ImportError:
                    self.notes.append(
                        "altair charts are saved as HTML with vl-convert: "
                        "pip install vl-convert-python"
                    )
                    continue
                out.append((f"{name}.html", html.encode("utf-8")))
        return out

    def save(self, client: Any, run_id: str) -> None:
        """Log the figures under ``figures/`` in the run (nothing when there are none)."""
        import tempfile

        files = self.files()
        if not files:
            return
        with tempfile.TemporaryDirectory(prefix="nbtrack-figures-") as tmp:
            for name, content in files:
                Path(tmp, name).write_bytes(content)
            client.log_artifacts(run_id, tmp, "figures")


def _open_figures() -> dict[int, Any]:
    """Return pyplot's open figures by number (none if the cell never imported pyplot)."""
    if not isinstance(sys.modules.get("matplotlib.pyplot"), types.ModuleType):
        return {}
    from matplotlib._pylab_helpers import Gcf

    return {num: manager.canvas.figure for num, manager in Gcf.figs.items()}
