"""``nbtrack db upgrade``: create a store or bring its schema up to this nbtrack's revision.

Opening a store upgrades it anyway; this command does it on purpose (before a
team's processes start writing, or to check a PostgreSQL database) and says
which revision the store was at and is at now.
"""

from __future__ import annotations

import click

from nbtrack.cli._common import state, tracking_uri_option
from nbtrack.errors import StoreError

__all__ = ["db", "mask_url", "store_revision"]


@click.group()
def db() -> None:
    """Manage the store's database."""


def mask_url(url: str) -> str:
    """Return a database URL with its password replaced by ``***``."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:  # not a URL SQLAlchemy parses: show no credentials at all
        return url.split("@", 1)[-1] if "@" in url else url


def store_revision(db_url: str) -> str | None:
    """Return the schema revision recorded in the database at ``db_url`` (None when empty)."""
    from nbtrack.store.sql.engine import current_revision, open_engine

    engine = open_engine(db_url)
    try:
        with engine.connect() as conn:
            return current_revision(conn)
    finally:
        engine.dispose()


@db.command("upgrade")
@tracking_uri_option
def upgrade() -> None:
    """Create the store, or upgrade its schema to the newest revision, and print the revision."""
    from nbtrack.config import get_artifact_root, get_tracking_uri
    from nbtrack.store.factory import open_store
    from nbtrack.store.sql.migrations import HEAD
    from nbtrack.uris import resolve_store_location

    uri = state().tracking_uri or get_tracking_uri()
    location = resolve_store_location(uri, get_artifact_root())
    if location.kind != "sql":
        raise StoreError(
            f"{uri} names an nbtrack server; upgrade its database where the server runs, "
            "with --tracking-uri set to the server's backend store"
        )
    before = store_revision(location.db_url)
    store = open_store(uri, get_artifact_root())
    after = store_revision(store.location)
    where = mask_url(store.location)
    if before == after:
        click.echo(f"Store {where} is at schema revision {after} (HEAD {HEAD}): up to date.")
    elif before is None:
        click.echo(f"Created store {where} at schema revision {after} (HEAD {HEAD}).")
    else:
        click.echo(
            f"Upgraded store {where} from schema revision {before} to {after} (HEAD {HEAD})."
        )
