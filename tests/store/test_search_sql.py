"""Run search compiled to SQL, executed on a real SQLite file and, when configured, PostgreSQL.

PostgreSQL runs when ``NBTRACK_TEST_POSTGRES_URI`` is set (each test in a fresh
schema). Under ``CI`` a missing URI fails the postgres tests instead of
silently skipping them.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nbtrack.errors import InvalidFilter, InvalidInput
from nbtrack.store import search_filter as sf
from nbtrack.store.sql import schema
from nbtrack.store.sql.search import build_experiment_search_query, build_search_query

POSTGRES_URI = os.environ.get("NBTRACK_TEST_POSTGRES_URI")
BACKENDS = [pytest.param("sqlite", id="sqlite")]
if POSTGRES_URI or os.environ.get("CI"):
    BACKENDS.append(pytest.param("postgres", id="postgres", marks=pytest.mark.postgres))

NAN, INF = float("nan"), float("inf")

# experiment: (name, stage, creation_time, last_update_time)
EXPERIMENTS = {
    1: ("e1", "active", 100, 300),
    2: ("e2", "active", 200, 200),
    3: ("old", "deleted", 50, None),
}
# run: (experiment, name, status, start, end, user, stage)
RUNS = {
    "r1": (1, "alpha-one", "FINISHED", 1000, 2000, "ann", "active"),
    "r2": (1, "Beta-two", "FINISHED", 2000, 3000, "bob", "active"),
    "r3": (1, "gamma", "RUNNING", 3000, None, "bob", "active"),
    "r4": (1, "delta_4", "KILLED", 4000, 4500, "ann", "active"),
    "r5": (1, "epsilon", "FINISHED", None, 7000, "cid", "active"),
    "r6": (1, "zeta", "FINISHED", 6000, 6500, "cid", "active"),
    "r7": (2, "other", "FINISHED", 500, 600, "ann", "active"),
    "r8": (1, "binned", "FINISHED", 800, 900, "ann", "deleted"),
}
PARAMS = {
    "r1": {"model": "rf", "size": "b", "note": "it's"},
    "r2": {"model": "RF", "size": "a"},
    "r3": {"model": "xgb", "size": "c"},
    "r4": {"model": "lin", "pattern": "a*b?[c]"},
    "r6": {"model": "rf", "size": "b"},
    "r7": {"model": "rf"},
    "r8": {"model": "rf"},
}
METRICS = {
    "r1": {"rmse": 0.5, "acc": 0.9},
    "r2": {"rmse": 0.3, "acc": NAN},
    "r3": {"rmse": 0.8, "loss": -INF},
    "r4": {"acc": 0.7},
    "r5": {"rmse": NAN},
    "r6": {"rmse": 0.3, "acc": 0.8},
    "r7": {"rmse": 0.1},
    "r8": {"rmse": 0.2},
}
TAGS = {
    "r1": {"team": "Vision"},
    "r2": {"team": "vision"},
    "r3": {"team": "nlp", "pct": "50%"},
    "r5": {"team": "Vision"},
}
# run: [(dataset name, digest, context)]
INPUTS = {"r1": [("iris", "d1", "train")], "r2": [("iris", "d1", "eval"), ("wine", "d2", "train")]}
TABLES = (
    "experiments",
    "experiment_tags",
    "runs",
    "params",
    "tags",
    "latest_metrics",
    "datasets",
    "run_inputs",
)


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[sa.Engine]:
    """An engine on an empty store: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        eng = sa.create_engine(f"sqlite:///{tmp_path / 'search.db'}")
        schema.SqlBase.metadata.create_all(eng)
        yield eng
        eng.dispose()
        return
    if not POSTGRES_URI:
        pytest.fail("CI is set but NBTRACK_TEST_POSTGRES_URI is not: the postgres tests cannot run")
    name = f"search_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URI)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    eng = sa.create_engine(POSTGRES_URI, connect_args={"options": f"-csearch_path={name}"})
    try:
        schema.SqlBase.metadata.create_all(eng)
        yield eng
    finally:
        eng.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


