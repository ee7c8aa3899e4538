"""The kernel hook: runs ``%%track`` cells as the cells themselves, around IPython's events.

A cell magic runs the cell's code inside the magic function, so an exception
raised by the cell shows IPython's and nbtrack's frames in its traceback. To
keep tracebacks exactly as without nbtrack, a ``%%track`` cell whose line
parses is run as plain code: an input transformer blanks the ``%%track``
line (keeping line numbers), ``pre_run_cell`` starts the capture and
``post_run_cell`` finishes it with the cell's own exception, if any. The
``%%track`` magic function is only reached when the line does not parse (it
then raises IPython's usual UsageError) or when it is called directly.

The hook also remembers which names earlier cells set by a literal
assignment, for the params a tracked cell reads (SPEC §3).

Runs started in code (``nbt.start_run()``, autolog's runs) get the same
lineage positions as ``%%track`` runs: the hook listens to the tracking
layer's run start and end (``fluent.run_start_hooks``/``run_end_hooks``),
tags the session and the log's length at the start, and at the end the
length including the cell running then (it is recorded when it ends, and the
log is written right after that cell). Those runs also get the environment
files (``_environment``).
"""

from __future__ import annotations

import atexit
import sys
import time
from typing import Any

from nbtrack.magics import _environment
from nbtrack.magics._capture import CellCapture, flush_lineage
from nbtrack.magics._cellparts import Problems, TrackOptions
from nbtrack.magics._lineage import LineageLog
from nbtrack.tracking import inference as infer
from nbtrack.tracking.lineage import LINEAGE_END, LINEAGE_SESSION, LINEAGE_START

__all__ = ["KernelHook", "split_track_cell"]

_MAGIC = "%%track"


def split_track_cell(raw: str) -> tuple[str, str] | None:
    """Return (the ``%%track`` line's arguments, the body) of a tracked cell, else None."""
    text = raw.lstrip("\n")
    first, _, body = text.partition("\n")
    if first == _MAGIC or first.startswith((_MAGIC + " ", _MAGIC + "\t")):
        return first[len(_MAGIC) :].strip(), body
    return None


