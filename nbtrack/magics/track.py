"""``%%track`` and ``%nbtrack``: the IPython glue, argument parsing only.

The work is elsewhere: what to log is decided in ``_inference``, a cell is
captured by ``_capture.CellCapture``, and ``_hook.KernelHook`` runs tracked
cells as plain cells so their tracebacks are IPython's own.
"""

from __future__ import annotations

import os
import shlex
import sys
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from nbtrack.magics._cellparts import TrackOptions
from nbtrack.magics._hook import KernelHook
from nbtrack.magics._notebook import notebook_path, set_notebook_path
from nbtrack.tracking.inference import split_names

__all__ = ["NbtrackMagics"]

# Subcommands that live with their feature: name -> "module:function", each called
# as function(shell, argv) with the words after the subcommand. Imported on use so
# that loading the extension stays cheap.
FEATURE_SUBCOMMANDS: dict[str, str] = {
    "serve": "nbtrack.magics.serve_magic:serve",
    "runs": "nbtrack.magics.panels_magic:runs",
    "compare": "nbtrack.magics.panels_magic:compare",
    "registry": "nbtrack.magics.panels_magic:registry",
    "export": "nbtrack.magics.export_magic:export",
    "sync": "nbtrack.magics.sync_magic:sync",
}
SUBCOMMANDS = ("notebook", "status", *FEATURE_SUBCOMMANDS)
#: Subcommands whose words keep their quotes, because they end in a search filter.
_QUOTED_WORDS = frozenset({"runs"})


def _parse(magic: Any, line: str) -> Any:
    """Parse a magic's line with its ``magic_arguments`` parser, splitting it like a shell.

    IPython's own ``parse_argstring`` keeps quotes (``-a '*.csv'`` would look
    for a file named ``'*.csv'``), so the line is split with ``shlex``.
    """
    try:
        argv = shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"{magic.__name__}: {exc}") from None
    return magic.parser.parse_args(argv)


@magics_class
class NbtrackMagics(Magics):
    """The ``%%track`` cell magic and the ``%nbtrack`` line magic.

    Parameters
    ----------
    shell:
        The IPython shell the magics are registered in.
    """

    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        self.hook = KernelHook(shell, self.parse_track_line)

    def parse_track_line(self, line: str) -> TrackOptions:
        """Parse a ``%%track`` line into options.

        Raises
        ------
        UsageError
            If the line does not parse or a ``-t`` item has no ``=``.
        """
        args = _parse(self.track, line)
        tags: dict[str, str] = {}
        for item in args.tag or []:
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise UsageError(f"%%track -t expects KEY=VALUE, got {item!r}")
            tags[key] = value
        return TrackOptions(
            name=args.name,
            experiment=args.experiment,
            params=split_names(args.params) if args.params is not None else None,
            metrics=split_names(args.metrics) if args.metrics is not None else None,
            artifacts=list(args.artifact or []),
            tags=tags,
            nested=args.nested,
            infer=not args.no_infer,
            quiet=args.quiet,
            system_metrics=args.system_metrics,
        )

    @magic_arguments()
    @argument("name", nargs="?", default=None, help="The run's name (generated when omitted).")
    @argument("-e", "--experiment", help="Experiment name (created if needed).")
    @argument("-p", "--params", help="Comma-separated names to log as params, not inferred.")
    @argument("-m", "--metrics", help="Comma-separated names to log as metrics, not inferred.")
    @argument(
        "-a",
        "--artifact",
        action="append",
        metavar="GLOB",
        help="Log the files matching GLOB after the cell (repeatable).",
    )
    @argument("-t", "--tag", action="append", metavar="KEY=VALUE", help="Set a tag (repeatable).")
    @argument("--nested", action="store_true", help="Start the run inside the active run.")
    @argument("--no-infer", action="store_true", help="Infer no params nor metrics.")
    @argument("--quiet", action="store_true", help="Print no summary line after the cell.")
    @argument(
        "--system-metrics",
        action="store_true",
        help="Sample CPU, memory and GPU use into system/* metrics while the cell runs.",
    )
    @cell_magic
    def track(self, line: str, cell: str) -> None:
        """Run the cell in a new nbtrack run, logging its params, metrics, output and figures."""
        # Normally the kernel hook runs tracked cells; this path serves direct
        # calls (``run_cell_magic("track", …)``) with the same capture.
        options = self.parse_track_line(line)
        capture = self.hook.new_capture(options, cell, None)
        capture.begin()
        __tracebackhide__ = True  # read by IPython's traceback formatter
        shell = self.shell
        assert shell is not None
        try:
            code = shell.transform_cell(cell)
            filename = shell.compile.cache(code, shell.execution_count, raw_code=cell)
            exec(compile(code, filename, "exec"), shell.user_global_ns, shell.user_ns)
        except BaseException as error:
            capture.finish(error)
            raise
        capture.finish(None)

    @magic_arguments()
    @argument(
        "subcommand",
        nargs="?",
        default="status",
        help=f"One of: {', '.join(SUBCOMMANDS)} (default: status).",
    )
    @argument("rest", nargs="*", help="The subcommand's arguments.")
    @line_magic
    def nbtrack(self, line: str) -> None:
        """Show nbtrack's state (``status``) or set the notebook's path (``notebook PATH``)."""
        words = line.split(maxsplit=1)
        sub = words[0] if words else "status"
        if sub not in SUBCOMMANDS:
            raise UsageError(
                f"Unknown %nbtrack subcommand {sub!r}; known subcommands: {', '.join(SUBCOMMANDS)}"
            )
        if sub in FEATURE_SUBCOMMANDS:
            self._feature(sub, line.split(maxsplit=1)[1:])
            return
        args = _parse(self.nbtrack, line)
        if args.subcommand == "notebook":
            self._notebook(args.rest)
        else:
            self._status()

    def _feature(self, sub: str, rest: list[str]) -> None:
        import importlib

        module_name, _, function_name = FEATURE_SUBCOMMANDS[sub].partition(":")
        try:
            # A filter keeps its quotes (params.model = 'rf'): split without removing them.
            argv = shlex.split(rest[0], posix=sub not in _QUOTED_WORDS) if rest else []
        except ValueError as exc:
            raise UsageError(f"%nbtrack {sub}: {exc}") from None
        getattr(importlib.import_module(module_name), function_name)(self.shell, argv)

    def _notebook(self, rest: list[str]) -> None:
        shell = self.shell
        assert shell is not None
        if rest:
            path = os.path.expanduser(" ".join(rest))
            set_notebook_path(path)
            if not os.path.isfile(path):
                sys.stderr.write(f"nbtrack: {path} does not exist (yet); runs are tagged with it\n")
        print(f"notebook: {notebook_path(shell.user_ns) or 'unknown'}")

    def _status(self) -> None:
        import nbtrack
        from nbtrack.autologging import status as autolog_status

        shell = self.shell
        assert shell is not None
        run = nbtrack.active_run()
        active = (
            f"{run.info.run_id} ({run.info.run_name}, experiment {run.info.experiment_id})"
            if run is not None
            else "none"
        )
        print(f"store: {nbtrack.get_tracking_uri()}")
        print(f"active run: {active}")
        print(f"notebook: {notebook_path(shell.user_ns) or 'unknown'}")
        print(f"autolog: {autolog_status()}")
