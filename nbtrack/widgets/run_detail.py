"""``nbt.show_run``: one run — params, metrics with sparklines, tags, artifacts, lineage.

:class:`RunDetail` gathers what the panel shows through ``Client`` (the run,
each metric's history, an artifact listing, previews of small files, the
lineage of ``%%track`` runs); :class:`RunView` is the widget, refreshing
while the run is RUNNING. Images are inlined as data URLs, text, JSON and
YAML are previewed, other files are listed with their size.
"""

from __future__ import annotations

import base64
import os
import tempfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from nbtrack.entities import FileInfo, Run, RunStatus
from nbtrack.errors import NotFoundError
from nbtrack.widgets._base import Panel, resolve_client
from nbtrack.widgets._html import (
    duration,
    esc,
    fmt_value,
    sparkline,
    status_badge,
    table,
    timestamp,
)

if TYPE_CHECKING:
    from nbtrack.tracking.client import Client

__all__ = ["RunDetail", "RunView", "show_run"]

_IMAGES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif"}
_TEXT = {".txt", ".json", ".yaml", ".yml", ".csv", ".md", ".py", ".log", ".html", ".svg", ""}
#: Largest file previewed or inlined; bigger ones are only listed.
MAX_PREVIEW_BYTES = 2_000_000
#: Characters of a text preview.
PREVIEW_CHARS = 4000
#: Artifacts listed at most (a folder of thousands of files stays readable).
MAX_ARTIFACTS = 200
#: Points kept per sparkline.
SPARK_POINTS = 60


@dataclass
class Preview:
    """An artifact as the panel shows it: an image data URL, a text excerpt, or neither."""

    info: FileInfo
    image: str | None = None
    text: str | None = None


@dataclass
class RunDetail:
    """Everything the run panel shows, read through ``Client``."""

    run: Run
    histories: dict[str, list[float]]
    artifacts: list[Preview]
    lineage: str | None
    truncated: bool = False
    errors: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, client: Client, run_id: str, previous: RunDetail | None = None) -> RunDetail:
        """Read the run, its metric histories, artifacts (with previews) and lineage.

        ``previous`` (the last load, when refreshing) lends its previews of
        files whose path and size have not changed, so a refresh downloads
        only new or changed artifacts.
        """
        run = client.get_run(run_id)
        histories = {
            key: [value for _, _, value in client.get_metric_points(run_id, key)]
            for key in sorted(run.data.metrics)
        }
        files, truncated = _walk(client, run_id)
        known = {(p.info.path, p.info.file_size): p for p in previous.artifacts} if previous else {}
        previews = [
            known.get((info.path, info.file_size)) or _preview(client, run_id, info)
            for info in files
        ]
        return cls(run, histories, previews, _lineage(client, run_id), truncated)

    def any_running(self) -> bool:
        """Whether the run is RUNNING."""
        return self.run.info.status == RunStatus.RUNNING

    def render(self, static: bool = False) -> str:
        """The run's markup (the same live and static: the panel has no controls)."""
        info, data = self.run.info, self.run.data
        summary = table(
            ["run id", "name", "status", "start", "duration", "experiment"],
            [
                [
                    f"<code>{esc(info.run_id)}</code>",
                    esc(info.run_name),
                    status_badge(info.status),
                    esc(timestamp(info.start_time)),
                    esc(duration(info)),
                    esc(info.experiment_id),
                ]
            ],
            "run",
        )
        params = table(
            ["param", "value"],
            [[esc(k), esc(v)] for k, v in sorted(data.params.items())],
            "params",
        )
        metrics = table(
            ["metric", "latest", "points", "history"],
            [
                [
                    esc(k),
                    (esc(fmt_value(data.metrics[k])), "jp-nbtrack-num"),
                    (str(len(self.histories.get(k, []))), "jp-nbtrack-num"),
                    sparkline(_thin(self.histories.get(k, []))),
                ]
                for k in sorted(data.metrics)
            ],
            "metrics",
        )
        user_tags = {
            k: v for k, v in data.tags.items() if not k.startswith(("nbtrack.", "mlflow."))
        }
        system_tags = {k: v for k, v in data.tags.items() if k not in user_tags}
        tags = table(
            ["tag", "value"], [[esc(k), esc(v)] for k, v in sorted(user_tags.items())], "tags"
        )
        system = table(
            ["tag", "value"], [[esc(k), esc(v)] for k, v in sorted(system_tags.items())], "system"
        )
        parts = [
            f"<h3>Run {esc(info.run_name)}</h3>",
            summary,
            "<h4>Params</h4>",
            params if data.params else "<p class='jp-nbtrack-muted'>none</p>",
            "<h4>Metrics</h4>",
            metrics if data.metrics else "<p class='jp-nbtrack-muted'>none</p>",
            "<h4>Tags</h4>",
            tags if user_tags else "<p class='jp-nbtrack-muted'>none</p>",
            f"<details><summary>System tags ({len(system_tags)})</summary>{system}</details>",
            "<h4>Artifacts</h4>",
            self._artifacts(),
            "<h4>Lineage</h4>",
            f"<details><summary>code run in the kernel</summary><pre>{esc(self.lineage)}</pre>"
            "</details>"
            if self.lineage
            else "<p class='jp-nbtrack-muted'>No lineage (only %%track runs record one).</p>",
        ]
        return "".join(parts)

    def _artifacts(self) -> str:
        if not self.artifacts:
            return "<p class='jp-nbtrack-muted'>none</p>"
        items = []
        for preview in self.artifacts:
            size = preview.info.file_size
            label = f"<code>{esc(preview.info.path)}</code>"
            label += f" <span class='jp-nbtrack-muted'>{size:,} bytes</span>" if size else ""
            if preview.image is not None:
                items.append(
                    f"<div>{label}<br><img class='jp-nbtrack-Image' alt='{esc(preview.info.path)}'"
                    f" src='{preview.image}'></div>"
                )
            elif preview.text is not None:
                items.append(
                    f"<details><summary>{label}</summary><pre>{esc(preview.text)}</pre></details>"
                )
            else:
                items.append(f"<div>{label}</div>")
        more = "<p class='jp-nbtrack-muted'>(more not listed)</p>" if self.truncated else ""
        return "".join(items) + more


