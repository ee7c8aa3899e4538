"""Input examples: stored beside the model in MLflow's layout, read back as data.

A DataFrame is saved in pandas' ``split`` orient (``{"columns", "data"}``) and
an array as ``{"inputs": [...]}``; ``serving_input_example.json`` holds the
same rows as a scoring-server request body, so a user can ``curl`` it as is.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nbtrack.errors import InvalidInput
from nbtrack.json_values import json_value

__all__ = [
    "EXAMPLE_FILE",
    "SERVING_EXAMPLE_FILE",
    "as_example_data",
    "load_example",
    "save_example",
]

EXAMPLE_FILE = "input_example.json"
SERVING_EXAMPLE_FILE = "serving_input_example.json"


def as_example_data(example: Any) -> Any:
    """Normalise an input example to a DataFrame or a numpy array.

    Raises
    ------
    InvalidInput
        The example is neither tabular nor an array.
    """
    import numpy as np
    import pandas as pd

    if isinstance(example, (pd.DataFrame, np.ndarray)):
        return example
    if isinstance(example, pd.Series):
        return example.to_frame()
    if isinstance(example, dict):
        if all(np.ndim(v) == 0 for v in example.values()):
            return pd.DataFrame([example])
        return pd.DataFrame(example)
    if isinstance(example, (list, tuple)) and example:
        if all(isinstance(r, dict) for r in example):
            return pd.DataFrame(list(example))
        if all(isinstance(r, (list, tuple, np.ndarray)) for r in example):
            return np.asarray(example)
        return pd.DataFrame({0: list(example)})
    raise InvalidInput(
        f"Input example of type {type(example).__name__} is not supported; use a DataFrame, "
        "a numpy array, a dict of columns or a list of records"
    )


def save_example(path: str | Path, example: Any) -> dict[str, Any]:
    """Write ``input_example.json`` and ``serving_input_example.json`` into a model folder.

    Returns
    -------
    dict
        The ``saved_input_example_info`` block of ``MLmodel``.
    """
    import numpy as np

    folder = Path(path)
    data = as_example_data(example)
    if isinstance(data, np.ndarray):
        doc: dict[str, Any] = {"inputs": data.tolist()}
        serving = doc
        info: dict[str, Any] = {"type": "ndarray", "format": "tf-serving"}
    else:
        rows = [[json_value(v) for v in row] for row in data.itertuples(index=False, name=None)]
        doc = {"columns": [str(c) for c in data.columns], "data": rows}
        serving = {"dataframe_split": doc}
        info = {"type": "dataframe", "pandas_orient": "split"}
    (folder / EXAMPLE_FILE).write_text(json.dumps(doc))
    (folder / SERVING_EXAMPLE_FILE).write_text(json.dumps(serving, indent=2))
    return {
        "artifact_path": EXAMPLE_FILE,
        **info,
        "serving_input_path": SERVING_EXAMPLE_FILE,
    }


def load_example(path: str | Path, info: dict[str, Any] | None) -> Any:
    """Read a model folder's input example back as a DataFrame or array (None if absent)."""
    if not info:
        return None
    target = Path(path) / str(info.get("artifact_path", EXAMPLE_FILE))
    if not target.is_file():
        return None
    doc = json.loads(target.read_text())
    if info.get("type") == "ndarray":
        import numpy as np

        return np.asarray(doc["inputs"])
    if info.get("type") == "dataframe":
        import pandas as pd

        if isinstance(doc, dict) and "columns" in doc:
            return pd.DataFrame(doc["data"], columns=doc["columns"])
        return pd.DataFrame(doc)
    return doc
