"""The kernel's execution log and ``lineage(run_id)``: store, write-behind log, in-process shell."""

from __future__ import annotations

from typing import Any

import pytest

import nbtrack
from nbtrack.entities import CellExecution
from nbtrack.errors import NotFoundError
from nbtrack.magics._lineage import LineageLog
from nbtrack.tracking.lineage import lineage, lineage_script


def test_store_keeps_executions_per_session_in_order(client: Any) -> None:
    first = [CellExecution("s1", f"c{i}", i, f"x = {i}", 1000 + i, 0.5, i != 2) for i in range(5)]
    client.log_cell_executions(first[:3])
    client.log_cell_executions([CellExecution("s2", None, None, "y = 1", 5, None, None)])
    client.log_cell_executions(first[3:])
    assert client.get_cell_executions("s1") == first
    assert client.get_cell_executions("s1", 2) == first[:2]
    assert [e.source for e in client.get_cell_executions("s2")] == ["y = 1"]
    assert client.get_cell_executions("nope") == []


class _FailingClient:
    def log_cell_executions(self, executions: Any) -> None:
        raise OSError("disk full")


class _ListClient:
    def __init__(self) -> None:
        self.written: list[CellExecution] = []

    def log_cell_executions(self, executions: Any) -> None:
        self.written.extend(executions)


def test_log_writes_behind_and_keeps_what_it_could_not_write() -> None:
    log = LineageLog("sess", batch=2)
    log.record("a = 1", 1, 0.1, True, cell_id="c1", execution_count=1)
    assert not log.due()
    log.record("b = 2", 2, 0.1, False)
    assert log.due() and log.count == 2
    with pytest.raises(OSError):
        log.flush(_FailingClient())
    log.record("c = 3", 3, 0.1, True)
    sink = _ListClient()
    log.flush(sink)
    assert [e.source for e in sink.written] == ["a = 1", "b = 2", "c = 3"]
    assert sink.written[0] == CellExecution("sess", "c1", 1, "a = 1", 1, 0.1, True)
    assert not log.due()


def test_lineage_of_a_tracked_cell_in_execution_order(ip: Any) -> None:
    ip.run_cell("a = 1", store_history=True)
    ip.run_cell("b = a + 1", store_history=True)
    ip.run_cell("1 / 0", store_history=True)
    ip.run_cell("a = 5", store_history=True)  # out of order: re-binds a after b was computed
    ip.run_cell("%%track --quiet\nc = a + b\n", store_history=True)
    run = nbtrack.last_active_run()
    assert run is not None
    executions = lineage(run.info.run_id)
    assert [e.source for e in executions] == [
        "a = 1",
        "b = a + 1",
        "1 / 0",
        "a = 5",
        "%%track --quiet\nc = a + b\n",
    ]
    assert [e.ok for e in executions] == [True, True, False, True, True]
    counts = [e.execution_count for e in executions]
    assert counts == sorted(counts) and len(set(counts)) == 5
    assert run.data.tags["nbtrack.lineage.start"] == "4"
    assert run.data.tags["nbtrack.lineage.end"] == "5"

    script = lineage_script(executions)
    assert "# %%track --quiet" in script
    namespace: dict[str, Any] = {}
    with pytest.raises(ZeroDivisionError):
        exec(script, namespace)  # the replay fails where the kernel failed
    replay = script.replace("1 / 0", "pass")
    exec(replay, namespace)
    assert namespace["c"] == ip.user_ns["c"] == 7

    # A later run's lineage extends the earlier one; re-executions appear as they ran.
    ip.run_cell("%%track --quiet\nc = a + b\n", store_history=True)
    later = nbtrack.last_active_run()
    assert later is not None
    sources = [e.source for e in lineage(later.info.run_id)]
    assert sources[:5] == [e.source for e in executions]
    assert sources[5:] == ["%%track --quiet\nc = a + b\n"]


def test_runs_without_lineage_say_so(client: Any) -> None:
    with nbtrack.start_run() as run:
        pass
    with pytest.raises(NotFoundError, match="no lineage"):
        lineage(run.info.run_id)


def test_loading_and_unloading_without_cells_creates_no_store(tmp_dir: Any) -> None:
    from IPython.testing.globalipapp import get_ipython

    shell = get_ipython()
    shell.reset(new_session=True)
    shell.run_line_magic("load_ext", "nbtrack")
    shell.run_line_magic("unload_ext", "nbtrack")
    assert not (tmp_dir / ".nbtrack").exists()


