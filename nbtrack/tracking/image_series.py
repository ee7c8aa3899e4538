"""Images logged by ``key`` and ``step``: a series, stored in MLflow's layout.

``log_image(image, key="samples", step=3)`` writes the full image as
``images/<key>+step+<step>+timestamp+<ms>+<uuid>.png`` and a small
``…+compressed.webp`` beside it, and tags the run ``mlflow.loggedImages``,
which is what MLflow's UI reads to show a run's image series per step.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import TYPE_CHECKING, Any

from nbtrack.errors import InvalidInput

if TYPE_CHECKING:
    from nbtrack.tracking.client import Client

__all__ = ["LOGGED_IMAGES_TAG", "log_image_step"]

LOGGED_IMAGES_TAG = "mlflow.loggedImages"
_KEY_RE = re.compile(r"^[a-zA-Z0-9_\-./ ]+$")
#: The thumbnail's longest side, in pixels (small enough for a grid of steps).
THUMBNAIL_PX = 256


def log_image_step(
    client: Client, run_id: str, image: Any, key: str, step: int, timestamp: int | None
) -> None:
    """Write one image of the series ``key`` at ``step`` (see the module docstring).

    Raises
    ------
    InvalidInput
        The key holds characters other than letters, digits, ``_-./`` and space.
    """
    from PIL import Image

    from nbtrack.tracking._artifact_payloads import array_to_pil

    if not _KEY_RE.match(key):
        raise InvalidInput(
            f"Image key {key!r} may hold only letters, digits, '_', '-', '.', '/' and spaces"
        )
    if callable(getattr(image, "to_pil", None)):
        image = image.to_pil()
    pil = image if isinstance(image, Image.Image) else array_to_pil(image)
    ts = int(time.time() * 1000) if timestamp is None else int(timestamp)
    base = f"images/{key.replace('/', '~')}+step+{int(step)}+timestamp+{ts}+{uuid.uuid4()}"
    client.log_image(run_id, pil, f"{base}.png")
    thumbnail = pil.copy()
    thumbnail.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
    client.log_image(run_id, thumbnail, f"{base}+compressed.webp")
    client.set_tag(run_id, LOGGED_IMAGES_TAG, "true")