@pytest.fixture
def store(engine: sa.Engine) -> sa.Engine:
    """The engine, with the runs above inserted."""
    with engine.begin() as conn:
        conn.execute(
            sa.insert(schema.experiments),
            [
                dict(
                    experiment_id=i,
                    name=name,
                    artifact_location="/a",
                    lifecycle_stage=stage,
                    creation_time=created,
                    last_update_time=updated,
                )
                for i, (name, stage, created, updated) in EXPERIMENTS.items()
            ],
        )
        conn.execute(
            sa.insert(schema.experiment_tags),
            [
                {"experiment_id": 1, "key": "team", "value": "Vision"},
                {"experiment_id": 2, "key": "team", "value": "nlp"},
            ],
        )
        conn.execute(
            sa.insert(schema.runs),
            [
                dict(
                    run_uuid=rid,
                    experiment_id=exp,
                    name=name,
                    status=status,
                    start_time=start,
                    end_time=end,
                    user_id=user,
                    lifecycle_stage=stage,
                    artifact_uri=f"/a/{exp}/{rid}/artifacts",
                )
                for rid, (exp, name, status, start, end, user, stage) in RUNS.items()
            ],
        )
        conn.execute(
            sa.insert(schema.params),
            [
                {"run_uuid": r, "key": k, "value": v}
                for r, kv in PARAMS.items()
                for k, v in kv.items()
            ],
        )
        conn.execute(
            sa.insert(schema.tags),
            [
                {"run_uuid": r, "key": k, "value": v}
                for r, kv in TAGS.items()
                for k, v in kv.items()
            ],
        )
        conn.execute(
            sa.insert(schema.latest_metrics),
            [
                dict(
                    run_uuid=r,
                    key=k,
                    value=None if math.isnan(v) else v,
                    is_nan=math.isnan(v),
                    timestamp=0,
                    step=0,
                )
                for r, kv in METRICS.items()
                for k, v in kv.items()
            ],
        )
        datasets = {(n, d) for items in INPUTS.values() for n, d, _ in items}
        conn.execute(
            sa.insert(schema.datasets),
            [
                {"dataset_uuid": f"{n}-{d}", "experiment_id": 1, "name": n, "digest": d}
                for n, d in datasets
            ],
        )
        conn.execute(
            sa.insert(schema.run_inputs),
            [
                {
                    "run_uuid": r,
                    "dataset_uuid": f"{n}-{d}",
                    "tags": json.dumps({"mlflow.data.context": ctx}),
                }
                for r, items in INPUTS.items()
                for n, d, ctx in items
            ],
        )
    return engine


def search(
    eng: sa.Engine,
    filter_string: str = "",
    order_by: list[str] | None = None,
    *,
    experiments: tuple[int, ...] = (1,),
    stages: tuple[str, ...] = ("active",),
    offset: int = 0,
    limit: int = 100,
) -> list[str]:
    query = build_search_query(list(experiments), filter_string, stages, order_by, offset, limit)
    with eng.connect() as conn:
        return [row.run_uuid for row in conn.execute(query)]


def matching(eng: sa.Engine, filter_string: str) -> set[str]:
    return set(search(eng, filter_string))


DEFAULT_ORDER = ["r6", "r4", "r3", "r2", "r1", "r5"]  # start_time DESC, missing last


def test_no_filter_returns_every_active_run_newest_first(store: sa.Engine) -> None:
    assert search(store) == DEFAULT_ORDER
    assert search(store, "   ") == DEFAULT_ORDER


def test_rows_are_the_runs_columns_in_table_order(store: sa.Engine) -> None:
    query = build_search_query([1], "run_name = 'gamma'", ("active",), None, 0, 10)
    with store.connect() as conn:
        result = conn.execute(query)
        assert list(result.keys()) == [c.name for c in schema.runs.c]
        assert result.one().name == "gamma"