class KernelHook:
    """IPython event handlers and the input transformer behind ``%%track``.

    Parameters
    ----------
    shell:
        The IPython shell to hook into.
    parse:
        Turns a ``%%track`` line into :class:`TrackOptions`; raises UsageError.
    """

    def __init__(self, shell: Any, parse: Any) -> None:
        self.shell = shell
        self.parse = parse
        self.session = infer.SessionLiterals()
        self.lineage = LineageLog()
        self._active: list[tuple[Any, CellCapture]] = []
        self._starts: list[tuple[Any, int, float]] = []
        self._flush_after_cell = False

    def install(self) -> None:
        """Register the event handlers and the transformer."""
        self.shell.events.register("pre_run_cell", self.pre_run_cell)
        self.shell.events.register("post_run_cell", self.post_run_cell)
        self.shell.input_transformers_cleanup.append(self.transform)
        atexit.register(self.flush_lineage)
        # atexit runs handlers last-in first-out: the tracking layer's must be
        # registered (on import) before ours for ours to run first.
        from nbtrack.tracking import fluent

        atexit.register(self.end_open_runs)
        fluent.run_start_hooks.append(self.on_run_start)
        fluent.run_end_hooks.append(self.on_run_end)
        _environment.prepare()
        self._record_earlier_cells()

    def _record_earlier_cells(self) -> None:
        """Log the cells run before the extension loaded, this one included, from IPython's history.

        Their imports and data loading are what a replay of the lineage needs
        first; how long they took and whether they failed is not known (None).
        """
        history = getattr(getattr(self.shell, "history_manager", None), "input_hist_raw", None)
        now = int(time.time() * 1000)
        for count, source in enumerate(list(history or [])[1:], start=1):
            if isinstance(source, str) and source.strip():
                self.lineage.record(source, now, None, None, execution_count=count)

    def end_open_runs(self) -> None:
        """End runs still open when the kernel shuts down as FINISHED (a warning line on failure).

        Registered after the tracking layer's own exit handler, so it runs
        first: in a kernel, an error in some earlier cell is no reason to mark
        a run that was left open as FAILED.
        """
        import nbtrack

        problems = Problems()
        with problems.guard("end the runs left open"):
            while nbtrack.active_run() is not None:
                nbtrack.end_run("FINISHED")
        problems.report(sys.stderr)

    def flush_lineage(self) -> None:
        """Write the pending cell executions to the store (a warning line if it fails)."""
        problems = Problems()
        flush_lineage(self.lineage, problems)
        problems.report(sys.stderr)

    def uninstall(self) -> None:
        """Undo :meth:`install`; captures still open are finished as KILLED."""
        for _, capture in reversed(self._active):
            capture.finish(KeyboardInterrupt())
        self._active.clear()
        from nbtrack.tracking import fluent

        if self.on_run_start in fluent.run_start_hooks:
            fluent.run_start_hooks.remove(self.on_run_start)
        if self.on_run_end in fluent.run_end_hooks:
            fluent.run_end_hooks.remove(self.on_run_end)
        atexit.unregister(self.flush_lineage)
        atexit.unregister(self.end_open_runs)
        if self.lineage.count:
            self.flush_lineage()
        self.shell.events.unregister("pre_run_cell", self.pre_run_cell)
        self.shell.events.unregister("post_run_cell", self.post_run_cell)
        if self.transform in self.shell.input_transformers_cleanup:
            self.shell.input_transformers_cleanup.remove(self.transform)
        self.session.clear()

    def on_run_start(self, tags: dict[str, str]) -> None:
        """Tag a run about to start with this session and the log's length (unless it is)."""
        if LINEAGE_SESSION not in tags:
            tags[LINEAGE_SESSION] = self.lineage.session_id
            tags[LINEAGE_START] = str(self.lineage.count)

    def on_run_end(self, run: Any) -> None:
        """Tag a run of this session about to end with the log's length; log its environment.

        A ``%%track`` run records its own end (its capture writes the tag and
        keeps it in the run's in-memory tags), so it is left alone here.
        """
        tags = run.data.tags
        if tags.get(LINEAGE_SESSION) != self.lineage.session_id or LINEAGE_END in tags:
            return
        problems = Problems()
        with problems.guard("save the run's lineage"):
            # The cell running now is recorded when it ends: count it in.
            end = self.lineage.count + (1 if self._starts else 0)
            run._client.set_tag(run.info.run_id, LINEAGE_END, str(end))
            tags[LINEAGE_END] = str(end)
            self._flush_after_cell = True
        _environment.log_environment(run._client, run.info.run_id, problems)
        problems.report(sys.stderr)

    def _parses(self, line: str) -> bool:
        from IPython.core.error import UsageError

        try:
            self.parse(line)
        except UsageError:
            return False
        return True

    def transform(self, lines: list[str]) -> list[str]:
        """Blank a valid ``%%track`` line so the body runs as the cell itself."""
        if not lines or not lines[0].startswith(_MAGIC):
            return lines
        found = split_track_cell(lines[0].rstrip("\n"))
        if found is None or not self._parses(found[0]):
            return lines
        return ["\n", *lines[1:]]

    def new_capture(self, options: TrackOptions, body: str, cell_id: str | None) -> CellCapture:
        """Return a capture of ``body`` (not begun) for this shell."""
        code = self.shell.transform_cell(body)
        return CellCapture(self.shell, options, body, code, cell_id, self.session, self.lineage)

    def pre_run_cell(self, info: Any) -> None:
        """Note when the cell starts; begin capturing it if it is a ``%%track`` cell."""
        problems = Problems()
        with problems.guard("start tracking the cell"):
            self._pre_run_cell(info)
        problems.report(sys.stderr)

    def post_run_cell(self, result: Any) -> None:
        """Finish the capture of the cell that ended; log the execution and its literals."""
        problems = Problems()
        with problems.guard("finish tracking the cell"):
            self._post_run_cell(result)
        problems.report(sys.stderr)

    def _pre_run_cell(self, info: Any) -> None:
        self._starts.append((info, int(time.time() * 1000), time.perf_counter()))
        found = split_track_cell(info.raw_cell)
        if found is None or not self._parses(found[0]):
            return
        options = self.parse(self.shell.var_expand(found[0]))
        capture = self.new_capture(options, found[1], getattr(info, "cell_id", None))
        self._active.append((info, capture))
        capture.begin()

    def _post_run_cell(self, result: Any) -> None:
        info = getattr(result, "info", None)
        self._record(result, info)
        if self._active and (result is None or self._active[-1][0] is info):
            _, capture = self._active.pop()
            error = None
            if result is not None:
                error = result.error_before_exec or result.error_in_exec
            capture.finish(error if result is not None else RuntimeError("the cell did not run"))
        if result is not None and result.success and info is not None:
            self._remember_literals(info.raw_cell)
        if self.lineage.due() or self._flush_after_cell:
            self._flush_after_cell = False
            self.flush_lineage()

    def _record(self, result: Any, info: Any) -> None:
        if not self._starts:
            return
        start_info, start_ms, started = self._starts.pop()
        if info is None:
            info = start_info
        self.lineage.record(
            source=info.raw_cell,
            start_time=start_ms,
            duration_ms=(time.perf_counter() - started) * 1000,
            ok=bool(result.success) if result is not None else False,
            cell_id=getattr(info, "cell_id", None),
            execution_count=getattr(result, "execution_count", None),
        )

    def _remember_literals(self, raw: str) -> None:
        found = split_track_cell(raw)
        source = found[1] if found is not None else raw
        try:
            names = infer.analyse_cell(source)
        except SyntaxError:
            # IPython syntax (magics, !shell): analyse the Python it becomes.
            try:
                names = infer.analyse_cell(self.shell.transform_cell(source))
            except SyntaxError:
                return
        self.session.update(names)