def _thin(values: list[float]) -> list[float]:
    if len(values) <= SPARK_POINTS:
        return values
    step = len(values) / SPARK_POINTS
    return [values[int(i * step)] for i in range(SPARK_POINTS)] + [values[-1]]


def _walk(client: Client, run_id: str) -> tuple[list[FileInfo], bool]:
    """Every artifact file, breadth first, at most MAX_ARTIFACTS."""
    files: list[FileInfo] = []
    folders: list[str | None] = [None]
    while folders:
        for info in client.list_artifacts(run_id, folders.pop(0)):
            if info.is_dir:
                folders.append(info.path)
            else:
                files.append(info)
            if len(files) >= MAX_ARTIFACTS:
                return files, True
    return files, False


def _preview(client: Client, run_id: str, info: FileInfo) -> Preview:
    suffix = os.path.splitext(info.path)[1].lower()
    if (info.file_size or 0) > MAX_PREVIEW_BYTES or (suffix not in _IMAGES and suffix not in _TEXT):
        return Preview(info)
    with tempfile.TemporaryDirectory(prefix="nbtrack-preview-") as folder:
        local = client.download_artifacts(run_id, info.path, folder)
        with open(local, "rb") as handle:
            content = handle.read(MAX_PREVIEW_BYTES)
    if suffix in _IMAGES:
        encoded = base64.b64encode(content).decode()
        return Preview(info, image=f"data:{_IMAGES[suffix]};base64,{encoded}")
    text = content[: PREVIEW_CHARS * 4].decode("utf-8", errors="replace")
    if len(text) > PREVIEW_CHARS:
        text = text[:PREVIEW_CHARS] + "\n…"
    return Preview(info, text=text)


def _lineage(client: Client, run_id: str) -> str | None:
    from nbtrack.tracking.lineage import lineage, lineage_script

    try:
        return lineage_script(lineage(run_id, client))
    except NotFoundError:
        return None


class RunView(Panel):
    """The run widget; refreshes while the run is RUNNING."""

    def __init__(self, client: Client, run_id: str) -> None:
        self.client, self.run_id = client, run_id
        self.detail = RunDetail.load(client, run_id)
        super().__init__(live=self.detail.any_running())
        self.redraw()

    def update(self) -> None:
        """Re-read the run and redraw."""
        self.detail = RunDetail.load(self.client, self.run_id, self.detail)
        self.live = self.detail.any_running()
        self.redraw()

    def render(self, static: bool = False) -> str:
        """The run's markup."""
        return self.detail.render(static)


def show_run(run_id: str, client: Client | None = None) -> RunView:
    """Show one run: params, metrics with sparklines, tags, artifacts and lineage.

    Parameters
    ----------
    run_id:
        The run.
    client:
        The client to read with (default: the tracking URI in force).

    Raises
    ------
    NotFoundError
        If the run does not exist.
    """
    client = resolve_client(client)
    return RunView(client, run_id)
