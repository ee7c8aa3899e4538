"""``python -m nbtrack``: the ``nbtrack`` command, for environments without it on PATH."""

from nbtrack.cli.main import cli

if __name__ == "__main__":
    cli(prog_name="nbtrack")