def test_experiments_and_stages(store: sa.Engine) -> None:
    assert set(search(store, experiments=(1, 2))) == {*DEFAULT_ORDER, "r7"}
    assert search(store, experiments=(2,)) == ["r7"]
    assert search(store, experiments=()) == []
    assert search(store, stages=("deleted",)) == ["r8"]
    assert set(search(store, "params.model = 'rf'", stages=("active", "deleted"))) == {
        "r1",
        "r6",
        "r8",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # metrics: NaN never satisfies a comparison; a missing key never does either
        ("metrics.rmse < 0.6", {"r1", "r2", "r6"}),
        ("metrics.rmse <= 0.3", {"r2", "r6"}),
        ("metrics.rmse = 0.3", {"r2", "r6"}),
        ("metrics.rmse != 0.3", {"r1", "r3"}),
        ("metrics.rmse > 0.5", {"r3"}),
        ("metrics.rmse >= 0.5", {"r1", "r3"}),
        ("metrics.rmse < 1e999", {"r1", "r2", "r3", "r6"}),
        ("metrics.loss < -1e300", {"r3"}),
        ("metrics.acc > -1", {"r1", "r4", "r6"}),
        ("metrics.rmse IS NULL", {"r4"}),
        ("metrics.acc IS NOT NULL", {"r1", "r2", "r4", "r6"}),
        # params and tags: case-sensitive =, != needs the key
        ("params.model = 'rf'", {"r1", "r6"}),
        ("params.model != 'rf'", {"r2", "r3", "r4"}),
        ("params.model IN ('rf', 'xgb')", {"r1", "r3", "r6"}),
        ("params.model NOT IN ('rf', 'xgb')", {"r2", "r4"}),
        ("params.model IS NULL", {"r5"}),
        ("params.size IS NOT NULL", {"r1", "r2", "r3", "r6"}),
        ("params.note = 'it''s'", {"r1"}),
        ("params.model = 'rf'' OR ''1''=''1'", set()),
        ("tags.team = 'Vision'", {"r1", "r5"}),
        ("tags.team != 'Vision'", {"r2", "r3"}),
        ("tags.pct IS NULL", {"r1", "r2", "r4", "r5", "r6"}),
        # LIKE is case-sensitive everywhere, ILIKE is not
        ("params.model LIKE 'r%'", {"r1", "r6"}),
        ("params.model LIKE 'R_'", {"r2"}),
        ("params.model ILIKE 'r%'", {"r1", "r2", "r6"}),
        ("tags.team LIKE 'V_sion'", {"r1", "r5"}),
        ("tags.team ILIKE 'VISION'", {"r1", "r2", "r5"}),
        ("tags.team LIKE '%'", {"r1", "r2", "r3", "r5"}),
        # a backslash escapes the wildcards; GLOB's own wildcards are plain text
        ("tags.pct LIKE '50\\%'", {"r3"}),
        ("tags.pct LIKE '5\\_%'", set()),
        ("tags.pct ILIKE '50\\%'", {"r3"}),
        ("params.pattern LIKE 'a*b?[c]'", {"r4"}),
        ("params.pattern LIKE 'a*b%'", {"r4"}),
        ("params.pattern LIKE 'ab%'", set()),
        ("params.pattern LIKE 'a_b%'", {"r4"}),
        ("params.pattern LIKE '%[c]'", {"r4"}),
        # attributes
        ("attributes.status = 'FINISHED'", {"r1", "r2", "r5", "r6"}),
        ("status != 'FINISHED'", {"r3", "r4"}),
        ("attributes.status IN ('KILLED', 'RUNNING')", {"r3", "r4"}),
        ("attributes.run_id = 'r2'", {"r2"}),
        ("attributes.run_id NOT IN ('r1', 'r2')", {"r3", "r4", "r5", "r6"}),
        ("attributes.run_name LIKE '%a%'", {"r1", "r2", "r3", "r4", "r6"}),
        ("attributes.run_name ILIKE 'beta%'", {"r2"}),
        ("tags.mlflow.runName = 'gamma'", {"r3"}),
        ("attributes.user_id = 'ann'", {"r1", "r4"}),
        ("attributes.artifact_uri LIKE '%/r1/%'", {"r1"}),
        ("attributes.start_time >= 3000", {"r3", "r4", "r6"}),
        ("attributes.start_time > 2999.5", {"r3", "r4", "r6"}),
        ("attributes.start_time = 2999.5", set()),
        ("attributes.end_time IS NULL", {"r3"}),
        ("attributes.start_time IS NULL", {"r5"}),
        ("attributes.end_time != 2000", {"r2", "r4", "r5", "r6"}),
        # datasets
        ("datasets.name = 'iris'", {"r1", "r2"}),
        ("datasets.digest = 'd2'", {"r2"}),
        ("datasets.context = 'train'", {"r1", "r2"}),
        ("datasets.context = 'eval'", {"r2"}),
        ("datasets.name IN ('wine', 'moon')", {"r2"}),
        ("datasets.name LIKE 'W%'", set()),
        ("datasets.name ILIKE 'W%'", {"r2"}),
        ("datasets.name != 'iris'", {"r2"}),
        # composition
        ("params.model = 'rf' and metrics.rmse < 0.4", {"r6"}),
        ("params.model = 'rf' or metrics.rmse > 0.7", {"r1", "r3", "r6"}),
        ("params.model = 'rf' or params.model = 'xgb' and metrics.rmse < 0.6", {"r1", "r6"}),
        ("(params.model = 'rf' or params.model = 'xgb') and metrics.rmse < 0.6", {"r1", "r6"}),
        ("(params.model = 'rf' or params.model = 'xgb') and metrics.rmse > 0.6", {"r3"}),
        ("metrics.rmse IS NULL or tags.team = 'nlp'", {"r3", "r4"}),
        ("(metrics.rmse IS NULL or tags.team = 'nlp') and status = 'KILLED'", {"r4"}),
        ("((((datasets.name = 'wine'))) and (datasets.context = 'train'))", {"r2"}),
    ],
)
def test_filters(store: sa.Engine, text: str, expected: set[str]) -> None:
    assert matching(store, text) == expected


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        # missing values last both ways; NaN just before them; ties by start_time DESC
        (["metrics.rmse ASC"], ["r6", "r2", "r1", "r3", "r5", "r4"]),
        (["metrics.rmse"], ["r6", "r2", "r1", "r3", "r5", "r4"]),
        (["metrics.rmse DESC"], ["r3", "r1", "r6", "r2", "r5", "r4"]),
        (["metrics.acc DESC"], ["r1", "r6", "r4", "r2", "r3", "r5"]),
        (["params.size ASC"], ["r2", "r6", "r1", "r3", "r4", "r5"]),
        (["params.size DESC"], ["r3", "r6", "r1", "r2", "r4", "r5"]),
        (["tags.pct DESC"], ["r3", "r6", "r4", "r2", "r1", "r5"]),
        (["params.size", "metrics.rmse DESC"], ["r2", "r1", "r6", "r3", "r5", "r4"]),
        (["params.size", "metrics.rmse", "params.size DESC"], ["r2", "r6", "r1", "r3", "r5", "r4"]),
        (["attributes.start_time ASC"], ["r1", "r2", "r3", "r4", "r6", "r5"]),
        (["start_time DESC"], ["r6", "r4", "r3", "r2", "r1", "r5"]),
        (["attributes.end_time"], ["r1", "r2", "r4", "r6", "r5", "r3"]),
        (["status", "user_id DESC"], ["r6", "r5", "r2", "r1", "r4", "r3"]),
        (["run_id DESC"], ["r6", "r5", "r4", "r3", "r2", "r1"]),
        ([], DEFAULT_ORDER),
        (None, DEFAULT_ORDER),
    ],
)
def test_order_by(store: sa.Engine, order_by: list[str] | None, expected: list[str]) -> None:
    assert search(store, order_by=order_by) == expected


