"""``mlflow.data`` under nbtrack: describe the data a run used, then ``log_input`` it.

``from_pandas`` and ``from_numpy`` return a dataset object with MLflow's
fields: ``name``, ``digest`` (a short content hash, so two runs on the same
data share it), ``source`` (where the data came from: a file, a URL, or the
code that built it), ``schema`` (MLflow's column or tensor specs) and
``profile`` (row and element counts). ``nbt.log_input(dataset, context=...)``
records it on the run, where ``run.inputs.dataset_inputs`` reads it back and
searches filter on ``datasets.name`` / ``datasets.digest``.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from nbtrack.entities import Dataset as DatasetEntity
from nbtrack.errors import InvalidInput

__all__ = [
    "Dataset",
    "DatasetSource",
    "NumpyDataset",
    "PandasDataset",
    "from_numpy",
    "from_pandas",
    "get_source",
]

#: How many rows feed the digest: enough to tell datasets apart, cheap on big frames.
_DIGEST_ROWS = 10_000


class DatasetSource:
    """Where a dataset came from: ``source_type`` (``local``, ``http``, ``code``…) and ``uri``."""

    def __init__(self, source_type: str, uri: str | None = None, **fields: Any) -> None:
        self.source_type = source_type
        self.uri = uri
        self.fields = fields

    def __repr__(self) -> str:
        return f"DatasetSource(source_type={self.source_type!r}, uri={self.uri!r})"

    def to_dict(self) -> dict[str, Any]:
        """Return the fields MLflow stores in the dataset's ``source`` JSON."""
        out = dict(self.fields)
        if self.uri is not None:
            out["uri"] = self.uri
        return out

    def to_json(self) -> str:
        """Return the ``source`` JSON string as it is stored."""
        return json.dumps(self.to_dict())

    def load(self, dst_path: str | None = None) -> str:
        """Return a local path holding the data (downloading ``runs:/`` and remote URIs).

        Raises
        ------
        InvalidInput
            The source has no URI (data built in code).
        """
        if not self.uri:
            raise InvalidInput(f"A {self.source_type!r} dataset source has no URI to load from")
        if self.source_type == "local" and os.path.exists(self.uri):
            return self.uri
        from nbtrack.artifacts import download_artifacts

        return download_artifacts(artifact_uri=self.uri, dst_path=dst_path)

    @classmethod
    def from_string(cls, source: str | DatasetSource | None) -> DatasetSource:
        """Resolve a source given as text the way MLflow does: by its URI scheme."""
        if isinstance(source, DatasetSource):
            return source
        if not source:
            return cls("code")
        scheme = source.split("://", 1)[0].lower() if "://" in source else ""
        if scheme in ("http", "https"):
            return cls("http", source)
        if scheme in ("", "file"):
            path = source[len("file://") :] if scheme == "file" else source
            return cls("local", os.path.abspath(path))
        if source.startswith("runs:/") or scheme == "runs":
            return cls("local_artifact", source)
        return cls(scheme, source)

    @classmethod
    def from_json(cls, source_type: str, text: str) -> DatasetSource:
        """Rebuild a source from a stored dataset's ``source_type`` and ``source`` JSON."""
        try:
            fields = json.loads(text) if text else {}
        except ValueError:
            fields = {"uri": text}
        if not isinstance(fields, dict):
            fields = {"uri": str(fields)}
        uri = fields.pop("uri", None)
        return cls(source_type or "unknown", uri, **fields)


class Dataset:
    """A dataset as MLflow's: ``name``, ``digest``, ``source``, ``schema``, ``profile``."""

    def __init__(
        self,
        source: DatasetSource,
        name: str | None,
        digest: str,
        schema: dict[str, Any],
        profile: dict[str, Any],
    ) -> None:
        self.source = source
        self.name = name or "dataset"
        self.digest = digest
        self.schema = schema
        self.profile = profile

    @property
    def source_type(self) -> str:
        """The source's type (``local``, ``http``, ``code``…)."""
        return self.source.source_type

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, digest={self.digest!r})"

    def to_dict(self) -> dict[str, str]:
        """Return the fields as stored: each a string, schema and profile as JSON."""
        return {
            "name": self.name,
            "digest": self.digest,
            "source": self.source.to_json(),
            "source_type": self.source.source_type,
            "schema": json.dumps(self.schema),
            "profile": json.dumps(self.profile),
        }

    def to_entity(self) -> DatasetEntity:
        """Return the stored record (:class:`nbtrack.entities.Dataset`) ``log_input`` writes."""
        d = self.to_dict()
        return DatasetEntity(
            d["name"], d["digest"], d["source_type"], d["source"], d["schema"], d["profile"]
        )


