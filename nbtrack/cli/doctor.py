"""``nbtrack doctor``: which store is in use, why, and whether it is healthy.

Doctor looks without touching: it does not create a missing store nor upgrade
an old schema (opening the store would do both), so it reads the schema
revision on an engine of its own before opening the store for the counts.
"""

from __future__ import annotations

import os
import platform
import tempfile
from dataclasses import asdict, dataclass
from importlib import metadata

import click

from nbtrack import __version__, env
from nbtrack.cli import _output as out
from nbtrack.cli._common import get_client, json_option, state, tracking_uri_option
from nbtrack.errors import NbtrackError

__all__ = ["doctor"]

OK, WARN, FAIL, INFO = "ok", "warn", "FAIL", "info"


@dataclass
class Check:
    """One line of the report."""

    name: str
    status: str
    detail: str


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _uri_and_source() -> tuple[str, str]:
    from nbtrack.config import get_tracking_uri

    st = state()
    if st.tracking_uri and st.uri_source == "option":
        return st.tracking_uri, "--tracking-uri option"
    if st.tracking_uri:
        return st.tracking_uri, f"{env.NBTRACK_TRACKING_URI} environment variable"
    uri = get_tracking_uri()
    found = os.path.isdir(uri)
    where = (
        "nearest .nbtrack/ folder" if found else "no .nbtrack/ folder found: the working folder's"
    )
    return uri, f"default ({where})"


def _writable(root: str) -> Check:
    if "://" in root and not root.startswith("file://"):
        return Check("artifact root", INFO, f"{root} (remote; not checked)")
    path = root.removeprefix("file://")
    if os.path.isdir(path):
        try:
            with tempfile.TemporaryFile(dir=path):
                pass
        except OSError as exc:
            return Check("artifact root", FAIL, f"{path} is not writable: {exc}")
        return Check("artifact root", OK, f"{path} (writable)")
    parent = path
    while parent and not os.path.exists(parent):
        parent = os.path.dirname(parent.rstrip(os.sep)) or ""
    if parent and os.path.isdir(parent) and os.access(parent, os.W_OK | os.X_OK):
        return Check("artifact root", OK, f"{path} (created on first artifact)")
    return Check(
        "artifact root", FAIL, f"{path} cannot be created: {parent or path} is not writable"
    )


def _database_checks(db_url: str, checks: list[Check]) -> bool:
    """Append schema and journal checks; return True when the store can be opened as is."""
    from sqlalchemy import text

    from nbtrack.cli.db import store_revision
    from nbtrack.store.sql.engine import open_engine, sqlite_path
    from nbtrack.store.sql.migrations import HEAD, REVISIONS

    db_file = sqlite_path(db_url)
    if db_file is not None and not db_file.exists():
        checks.append(Check("database", WARN, "not created yet (created on first write)"))
        return False
    revision = store_revision(db_url)
    if revision == HEAD:
        checks.append(Check("schema", OK, f"revision {revision} (HEAD {HEAD})"))
    elif revision is None:
        checks.append(Check("schema", WARN, "empty database: run `nbtrack db upgrade`"))
    elif revision in REVISIONS:
        checks.append(
            Check(
                "schema",
                WARN,
                f"revision {revision}, older than HEAD {HEAD}: "
                "run `nbtrack db upgrade` (opening the store also upgrades it)",
            )
        )
    else:
        checks.append(
            Check(
                "schema",
                FAIL,
                f"revision {revision} is newer than this nbtrack knows "
                f"(HEAD {HEAD}): upgrade nbtrack",
            )
        )
    if db_file is not None:
        engine = open_engine(db_url)
        try:
            with engine.connect() as conn:
                mode = str(conn.execute(text("PRAGMA journal_mode")).scalar()).lower()
                conn.rollback()
        finally:
            engine.dispose()
        if mode == "wal":
            checks.append(Check("journal mode", OK, "wal"))
        else:
            checks.append(
                Check(
                    "journal mode",
                    FAIL,
                    f"{mode}, not wal: concurrent writers will block; "
                    "is the store on a network file system?",
                )
            )
    return revision == HEAD


def _store_checks(uri: str, checks: list[Check]) -> None:
    from nbtrack.cli.db import mask_url
    from nbtrack.config import get_artifact_root
    from nbtrack.entities import ViewType
    from nbtrack.uris import resolve_store_location

    location = resolve_store_location(uri, get_artifact_root())
    if location.kind != "sql":
        checks.append(Check("store", FAIL, f"{uri} is a server URI, not supported in this version"))
        return
    checks.append(Check("database", INFO, mask_url(location.db_url)))
    from_env = " (from NBTRACK_ARTIFACT_ROOT)" if get_artifact_root() else ""
    root_check = _writable(location.artifact_root)
    root_check.detail += from_env
    checks.append(root_check)
    if not _database_checks(location.db_url, checks):
        return
    client = get_client()
    exps = client.search_experiments(ViewType.ALL, 1_000_000)
    deleted = sum(e.lifecycle_stage != "active" for e in exps)
    checks.append(Check("experiments", INFO, f"{len(exps)} ({deleted} deleted)"))
    checks.append(Check("runs", INFO, str(client.count_runs())))


@click.command("doctor")
@json_option
@tracking_uri_option
@click.pass_context
def doctor(ctx: click.Context, as_json: bool) -> None:
    """Check the installation and the store in use; exit 1 if something is wrong.

    Prints versions, the tracking URI and how it was chosen, the database (password
    masked) and artifact root, the schema revision, SQLite's journal mode, whether
    artifacts can be written, and how many experiments and runs the store holds.
    """
    versions = {
        "nbtrack": __version__,
        "python": platform.python_version(),
        "sqlalchemy": _version("sqlalchemy"),
        "alembic": _version("alembic"),
    }
    from sqlalchemy.exc import SQLAlchemyError

    from nbtrack.cli.db import mask_url

    uri, source = _uri_and_source()
    shown = mask_url(uri) if "://" in uri else uri
    checks = [Check("tracking URI", INFO, f"{shown}  [{source}]")]
    try:
        _store_checks(uri, checks)
    except NbtrackError as exc:
        checks.append(Check("store", FAIL, exc.message.splitlines()[0]))
    except (OSError, SQLAlchemyError) as exc:
        text = str(getattr(exc, "orig", None) or exc).strip() or type(exc).__name__
        checks.append(Check("store", FAIL, text.splitlines()[0]))
    problems = [c for c in checks if c.status == FAIL]
    if as_json:
        out.echo_json(
            {"versions": versions, "checks": [asdict(c) for c in checks], "ok": not problems}
        )
    else:
        click.echo("  ".join(f"{k} {v}" for k, v in versions.items()))
        width = max(len(c.name) for c in checks)
        for c in checks:
            mark = "" if c.status == INFO else c.status
            click.echo(f"{mark:<4}  {c.name.ljust(width)}  {c.detail}")
        click.echo(f"{len(problems)} problem(s) found." if problems else "No problems found.")
    if problems:
        ctx.exit(1)
