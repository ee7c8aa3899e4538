"""The logged-model half of ``SqlStore``: MLflow 3's logged models, their params and tags.

Kept apart from ``store.py`` so that neither module grows past a readable
size; ``SqlStore`` inherits these methods. Each call is one transaction
(``BEGIN IMMEDIATE`` on SQLite for writes). A deleted model keeps its row,
marked ``deleted``, so ``allow_deleted`` reads still find it, as in MLflow.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, exists, insert, not_, or_, select, update

from nbtrack.entities import LifecycleStage, LoggedModel
from nbtrack.errors import InvalidInput, NotFoundError
from nbtrack.store.paging import decode_page_token, split_page
from nbtrack.store.sql import schema as s

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement, Connection, Row, Table

__all__ = ["LOGGED_MODEL_STATUSES", "LoggedModelStoreMixin"]

LOGGED_MODEL_STATUSES = (
    "LOGGED_MODEL_STATUS_UNSPECIFIED",
    "LOGGED_MODEL_PENDING",
    "LOGGED_MODEL_READY",
    "LOGGED_MODEL_UPLOAD_FAILED",
)
_lm, _params, _tags = s.logged_models, s.logged_model_params, s.logged_model_tags
# Names a search may order by, including MLflow's short spelling of the creation time.
_ORDER_COLUMNS = {
    "creation_time": _lm.c.creation_timestamp_ms,
    "creation_timestamp": _lm.c.creation_timestamp_ms,
    "creation_timestamp_ms": _lm.c.creation_timestamp_ms,
    "last_updated_timestamp": _lm.c.last_updated_timestamp_ms,
    "last_updated_timestamp_ms": _lm.c.last_updated_timestamp_ms,
    "name": _lm.c.name,
    "model_id": _lm.c.model_id,
    "status": _lm.c.status,
    "model_type": _lm.c.model_type,
    "source_run_id": _lm.c.source_run_id,
}
_FILTER_COLUMNS = ("name", "model_id", "source_run_id", "model_type", "status")


def _now_ms() -> int:
    return int(time.time() * 1000)


def _not_found(model_id: str) -> NotFoundError:
    return NotFoundError(f"Logged model with ID '{model_id}' not found")


def _entity(row: Row[Any], tags: dict[str, str], params: dict[str, str]) -> LoggedModel:
    return LoggedModel(
        model_id=row.model_id,
        experiment_id=str(row.experiment_id),
        name=row.name,
        artifact_location=row.artifact_location,
        creation_timestamp=row.creation_timestamp_ms,
        last_updated_timestamp=row.last_updated_timestamp_ms,
        status=row.status,
        status_message=row.status_message,
        model_type=row.model_type,
        source_run_id=row.source_run_id,
        lifecycle_stage=row.lifecycle_stage,
        tags=tags,
        params=params,
    )


def _labels(conn: Connection, table: Table, ids: Sequence[str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {i: {} for i in ids}
    query = select(table.c.model_id, table.c.key, table.c.value).where(table.c.model_id.in_(ids))
    for model_id, key, value in conn.execute(query):
        out[model_id][key] = value
    return out


def _load(conn: Connection, rows: Sequence[Row[Any]]) -> list[LoggedModel]:
    ids = [row.model_id for row in rows]
    tags, params = _labels(conn, _tags, ids), _labels(conn, _params, ids)
    return [_entity(row, tags[row.model_id], params[row.model_id]) for row in rows]


def _row(conn: Connection, model_id: str, allow_deleted: bool = False) -> Row[Any]:
    row = conn.execute(select(_lm).where(_lm.c.model_id == model_id)).first()
    if row is None or (row.lifecycle_stage == LifecycleStage.DELETED and not allow_deleted):
        raise _not_found(model_id)
    return row


def _put(conn: Connection, table: Table, model_id: str, values: Mapping[str, Any]) -> None:
    """Set keys of a model's params or tags, replacing values already there."""
    if not values:
        return
    conn.execute(delete(table).where(table.c.model_id == model_id, table.c.key.in_(list(values))))
    rows = [{"model_id": model_id, "key": str(k), "value": str(v)} for k, v in values.items()]
    conn.execute(insert(table), rows)


def _term(field: str, op: str, value: str) -> ColumnElement[bool]:
    if field.startswith(("tags.", "params.")):
        table = _tags if field.startswith("tags.") else _params
        key = field.split(".", 1)[1]
        has = exists().where(
            table.c.model_id == _lm.c.model_id, table.c.key == key, table.c.value == value
        )
        return has if op == "=" else not_(has)
    if field not in _FILTER_COLUMNS or op not in ("=", "!="):
        raise InvalidInput(f"Logged models cannot be filtered on {field!r} with {op!r}")
    column = _lm.c[field]
    # A model without the attribute differs from every value, as a missing tag does.
    return column == value if op == "=" else or_(column.is_(None), column != value)


