"""The SQL schema, as SQLAlchemy ORM classes (``Sql*``) that never leave ``store/sql``.

Table and column names follow MLflow's so that people who know its database
find their way. Metric values carry an ``is_nan`` flag because SQLite stores
NaN as NULL; ±inf are stored as they are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

if TYPE_CHECKING:
    from sqlalchemy import Table

# A rowid alias on SQLite (fast appends), a real BIGINT identity elsewhere.
_BigId = BigInteger().with_variant(Integer(), "sqlite")
_Double = Float(precision=53)

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class SqlBase(DeclarativeBase):
    """Declarative base carrying the naming convention for constraints."""

    metadata = MetaData(naming_convention=NAMING)


class SqlExperiment(SqlBase):
    __tablename__ = "experiments"

    experiment_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(500), nullable=False, unique=True)
    artifact_location: Mapped[str] = mapped_column(String(2000), nullable=False)
    lifecycle_stage: Mapped[str] = mapped_column(String(32), nullable=False, default="active")
    creation_time: Mapped[int | None] = mapped_column(BigInteger)
    last_update_time: Mapped[int | None] = mapped_column(BigInteger)


class SqlExperimentTag(SqlBase):
    __tablename__ = "experiment_tags"
    # Clustered on the primary key: search probes (run_uuid, key) per run.
    __table_args__ = ({"sqlite_with_rowid": False},)

    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)


class SqlRun(SqlBase):
    __tablename__ = "runs"
    __table_args__ = (Index(None, "experiment_id", "lifecycle_stage", "start_time"),)

    run_uuid: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(250), nullable=False)
    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.experiment_id"), nullable=False
    )
    user_id: Mapped[str] = mapped_column(String(256), nullable=False, default="")
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    start_time: Mapped[int | None] = mapped_column(BigInteger)
    end_time: Mapped[int | None] = mapped_column(BigInteger)
    lifecycle_stage: Mapped[str] = mapped_column(String(20), nullable=False, default="active")
    artifact_uri: Mapped[str] = mapped_column(String(2000), nullable=False)
    deleted_time: Mapped[int | None] = mapped_column(BigInteger)


class SqlParam(SqlBase):
    __tablename__ = "params"
    # Clustered on the primary key: search probes (run_uuid, key) per run.
    __table_args__ = ({"sqlite_with_rowid": False},)

    run_uuid: Mapped[str] = mapped_column(
        ForeignKey("runs.run_uuid", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)


class SqlTag(SqlBase):
    __tablename__ = "tags"
    # Clustered on the primary key: search probes (run_uuid, key) per run.
    __table_args__ = ({"sqlite_with_rowid": False},)

    run_uuid: Mapped[str] = mapped_column(
        ForeignKey("runs.run_uuid", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)


class SqlMetric(SqlBase):
    """Every logged point, clustered by (run, key, step, timestamp) for history reads.

    The whole point is the primary key, as in MLflow: logging the very same
    point twice stores it once. NaN is stored as 0.0 with ``is_nan`` set,
    because a key column cannot hold SQLite's NULL-for-NaN.
    """

    __tablename__ = "metrics"
    __table_args__ = ({"sqlite_with_rowid": False},)

    run_uuid: Mapped[str] = mapped_column(
        ForeignKey("runs.run_uuid", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    step: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    timestamp: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    value: Mapped[float] = mapped_column(_Double, primary_key=True)
    is_nan: Mapped[bool] = mapped_column(Boolean, primary_key=True)


class SqlLatestMetric(SqlBase):
    """The point with the highest (step, timestamp) per run and key; search reads this."""

    __tablename__ = "latest_metrics"
    # Clustered on the primary key: search probes (run_uuid, key) per run.
    __table_args__ = ({"sqlite_with_rowid": False},)

    run_uuid: Mapped[str] = mapped_column(
        ForeignKey("runs.run_uuid", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[float | None] = mapped_column(_Double)
    timestamp: Mapped[int] = mapped_column(BigInteger, nullable=False)
    step: Mapped[int] = mapped_column(BigInteger, nullable=False)
    is_nan: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class SqlDataset(SqlBase):
    __tablename__ = "datasets"
    __table_args__ = (UniqueConstraint("experiment_id", "name", "digest"),)

    dataset_uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(500), nullable=False)
    digest: Mapped[str] = mapped_column(String(64), nullable=False)
    source_type: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    source: Mapped[str] = mapped_column(Text, nullable=False, default="")
    schema: Mapped[str | None] = mapped_column(Text)
    profile: Mapped[str | None] = mapped_column(Text)


class SqlRunInput(SqlBase):
    """A dataset used by a run; ``tags`` is JSON (e.g. the ``mlflow.data.context``)."""

    __tablename__ = "run_inputs"

    run_uuid: Mapped[str] = mapped_column(
        ForeignKey("runs.run_uuid", ondelete="CASCADE"), primary_key=True
    )
    dataset_uuid: Mapped[str] = mapped_column(
        ForeignKey("datasets.dataset_uuid", ondelete="CASCADE"), primary_key=True
    )
    tags: Mapped[str] = mapped_column(Text, nullable=False, default="{}")


experiments: Table = cast("Table", SqlExperiment.__table__)
experiment_tags: Table = cast("Table", SqlExperimentTag.__table__)
runs: Table = cast("Table", SqlRun.__table__)
params: Table = cast("Table", SqlParam.__table__)
tags: Table = cast("Table", SqlTag.__table__)
metrics: Table = cast("Table", SqlMetric.__table__)
latest_metrics: Table = cast("Table", SqlLatestMetric.__table__)
datasets: Table = cast("Table", SqlDataset.__table__)
run_inputs: Table = cast("Table", SqlRunInput.__table__)


class SqlCellExecution(SqlBase):
    """One cell execution of a kernel session: the log that run lineage points into."""

    __tablename__ = "cell_executions"
    __table_args__ = (Index(None, "session_id", "id"),)

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(64), nullable=False)
    cell_id: Mapped[str | None] = mapped_column(String(128))
    execution_count: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text, nullable=False)
    start_time: Mapped[int] = mapped_column(BigInteger, nullable=False)
    duration_ms: Mapped[float | None] = mapped_column(_Double)
    ok: Mapped[bool | None] = mapped_column(Boolean)


cell_executions: Table = cast("Table", SqlCellExecution.__table__)


class SqlRegisteredModel(SqlBase):
    """A named model of the registry; its versions, tags and aliases hang off ``name``."""

    __tablename__ = "registered_models"

    name: Mapped[str] = mapped_column(String(256), primary_key=True)
    creation_time: Mapped[int | None] = mapped_column(BigInteger)
    last_updated_time: Mapped[int | None] = mapped_column(BigInteger)
    description: Mapped[str | None] = mapped_column(String(5000))


class SqlRegisteredModelTag(SqlBase):
    __tablename__ = "registered_model_tags"

    name: Mapped[str] = mapped_column(
        ForeignKey("registered_models.name", onupdate="CASCADE", ondelete="CASCADE"),
        primary_key=True,
    )
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str | None] = mapped_column(String(5000))


class SqlModelVersion(SqlBase):
    """One immutable version of a registered model, numbered from 1 per model.

    Deleted versions stay as rows with the stage ``Deleted_Internal`` (as in
    MLflow) so that their numbers are never handed out again.
    """

    __tablename__ = "model_versions"

    name: Mapped[str] = mapped_column(
        ForeignKey("registered_models.name", onupdate="CASCADE", ondelete="CASCADE"),
        primary_key=True,
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    creation_time: Mapped[int | None] = mapped_column(BigInteger)
    last_updated_time: Mapped[int | None] = mapped_column(BigInteger)
    description: Mapped[str | None] = mapped_column(String(5000))
    user_id: Mapped[str | None] = mapped_column(String(256))
    current_stage: Mapped[str] = mapped_column(String(20), nullable=False, default="None")
    source: Mapped[str | None] = mapped_column(String(500))
    run_id: Mapped[str | None] = mapped_column(String(32))
    run_link: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="READY")
    status_message: Mapped[str | None] = mapped_column(String(500))
    storage_location: Mapped[str | None] = mapped_column(String(500))


class SqlModelVersionTag(SqlBase):
    __tablename__ = "model_version_tags"
    __table_args__ = (
        ForeignKeyConstraint(
            ["name", "version"],
            ["model_versions.name", "model_versions.version"],
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
    )

    name: Mapped[str] = mapped_column(String(256), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str | None] = mapped_column(String(5000))


class SqlRegisteredModelAlias(SqlBase):
    """``alias`` of model ``name`` points at ``version`` (one version per alias)."""

    __tablename__ = "registered_model_aliases"

    name: Mapped[str] = mapped_column(
        ForeignKey("registered_models.name", onupdate="CASCADE", ondelete="CASCADE"),
        primary_key=True,
    )
    alias: Mapped[str] = mapped_column(String(256), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)


registered_models: Table = cast("Table", SqlRegisteredModel.__table__)
registered_model_tags: Table = cast("Table", SqlRegisteredModelTag.__table__)
model_versions: Table = cast("Table", SqlModelVersion.__table__)
model_version_tags: Table = cast("Table", SqlModelVersionTag.__table__)
registered_model_aliases: Table = cast("Table", SqlRegisteredModelAlias.__table__)


class SqlRequestReceipt(SqlBase):
    """A write request the store has applied, by the id its client gave it.

    Written in the same transaction as the request's data, so a client that
    retries a request whose answer it never saw cannot store it twice.
    """

    __tablename__ = "request_receipts"

    request_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_time: Mapped[int] = mapped_column(BigInteger, nullable=False)


class SqlUser(SqlBase):
    """A user of ``nbtrack server --auth``; the password is kept only as a hash."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(256), nullable=False, unique=True)
    password_hash: Mapped[str] = mapped_column(String(512), nullable=False)
    is_admin: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    creation_time: Mapped[int | None] = mapped_column(BigInteger)


