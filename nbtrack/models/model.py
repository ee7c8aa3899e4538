"""The ``MLmodel`` file: the one document that says what a model folder holds and how to load it.

The keys are MLflow's, so a folder written here is read by
``mlflow.pyfunc.load_model`` and one written by MLflow is read here. Where
MLflow writes ``mlflow_version`` we write ``nbtrack_version`` and our own
``format_version`` (bumped when nbtrack changes what it writes); unknown keys
are kept on read so a round trip loses nothing.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbtrack.errors import InvalidInput, NotFoundError
from nbtrack.models.signature import ModelSignature

__all__ = ["FORMAT_VERSION", "MLMODEL_FILE", "Model", "ModelInfo"]

MLMODEL_FILE = "MLmodel"
#: Version of the model folder layout nbtrack writes.
FORMAT_VERSION = 1
# Keys that have attributes of their own; anything else goes to ``extra``.
_KNOWN = (
    "artifact_path",
    "flavors",
    "model_uuid",
    "run_id",
    "saved_input_example_info",
    "signature",
    "utc_time_created",
)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


@dataclass
class Model:
    """The content of an ``MLmodel`` file.

    Attributes
    ----------
    flavors:
        ``{flavor name: its configuration}``; ``python_function`` says how any
        tool loads the model generically.
    signature:
        Input and output schemas, or None.
    saved_input_example_info:
        Where the input example is stored and in which layout, or None.
    model_uuid, run_id, artifact_path, utc_time_created:
        Identity and provenance, as MLflow names them.
    extra:
        Every other key found on read (``mlflow_version``, ``model_size_bytes``…).
    """

    flavors: dict[str, dict[str, Any]] = field(default_factory=dict)
    signature: ModelSignature | None = None
    saved_input_example_info: dict[str, Any] | None = None
    model_uuid: str = field(default_factory=lambda: uuid.uuid4().hex)
    run_id: str | None = None
    artifact_path: str | None = None
    utc_time_created: str = field(default_factory=_now)
    extra: dict[str, Any] = field(default_factory=dict)

    def get_input_schema(self) -> Any:
        """The signature's input schema, or None."""
        return self.signature.inputs if self.signature is not None else None

    def get_output_schema(self) -> Any:
        """The signature's output schema, or None."""
        return self.signature.outputs if self.signature is not None else None

    def to_yaml(self) -> str:
        """Return the ``MLmodel`` document as YAML text."""
        import yaml

        return str(yaml.safe_dump(self.to_dict(), default_flow_style=False))

    @property
    def pyfunc_conf(self) -> dict[str, Any]:
        """The ``python_function`` flavor block (empty if the model has none)."""
        return self.flavors.get("python_function", {})

    def to_dict(self) -> dict[str, Any]:
        """Return the YAML document as a dict, keys sorted like MLflow's."""
        from nbtrack import __version__

        out: dict[str, Any] = dict(self.extra)
        out.update(
            {
                "artifact_path": self.artifact_path,
                "flavors": self.flavors,
                "model_uuid": self.model_uuid,
                "utc_time_created": self.utc_time_created,
            }
        )
        out.setdefault("nbtrack_version", __version__)
        out.setdefault("format_version", FORMAT_VERSION)
        if self.run_id is not None:
            out["run_id"] = self.run_id
        if self.signature is not None:
            out["signature"] = self.signature.to_dict()
        if self.saved_input_example_info is not None:
            out["saved_input_example_info"] = self.saved_input_example_info
        return dict(sorted(out.items()))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write ``MLmodel`` into the folder ``path``."""
        import yaml

        target = Path(path) / MLMODEL_FILE
        target.write_text(yaml.safe_dump(self.to_dict(), default_flow_style=False))

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Model:
        """Build a :class:`Model` from a parsed ``MLmodel`` document."""
        flavors = doc.get("flavors")
        if not isinstance(flavors, dict) or not flavors:
            raise InvalidInput("MLmodel has no 'flavors' block; it does not describe a model")
        signature = doc.get("signature")
        return cls(
            flavors=flavors,
            signature=ModelSignature.from_dict(signature) if signature else None,
            saved_input_example_info=doc.get("saved_input_example_info"),
            model_uuid=str(doc.get("model_uuid") or uuid.uuid4().hex),
            run_id=doc.get("run_id"),
            artifact_path=doc.get("artifact_path"),
            utc_time_created=str(doc.get("utc_time_created") or ""),
            extra={k: v for k, v in doc.items() if k not in _KNOWN},
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Model:
        """Read ``MLmodel`` from a model folder, the file itself, or a ``runs:/``/``models:/`` URI.

        Raises
        ------
        NotFoundError
            There is no ``MLmodel`` file.
        InvalidInput
            The file is not a YAML model description.
        """
        import yaml

        text = os.fspath(path)
        if text.startswith(("runs:/", "models:/")):
            from nbtrack.models.pyfunc import resolve_model_uri

            path = resolve_model_uri(text)
        target = Path(path)
        if target.is_dir():
            target = target / MLMODEL_FILE
        if not target.is_file():
            raise NotFoundError(f"No {MLMODEL_FILE} file at {target}; is this a model folder?")
        try:
            doc = yaml.safe_load(target.read_text())
        except yaml.YAMLError as exc:
            raise InvalidInput(f"{target} is not valid YAML: {exc}") from None
        if not isinstance(doc, dict):
            raise InvalidInput(f"{target} does not hold a YAML mapping")
        return cls.from_dict(doc)


@dataclass(frozen=True)
class ModelInfo:
    """What ``log_model`` returns: where the model went and what it is.

    Attributes
    ----------
    model_uri:
        ``runs:/<run_id>/<artifact_path>``, loadable with ``load_model``.
    run_id, artifact_path:
        The run and the artifact folder holding the model.
    flavors:
        The ``flavors`` block of its ``MLmodel``.
    signature:
        The signature saved with it, or None.
    model_uuid:
        The model's unique id.
    utc_time_created:
        When it was saved.
    registered_model_version:
        The version registered by ``registered_model_name``, else None.
    """

    model_uri: str
    run_id: str
    artifact_path: str
    flavors: dict[str, dict[str, Any]]
    signature: ModelSignature | None
    model_uuid: str
    utc_time_created: str
    registered_model_version: int | None = None