def test_filter_and_order_on_the_same_metric(store: sa.Engine) -> None:
    got = search(store, "metrics.rmse < 0.6 or metrics.rmse IS NULL", ["metrics.rmse DESC"])
    assert got == ["r1", "r6", "r2", "r4"]


@pytest.mark.parametrize(
    "order_by", [None, ["metrics.rmse"], ["metrics.rmse DESC"], ["params.size"], ["status"]]
)
def test_paging_is_deterministic(store: sa.Engine, order_by: list[str] | None) -> None:
    full = search(store, order_by=order_by, experiments=(1, 2))
    pages = [
        search(store, order_by=order_by, experiments=(1, 2), offset=o, limit=2)
        for o in (0, 2, 4, 6)
    ]
    assert [run for page in pages for run in page] == full
    assert [len(p) for p in pages] == [2, 2, 2, 1]
    assert search(store, order_by=order_by, offset=100) == []
    assert search(store, order_by=order_by, limit=0) == []


def test_user_text_is_bound_never_inlined() -> None:
    evil = "x'; DROP TABLE runs; --"
    quoted = "'" + evil.replace("'", "''") + "'"
    text = f"params.`{evil}` = {quoted} or tags.t LIKE {quoted} or datasets.name IN ({quoted})"
    query = build_search_query([1], text, ("active",), [f"metrics.`{evil}` DESC"], 0, 5)
    compiled = query.compile()
    assert "DROP" not in str(compiled)
    assert evil in compiled.params.values()