class SqlAccessToken(SqlBase):
    """A bearer token of a user, kept as a hash (the token itself is shown once)."""

    __tablename__ = "access_tokens"

    token_hash: Mapped[str] = mapped_column(String(128), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str | None] = mapped_column(String(256))
    creation_time: Mapped[int | None] = mapped_column(BigInteger)
    expiry_time: Mapped[int | None] = mapped_column(BigInteger)


class SqlExperimentPermission(SqlBase):
    """READ, EDIT or MANAGE of one user on one experiment."""

    __tablename__ = "experiment_permissions"

    experiment_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    permission: Mapped[str] = mapped_column(String(32), nullable=False)


class SqlRegisteredModelPermission(SqlBase):
    """READ, EDIT or MANAGE of one user on one registered model (or prompt)."""

    __tablename__ = "registered_model_permissions"

    name: Mapped[str] = mapped_column(String(256), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    permission: Mapped[str] = mapped_column(String(32), nullable=False)


request_receipts: Table = cast("Table", SqlRequestReceipt.__table__)
users: Table = cast("Table", SqlUser.__table__)
access_tokens: Table = cast("Table", SqlAccessToken.__table__)
experiment_permissions: Table = cast("Table", SqlExperimentPermission.__table__)
registered_model_permissions: Table = cast("Table", SqlRegisteredModelPermission.__table__)


class SqlLoggedModel(SqlBase):
    """An MLflow 3 logged model: ``log_model`` creates it PENDING, then finalizes it.

    A deleted model keeps its row (``lifecycle_stage`` ``deleted``) so that
    ``get`` with ``allow_deleted`` still finds it, as in MLflow.
    """

    __tablename__ = "logged_models"
    # Searches are per experiment, newest first by default.
    __table_args__ = (Index(None, "experiment_id", "creation_timestamp_ms"),)

    model_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(500), nullable=False)
    artifact_location: Mapped[str] = mapped_column(String(2000), nullable=False)
    creation_timestamp_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)
    last_updated_timestamp_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)
    status: Mapped[str] = mapped_column(String(64), nullable=False)
    status_message: Mapped[str | None] = mapped_column(String(1000))
    model_type: Mapped[str | None] = mapped_column(String(500))
    source_run_id: Mapped[str | None] = mapped_column(String(32))
    lifecycle_stage: Mapped[str] = mapped_column(String(32), nullable=False, default="active")


class SqlLoggedModelParam(SqlBase):
    """One param of a logged model."""

    __tablename__ = "logged_model_params"

    model_id: Mapped[str] = mapped_column(
        ForeignKey("logged_models.model_id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)


class SqlLoggedModelTag(SqlBase):
    """One tag of a logged model."""

    __tablename__ = "logged_model_tags"

    model_id: Mapped[str] = mapped_column(
        ForeignKey("logged_models.model_id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)


logged_models: Table = cast("Table", SqlLoggedModel.__table__)
logged_model_params: Table = cast("Table", SqlLoggedModelParam.__table__)
logged_model_tags: Table = cast("Table", SqlLoggedModelTag.__table__)
