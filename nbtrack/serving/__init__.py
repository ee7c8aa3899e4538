"""Serving models with MLflow's scoring protocol: ``nbtrack serve`` and ``nbt.serve()``.

The protocol's rules live in :mod:`~nbtrack.serving.payloads` (no web
framework), the model side in :mod:`~nbtrack.serving.scorer`, the ASGI app in
:mod:`~nbtrack.serving.app` and the notebook's background server in
:mod:`~nbtrack.serving.background`. Importing this package loads none of
Starlette, uvicorn, pandas or numpy.
"""

from __future__ import annotations

from nbtrack.serving.background import ModelServer, serve

__all__ = ["ModelServer", "serve"]
