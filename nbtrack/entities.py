"""The records nbtrack keeps, as plain dataclasses with MLflow's field names.

No I/O here: stores build these, front ends read them. Keeping MLflow's names
means code written for ``mlflow.entities`` reads nbtrack's objects unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

__all__ = [
    "IS_PROMPT_TAG",
    "PROMPT_TEXT_TAG",
    "PROMPT_TYPE_TAG",
    "CellExecution",
    "Dataset",
    "DatasetInput",
    "Experiment",
    "ExperimentTag",
    "FileInfo",
    "InputTag",
    "LifecycleStage",
    "LoggedModel",
    "Metric",
    "ModelVersion",
    "ModelVersionStage",
    "Param",
    "RegisteredModel",
    "Run",
    "RunData",
    "RunInfo",
    "RunInputs",
    "RunStatus",
    "RunTag",
    "SourceType",
    "ViewType",
]


class RunStatus:
    """Run statuses, as MLflow names them."""

    RUNNING = "RUNNING"
    SCHEDULED = "SCHEDULED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"

    ALL = (RUNNING, SCHEDULED, FINISHED, FAILED, KILLED)
    #: MLflow's protobuf numbers for each status.
    ALL_NUMBERED: ClassVar[dict[int, str]] = {
        1: RUNNING,
        2: SCHEDULED,
        3: FINISHED,
        4: FAILED,
        5: KILLED,
    }
    TERMINATED = (FINISHED, FAILED, KILLED)

    @classmethod
    def is_terminated(cls, status: str) -> bool:
        """Return True for FINISHED, FAILED and KILLED."""
        return status in cls.TERMINATED

    # MLflow's statuses are ints with these converters; ours are already their names,
    # so code that converts either way gets the name.
    @classmethod
    def to_string(cls, status: str | int) -> str:
        """Return the status name (MLflow's numbers 1-5 are accepted too)."""
        return _by_number(status, cls.ALL_NUMBERED, "run status")

    @classmethod
    def from_string(cls, status: str) -> str:
        """Return the canonical status name for ``status``."""
        return _by_number(status, cls.ALL_NUMBERED, "run status")

    @classmethod
    def all_status(cls) -> list[str]:
        """Every status name."""
        return list(cls.ALL)


class LifecycleStage:
    """Whether an experiment or run is visible (``active``) or in the bin (``deleted``)."""

    ACTIVE = "active"
    DELETED = "deleted"


class ViewType:
    """Which lifecycle stages a search returns."""

    ACTIVE_ONLY = "ACTIVE_ONLY"
    DELETED_ONLY = "DELETED_ONLY"
    ALL = "ALL"

    @classmethod
    def stages(cls, view_type: str | int) -> tuple[str, ...]:
        """Return the lifecycle stages a view type selects; MLflow's ints 1/2/3 work too."""
        numbers: dict[str | int, str | int] = {1: cls.ACTIVE_ONLY, 2: cls.DELETED_ONLY, 3: cls.ALL}
        name = numbers.get(view_type, view_type)
        if name == cls.ACTIVE_ONLY:
            return (LifecycleStage.ACTIVE,)
        if name == cls.DELETED_ONLY:
            return (LifecycleStage.DELETED,)
        if name == cls.ALL:
            return (LifecycleStage.ACTIVE, LifecycleStage.DELETED)
        from nbtrack.errors import InvalidInput

        raise InvalidInput(
            f"Unknown run_view_type {view_type!r}; use ACTIVE_ONLY, DELETED_ONLY or ALL"
        )

    @classmethod
    def from_string(cls, view_str: str) -> str:
        """Return the view type named ``view_str`` (any case), as MLflow's converter."""
        return _by_number(view_str, {1: cls.ACTIVE_ONLY, 2: cls.DELETED_ONLY, 3: cls.ALL}, "view")

    @classmethod
    def to_string(cls, view_type: str | int) -> str:
        """Return the name of a view type (MLflow's numbers 1-3 are accepted too)."""
        return _by_number(view_type, {1: cls.ACTIVE_ONLY, 2: cls.DELETED_ONLY, 3: cls.ALL}, "view")


def _by_number(value: str | int, numbered: dict[int, str], what: str) -> str:
    if isinstance(value, int) and value in numbered:
        return numbered[value]
    if isinstance(value, str) and value.upper() in numbered.values():
        return value.upper()
    from nbtrack.errors import InvalidInput

    raise InvalidInput(f"Unknown {what} {value!r}; use one of {', '.join(numbered.values())}")


class SourceType:
    """Where a run's code came from (MLflow's ``mlflow.source.type`` values)."""

    NOTEBOOK = "NOTEBOOK"
    JOB = "JOB"
    PROJECT = "PROJECT"
    LOCAL = "LOCAL"
    UNKNOWN = "UNKNOWN"
    RECIPE = "RECIPE"

    ALL = (NOTEBOOK, JOB, PROJECT, LOCAL, UNKNOWN, RECIPE)
    #: MLflow's protobuf numbers.
    ALL_NUMBERED: ClassVar[dict[int, str]] = {
        1: NOTEBOOK,
        2: JOB,
        3: PROJECT,
        4: LOCAL,
        5: RECIPE,
        1000: UNKNOWN,
    }

    @classmethod
    def to_string(cls, source_type: str | int) -> str:
        """Return the name of a source type (MLflow's numbers are accepted too)."""
        return _by_number(source_type, cls.ALL_NUMBERED, "source type")

    @classmethod
    def from_string(cls, source_type: str) -> str:
        """Return the canonical name of a source type."""
        return _by_number(source_type, cls.ALL_NUMBERED, "source type")


@dataclass(slots=True)
class Metric:
    """One point of a metric's history."""

    key: str
    value: float
    timestamp: int
    step: int = 0


@dataclass(slots=True)
class Param:
    """A run parameter; values are stored as text."""

    key: str
    value: str


@dataclass(slots=True)
class RunTag:
    """A run tag."""

    key: str
    value: str


@dataclass(slots=True)
class ExperimentTag:
    """An experiment tag."""

    key: str
    value: str


@dataclass(slots=True)
class InputTag:
    """A tag of a dataset input, such as ``mlflow.data.context``."""

    key: str
    value: str


@dataclass(slots=True)
class RunInfo:
    """A run's metadata."""

    run_id: str
    run_name: str
    experiment_id: str
    status: str
    start_time: int | None
    end_time: int | None
    artifact_uri: str
    lifecycle_stage: str
    user_id: str = ""

    @property
    def run_uuid(self) -> str:
        """MLflow's older name for ``run_id``."""
        return self.run_id


@dataclass(slots=True)
class RunData:
    """A run's params, latest metric values and tags, as dicts.

    ``metric_times`` holds the ``(timestamp, step)`` of each latest value, where
    the store knows them (MLflow's REST ``Run`` message carries both); it takes
    no part in comparisons, so runs read from stores that lack it still compare equal.
    """

    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metric_times: dict[str, tuple[int, int]] = field(
        default_factory=dict, compare=False, repr=False
    )


@dataclass(slots=True)
class Dataset:
    """A dataset a run used: what it is and where it came from."""

    name: str
    digest: str
    source_type: str = ""
    source: str = ""
    schema: str | None = None
    profile: str | None = None


@dataclass(slots=True)
class DatasetInput:
    """A dataset linked to a run, with tags such as ``mlflow.data.context``."""

    dataset: Dataset
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class RunInputs:
    """Everything a run took as input."""

    dataset_inputs: list[DatasetInput] = field(default_factory=list)


@dataclass(slots=True)
class Run:
    """A run: ``info``, ``data`` and ``inputs``, as MLflow's ``Run``."""

    info: RunInfo
    data: RunData
    inputs: RunInputs = field(default_factory=RunInputs)


@dataclass(slots=True)
class Experiment:
    """An experiment: a named group of runs."""

    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str = LifecycleStage.ACTIVE
    tags: dict[str, str] = field(default_factory=dict)
    creation_time: int | None = None
    last_update_time: int | None = None


@dataclass(slots=True)
class FileInfo:
    """An entry of a run's artifact listing; ``file_size`` is None for folders."""

    path: str
    is_dir: bool
    file_size: int | None = None


@dataclass(slots=True)
class CellExecution:
    """One cell execution of a kernel session, as the kernel hook logged it (run lineage)."""

    session_id: str
    cell_id: str | None
    execution_count: int | None
    source: str
    start_time: int
    duration_ms: float | None = None
    ok: bool | None = None


#: Tag marking a registered model as a prompt. MLflow's keys, so that prompts
#: copied between MLflow and nbtrack stores stay prompts.
IS_PROMPT_TAG = "mlflow.prompt.is_prompt"
#: Tag of a prompt version holding its template (text, or chat messages as JSON).
PROMPT_TEXT_TAG = "mlflow.prompt.text"
#: Tag of a prompt version: ``text`` or ``chat``.
PROMPT_TYPE_TAG = "_mlflow_prompt_type"


class ModelVersionStage:
    """MLflow's legacy model version stages; input is matched case-insensitively."""

    NONE = "None"
    STAGING = "Staging"
    PRODUCTION = "Production"
    ARCHIVED = "Archived"

    ALL = (NONE, STAGING, PRODUCTION, ARCHIVED)

    @classmethod
    def canonical(cls, stage: str) -> str | None:
        """Return the stage's canonical spelling, or None for an unknown stage."""
        if not isinstance(stage, str):
            return None
        return {s.lower(): s for s in cls.ALL}.get(stage.strip().lower())


@dataclass(slots=True)
class ModelVersion:
    """One immutable version of a registered model, as MLflow's ``ModelVersion``.

    Only ``description``, ``current_stage``, ``tags`` and ``aliases`` change
    after registration.
    """

    name: str
    version: int
    creation_timestamp: int | None = None
    last_updated_timestamp: int | None = None
    description: str | None = None
    user_id: str | None = None
    current_stage: str = ModelVersionStage.NONE
    source: str | None = None
    run_id: str | None = None
    status: str = "READY"
    tags: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)
    run_link: str | None = None


@dataclass(slots=True)
class RegisteredModel:
    """A named model of the registry, as MLflow's ``RegisteredModel``.

    ``latest_versions`` holds the newest version of each stage; ``aliases``
    maps each alias to the version it points at.
    """

    name: str
    creation_timestamp: int | None = None
    last_updated_timestamp: int | None = None
    description: str | None = None
    latest_versions: list[ModelVersion] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class LoggedModel:
    """An MLflow 3 logged model (``m-<hex>``), as MLflow's ``LoggedModel``.

    ``log_model`` creates it ``LOGGED_MODEL_PENDING``, uploads the model under
    ``artifact_location`` and finalizes it ``LOGGED_MODEL_READY`` (or
    ``LOGGED_MODEL_UPLOAD_FAILED``). Timestamps are in milliseconds.
    """

    model_id: str
    experiment_id: str
    name: str
    artifact_location: str
    creation_timestamp: int
    last_updated_timestamp: int
    status: str = "LOGGED_MODEL_PENDING"
    status_message: str | None = None
    model_type: str | None = None
    source_run_id: str | None = None
    lifecycle_stage: str = "active"
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
