"""``nbt.show_registry``: registered models → versions, with aliases, stages and source runs.

:class:`RegistryData` reads models and their versions through ``Client``;
:class:`RegistryPanel` is the widget, whose actions (set or remove an alias,
move a version to another stage, open the source run) go through ``Client``
too and then re-read the registry, so the panel always shows the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nbtrack.entities import ModelVersion, ModelVersionStage, RegisteredModel
from nbtrack.store.filter_text import equals
from nbtrack.widgets._base import Panel, resolve_client
from nbtrack.widgets._html import esc, table, timestamp

if TYPE_CHECKING:
    from nbtrack.tracking.client import Client
    from nbtrack.widgets.run_detail import RunDetail

__all__ = ["RegistryData", "RegistryPanel", "show_registry"]

STAGES = ModelVersionStage.ALL
#: Models and versions per model listed at most.
MAX_MODELS = 100
MAX_VERSIONS = 100


@dataclass
class RegistryData:
    """Registered models and, per model, its versions newest first."""

    models: list[RegisteredModel]
    versions: dict[str, list[ModelVersion]]

    @classmethod
    def load(cls, client: Client, name: str | None = None) -> RegistryData:
        """Read one model (``name``) or every model, each with its versions.

        Raises
        ------
        NotFoundError
            If ``name`` is given and no model has it.
        """
        if name is not None:
            models = [client.get_registered_model(name)]
        else:
            models = client.search_registered_models(max_results=MAX_MODELS)
        versions = {
            m.name: list(
                client.search_model_versions(
                    equals("name", m.name),
                    max_results=MAX_VERSIONS,
                    order_by=["version_number DESC"],
                )
            )
            for m in models
        }
        return cls(models, versions)

    def render(self, static: bool = False) -> str:
        """Models and their versions; alias and stage controls unless ``static``."""
        if not self.models:
            return "<h3>Model registry</h3><p class='jp-nbtrack-muted'>No registered models.</p>"
        parts = ["<h3>Model registry</h3>"]
        row_number = 0
        for model in self.models:
            aliases = ", ".join(f"@{a} → v{v}" for a, v in sorted(model.aliases.items()))
            parts.append(
                f"<h4>{esc(model.name)} <span class='jp-nbtrack-muted'>"
                f"{len(self.versions.get(model.name, []))} version(s)"
                f"{' · ' + esc(aliases) if aliases else ''}</span></h4>"
            )
            if model.description:
                parts.append(f"<p>{esc(model.description)}</p>")
            header = ["version", "aliases", "stage", "source run", "created", "source"]
            if not static:
                header.append("set alias")
            rows = []
            for version in self.versions.get(model.name, []):
                row_number += 1
                rows.append(self._version_row(model.name, version, row_number, static))
            parts.append(table(header, rows, f"versions of {model.name}"))
        return "".join(parts)

    @staticmethod
    def _version_row(name: str, version: ModelVersion, row: int, static: bool) -> list[str]:
        ident = f'data-model="{esc(name)}" data-version="{version.version}"'
        alias_cells = []
        for alias in sorted(version.aliases):
            remove = (
                ""
                if static
                else f' <button data-action="delete_alias" {ident} data-alias="{esc(alias)}" '
                f'aria-label="remove alias {esc(alias)}">×</button>'
            )
            alias_cells.append(f"<code>@{esc(alias)}</code>{remove}")
        if static:
            stage = esc(version.current_stage)
        else:
            current = version.current_stage
            options = "".join(
                f'<option value="{s}"{" selected" if s == current else ""}>{s}</option>'
                for s in STAGES
            )
            stage = (
                f'<select data-action="transition" {ident} '
                f'aria-label="stage of {esc(name)} v{version.version}">{options}</select>'
            )
        if version.run_id and not static:
            run = (
                f'<button data-action="show_run" data-run="{esc(version.run_id)}">'
                f"{esc(version.run_id[:12])}</button>"
            )
        else:
            run = f"<code>{esc((version.run_id or '')[:12])}</code>"
        cells = [
            f"v{version.version}",
            " ".join(alias_cells),
            stage,
            run,
            esc(timestamp(version.creation_timestamp)),
            f"<code>{esc(version.source or '')}</code>",
        ]
        if not static:
            cells.append(
                f'<input data-field="alias-{row}" placeholder="alias" size="10" '
                f'aria-label="alias for {esc(name)} v{version.version}">'
                f'<button data-action="set_alias" {ident} data-row="{row}" '
                f'data-inputs="alias-{row}">Set</button>'
            )
        return cells


class RegistryPanel(Panel):
    """The registry widget: every action goes through ``Client``, then the registry is re-read."""

    def __init__(self, client: Client, name: str | None = None) -> None:
        self.client, self.name = client, name
        self.data = RegistryData.load(client, name)
        self.run_detail: RunDetail | None = None
        super().__init__()
        self.redraw()

    def update(self) -> None:
        """Re-read the registry and redraw."""
        self.data = RegistryData.load(self.client, self.name)
        self.redraw()

    # Public actions (the buttons call these through dispatch) ------------------

    def set_alias(self, name: str, version: int | str, alias: str) -> None:
        """Point ``alias`` of model ``name`` at ``version``."""
        self.client.set_registered_model_alias(name, alias.strip().lstrip("@"), version)
        self.update()

    def delete_alias(self, name: str, alias: str) -> None:
        """Remove ``alias`` from model ``name``."""
        self.client.delete_registered_model_alias(name, alias)
        self.update()

    def transition(self, name: str, version: int | str, stage: str) -> None:
        """Move a version to ``stage`` (None, Staging, Production, Archived)."""
        self.client.transition_model_version_stage(name, version, stage)
        self.update()

    def _do_set_alias(self, content: dict[str, Any]) -> None:
        alias = str(content.get(f"alias-{content.get('row')}", ""))
        self.set_alias(str(content["model"]), str(content["version"]), alias)

    def _do_delete_alias(self, content: dict[str, Any]) -> None:
        self.delete_alias(str(content["model"]), str(content["alias"]))

    def _do_transition(self, content: dict[str, Any]) -> None:
        stage = str(content.get("value", ModelVersionStage.NONE))
        self.transition(str(content["model"]), str(content["version"]), stage)

    def _do_show_run(self, content: dict[str, Any]) -> None:
        from nbtrack.widgets.run_detail import RunDetail

        self.run_detail = RunDetail.load(self.client, str(content["run"]))
        self.redraw()

    def render(self, static: bool = False) -> str:
        """The registry's markup, with the opened source run under it."""
        below = self.run_detail.render(static) if self.run_detail and not static else ""
        return self.data.render(static) + below


def show_registry(name: str | None = None, client: Client | None = None) -> RegistryPanel:
    """Show registered models → versions with aliases, stages and source runs, with actions.

    Parameters
    ----------
    name:
        One registered model; None lists every model.
    client:
        The client to read and act with (default: the tracking URI in force).

    Raises
    ------
    NotFoundError
        If ``name`` names no registered model.
    """
    return RegistryPanel(resolve_client(client), name)