def test_like_queries_reuse_the_compiled_sql_with_new_patterns(store: sa.Engine) -> None:
    # the same statement shape with different patterns must not reuse stale values
    assert matching(store, "params.model LIKE 'r%'") == {"r1", "r6"}
    assert matching(store, "params.model LIKE 'x%'") == {"r3"}
    assert matching(store, "params.model LIKE 'l%'") == {"r4"}


def test_large_filters_run(store: sa.Engine) -> None:
    many = " or ".join(f"params.model = 'm{i}'" for i in range(sf.MAX_COMPARISONS - 1))
    assert matching(store, many + " or params.model = 'xgb'") == {"r3"}
    deep = "metrics.rmse > 0.7"
    for i in range(sf.MAX_DEPTH):
        deep = f"(params.k{i} = 'x' {'or' if i % 2 else 'and'} {deep})"
    assert matching(store, deep) == set()
    values = ", ".join(f"'v{i}'" for i in range(sf.MAX_VALUES - 1))
    assert matching(store, f"params.model IN ({values}, 'lin')") == {"r4"}


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"filter_string": "metrics.x = 'a'"}, InvalidFilter),
        ({"order_by": ["metrics.x UP"]}, InvalidFilter),
        ({"offset": -1}, InvalidInput),
        ({"limit": -5}, InvalidInput),
        ({"limit": 1.5}, InvalidInput),
    ],
)
def test_bad_arguments(kwargs: dict[str, Any], error: type[Exception]) -> None:
    args: dict[str, Any] = dict(
        experiment_ids=[1], filter_string="", stages=("active",), order_by=None, offset=0, limit=5
    )
    with pytest.raises(error):
        build_search_query(**{**args, **kwargs})


def experiments(
    eng: sa.Engine,
    filter_string: str = "",
    order_by: list[str] | None = None,
    stages: tuple[str, ...] = ("active",),
) -> list[int]:
    query = build_experiment_search_query(filter_string, stages, order_by, 0, 10)
    with eng.connect() as conn:
        return [row.experiment_id for row in conn.execute(query)]


