"""A loaded model behind MLflow's scoring protocol: request body in, JSON predictions out.

:class:`Scorer` joins the payload rules (:mod:`nbtrack.serving.payloads`) to
a :class:`~nbtrack.models.pyfunc.PyFuncModel` and sorts failures into the
client's fault (:class:`~nbtrack.serving.payloads.PayloadError`, HTTP 4xx)
and the model's (any other exception, HTTP 500).

Why a fast path: building a DataFrame and handing it to scikit-learn costs
~0.8 ms a request for a 4-column model (pandas construction, signature
enforcement column by column, scikit-learn's DataFrame checks), ten times
the prediction itself. When the model is a scikit-learn estimator whose
signature is named float columns in the order it was fitted on,
:class:`ArrayPath` turns rows sent in that order straight into one numpy
array and calls the estimator, which is what the DataFrame route ends up
doing anyway. Anything else (other columns, other order, values that are not
numbers) falls back to the general route, which also writes the error
messages.
"""

from __future__ import annotations

import copy
import warnings
from typing import TYPE_CHECKING, Any

from nbtrack.errors import InvalidInput
from nbtrack.models.signature import ColSpec
from nbtrack.serving.payloads import (
    PayloadError,
    ScoringRequest,
    csv_input,
    decode_json,
    model_input,
    predictions_json,
    split_request,
)

if TYPE_CHECKING:
    from nbtrack.models.pyfunc import PyFuncModel

__all__ = ["ArrayPath", "Scorer"]

# Column types the fast path builds arrays for: floats only, since numpy
# would silently truncate 1.5 into an integer column where the general route
# refuses it with a message.
_FLOAT_TYPES = {"double": "float64", "float": "float32"}
# Errors an estimator raises when the input is wrong (shape, values), not the model.
_INPUT_ERRORS = (ValueError, TypeError, KeyError, IndexError)


class ArrayPath:
    """Scores rows of numbers with a scikit-learn estimator, without pandas.

    Build it with :meth:`for_model`; :meth:`predict` returns None when a
    request does not fit, and the caller takes the general route.
    """

    def __init__(self, predict: Any, names: list[str], dtype: str) -> None:
        self._predict = predict
        self.names = names
        self.dtype = dtype

    @classmethod
    def for_model(cls, model: PyFuncModel) -> ArrayPath | None:
        """Return a fast path for ``model``, or None when it does not qualify."""
        import numpy as np

        meta = model.metadata
        if "sklearn" not in meta.flavors or meta.pyfunc_conf.get("loader_module") != (
            "mlflow.sklearn"
        ):
            return None
        signature = meta.signature
        if signature is None or signature.inputs.is_tensor:
            return None
        specs = [spec for spec in signature.inputs.inputs if isinstance(spec, ColSpec)]
        names = [spec.name for spec in specs]
        types = {spec.type for spec in specs}
        if not specs or None in names or len(types) != 1 or next(iter(types)) not in _FLOAT_TYPES:
            return None
        estimator = model.unwrap_python_model()
        fitted = getattr(estimator, "feature_names_in_", None)
        if fitted is not None and [str(n) for n in fitted] != names:
            return None  # another order than the signature's: leave it to pandas
        served = estimator
        if "feature_names_in_" in vars(estimator):
            # A copy that has forgotten the column names, so that an array (in
            # the order just checked) does not warn "X does not have valid
            # feature names" on every request; the original is untouched.
            served = copy.copy(estimator)
            del served.feature_names_in_
        predict = getattr(served, meta.pyfunc_conf.get("predict_fn") or "predict", None)
        if predict is None:
            return None
        dtype = _FLOAT_TYPES[next(iter(types))]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                predict(np.zeros((1, len(names)), dtype=dtype))
            # A probe of an arbitrary estimator (a pipeline that selects
            # columns by name fails here): whatever it raises, it does not
            # qualify, and the general route serves it.
            except Exception:
                return None
        return None if caught else cls(predict, [str(n) for n in names], dtype)

    def predict(self, request: ScoringRequest) -> Any:
        """Predict for ``request`` if its rows fit, else return None."""
        import numpy as np

        rows = self._rows(request)
        if rows is None or not rows:
            return None
        try:
            array = np.array(rows, dtype=self.dtype)
        except (ValueError, TypeError):
            return None  # a string or an object somewhere: the general route names it
        if array.ndim != 2 or array.shape[1] != len(self.names):
            return None
        return self._predict(array)

    def _rows(self, request: ScoringRequest) -> list[Any] | None:
        data = request.data
        if request.format == "dataframe_split":
            if type(data) is not dict or data.get("columns") != self.names:
                return None
            rows = data.get("data")
            index = data.get("index")
            if index is not None and (
                type(index) is not list or type(rows) is not list or (len(index) != len(rows))
            ):
                return None
            if len(data) > 2 + (index is not None):
                return None  # unknown keys: the general route says which
            return rows if type(rows) is list else None
        if request.format == "dataframe_records":
            if type(data) is not list:
                return None
            names = self.names
            try:
                return [[record[name] for name in names] for record in data]
            except (KeyError, TypeError):
                return None
        if type(data) is list and data and type(data[0]) is list:
            return data
        return None