class LoggedModelStoreMixin:
    """Logged-model methods of :class:`~nbtrack.store.sql.store.SqlStore`."""

    if TYPE_CHECKING:

        def _write(self) -> contextlib.AbstractContextManager[Connection]: ...

        def _read(self) -> contextlib.AbstractContextManager[Connection]: ...

    def create_logged_model(
        self,
        experiment_id: str,
        name: str,
        model_type: str | None = None,
        source_run_id: str | None = None,
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> LoggedModel:
        """Create a PENDING logged model ``m-<hex>`` under ``<experiment artifacts>/models/``."""
        model_id = f"m-{uuid.uuid4().hex}"
        now = _now_ms()
        with self._write() as conn:
            exp = None
            if str(experiment_id).isdigit():
                exp = conn.execute(
                    select(s.experiments.c.artifact_location).where(
                        s.experiments.c.experiment_id == int(experiment_id)
                    )
                ).first()
            if exp is None:
                raise NotFoundError(f"No experiment with id {experiment_id!r}")
            location = f"{exp.artifact_location.rstrip('/')}/models/{model_id}/artifacts"
            conn.execute(
                insert(_lm).values(
                    model_id=model_id,
                    experiment_id=int(experiment_id),
                    name=name,
                    artifact_location=location,
                    creation_timestamp_ms=now,
                    last_updated_timestamp_ms=now,
                    status="LOGGED_MODEL_PENDING",
                    model_type=model_type or None,
                    source_run_id=source_run_id or None,
                    lifecycle_stage=LifecycleStage.ACTIVE,
                )
            )
            _put(conn, _params, model_id, params or {})
            _put(conn, _tags, model_id, tags or {})
            return _load(conn, [_row(conn, model_id)])[0]

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        """Return a logged model; NotFoundError if there is none (or it is deleted)."""
        with self._read() as conn:
            return _load(conn, [_row(conn, model_id, allow_deleted)])[0]

    def update_logged_model(
        self,
        model_id: str,
        status: str | None = None,
        status_message: str | None = None,
        source_run_id: str | None = None,
    ) -> LoggedModel:
        """Set a logged model's status (finalize) and/or the run that produced it."""
        if status is not None and status not in LOGGED_MODEL_STATUSES:
            raise InvalidInput(f"Invalid logged model status {status!r}")
        changes: dict[str, Any] = {"last_updated_timestamp_ms": _now_ms()}
        if status is not None:
            changes["status"] = status
        if status_message is not None:
            changes["status_message"] = status_message
        if source_run_id is not None:
            changes["source_run_id"] = source_run_id
        with self._write() as conn:
            _row(conn, model_id)
            conn.execute(update(_lm).where(_lm.c.model_id == model_id).values(**changes))
            return _load(conn, [_row(conn, model_id)])[0]

    def _touch_with(self, model_id: str, table: Table, values: Mapping[str, Any]) -> None:
        with self._write() as conn:
            _row(conn, model_id)
            _put(conn, table, model_id, values)
            conn.execute(
                update(_lm)
                .where(_lm.c.model_id == model_id)
                .values(last_updated_timestamp_ms=_now_ms())
            )

    def set_logged_model_tags(self, model_id: str, tags: Mapping[str, Any]) -> None:
        """Set tags of a logged model, replacing values of keys it already has."""
        self._touch_with(model_id, _tags, tags)

    def log_logged_model_params(self, model_id: str, params: Mapping[str, Any]) -> None:
        """Add params to a logged model."""
        self._touch_with(model_id, _params, params)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """Remove one tag of a logged model (nothing happens if it has no such tag)."""
        with self._write() as conn:
            _row(conn, model_id)
            conn.execute(delete(_tags).where(_tags.c.model_id == model_id, _tags.c.key == key))
            conn.execute(
                update(_lm)
                .where(_lm.c.model_id == model_id)
                .values(last_updated_timestamp_ms=_now_ms())
            )

    def delete_logged_model(self, model_id: str) -> None:
        """Mark a logged model deleted; its row stays for ``allow_deleted`` reads."""
        with self._write() as conn:
            _row(conn, model_id)
            conn.execute(
                update(_lm)
                .where(_lm.c.model_id == model_id)
                .values(lifecycle_stage=LifecycleStage.DELETED, last_updated_timestamp_ms=_now_ms())
            )

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_terms: Sequence[tuple[str, str, str]] = (),
        order_by: Sequence[tuple[str, bool]] = (),
        max_results: int = 100,
        page_token: str | None = None,
    ) -> tuple[list[LoggedModel], str | None]:
        """Return one page of live logged models of some experiments, and the next token.

        ``filter_terms`` are ``(field, "=" | "!=", value)`` joined by AND, where field is
        an attribute (name, model_id, source_run_id, model_type, status), ``tags.<key>``
        or ``params.<key>``. ``order_by`` is ``(field, ascending)``; unknown fields are
        ignored; by default the newest model comes first.
        """
        offset = decode_page_token(page_token)
        ids = [int(e) for e in experiment_ids if str(e).isdigit()]
        conditions = [_term(*term) for term in filter_terms]
        keys = [
            _ORDER_COLUMNS[f].asc() if asc else _ORDER_COLUMNS[f].desc()
            for f, asc in order_by
            if f in _ORDER_COLUMNS
        ] or [_lm.c.creation_timestamp_ms.desc()]
        query = (
            select(_lm)
            .where(
                _lm.c.experiment_id.in_(ids),
                _lm.c.lifecycle_stage == LifecycleStage.ACTIVE,
                and_(True, *conditions),
            )
            .order_by(*keys, _lm.c.model_id)
            .offset(offset)
            .limit(max_results + 1)
        )
        with self._read() as conn:
            rows = list(conn.execute(query))
            return split_page(_load(conn, rows), offset, max_results)