@pytest.mark.parametrize(
    ("text", "order_by", "expected"),
    [
        ("", None, [1, 2]),  # last_update_time DESC
        ("", ["name DESC"], [2, 1]),
        ("", ["attributes.creation_time"], [1, 2]),
        ("name = 'e2'", None, [2]),
        ("name LIKE 'E%'", None, []),
        ("attributes.name ILIKE 'E%'", None, [1, 2]),
        ("tags.team = 'nlp'", None, [2]),
        ("tags.team ILIKE 'VISION'", None, [1]),
        ("tags.owner IS NULL", None, [1, 2]),
        ("creation_time > 150", None, [2]),
        ("tags.team = 'nlp' or name = 'e1'", ["name"], [1, 2]),
        ("(tags.team = 'nlp' or name = 'e1') and last_update_time < 250", None, [2]),
    ],
)
def test_experiment_search(
    store: sa.Engine, text: str, order_by: list[str] | None, expected: list[int]
) -> None:
    assert experiments(store, text, order_by) == expected


def test_experiment_search_stages_and_errors(store: sa.Engine) -> None:
    assert experiments(store, stages=("deleted",)) == [3]
    assert experiments(store, stages=("active", "deleted")) == [1, 2, 3]
    with pytest.raises(InvalidFilter):
        experiments(store, "metrics.x < 1")
    with pytest.raises(InvalidFilter):
        experiments(store, "", ["tags.team"])


# -- fuzzing ----------------------------------------------------------------------

ATTACKS = [
    "'; DROP TABLE runs; --",
    "params.model = ''; DROP TABLE runs; --'",
    "params.model = 'x'; DROP TABLE runs; --",
    "1 OR 1=1",
    "metrics.rmse < 1 OR 1=1",
    "params.model = 'x' OR '1'='1'",
    "params.`model' OR '1'='1` = 'x'",
    'params."model"" OR 1=1 --" = \'x\'',
    "attributes.run_id = 'r1' UNION SELECT * FROM runs",
    "metrics.rmse < 1; DELETE FROM params",
    "tags.team LIKE '%' ESCAPE '\\'",
    "metrics.rmse < 0x10",
    "metrics.rmse < 1e99999",
    "params.x = '\x00'",
    "params.x = 'é日本\u202e'",
    "(" * 500 + "metrics.rmse < 1" + ")" * 500,
    "(" * 33,
    ")" * 3,
    "params.model IN (" + "'a'," * 3 + ")",
    "datasets.context = '\") OR 1=1 --'",
    "tags.`` = ''",
]


def _counts(eng: sa.Engine) -> dict[str, int]:
    with eng.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


_fuzz_pieces = st.sampled_from(
    [
        "metrics.rmse",
        "params.model",
        "tags.team",
        "attributes.status",
        "datasets.name",
        "start_time",
        "=",
        "!=",
        "<",
        ">=",
        "LIKE",
        "ILIKE",
        "IN",
        "NOT",
        "IS",
        "NULL",
        "AND",
        "OR",
        "(",
        ")",
        ",",
        "'rf'",
        "'%'",
        "'\\'",
        "0.5",
        "-1e9",
        "`x y`",
        '"q"',
        ";",
        "--",
        "DROP TABLE runs",
    ]
)
_fuzz = (
    st.sampled_from(ATTACKS)
    | st.text(max_size=60)
    | st.lists(_fuzz_pieces, max_size=12).map(" ".join)
    | st.tuples(st.sampled_from(["params.model", "tags.team", "datasets.name"]), st.text()).map(
        lambda t: f"{t[0]} LIKE '{t[1].replace(chr(39), chr(39) * 2)}'"
    )
)


@settings(
    max_examples=150,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=_fuzz, order=st.lists(_fuzz_pieces | st.text(max_size=12), max_size=2))
def test_fuzzed_filters_only_raise_invalid_filter(
    store: sa.Engine, text: str, order: list[str]
) -> None:
    before = _counts(store)
    for attempt in (
        lambda: search(store, text, order),
        lambda: search(store, text),
        lambda: experiments(store, text, order),
    ):
        with contextlib.suppress(InvalidFilter):
            attempt()
    assert _counts(store) == before