def test_cells_run_before_loading_are_in_the_lineage(ip: Any) -> None:
    ip.run_line_magic("unload_ext", "nbtrack")
    ip.reset(new_session=True)
    ip.run_cell("import math", store_history=True)
    ip.run_cell("r = math.sqrt(4)", store_history=True)
    ip.run_cell("%load_ext nbtrack", store_history=True)
    ip.run_cell("%%track --quiet\ns = r * 2\n", store_history=True)
    run = nbtrack.last_active_run()
    assert run is not None
    executions = lineage(run.info.run_id)
    assert [(e.source, e.execution_count, e.ok) for e in executions[:3]] == [
        ("import math", 1, None),
        ("r = math.sqrt(4)", 2, None),
        ("%load_ext nbtrack", 3, None),
    ]
    assert [(e.source, e.execution_count, e.ok) for e in executions[3:]] == [
        ("%%track --quiet\ns = r * 2\n", 4, True)
    ]
    namespace: dict[str, Any] = {}
    exec(lineage_script(executions), namespace)
    assert namespace["s"] == 4.0


def test_runs_started_in_code_record_their_lineage(ip: Any) -> None:
    ip.run_cell("import nbtrack as nbt", store_history=True)
    ip.run_cell("a = 1", store_history=True)
    ip.run_cell("run = nbt.start_run(run_name='across-cells')", store_history=True)
    ip.run_cell("a = 2", store_history=True)
    ip.run_cell("nbt.log_metric('a', a)\nnbt.end_run()", store_history=True)
    ip.run_cell("after = True", store_history=True)
    ip.run_cell("with nbt.start_run(run_name='one-cell') as inner:\n    b = a + 1\n")
    across, one_cell = (nbtrack.get_run(ip.user_ns[n].info.run_id) for n in ("run", "inner"))

    assert across.data.tags["nbtrack.lineage.start"] == "2"
    assert across.data.tags["nbtrack.lineage.end"] == "5"
    # Up to and including the cell that ended the run, not what came after.
    assert [e.source for e in lineage(across.info.run_id)] == [
        "import nbtrack as nbt",
        "a = 1",
        "run = nbt.start_run(run_name='across-cells')",
        "a = 2",
        "nbt.log_metric('a', a)\nnbt.end_run()",
    ]
    sources = [e.source for e in lineage(one_cell.info.run_id)]
    assert len(sources) == 7 and sources[-1].startswith("with nbt.start_run(")
    session = across.data.tags["nbtrack.lineage.session_id"]
    assert one_cell.data.tags["nbtrack.lineage.session_id"] == session


def test_tracked_cell_run_keeps_its_own_positions(ip: Any) -> None:
    ip.run_cell("x = 1")
    ip.run_cell(
        "%%track --quiet\nimport nbtrack as nbt\nwith nbt.start_run(nested=True):\n    y = 2\n"
    )
    runs = nbtrack.search_runs(output_format="list", order_by=["attributes.start_time ASC"])
    assert isinstance(runs, list) and len(runs) == 2
    tracked, nested = runs
    assert tracked.data.tags["nbtrack.lineage.start"] == "1"
    assert tracked.data.tags["nbtrack.lineage.end"] == "2"
    assert nested.data.tags["nbtrack.parent_run_id"] == tracked.info.run_id
    assert nested.data.tags["nbtrack.lineage.end"] == "2"
    assert [e.source for e in lineage(nested.info.run_id)][-1].startswith("%%track")


def test_runs_ended_at_unload_or_started_before_load(ip: Any) -> None:
    ip.run_line_magic("unload_ext", "nbtrack")
    try:
        with nbtrack.start_run() as before:
            pass
    finally:
        ip.run_line_magic("load_ext", "nbtrack")
    assert "nbtrack.lineage.session_id" not in nbtrack.get_run(before.info.run_id).data.tags
    from nbtrack.tracking import fluent

    ip.run_line_magic("unload_ext", "nbtrack")
    try:
        assert fluent.run_start_hooks == [] and fluent.run_end_hooks == []
    finally:
        ip.run_line_magic("load_ext", "nbtrack")
