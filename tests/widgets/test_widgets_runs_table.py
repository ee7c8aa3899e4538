"""The run table's data and state: sorting, filtering (with error positions), paging, selection."""

from __future__ import annotations

import re

import pytest

import nbtrack
from nbtrack.errors import InvalidFilter, NotFoundError
from nbtrack.widgets.runs_query import RunsQuery, column_order_key
from nbtrack.widgets.runs_table import RunsTable, show_runs


def _names(table: RunsTable) -> list[str]:
    return [run.info.run_name for run in table.query.runs]


def test_show_runs_lists_the_experiment_newest_first(seeded) -> None:
    table = show_runs("wine", client=seeded.client)
    assert _names(table) == [f"run-{i:02d}" for i in range(11, -1, -1)]
    assert table.query.columns()[:4] == ["status", "run_name", "start_time", "duration"]
    assert {"metrics.rmse", "metrics.loss", "params.alpha", "params.model"} <= set(
        table.query.columns()
    )
    # Every row is in the markup, with a checkbox, and every header sorts.
    assert table.html.count('data-action="select"') == 12
    assert 'data-action="sort" data-key="metrics.rmse"' in table.html
    assert table.live is False


def test_experiment_may_be_named_by_id_or_object_and_unknown_ones_fail(seeded) -> None:
    by_id = show_runs(int(seeded.experiment_id), client=seeded.client)
    by_object = show_runs(seeded.client.get_experiment(seeded.experiment_id), client=seeded.client)
    assert len(by_id.query.runs) == len(by_object.query.runs) == 12
    with pytest.raises(NotFoundError, match="nope"):
        show_runs("nope", client=seeded.client)


def test_a_header_click_sorts_in_the_store_and_a_second_flips_it(seeded) -> None:
    table = show_runs("wine", client=seeded.client)
    table.dispatch({"action": "sort", "key": "metrics.rmse"})
    values = [run.data.metrics["rmse"] for run in table.query.runs]
    assert values == sorted(values)
    assert table.query.order_by == ["metrics.rmse ASC"]
    assert 'aria-sort="ascending"' in table.html
    table.dispatch({"action": "sort", "key": "metrics.rmse"})
    assert [run.data.metrics["rmse"] for run in table.query.runs] == sorted(values, reverse=True)
    assert 'aria-sort="descending"' in table.html
    table.dispatch({"action": "sort", "key": "run_name"})
    assert _names(table) == sorted(_names(table))


def test_sort_keys_use_the_search_grammar() -> None:
    assert column_order_key("metrics.rmse") == "metrics.rmse"
    assert column_order_key("metrics.val loss") == "metrics.`val loss`"
    assert column_order_key("start_time") == "attributes.start_time"
    with pytest.raises(InvalidFilter):
        column_order_key("duration")


def test_a_key_with_a_space_sorts(client: nbtrack.Client) -> None:
    from nbtrack.entities import Metric

    experiment_id = client.create_experiment("spaces")
    for value in (3.0, 1.0, 2.0):
        run_id = client.create_run(experiment_id).info.run_id
        client.log_batch(run_id, metrics=[Metric("val loss", value, 0, 0)])
    table = show_runs("spaces", client=client)
    table.dispatch({"action": "sort", "key": "metrics.val loss"})
    assert [r.data.metrics["val loss"] for r in table.query.runs] == [1.0, 2.0, 3.0]


def test_typing_a_filter_narrows_the_rows(seeded) -> None:
    table = show_runs("wine", client=seeded.client)
    table.filter_string = "params.model = 'rf' and metrics.rmse < 0.2"
    names = _names(table)
    # rf runs are the odd ones; rmse < 0.2 means i >= 5.
    assert sorted(names) == ["run-05", "run-07", "run-09", "run-11"]
    assert table.html.count('data-action="select"') == 4


def test_a_malformed_filter_shows_its_position_and_keeps_the_rows(seeded) -> None:
    table = show_runs("wine", client=seeded.client, filter_string="params.model = 'rf'")
    table.filter_string = "metrics.rmse < 0.5 and and"
    assert re.search(r'data-position="23"', table.html)
    assert "Invalid filter at position 23" in table.html
    assert " " * 23 + "^" in table.html  # the caret under the offending word
    # The previous filter still applies.
    assert table.query.filter_string == "params.model = 'rf'"
    assert len(table.query.runs) == 6
    table.filter_string = ""
    assert len(table.query.runs) == 12 and "Invalid filter" not in table.html


def test_show_runs_with_a_malformed_filter_raises_invalid_filter(seeded) -> None:
    with pytest.raises(InvalidFilter) as info:
        show_runs("wine", filter_string="metrics.rmse <", client=seeded.client)
    assert info.value.position == 14


