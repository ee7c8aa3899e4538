"""The ``nbtrack`` group: help, version, choosing the store, and how errors are reported."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from nbtrack import __version__
from nbtrack.cli.main import cli

COMMANDS = [
    [],
    ["runs"],
    ["runs", "list"],
    ["runs", "show"],
    ["runs", "delete"],
    ["runs", "restore"],
    ["experiments"],
    ["experiments", "list"],
    ["experiments", "create"],
    ["experiments", "delete"],
    ["experiments", "restore"],
    ["artifacts"],
    ["artifacts", "list"],
    ["artifacts", "download"],
    ["db"],
    ["db", "upgrade"],
    ["gc"],
    ["doctor"],
    ["quickstart"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "nbtrack")
def test_every_command_has_help(command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Usage: ")
    assert "Show this message and exit." in result.stdout


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"nbtrack, version {__version__}"


def test_help_imports_nothing_heavy() -> None:
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from nbtrack.cli.main import cli\n"
        "for args in (['--help'], ['runs', 'list', '--help'], ['doctor', '--help']):\n"
        "    assert CliRunner().invoke(cli, args).exit_code == 0\n"
        "heavy = ('pandas', 'sqlalchemy', 'alembic', 'yaml', 'fsspec')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_usage_error_exits_2(invoke) -> None:
    result = invoke("runs", "list", "--view", "bogus", code=2)
    assert "Invalid value for '--view'" in result.stderr


def test_nbtrack_error_is_one_line_on_stderr(invoke, seeded) -> None:
    result = invoke("runs", "show", "0" * 32, code=1)
    assert result.stdout == ""
    assert result.stderr == f"Error: No run with id '{'0' * 32}'\n"


def test_tracking_uri_after_the_command(invoke, seeded) -> None:
    result = invoke("runs", "list", "--tracking-uri", seeded.uri, "--json", uri=False)
    assert {r["run_name"] for r in json.loads(result.stdout)} == {
        "alpha-run",
        "beta-run",
        "gamma-run",
    }


def test_tracking_uri_from_the_environment(invoke, seeded) -> None:
    env = {"NBTRACK_TRACKING_URI": seeded.uri}
    result = invoke("runs", "list", "-e", "exp-b", "--json", uri=False, env=env)
    assert [r["run_name"] for r in json.loads(result.stdout)] == ["gamma-run"]


def test_option_before_the_command_beats_the_environment(invoke, seeded, tmp_path) -> None:
    env = {"NBTRACK_TRACKING_URI": str(tmp_path / "elsewhere")}
    result = invoke("runs", "list", "-e", "exp-b", "--json", env=env)  # --tracking-uri first
    assert [r["run_name"] for r in json.loads(result.stdout)] == ["gamma-run"]


def test_bad_tracking_uri_is_a_one_line_error(invoke, tmp_path) -> None:
    result = invoke(
        "--tracking-uri", str(tmp_path / "x.db"), "experiments", "list", uri=False, code=1
    )
    assert result.stderr.startswith("Error: Tracking URI")
    assert "sqlite:///" in result.stderr


@pytest.mark.parametrize(
    "command", [["runs", "list"], ["experiments", "list"], ["runs", "show", "abcd"], ["gc"]]
)
def test_reading_a_missing_store_does_not_create_it(invoke, store_uri, command) -> None:
    err = invoke(*command, code=1).stderr
    assert err.startswith(f"Error: No nbtrack store at {store_uri}: nothing has been tracked")
    assert len(err.splitlines()) == 1
    assert not os.path.exists(store_uri)
