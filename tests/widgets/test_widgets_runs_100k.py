"""The run table over 100,000 runs: sorting, filtering and paging happen in the store.

The store is seeded once for the module through ``Client.create_run`` +
``Client.log_batch`` (about 20 s). Run i has ``metrics.m = i / 2`` (unique),
``params.p = str(i % 7)`` and started at ``T0 + i`` ms.
"""

from __future__ import annotations

import pytest

import nbtrack
from nbtrack.entities import Metric, Param
from nbtrack.errors import InvalidFilter
from nbtrack.widgets.runs_query import RunsQuery
from nbtrack.widgets.runs_table import show_runs

pytestmark = pytest.mark.slow

N = 100_000
T0 = 1_700_000_000_000


@pytest.fixture(scope="module")
def big_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    uri = str(tmp_path_factory.mktemp("big") / "store")
    client = nbtrack.Client(uri)
    experiment_id = client.create_experiment("big")
    for i in range(N):
        run_id = client.create_run(experiment_id, start_time=T0 + i, run_name=f"r{i}").info.run_id
        client.log_batch(
            run_id, metrics=[Metric("m", i / 2, T0, 0)], params=[Param("p", str(i % 7))]
        )
    return uri


def test_first_page_is_the_newest_runs(big_store: str) -> None:
    table = show_runs("big", client=nbtrack.Client(big_store))
    assert [r.info.run_name for r in table.query.runs] == [
        f"r{i}" for i in range(N - 1, N - 51, -1)
    ]
    assert table.query.next_token is not None
    assert "rows 1–50" in table.html


def test_sorting_100k_runs_by_a_metric_returns_the_extremes(big_store: str) -> None:
    table = show_runs("big", client=nbtrack.Client(big_store))
    table.dispatch({"action": "sort", "key": "metrics.m"})
    assert [r.data.metrics["m"] for r in table.query.runs] == [i / 2 for i in range(50)]
    table.dispatch({"action": "sort", "key": "metrics.m"})
    assert [r.data.metrics["m"] for r in table.query.runs] == [
        i / 2 for i in range(N - 1, N - 51, -1)
    ]
    table.dispatch({"action": "next"})
    assert table.query.runs[0].data.metrics["m"] == (N - 51) / 2


def test_filtering_100k_runs(big_store: str) -> None:
    table = show_runs("big", client=nbtrack.Client(big_store))
    table.filter_string = "params.p = '3' and metrics.m >= 49000"
    expected = [i for i in range(98_000, N) if i % 7 == 3]
    got = [int(r.info.run_name[1:]) for r in table.query.runs]
    assert got == sorted(expected, reverse=True)[:50]
    table.filter_string = "params.p = '3' and metrics.m >="
    assert "Invalid filter at position 31" in table.html
    assert [int(r.info.run_name[1:]) for r in table.query.runs] == got


def test_paging_through_all_100k_runs_visits_each_once(big_store: str) -> None:
    query = RunsQuery(nbtrack.Client(big_store), ["1"], page_size=10_000)
    query.load()
    seen = {r.info.run_id for r in query.runs}
    pages = 1
    while query.next_token:
        query.next_page()
        seen.update(r.info.run_id for r in query.runs)
        pages += 1
    assert pages == 10 and len(seen) == N
    assert query.next_token is None


def test_a_bad_filter_on_the_big_store_raises_with_its_position(big_store: str) -> None:
    with pytest.raises(InvalidFilter) as info:
        show_runs("big", filter_string="metrics.m <> ", client=nbtrack.Client(big_store))
    assert info.value.position == 13
