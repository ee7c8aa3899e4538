"""Turn the objects ``log_dict`` / ``log_figure`` / ``log_image`` / ``log_table`` take into bytes.

Kept apart from the client so that serialising (which needs matplotlib,
pandas, PIL…) is a pure function testable without a store, and so that those
heavy libraries are imported only when a user actually logs such an object.
The artifact file's suffix picks the format, as in MLflow; formats follow
MLflow's so that files logged here read back with ``mlflow.load_table`` etc.
"""

from __future__ import annotations

import io
import json
import posixpath
from typing import Any

from nbtrack.errors import InvalidInput

__all__ = ["array_to_pil", "dict_payload", "figure_payload", "image_payload", "table_payload"]


def _suffix(artifact_file: str) -> str:
    return posixpath.splitext(artifact_file)[1].lower()


def _type_name(obj: object) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def _to_plain(value: Any) -> Any:
    """Turn numpy scalars/arrays and tuples nested in ``value`` into plain Python."""
    if isinstance(value, dict):
        return {_to_plain(k): _to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_plain(v) for v in value]
    if type(value).__module__ == "numpy":
        return _to_plain(value.tolist()) if getattr(value, "ndim", 0) else value.item()
    return value


def dict_payload(dictionary: Any, artifact_file: str) -> bytes:
    """Serialise a dictionary as JSON or YAML, chosen by ``artifact_file``'s suffix.

    Parameters
    ----------
    dictionary:
        A dict (or any JSON-like value); numpy scalars and arrays inside it are
        turned into plain numbers and lists.
    artifact_file:
        ``.yaml`` / ``.yml`` give YAML (key order kept); anything else JSON
        indented by 2, as MLflow's ``log_dict`` does.

    Returns
    -------
    bytes
        UTF-8 text.

    Raises
    ------
    InvalidInput
        A value that JSON or YAML cannot represent.
    """
    plain = _to_plain(dictionary)
    if _suffix(artifact_file) in (".yaml", ".yml"):
        import yaml

        try:
            text = yaml.safe_dump(
                plain, default_flow_style=False, sort_keys=False, allow_unicode=True
            )
        except yaml.YAMLError as exc:
            raise InvalidInput(f"Cannot write {artifact_file!r} as YAML: {exc}") from exc
        return text.encode("utf-8")
    try:
        text = json.dumps(plain, indent=2)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"Cannot write {artifact_file!r} as JSON: {exc}") from exc
    return text.encode("utf-8")


def _is_matplotlib(figure: object) -> bool:
    return type(figure).__module__.startswith("matplotlib") and hasattr(figure, "savefig")


def _is_plotly(figure: object) -> bool:
    return type(figure).__module__.startswith("plotly") and hasattr(figure, "to_html")


def _is_altair(figure: object) -> bool:
    if type(figure).__module__.startswith("altair"):
        return True
    # `save` too: a pandas DataFrame has to_json and to_html but is no chart
    return all(callable(getattr(figure, name, None)) for name in ("to_json", "to_html", "save"))


def figure_payload(
    figure: Any, artifact_file: str, save_kwargs: dict[str, Any] | None = None
) -> bytes:
    """Render a matplotlib, altair or plotly figure in the format of ``artifact_file``.

    Parameters
    ----------
    figure:
        A matplotlib ``Figure`` (any format its canvas supports: png, svg, pdf,
        jpg…); an altair chart (``.html``, ``.json`` vega-lite spec, or
        ``.png`` / ``.svg`` through vl-convert); a plotly figure (``.html``, or
        images through kaleido), as MLflow's ``log_figure`` accepts.
    artifact_file:
        Its suffix picks the format.
    save_kwargs:
        Extra arguments for matplotlib's ``savefig`` (MLflow's name).

    Raises
    ------
    InvalidInput
        An unsupported figure type or suffix.
    ModuleNotFoundError
        An altair image format without ``vl-convert-python`` installed.
    """
    ext = _suffix(artifact_file).lstrip(".")
    if _is_matplotlib(figure):
        supported = figure.canvas.get_supported_filetypes()
        if ext not in supported:
            raise InvalidInput(
                f"Cannot save a matplotlib figure as {artifact_file!r}; use one of the "
                f"suffixes {', '.join('.' + s for s in sorted(supported))}"
            )
        buffer = io.BytesIO()
        figure.savefig(buffer, format=ext, **(save_kwargs or {}))
        return buffer.getvalue()
    if _is_plotly(figure):
        if ext == "html":
            return str(figure.to_html(include_plotlyjs="cdn")).encode("utf-8")
        return bytes(figure.to_image(format=ext))
    if _is_altair(figure):
        return _altair_payload(figure, artifact_file, ext)
    raise InvalidInput(
        f"log_figure cannot log a {_type_name(figure)}; pass a matplotlib Figure, "
        "an altair Chart or a plotly Figure"
    )


