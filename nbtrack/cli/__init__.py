"""The ``nbtrack`` command line (``nbtrack.cli.main:cli``)."""
