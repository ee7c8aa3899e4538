"""The server a sync writes to: an nbtrack server, or a plain MLflow server.

Both speak MLflow's REST API, so writes go through nbtrack's REST store. An
nbtrack server also offers ``/api/2.0/nbtrack/…``: runs are created there
under the local run's id, so every link (parent runs, model versions' source
runs, lineage) holds as it is. A plain MLflow server lacks those routes and
chooses run ids itself: a run is created through MLflow's ``runs/create``
with the tag :data:`SOURCE_RUN_TAG` naming the local id, which lets an
interrupted sync find the run it already created instead of making a second.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from nbtrack.entities import ModelVersion, Run, RunTag
from nbtrack.errors import NotFoundError, StoreError

if TYPE_CHECKING:
    from nbtrack.store.rest import RestStore

__all__ = ["MLFLOW", "NBTRACK", "SOURCE_RUN_TAG", "SOURCE_VERSION_TAG", "Target", "open_target"]

NBTRACK = "nbtrack"
MLFLOW = "mlflow"
#: Tag of a run synced to an MLflow server: the id the run has in the local store.
SOURCE_RUN_TAG = "nbtrack.sync.source_run_id"
#: Tag of a synced model version: its number in the local store (the target numbers anew).
SOURCE_VERSION_TAG = "nbtrack.sync.source_version"
_ML = "/api/2.0/mlflow"


class Target:
    """A tracking server seen by the sync: its URI, its kind, and its REST store."""

    def __init__(self, uri: str, store: RestStore, kind: str) -> None:
        self.uri = uri
        self.store = store
        self.kind = kind

    @property
    def keeps_run_ids(self) -> bool:
        """True when runs are created there under the local ids (an nbtrack server)."""
        return self.kind == NBTRACK

    def get_run_or_none(self, run_id: str) -> Run | None:
        """Return the target's run ``run_id``, or None when it has none."""
        try:
            return self.store.get_run(run_id)
        except NotFoundError:
            return None

    def create_run(self, run: Run, experiment_id: str, tags: Sequence[RunTag]) -> Run:
        """Create the target's copy of ``run`` (RUNNING, with ``tags``) and return it."""
        info = run.info
        name = info.run_name or run.data.tags.get("mlflow.runName", "")
        start = info.start_time if info.start_time is not None else 0
        if self.keeps_run_ids:
            return self.store.create_run(
                experiment_id, info.user_id, start, tags, name, info.run_id
            )
        from nbtrack.store import rest_json

        body = {
            "experiment_id": str(experiment_id),
            "user_id": info.user_id,
            "start_time": start,
            "run_name": name,
            "tags": [{"key": t.key, "value": t.value} for t in tags],
        }
        return rest_json.run(self.store.http.call("POST", f"{_ML}/runs/create", body)["run"])

    def runs_synced_before(self, experiment_id: str) -> dict[str, Run]:
        """Return ``{local run id: run}`` of the runs an earlier sync created on an MLflow
        server in one experiment (found by :data:`SOURCE_RUN_TAG`)."""
        found: dict[str, Run] = {}
        token: str | None = None
        while True:
            runs, token = self.store.search_runs(
                [experiment_id],
                f"tags.`{SOURCE_RUN_TAG}` LIKE '%'",
                run_view_type="ALL",
                max_results=1000,
                page_token=token,
            )
            found.update({r.data.tags[SOURCE_RUN_TAG]: r for r in runs})
            if not token:
                return found

    def model_versions(self, name: str) -> list[ModelVersion]:
        """Return every version of the target's registered model ``name``."""
        if self.kind == NBTRACK:
            versions: list[ModelVersion] = []
            token: str | None = None
            while True:
                page, token = self.store.search_model_versions(
                    f"name = '{_quoted(name)}'", page_token=token, prompts=None
                )
                versions += page
                if not token:
                    return versions
        from nbtrack.store import rest_json

        found: list[ModelVersion] = []
        params: dict[str, Any] = {"filter": f"name = '{_quoted(name)}'", "max_results": 10000}
        while True:
            out = self.store.http.call("GET", f"{_ML}/model-versions/search", params=params)
            found += [rest_json.model_version(v) for v in out.get("model_versions", ())]
            if not out.get("next_page_token"):
                return found
            params["page_token"] = out["next_page_token"]


def _quoted(text: str) -> str:
    return text.replace("'", "\\'")


def open_target(uri: str) -> Target:
    """Open the server at ``uri`` and find out which kind it is (one request).

    Raises
    ------
    InvalidInput
        ``uri`` is not an ``http(s)://`` URI.
    ServerUnreachable
        Nothing answers there.
    """
    from nbtrack.errors import InvalidInput
    from nbtrack.store.rest import RestStore

    if not uri.startswith(("http://", "https://")):
        raise InvalidInput(f"sync --to needs a server's http(s):// URI, not {uri!r}")
    store = RestStore(uri)
    try:
        store.count_runs()
        kind = NBTRACK
    except StoreError as exc:
        # A plain MLflow server answers 404 to nbtrack's own routes.
        if "does not offer" not in exc.message:
            raise
        kind = MLFLOW
    return Target(store.location, store, kind)
