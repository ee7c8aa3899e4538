"""``nbtrack server``: MLflow's REST API (and nbtrack's own routes) over any nbtrack store.

``app.create_app`` builds the Starlette app; one module per resource group
holds its routes (experiments, runs, metrics, registry, logged models,
nbtrack's routes); ``errors`` maps nbtrack's errors to MLflow's status codes
in one place, ``bodies`` parses and checks request bodies, ``entities_json``
turns entities into MLflow's JSON. Nothing here is imported by ``import nbtrack``.
"""