def _altair_payload(chart: Any, artifact_file: str, ext: str) -> bytes:
    if ext == "html":
        return str(chart.to_html()).encode("utf-8")
    if ext == "json":
        return str(chart.to_json()).encode("utf-8")
    if ext not in ("png", "svg"):
        raise InvalidInput(
            f"Cannot save an altair chart as {artifact_file!r}; use .html, .json, .png or .svg"
        )
    import importlib.util

    if importlib.util.find_spec("vl_convert") is None:
        raise ModuleNotFoundError(
            f"Saving an altair chart as .{ext} needs vl-convert: pip install vl-convert-python",
            name="vl_convert",
        )
    # altair writes svg as text and png as bytes
    buffer: io.StringIO | io.BytesIO = io.StringIO() if ext == "svg" else io.BytesIO()
    chart.save(buffer, format=ext)
    value = buffer.getvalue()
    return value.encode("utf-8") if isinstance(value, str) else value


def array_to_pil(array: Any) -> Any:
    """Turn an image array into a PIL image the way MLflow's ``log_image`` does.

    Integers must lie in [0, 255]; floats and bools in [0, 1] and are scaled by
    255 then truncated to uint8, as MLflow does, so images read back the same.
    """
    import numpy as np
    from PIL import Image

    x = np.asarray(array)
    what = f"image array of shape {x.shape} and dtype {x.dtype}"
    if x.dtype.kind not in "biuf":
        raise InvalidInput(f"Cannot log an {what}: pixels must be integers, floats or bools")
    if x.ndim not in (2, 3) or (x.ndim == 3 and x.shape[2] not in (1, 3, 4)):
        raise InvalidInput(
            f"Cannot log an {what}: expected HxW, HxWx1, HxWx3 (RGB) or HxWx4 (RGBA)"
        )
    if x.size == 0:
        raise InvalidInput(f"Cannot log an {what}: it has no pixels")
    if x.ndim == 3 and x.shape[2] == 1:
        x = x[:, :, 0]
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        raise InvalidInput(f"Cannot log an {what}: it contains NaN or infinite values")
    is_int = x.dtype.kind in "iu"
    high = 255 if is_int else 1
    low_found, high_found = x.min(), x.max()
    if low_found < 0 or high_found > high:
        raise InvalidInput(
            f"Cannot log an {what}: {'integer' if is_int else 'float'} pixels must lie in "
            f"[0, {high}], found values from {low_found} to {high_found}"
        )
    if not is_int:
        x = x * 255
    return Image.fromarray(x.astype(np.uint8))


def image_payload(image: Any, artifact_file: str) -> bytes:
    """Encode a PIL image or an image array in the format of ``artifact_file``.

    Parameters
    ----------
    image:
        A ``PIL.Image.Image``, or an array (numpy, or anything with
        ``__array__``) shaped HxW, HxWx1, HxWx3 or HxWx4: uint8 / integers in
        [0, 255], or floats / bools in [0, 1] (scaled by 255 as MLflow does).
    artifact_file:
        Its suffix picks the format (``.png``, ``.jpg``, ``.webp``…); PNG when
        it has none.

    Raises
    ------
    InvalidInput
        An unsupported object, shape, dtype, value range or suffix.
    """
    from PIL import Image

    if callable(getattr(image, "to_pil", None)):  # nbt.Image, as mlflow.Image
        image = image.to_pil()
    if isinstance(image, Image.Image):
        pil = image
    elif hasattr(image, "__array__") or isinstance(image, list):
        pil = array_to_pil(image)
    else:
        raise InvalidInput(
            f"log_image cannot log a {_type_name(image)}; pass a PIL Image or a numpy array"
        )
    ext = _suffix(artifact_file)
    fmt = Image.registered_extensions().get(ext) if ext else "PNG"
    if fmt is None or fmt not in Image.SAVE:
        raise InvalidInput(
            f"Cannot save an image as {artifact_file!r}: Pillow writes no format for "
            f"{ext!r}; use .png or .jpg"
        )
    if fmt == "JPEG" and pil.mode not in ("RGB", "L", "CMYK"):
        pil = pil.convert("RGB")  # JPEG has no alpha channel
    buffer = io.BytesIO()
    pil.save(buffer, format=fmt)
    return buffer.getvalue()


def table_payload(data: Any, artifact_file: str) -> bytes:
    """Serialise a table in the format of ``artifact_file``.

    Parameters
    ----------
    data:
        A pandas DataFrame, or a dict of columns (``{"col": [values…]}``).
    artifact_file:
        ``.json`` gives MLflow's ``log_table`` format,
        ``{"columns": [...], "data": [[...], ...]}`` (pandas' ``split`` orient
        without the index, dates in ISO 8601); ``.csv`` and ``.parquet`` are
        also accepted.

    Raises
    ------
    InvalidInput
        Data that is not a table, or another suffix.
    """
    import pandas as pd

    if isinstance(data, dict):
        try:
            frame = pd.DataFrame(data)
        except ValueError as exc:
            raise InvalidInput(
                f"log_table needs a dict of equally long columns for {artifact_file!r}: {exc}"
            ) from exc
    elif isinstance(data, pd.DataFrame):
        frame = data
    else:
        raise InvalidInput(
            f"log_table cannot log a {_type_name(data)}; pass a pandas DataFrame or a dict "
            "of columns"
        )
    ext = _suffix(artifact_file)
    if ext == ".json":
        return frame.to_json(orient="split", index=False, date_format="iso").encode("utf-8")
    if ext == ".csv":
        return frame.to_csv(index=False).encode("utf-8")
    if ext == ".parquet":
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        return buffer.getvalue()
    raise InvalidInput(
        f"Cannot save a table as {artifact_file!r}; use a .json, .csv or .parquet suffix"
    )
