"""``%nbtrack export --to mlproject|model OUT``: export from inside the notebook.

``--to mlproject`` exports the notebook file as saved on disk (or, with
``--from-run``, a run's recorded lineage); ``--to model`` saves a model held
in a kernel variable (``--model-var``, default ``model``) without re-running
anything.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, NoReturn

from IPython.core.error import UsageError

__all__ = ["export"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"%nbtrack export: {message}")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="%nbtrack export", add_help=False)
    parser.add_argument("--to", dest="target", choices=["mlproject", "model"], required=True)
    parser.add_argument("out")
    parser.add_argument("--from-run", dest="from_run")
    parser.add_argument("--model-var", dest="model_var", default="model")
    return parser


def export(shell: Any, argv: list[str]) -> None:
    """Export the notebook as an MLproject, or a kernel variable's model as a model folder."""
    args = _parser().parse_args(argv)
    if args.target == "model":
        from nbtrack.models import save_model

        if args.model_var not in shell.user_ns:
            raise UsageError(
                f"%nbtrack export: no variable {args.model_var!r} in the kernel; "
                "name the model's variable with --model-var"
            )
        save_model(shell.user_ns[args.model_var], args.out)
        print(f"Saved {args.model_var} as a model folder in {args.out}")
        return
    from nbtrack.projects import export_mlproject, export_run_lineage

    if args.from_run:
        project = export_run_lineage(args.from_run, args.out)
    else:
        from nbtrack.magics._notebook import notebook_path

        path = notebook_path(shell.user_ns)
        if path is None:
            raise UsageError(
                "%nbtrack export: this kernel does not know its notebook; set it with "
                "%nbtrack notebook PATH, or export a run with --from-run RUN_ID"
            )
        project = export_mlproject(path, args.out)
        print(f"Exported {path} as saved on disk (save the notebook first to include edits)")
    for warning in project.warnings:
        sys.stderr.write(f"nbtrack: {warning}\n")
    names = ", ".join(p.name for p in project.parameters) or "none"
    print(f"Wrote {project.path} (parameters: {names}); run it with `nbtrack run {project.path}`")
