"""Describe a dataset for ``log_input``: name, digest, source, schema and row count."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from nbtrack.entities import Dataset
from nbtrack.errors import InvalidInput

__all__ = ["as_dataset", "from_pandas"]


def from_pandas(
    df: Any, name: str = "dataset", source: str = "", targets: str | None = None
) -> Dataset:
    """Return a :class:`Dataset` for a pandas DataFrame (digest of its content and schema)."""
    import pandas as pd

    hashed = pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes()
    digest = hashlib.sha256(hashed + ",".join(map(str, df.columns)).encode()).hexdigest()[:8]
    schema = {"mlflow_colspec": [{"name": str(c), "type": str(t)} for c, t in df.dtypes.items()]}
    profile = {"num_rows": len(df), "num_elements": int(df.size)}
    if targets:
        profile["targets"] = targets  # type: ignore[assignment]
    return Dataset(
        name=name,
        digest=digest,
        source_type="code" if not source else "local",
        source=json.dumps({"uri": source}) if source else "{}",
        schema=json.dumps(schema),
        profile=json.dumps(profile),
    )


def as_dataset(obj: Any) -> Dataset:
    """Accept a :class:`Dataset`, one of ``nbtrack.data``'s, a DataFrame, or MLflow-like fields."""
    if isinstance(obj, Dataset):
        return obj
    to_entity = getattr(obj, "to_entity", None)
    if callable(to_entity):  # nbtrack.data's datasets (from_pandas, from_numpy)
        entity = to_entity()
        if isinstance(entity, Dataset):
            return entity
    if type(obj).__module__.startswith("pandas") and hasattr(obj, "dtypes"):
        return from_pandas(obj)
    if hasattr(obj, "name") and hasattr(obj, "digest"):
        return Dataset(
            name=str(obj.name),
            digest=str(obj.digest),
            source_type=str(getattr(obj, "source_type", "")),
            source=str(getattr(obj, "source", "")),
            schema=getattr(obj, "schema", None) and str(obj.schema),
            profile=getattr(obj, "profile", None) and str(obj.profile),
        )
    raise InvalidInput(
        f"log_input needs an nbtrack Dataset or a pandas DataFrame, not {type(obj).__name__}"
    )
