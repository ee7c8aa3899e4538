"""A skops model cannot vouch for itself: trusted types come from the caller, not its MLmodel."""

from __future__ import annotations

import operator
from pathlib import Path

import numpy as np
import pytest
import yaml
from sklearn.preprocessing import FunctionTransformer

import nbtrack.models as nbm
from nbtrack.errors import InvalidInput
from nbtrack.models.flavors.sklearn import load_estimator


def test_types_the_mlmodel_lists_are_not_trusted(tmp_path: Path) -> None:
    import skops.io

    folder = tmp_path / "model"
    estimator = FunctionTransformer(func=operator.neg).fit(np.ones((2, 1)))
    nbm.save_model(estimator, folder, serialization_format="skops", pyfunc_predict_fn="transform")
    untrusted = skops.io.get_untrusted_types(file=folder / "model.skops")
    assert "_operator.neg" in untrusted
    # What a crafted model does: list its own dangerous types as trusted.
    mlmodel = yaml.safe_load((folder / "MLmodel").read_text())
    mlmodel["flavors"]["sklearn"]["skops_trusted_types"] = untrusted
    (folder / "MLmodel").write_text(yaml.safe_dump(mlmodel))

    with pytest.raises(InvalidInput, match=r"not trusted: \[.*_operator\.neg") as caught:
        nbm.load_model(folder)
    assert "load_estimator(path, 'skops', trusted=[...])" in str(caught.value)

    # The caller, having inspected the list, decides.
    trusted = load_estimator(folder / "model.skops", "skops", trusted=untrusted)
    assert trusted.transform(np.array([[2.0]])).tolist() == [[-2.0]]
