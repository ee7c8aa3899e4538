"""A notebook as ``main.py``: nbconvert's Python exporter with a preprocessor for IPython syntax.

The preprocessor rewrites each code cell into plain Python before the exporter
sees it:

- the cell tagged ``parameters`` becomes the ``ProjectRun`` of
  ``nbtrack_runtime`` (parameters read from the command line, notebook values
  as defaults) followed by one assignment per parameter;
- a ``%%track`` cell becomes a ``with _project.track_cell(...)`` block that
  logs the params its cell read and the metrics it computed, the names being
  inferred from the cell as ``%%track`` infers them (or its ``-p``/``-m``);
- ``%track_autolog on|off`` becomes ``_project.autolog(...)``; ``%time``
  keeps its statement; magics that only affect display or the kernel
  (``%matplotlib``, ``%load_ext``, ``%config``, ``%nbtrack``…) are dropped;
- shell escapes (``!pip install``), ``%pip``, other magics and cell magics
  are commented out, with a warning each, since a script cannot run them.
"""

from __future__ import annotations

import argparse
import io
import re
import shlex
import textwrap
import tokenize
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

from nbtrack.projects.parameters import PARAMETERS_TAG, ProjectParameter, split_parameters_cell
from nbtrack.tracking.inference import SessionLiterals, analyse_cell, split_names

if TYPE_CHECKING:
    from nbformat import NotebookNode

__all__ = ["NotebookScript", "notebook_to_script"]

RUNTIME_MODULE = "nbtrack_runtime"

# Line magics that only change display or kernel state: nothing to run in a script.
_DROPPED = {
    "matplotlib",
    "load_ext",
    "reload_ext",
    "unload_ext",
    "config",
    "autoreload",
    "aimport",
    "nbtrack",
    "precision",
    "pprint",
    "colors",
    "xmode",
    "pdb",
}
# Cell magics whose body is plain Python that runs as is.
_TRANSPARENT_CELL_MAGICS = {"time", "capture", "prun"}
_LINE_MAGIC = re.compile(r"^(\s*)%(?!%)(\w+)(.*)$")
_SHELL = re.compile(r"^(\s*)(?:\w[\w, ]*=\s*)?!")
_ASSIGNED_MAGIC = re.compile(r"^(\s*)\w[\w, ]*=\s*%(\w+)")


@dataclass
class NotebookScript:
    """The result of a conversion: ``main.py``'s text, the parameters, what was left out."""

    text: str
    parameters: list[ProjectParameter]
    warnings: list[str] = field(default_factory=list)
    imports: set[str] = field(default_factory=set)