def test_pages_follow_each_other_and_go_back(seeded) -> None:
    query = RunsQuery(seeded.client, [seeded.experiment_id], page_size=5)
    query.load()
    pages = [[r.info.run_name for r in query.runs]]
    while query.next_token:
        query.next_page()
        pages.append([r.info.run_name for r in query.runs])
    assert [len(p) for p in pages] == [5, 5, 2]
    assert [name for page in pages for name in page] == [f"run-{i:02d}" for i in range(11, -1, -1)]
    query.previous_page()
    assert [r.info.run_name for r in query.runs] == pages[1]
    assert query.first_row() == 6


def test_the_widget_pages_and_sorting_starts_over_from_page_one(seeded) -> None:
    table = show_runs("wine", client=seeded.client, page_size=5)
    table.dispatch({"action": "next"})
    assert table.query.page == 1 and "rows 6–10" in table.html
    table.dispatch({"action": "sort", "key": "metrics.rmse"})
    assert table.query.page == 0 and "rows 1–5" in table.html
    table.dispatch({"action": "previous"})  # nothing before page one
    assert table.query.page == 0


def test_selection_then_compare_shows_the_comparison_of_those_runs(seeded) -> None:
    table = show_runs("wine", client=seeded.client)
    first, second = seeded.run_ids[1], seeded.run_ids[4]
    table.dispatch({"action": "select", "run": first})
    table.dispatch({"action": "select", "run": second})
    assert table.selected == [first, second]
    assert "Compare (2)" in table.html
    table.dispatch({"action": "compare"})
    assert table.comparison is not None
    assert [r.info.run_id for r in table.comparison.runs] == [first, second]
    assert "Compare 2 runs" in table.html
    table.dispatch({"action": "select", "run": first})  # a second click unselects
    assert table.selected == [second]


def test_select_page_selects_and_unselects_every_row(seeded) -> None:
    table = show_runs("wine", client=seeded.client, page_size=4)
    table.dispatch({"action": "select_page"})
    assert len(table.selected) == 4
    table.dispatch({"action": "select_page"})
    assert table.selected == []


def test_columns_can_be_hidden_and_shown(seeded) -> None:
    table = show_runs("wine", client=seeded.client)
    table.dispatch({"action": "toggle_column", "column": "params.alpha"})
    assert "params.alpha" not in table.query.columns(table.hidden_columns)
    assert 'data-key="params.alpha"' not in table.html
    table.dispatch({"action": "toggle_column", "column": "params.alpha"})
    assert 'data-key="params.alpha"' in table.html


def test_a_running_run_makes_the_table_live_and_refresh_shows_new_values(
    client: nbtrack.Client,
) -> None:
    from nbtrack.entities import Metric

    experiment_id = client.create_experiment("live")
    run_id = client.create_run(experiment_id, run_name="training").info.run_id
    client.log_batch(run_id, metrics=[Metric("acc", 0.5, 0, 0)])
    table = show_runs("live", client=client)
    assert table.live is True and "0.5" in table.html
    client.log_batch(run_id, metrics=[Metric("acc", 0.75, 1, 1)])
    table.dispatch({"action": "refresh"})
    assert "0.75" in table.html
    client.set_terminated(run_id)
    table.dispatch({"action": "refresh"})
    assert table.live is False and "FINISHED" in table.html


def test_static_fallback_is_a_plain_html_table_without_controls(seeded) -> None:
    table = show_runs("wine", client=seeded.client)
    data, _ = table._repr_mimebundle_()
    html = data["text/html"].split("</style>", 1)[1]  # the markup after the inline CSS
    assert "application/vnd.jupyter.widget-view+json" in data
    assert html.count("<tr>") == 13  # header + 12 rows
    assert "data-action=" not in html and "<script" not in html
    assert "http://" not in html and "https://" not in html


def test_values_are_escaped(client: nbtrack.Client) -> None:
    from nbtrack.entities import Param

    experiment_id = client.create_experiment("xss")
    run_id = client.create_run(experiment_id, run_name="<b>bold</b>").info.run_id
    client.log_batch(run_id, params=[Param("code", "<script>alert(1)</script>")])
    html = show_runs("xss", client=client).html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>bold" not in html


def test_sort_state_reads_order_items_with_and_without_direction(seeded) -> None:
    query = RunsQuery(seeded.client, [seeded.experiment_id], order_by=["metrics.`val loss`"])
    assert query.sort_state() == ("metrics.val loss", True)
    query.order_by = ["attributes.start_time DESC"]
    assert query.sort_state() == ("start_time", False)
    query.order_by = []
    assert query.sort_state() is None