class PandasDataset(Dataset):
    """A dataset over a DataFrame (``df``), with optional ``targets``/``predictions`` columns."""

    def __init__(
        self,
        df: Any,
        source: DatasetSource,
        name: str | None,
        digest: str | None,
        targets: str | None,
        predictions: str | None,
    ) -> None:
        from nbtrack.models.signature import infer_schema

        for label, column in (("targets", targets), ("predictions", predictions)):
            if column is not None and column not in df.columns:
                raise InvalidInput(f"The {label} column {column!r} is not in the DataFrame")
        self.df, self.targets, self.predictions = df, targets, predictions
        schema = {"mlflow_colspec": [spec.to_dict() for spec in infer_schema(df).inputs]}
        super().__init__(
            source,
            name,
            digest or _frame_digest(df),
            schema,
            {"num_rows": len(df), "num_elements": int(df.size)},
        )


class NumpyDataset(Dataset):
    """A dataset over a numpy array (or dict of arrays) of ``features`` and optional ``targets``."""

    def __init__(
        self,
        features: Any,
        source: DatasetSource,
        targets: Any,
        name: str | None,
        digest: str | None,
    ) -> None:
        self.features, self.targets = features, targets
        schema = {"mlflow_tensorspec": {"features": _tensor_schema(features)}}
        profile = {"features_shape": _shapes(features), "features_size": _sizes(features)}
        if targets is not None:
            schema["mlflow_tensorspec"]["targets"] = _tensor_schema(targets)
            profile["targets_shape"], profile["targets_size"] = _shapes(targets), _sizes(targets)
        super().__init__(source, name, digest or _arrays_digest(features, targets), schema, profile)


def _frame_digest(df: Any) -> str:
    import pandas as pd

    head = df.head(_DIGEST_ROWS)
    hashed = pd.util.hash_pandas_object(head, index=False).to_numpy().tobytes()
    shape = f"{df.shape}|{','.join(map(str, df.columns))}".encode()
    return hashlib.sha256(hashed + shape).hexdigest()[:8]


def _as_arrays(data: Any) -> dict[str, Any]:
    import numpy as np

    if isinstance(data, dict):
        return {str(k): np.asarray(v) for k, v in data.items()}
    return {"": np.asarray(data)}


def _arrays_digest(*parts: Any) -> str:
    h = hashlib.sha256()
    for part in parts:
        if part is None:
            continue
        for key, array in _as_arrays(part).items():
            flat = array.reshape(-1)[: _DIGEST_ROWS * 100]
            h.update(f"{key}|{array.shape}|{array.dtype}".encode())
            h.update(flat.tobytes() if array.dtype.kind != "O" else repr(flat.tolist()).encode())
    return h.hexdigest()[:8]


def _tensor_schema(data: Any) -> str:
    specs = [
        {
            "type": "tensor",
            **({"name": key} if key else {}),
            "tensor-spec": {"dtype": str(a.dtype), "shape": [-1, *a.shape[1:]]},
        }
        for key, a in _as_arrays(data).items()
    ]
    return json.dumps(specs)


def _shapes(data: Any) -> Any:
    arrays = _as_arrays(data)
    shapes = {k: list(a.shape) for k, a in arrays.items()}
    return shapes.get("", shapes)


def _sizes(data: Any) -> Any:
    arrays = _as_arrays(data)
    sizes = {k: int(a.size) for k, a in arrays.items()}
    return sizes.get("", sizes)


def from_pandas(
    df: Any,
    source: str | DatasetSource | None = None,
    targets: str | None = None,
    name: str | None = None,
    digest: str | None = None,
    predictions: str | None = None,
) -> PandasDataset:
    """Describe a DataFrame as a dataset, as ``mlflow.data.from_pandas``.

    Parameters
    ----------
    df:
        The data.
    source:
        Where it came from: a path, a URL, ``runs:/…``, or a :class:`DatasetSource`;
        None means it was built in code.
    targets, predictions:
        Names of the label and prediction columns, if any.
    name:
        Shown in run views (``"dataset"`` by default).
    digest:
        Overrides the content hash.

    Raises
    ------
    InvalidInput
        ``targets`` or ``predictions`` is not a column of ``df``.
    """
    return PandasDataset(df, DatasetSource.from_string(source), name, digest, targets, predictions)


def from_numpy(
    features: Any,
    source: str | DatasetSource | None = None,
    targets: Any = None,
    name: str | None = None,
    digest: str | None = None,
) -> NumpyDataset:
    """Describe numpy features (and targets) as a dataset, as ``mlflow.data.from_numpy``.

    ``features`` and ``targets`` may be arrays or dicts of arrays; the schema
    holds their tensor specs, the profile their shapes and sizes.
    """
    return NumpyDataset(features, DatasetSource.from_string(source), targets, name, digest)


def get_source(dataset: Any) -> DatasetSource:
    """Return the source of a dataset: one built here, a stored record, or a run's dataset input.

    Raises
    ------
    InvalidInput
        ``dataset`` is none of those.
    """
    dataset = getattr(dataset, "dataset", dataset)  # a DatasetInput holds its dataset
    if isinstance(dataset, Dataset):
        return dataset.source
    if isinstance(dataset, DatasetEntity):
        return DatasetSource.from_json(dataset.source_type, dataset.source)
    raise InvalidInput(
        f"get_source needs a dataset or a dataset input, not {type(dataset).__name__}"
    )