class Scorer:
    """A model ready to answer ``/invocations``.

    Parameters
    ----------
    model:
        The loaded model.

    Attributes
    ----------
    model:
        The model.
    fast:
        The numpy fast path, or None when the model does not qualify.
    """

    def __init__(self, model: PyFuncModel) -> None:
        self.model = model
        signature = model.signature
        names = None
        if signature is not None and not signature.inputs.is_tensor:
            found = signature.inputs.names()
            if found and None not in found:
                names = [str(n) for n in found]
        self._column_names = names
        self.fast = ArrayPath.for_model(model)

    def parse_json(self, body: bytes) -> ScoringRequest:
        """Decode a JSON body and find its format (see :func:`~.payloads.split_request`)."""
        return split_request(decode_json(body))

    def try_fast(self, request: ScoringRequest) -> bytes | None:
        """Return the JSON answer through the fast path, or None if it does not apply."""
        if self.fast is None:
            return None
        try:
            predictions = self.fast.predict(request)
        except _INPUT_ERRORS as exc:
            raise PayloadError(_model_refused(exc)) from None
        return None if predictions is None else predictions_json(predictions)

    def score(self, request: ScoringRequest) -> bytes:
        """Build the model input, predict and return the JSON answer.

        Raises
        ------
        PayloadError
            The input does not fit the layout or the signature (400).
        """
        data = model_input(request, self._column_names)
        return predictions_json(self._predict(data, request.params))

    def score_parsed(self, request: ScoringRequest) -> bytes:
        """Score a parsed request, by the fast path when it applies; raises as :meth:`score`."""
        answer = self.try_fast(request)
        return answer if answer is not None else self.score(request)

    def score_json(self, body: bytes) -> bytes:
        """Score a JSON body, by the fast path when it applies; raises as :meth:`score`."""
        return self.score_parsed(self.parse_json(body))

    def score_csv(self, body: bytes) -> bytes:
        """Score a ``text/csv`` body; raises :class:`PayloadError` as :meth:`score`."""
        return predictions_json(self._predict(csv_input(body), None))

    def _predict(self, data: Any, params: dict[str, Any] | None) -> Any:
        data = self._drop_extra_columns(data)
        try:
            return self.model.predict(data, params=params)
        except InvalidInput as exc:
            raise PayloadError(exc.message) from None
        except _INPUT_ERRORS as exc:
            raise PayloadError(_model_refused(exc)) from None

    def _drop_extra_columns(self, data: Any) -> Any:
        # A server drops columns the signature does not name without a word to
        # the client, as MLflow's does; the library's warning is for people at a
        # keyboard.
        names = self._column_names
        if names is None:
            return data
        if isinstance(data, dict):
            if set(data) - set(names):
                return {k: v for k, v in data.items() if k in names}
            return data
        columns = getattr(data, "columns", None)  # a DataFrame's
        if columns is not None:
            present = [c for c in columns if str(c) in names]
            if len(present) < len(columns):
                return data[present]
        return data


def _model_refused(exc: BaseException) -> str:
    return f"The model could not score this input: {type(exc).__name__}: {exc}"
