"""Storage layer: the ``Store`` protocol, its SQL backend and the artifact repository."""
