"""nbtrack's REST API: framework-free route logic (``api``) and the Jupyter server extension.

Nothing here is imported by ``import nbtrack``: Jupyter Server loads
``nbtrack.server.jupyter`` through ``nbtrack._jupyter_server_extension_points``.
"""