class _LineParser(argparse.ArgumentParser):
    """An argparse parser that raises instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise ValueError(message)


def _track_parser() -> argparse.ArgumentParser:
    parser = _LineParser(prog="%%track", add_help=False)
    parser.add_argument("name", nargs="?")
    parser.add_argument("-e", "--experiment")
    parser.add_argument("-p", "--params")
    parser.add_argument("-m", "--metrics")
    parser.add_argument("-a", "--artifact", action="append")
    parser.add_argument("-t", "--tag", action="append")
    parser.add_argument("--nested", action="store_true")
    parser.add_argument("--no-infer", action="store_true")
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--system-metrics", action="store_true")
    return parser


def _string_lines(source: str) -> set[int]:
    """Line numbers (1-based) that continue a multi-line string: never to be re-indented."""
    inside: set[int] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.STRING and token.end[0] > token.start[0]:
                inside.update(range(token.start[0] + 1, token.end[0] + 1))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass
    return inside


def _indent(source: str) -> str:
    keep = _string_lines(source)
    lines = source.splitlines()
    return "\n".join(
        line if number in keep or not line.strip() else "    " + line
        for number, line in enumerate(lines, start=1)
    )


class _Converter:
    """Rewrites cells one by one, remembering which names earlier cells set by literals."""

    def __init__(self, notebook_name: str) -> None:
        self.notebook_name = notebook_name
        self.warnings: list[str] = []
        self.session = SessionLiterals()
        self.parameters: list[ProjectParameter] = []
        self.imports: set[str] = set()

    def warn(self, index: int, message: str) -> None:
        self.warnings.append(f"cell {index + 1}: {message}")

    # line-level IPython syntax ---------------------------------------------

    def _lines(self, source: str, index: int) -> str:
        keep = _string_lines(source)
        out = []
        for number, line in enumerate(source.splitlines(), start=1):
            out.append(line if number in keep else self._line(line, index))
        return "\n".join(out)

    def _line(self, line: str, index: int) -> str:
        magic = _LINE_MAGIC.match(line)
        if magic:
            indent, name, rest = magic.groups()
            if name in _DROPPED:
                return f"{indent}pass  # %{name}{rest} (notebook only)"
            if name == "track_autolog":
                words = rest.split()
                enable = not words or words[0].lower() not in ("off", "false", "0")
                return f"{indent}_project.autolog({enable})  # %track_autolog{rest}"
            if name == "time" and rest.strip():
                return f"{indent}{rest.strip()}  # %time"
            self.warn(index, f"%{name} is IPython-only; commented out in main.py")
            return f"{indent}pass  # %{name}{rest} (IPython-only, not run)"
        if _SHELL.match(line) or _ASSIGNED_MAGIC.match(line):
            indent = line[: len(line) - len(line.lstrip())]
            self.warn(index, f"shell escape {line.strip()!r} commented out in main.py")
            return f"{indent}pass  # {line.strip()} (shell escape, not run)"
        return line

    # cells ------------------------------------------------------------------

    def convert(self, cell: Any, index: int) -> str:
        source = cell.source
        tags = cell.get("metadata", {}).get("tags", [])
        if PARAMETERS_TAG in tags and not self.parameters:
            return self._parameters(source, index)
        stripped = source.lstrip()
        if stripped.startswith("%%"):
            first, _, body = stripped.partition("\n")
            name, _, line = first[2:].partition(" ")
            if name == "track":
                return self._track(line, body, index)
            if name in _TRANSPARENT_CELL_MAGICS:
                return self._plain(body, index)
            self.warn(index, f"cell magic %%{name} is IPython-only; its cell is commented out")
            return "\n".join(f"# {text}" for text in source.splitlines())
        return self._plain(source, index)

    def _remember(self, source: str) -> None:
        try:
            names = analyse_cell(source)
        except SyntaxError:
            return
        self.session.update(names)
        self.imports |= _imports(source)

    def _plain(self, source: str, index: int) -> str:
        python = self._lines(source, index)
        self._remember(python)
        return python

    def _parameters(self, source: str, index: int) -> str:
        python = self._lines(source, index)
        try:
            self.parameters, rest = split_parameters_cell(python)
        except SyntaxError as exc:
            raise ValueError(
                f"cell {index + 1} (tagged {PARAMETERS_TAG!r}) is not valid Python: {exc}"
            ) from None
        self._remember(python)
        assignments = "\n".join(f"{p.name} = _project.params[{p.name!r}]" for p in self.parameters)
        return "\n\n".join(part for part in (assignments, rest) if part)

    def _track(self, line: str, body: str, index: int) -> str:
        try:
            options = _track_parser().parse_args(shlex.split(line))
        except ValueError as exc:
            raise ValueError(f"cell {index + 1}: cannot read %%track {line!r}: {exc}") from None
        python = self._lines(body, index)
        try:
            cell = analyse_cell(python)
        except SyntaxError as exc:
            raise ValueError(f"cell {index + 1} is not valid Python: {exc}") from None
        infer = not options.no_infer
        if options.params is not None:
            params = split_names(options.params)
        elif infer:
            read = sorted(cell.reads & self.session.names)
            params = [*read, *(n for n in cell.literals if n not in read)]
        else:
            params = []
        if options.metrics is not None:
            metrics = split_names(options.metrics)
        else:
            metrics = list(cell.computed) if infer else []
        tags = dict(item.partition("=")[::2] for item in options.tag or [])
        if options.experiment:
            tags["nbtrack.notebook.experiment"] = options.experiment
        if options.artifact:
            self.warn(index, "%%track -a globs are not captured by main.py")
        self.session.update(cell)
        self.imports |= _imports(python)
        arguments = [repr(options.name), "globals()"]
        if params:
            arguments.append(f"params={params!r}")
        if metrics:
            arguments.append(f"metrics={metrics!r}")
        if tags:
            arguments.append(f"tags={tags!r}")
        call = f"with _project.track_cell({', '.join(arguments)}):"
        if len(call) > 96:
            call = (
                "with _project.track_cell(\n"
                + textwrap.indent(",\n".join(arguments), "    ")
                + ",\n):"
            )
        return f"# %%track {line}".rstrip() + "\n" + call + "\n" + (_indent(python) or "    pass")


def _imports(source: str) -> set[str]:
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def _header(notebook_name: str, parameters: list[ProjectParameter]) -> str:
    spec = "".join(f"    {p.name!r}: ({p.kind!r}, {p.default!r}),\n" for p in parameters)
    spec_text = "{\n" + spec + "}" if spec else "{}"
    return (
        f'"""{notebook_name} as a script, exported by nbtrack.\n\n'
        "Run it as a project with `nbtrack run <folder> -P name=value` or\n"
        "`mlflow run <folder> --env-manager local -P name=value`, or directly with\n"
        "`python main.py --name value`. Parameters come from the notebook's cell\n"
        'tagged "parameters"; each %%track cell runs as a nested run.\n'
        '"""\n\n'
        f"import {RUNTIME_MODULE}\n\n"
        f"_project = {RUNTIME_MODULE}.ProjectRun({spec_text})\n"
    )


def notebook_to_script(notebook: NotebookNode, notebook_name: str) -> NotebookScript:
    """Convert a notebook to the text of ``main.py``.

    Parameters
    ----------
    notebook:
        The notebook (nbformat 4).
    notebook_name:
        Its file name, quoted in the script's docstring.

    Raises
    ------
    ValueError
        A ``%%track`` line or the parameters cell cannot be read (the cell is named).
    """
    import copy

    from nbconvert.exporters import PythonExporter
    from nbconvert.preprocessors import Preprocessor

    converter = _Converter(notebook_name)

    class IPythonToPython(Preprocessor):
        """Rewrite IPython syntax and ``%%track`` cells as plain Python."""

        def preprocess_cell(self, cell: Any, resources: Any, index: int) -> Any:
            if cell.cell_type == "code":
                cell.source = converter.convert(cell, index)
                cell.outputs = []
            return cell, resources

    nb = copy.deepcopy(notebook)
    exporter = PythonExporter()
    exporter.register_preprocessor(IPythonToPython(), enabled=True)
    body, _ = exporter.from_notebook_node(nb)
    # The exporter's own first lines (shebang, coding) are replaced by ours.
    body = re.sub(r"\A#!.*\n# coding: utf-8\n", "", body).lstrip("\n")
    text = (
        "#!/usr/bin/env python\n"
        + _header(notebook_name, converter.parameters)
        + "\n\n"
        + body.rstrip()
        + "\n\n\n_project.end()\n"
    )
    return NotebookScript(text, converter.parameters, converter.warnings, converter.imports)
