"""``%nbtrack sync --to URI [--experiment NAME] [--dry-run]``: ``nbtrack sync`` from a cell.

The kernel's buffered points are flushed first, so what the notebook logged
so far is in the store the sync reads; the output is the CLI's.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, NoReturn

from IPython.core.error import UsageError

__all__ = ["sync"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"%nbtrack sync: {message}")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="%nbtrack sync", add_help=False)
    parser.add_argument("--to", required=True)
    parser.add_argument("--experiment", dest="experiments", action="append")
    parser.add_argument("--from", dest="source")
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--no-progress", dest="progress", action="store_false")
    return parser


def sync(shell: Any, argv: list[str]) -> None:
    """Push the local store's runs to the server ``--to`` names (see ``nbtrack sync``)."""
    args = _parser().parse_args(argv)
    from nbtrack.sync.engine import sync as run_sync
    from nbtrack.tracking import fluent
    from nbtrack.tracking.client import Client

    fluent.client().flush()
    store = Client(args.source).store if args.source else fluent.client().store
    report = run_sync(
        store,
        args.to,
        args.experiments,
        dry_run=args.dry_run,
        progress=args.progress,
        announce=print,
    )
    for line, problem in report.lines():
        print(line, file=sys.stderr if problem else sys.stdout)
