"""``nbt.Image``: an image value to log, as MLflow's ``mlflow.Image``.

Built from a numpy array, a PIL image, a file path or nested lists; it holds
a PIL image and converts back to any of them. ``log_image`` accepts it as it
accepts a PIL image. Pillow loads only when an ``Image`` is made.
"""

from __future__ import annotations

import os
from typing import Any

from nbtrack.errors import InvalidInput

__all__ = ["Image"]


class Image:
    """An image: ``Image(array_or_pil_or_path)``; ``to_pil()``, ``to_array()``, ``to_list()``.

    Raises
    ------
    InvalidInput
        The value is none of an array, a PIL image, a path or a list.
    """

    def __init__(self, image: Any) -> None:
        from PIL import Image as PILImage

        if isinstance(image, PILImage.Image):
            self.image = image.copy()
        elif isinstance(image, (str, os.PathLike)):
            with PILImage.open(os.fspath(image)) as opened:
                opened.load()
                self.image = opened.copy()
        elif isinstance(image, list) or hasattr(image, "__array__"):
            import numpy as np

            from nbtrack.tracking._artifact_payloads import array_to_pil

            self.image = array_to_pil(np.asarray(image))
        else:
            raise InvalidInput(
                f"Image needs a numpy array, a PIL image, a path or a list, not "
                f"{type(image).__name__}"
            )
        self.size = self.image.size

    def __repr__(self) -> str:
        return f"Image(size={self.size}, mode={self.image.mode!r})"

    def to_pil(self) -> Any:
        """Return the PIL image."""
        return self.image

    def to_array(self) -> Any:
        """Return the image as a numpy array (height, width[, channels])."""
        import numpy as np

        return np.asarray(self.image)

    def to_list(self) -> list[Any]:
        """Return the image as nested lists of pixel values."""
        return list(self.to_array().tolist())

    def resize(self, size: tuple[int, int]) -> Image:
        """Return a copy resized to ``(width, height)``."""
        return Image(self.image.resize(size))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the image to ``path`` (format from the suffix)."""
        self.image.save(os.fspath(path))
