"""The search filter parser: every construct, every error and where it points."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbtrack.errors import InvalidFilter
from nbtrack.store import search_filter as sf
from nbtrack.store.search_filter import (
    And,
    Comparison,
    Or,
    OrderBy,
    parse_experiment_filter,
    parse_experiment_order_by,
    parse_filter,
    parse_order_by,
)


def C(entity: str, key: str, op: str, value: object = None, position: int = 0) -> Comparison:
    return Comparison(entity, key, op, value, position)  # type: ignore[arg-type]


def strip(node: object) -> object:
    """The AST without positions, to compare structure only."""
    if isinstance(node, Comparison):
        return (node.entity, node.key, node.op, node.value)
    if isinstance(node, (And, Or)):
        return (type(node).__name__, tuple(strip(i) for i in node.items))
    return node


@pytest.mark.parametrize("text", [None, "", "   ", "\n\t "])
def test_empty_filter_is_no_filter(text: str | None) -> None:
    assert parse_filter(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metrics.rmse < 0.5", C("metrics", "rmse", "<", 0.5)),
        ("metric.rmse >= -1", C("metrics", "rmse", ">=", -1.0)),
        ("params.model = 'rf'", C("params", "model", "=", "rf")),
        ('param.model != "rf"', C("params", "model", "!=", "rf")),
        ("parameters.model = 'rf'", C("params", "model", "=", "rf")),
        ("tags.team LIKE 'a%'", C("tags", "team", "LIKE", "a%")),
        ("tag.team ILIKE 'A%'", C("tags", "team", "ILIKE", "A%")),
        ("attributes.status = 'FINISHED'", C("attributes", "status", "=", "FINISHED")),
        ("attribute.run_id = 'abc'", C("attributes", "run_id", "=", "abc")),
        ("attr.run_name = 'x'", C("attributes", "run_name", "=", "x")),
        ("run.user_id = 'ann'", C("attributes", "user_id", "=", "ann")),
        ("attributes.artifact_uri LIKE '%x'", C("attributes", "artifact_uri", "LIKE", "%x")),
        ("attributes.start_time > 1700000000000", C("attributes", "start_time", ">", 1.7e12)),
        ("attributes.end_time IS NULL", C("attributes", "end_time", "IS NULL")),
        ("attributes.created > 5", C("attributes", "start_time", ">", 5.0)),
        ("attributes.`Run Name` = 'x'", C("attributes", "run_name", "=", "x")),
        ("attributes.Status = 'x'", C("attributes", "status", "=", "x")),
        ("status = 'FINISHED'", C("attributes", "status", "=", "FINISHED")),
        ("run_name = 'x'", C("attributes", "run_name", "=", "x")),
        ("tags.mlflow.runName = 'x'", C("attributes", "run_name", "=", "x")),
        ("tags.mlflow.note = 'x'", C("tags", "mlflow.note", "=", "x")),
        ("params.model.lr = '0.1'", C("params", "model.lr", "=", "0.1")),
        ("metrics.train/loss < 1", C("metrics", "train/loss", "<", 1.0)),
        ("metrics.f1-score > .5", C("metrics", "f1-score", ">", 0.5)),
        ("metrics.`my metric` > 1e-3", C("metrics", "my metric", ">", 1e-3)),
        ('metrics."my metric" > 2E+2', C("metrics", "my metric", ">", 200.0)),
        ("Metrics.x = 1", C("metrics", "x", "=", 1.0)),
        ("metrics.é = 1", C("metrics", "é", "=", 1.0)),
        ("datasets.name = 'iris'", C("datasets", "name", "=", "iris")),
        ("dataset.digest IN ('a', 'b')", C("datasets", "digest", "IN", ("a", "b"))),
        ("datasets.context != 'train'", C("datasets", "context", "!=", "train")),
        ("metrics.x == 1", C("metrics", "x", "=", 1.0)),
        ("metrics.x <> 1", C("metrics", "x", "!=", 1.0)),
        ("metrics.x<=1", C("metrics", "x", "<=", 1.0)),
        ("metrics.x>+1", C("metrics", "x", ">", 1.0)),
        ("metrics.x > 1e999", C("metrics", "x", ">", float("inf"))),
        ("metrics.x is null", C("metrics", "x", "IS NULL")),
        ("params.x IS NOT NULL", C("params", "x", "IS NOT NULL")),
        ("tags.x Is Not Null", C("tags", "x", "IS NOT NULL")),
        ("params.x in ('a')", C("params", "x", "IN", ("a",))),
        ("params.x not in ('a','b' , \"c\")", C("params", "x", "NOT IN", ("a", "b", "c"))),
        ("params.x like 'a'", C("params", "x", "LIKE", "a")),
        ("params.x = ''", C("params", "x", "=", "")),
        ("params.x = 'it''s'", C("params", "x", "=", "it's")),
        ("params.x = 'it\\'s'", C("params", "x", "=", "it's")),
        ('params.x = "say \\"hi\\""', C("params", "x", "=", 'say "hi"')),
        ("params.x = 'a\\\\b'", C("params", "x", "=", "a\\b")),
        # A backslash before anything else is kept: it escapes LIKE wildcards.
        ("params.x LIKE '50\\%'", C("params", "x", "LIKE", "50\\%")),
        ("params.x = 'a b ( ) , = ; --'", C("params", "x", "=", "a b ( ) , = ; --")),
        ("params.x = '日本'", C("params", "x", "=", "日本")),
    ],
)
def test_one_comparison(text: str, expected: Comparison) -> None:
    assert parse_filter(text) == expected


def test_positions_point_at_each_comparison() -> None:
    node = parse_filter("metrics.a < 1 and  params.b = 'x'")
    assert isinstance(node, And)
    assert [c.position for c in node.items] == [0, 19]  # type: ignore[union-attr]


def test_and_binds_tighter_than_or() -> None:
    a, b, c = "metrics.a = 1", "metrics.b = 2", "metrics.c = 3"
    got = strip(parse_filter(f"{a} OR {b} and {c}"))
    ca, cb, cc = (("metrics", k, "=", v) for k, v in (("a", 1.0), ("b", 2.0), ("c", 3.0)))
    assert got == ("Or", (ca, ("And", (cb, cc))))
    assert strip(parse_filter(f"({a} or {b}) AND {c}")) == ("And", (("Or", (ca, cb)), cc))


def test_nested_same_operators_are_flattened() -> None:
    got = strip(parse_filter("metrics.a = 1 and (metrics.b = 2 and (metrics.c = 3))"))
    assert got[0] == "And" and len(got[1]) == 3  # type: ignore[index]
    assert strip(parse_filter("((metrics.a = 1))")) == ("metrics", "a", "=", 1.0)


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("foo.x = 1", 0, "unknown entity 'foo'"),
        ("metrics.x = 'a'", 12, "compared with numbers, not strings"),
        ("metrics.x = '0.5'", 12, "write 0.5 without quotes"),
        ("params.x = 1", 11, "quote the value, e.g. params.x = '1'"),
        ("params.x = abc", 11, "quote the value"),
        ("params.x = '1", 11, "unterminated string"),
        ("metrics.`x = 1", 8, "unterminated key"),
        ("metrics.x <", 11, "missing value after '<'"),
        ("params.x =", 10, "missing value"),
        ("metrics.x < abc", 12, "expected a number"),
        ("metrics.x < (1)", 12, "expected a number"),
        ("params.x = (", 11, "expected a quoted string"),
        ("(metrics.x < 1", 0, "'(' is never closed"),
        ("metrics.x < 1)", 13, "')' has no matching '('"),
        ("(metrics.x < 1 params.y = 'a')", 15, "expected AND, OR or ')'"),
        ("metrics.x < 1 foo", 14, "expected AND, OR or the end"),
        ("metrics.x < 1 and", 17, "expected a condition"),
        ("metrics.x < 1 or ()", 18, "expected a condition"),
        ("and metrics.x < 1", 0, "unknown attribute 'and'"),
        ("metrics.x LIKE 'a'", 10, "LIKE cannot be used with metric 'x'"),
        ("metrics.x IN ('a')", 10, "IN cannot be used with metric"),
        ("params.x < 'a'", 9, "< cannot be used with param 'x'"),
        ("datasets.name IS NULL", 14, "IS NULL cannot be used with datasets.name"),
        ("attributes.status > 'a'", 18, "> cannot be used with attribute 'status'"),
        ("attributes.start_time LIKE '1%'", 22, "LIKE cannot be used"),
        ("attributes.start_time = '5'", 24, "compared with numbers"),
        ("attributes.lifecycle_stage = 'x'", 0, "unknown attribute 'lifecycle_stage'"),
        ("colour = 'x'", 0, "prefix keys with metrics."),
        ("datasets.size = 'x'", 0, "unknown dataset field 'size'"),
        ("metrics. = 1", 8, "missing key after 'metrics.'"),
        ("metrics. `x` = 1", 8, "missing key"),
        ("metrics.`` = 1", 8, "empty key"),
        ("metrics.x ~ 1", 10, "unexpected character '~'"),
        ("metrics.x ! 1", 10, "did you mean '!='"),
        ("metrics.x; DROP TABLE runs", 9, "unexpected character ';'"),
        ("metrics.x 1", 10, "expected a comparison operator after metric 'x'"),
        ("metrics.x", 9, "expected a comparison operator"),
        ("params.x NOT LIKE 'a'", 13, "expected IN after NOT"),
        ("params.x IS 'a'", 12, "expected NULL after IS"),
        ("params.x IS NOT 'a'", 16, "expected NULL after IS"),
        ("params.x IN 'a'", 12, "IN takes a parenthesised list"),
        ("params.x IN ()", 13, "at least one value"),
        ("params.x IN ('a',)", 17, "expected a quoted string"),
        ("params.x IN ('a' 'b')", 17, "expected ',' or ')'"),
        ("params.x IN ('a'", 12, "IN list is never closed"),
        ("params.x IN ('a', 1)", 18, "quote the value"),
        ("params.x = 'a\x00b'", 13, "U+0000"),
        ("params.x = 'a' \x00", 15, "U+0000"),
        ("params.x = '\ud800'", 12, "U+D800"),
        ("'a' = params.x", 0, "expected a condition"),
    ],
)
def test_errors_point_at_the_offending_token(text: str, position: int, fragment: str) -> None:
    with pytest.raises(InvalidFilter) as info:
        parse_filter(text)
    assert info.value.position == position, info.value.message
    assert fragment in info.value.reason
    assert info.value.text == text


def test_invalid_filter_is_a_value_error_with_a_pointer() -> None:
    with pytest.raises(ValueError, match="position 12") as info:
        parse_filter("metrics.x = 'a'")
    assert info.value.message.endswith("\n  metrics.x = 'a'\n              ^")  # type: ignore[attr-defined]


def test_a_filter_must_be_a_string() -> None:
    with pytest.raises(InvalidFilter, match="must be a string"):
        parse_filter(42)  # type: ignore[arg-type]


def test_limits() -> None:
    deep = "(" * (sf.MAX_DEPTH + 1) + "metrics.x = 1" + ")" * (sf.MAX_DEPTH + 1)
    with pytest.raises(InvalidFilter, match="nested more than") as info:
        parse_filter(deep)
    assert info.value.position == sf.MAX_DEPTH
    ok = "(" * sf.MAX_DEPTH + "metrics.x = 1" + ")" * sf.MAX_DEPTH
    assert parse_filter(ok) == C("metrics", "x", "=", 1.0, sf.MAX_DEPTH)

    many = " or ".join(["metrics.x = 1"] * (sf.MAX_COMPARISONS + 1))
    with pytest.raises(InvalidFilter, match="at most"):
        parse_filter(many)
    values = ", ".join(["'a'"] * (sf.MAX_VALUES + 1))
    with pytest.raises(InvalidFilter, match="values"):
        parse_filter(f"params.x IN ({values})")


# -- order_by ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("metrics.rmse", OrderBy("metrics", "rmse", True)),
        ("metrics.rmse ASC", OrderBy("metrics", "rmse", True)),
        ("metric.rmse desc", OrderBy("metrics", "rmse", False)),
        ("params.alpha DESC", OrderBy("params", "alpha", False)),
        ("tags.team", OrderBy("tags", "team", True)),
        ("tags.mlflow.runName DESC", OrderBy("attributes", "run_name", False)),
        ("attributes.start_time", OrderBy("attributes", "start_time", True)),
        ("run_name", OrderBy("attributes", "run_name", True)),
        ("start_time  DESC ", OrderBy("attributes", "start_time", False)),
        ("metrics.`my metric` Desc", OrderBy("metrics", "my metric", False)),
        ('params."a b"', OrderBy("params", "a b", True)),
    ],
)
def test_order_by(item: str, expected: OrderBy) -> None:
    assert parse_order_by([item]) == [expected]


def test_order_by_empty() -> None:
    assert parse_order_by(None) == [] == parse_order_by([])


@pytest.mark.parametrize(
    ("item", "position", "fragment"),
    [
        ("", 0, "empty order_by item"),
        ("  ", 0, "empty order_by item"),
        ("metrics.rmse UP", 13, "expected ASC, DESC"),
        ("metrics.rmse ASC DESC", 17, "expected ASC, DESC"),
        ("metrics.my metric", 11, "expected ASC, DESC"),
        ("datasets.name", 0, "unknown entity 'datasets'"),
        ("colour", 0, "unknown attribute"),
        ("metrics.`x", 8, "unterminated key"),
        ("ASC", 0, "unknown attribute 'ASC'"),
        ("(metrics.x)", 0, "expected a key"),
    ],
)
def test_order_by_errors(item: str, position: int, fragment: str) -> None:
    with pytest.raises(InvalidFilter) as info:
        parse_order_by(["metrics.ok", item])
    assert (info.value.text, info.value.position) == (item, position)
    assert fragment in info.value.reason


def test_order_by_limits_and_types() -> None:
    with pytest.raises(InvalidFilter, match="at most"):
        parse_order_by(["metrics.x"] * (sf.MAX_ORDER_BY + 1))
    with pytest.raises(InvalidFilter, match="must be a string"):
        parse_order_by([3])  # type: ignore[list-item]


# -- experiments -------------------------------------------------------------------


def test_experiment_filter() -> None:
    got = parse_experiment_filter("name LIKE 'a%' and tags.team = 'x' or creation_time > 5")
    assert strip(got) == (
        "Or",
        (
            ("And", (("attributes", "name", "LIKE", "a%"), ("tags", "team", "=", "x"))),
            ("attributes", "creation_time", ">", 5.0),
        ),
    )
    assert strip(parse_experiment_filter("attributes.last_update_time <= 3")) == (
        "attributes",
        "last_update_time",
        "<=",
        3.0,
    )
    assert parse_experiment_order_by(["name DESC", "creation_time"]) == [
        OrderBy("attributes", "name", False),
        OrderBy("attributes", "creation_time", True),
    ]


@pytest.mark.parametrize(
    ("text", "position"), [("metrics.x = 1", 0), ("status = 'x'", 0), ("name = 1", 7)]
)
def test_experiment_filter_errors(text: str, position: int) -> None:
    with pytest.raises(InvalidFilter) as info:
        parse_experiment_filter(text)
    assert info.value.position == position


# -- properties --------------------------------------------------------------------

_keys = st.text(st.characters(exclude_characters="`\x00", exclude_categories=["Cs"]), min_size=1)
_strings = st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]))
_numbers = st.floats(allow_nan=False, allow_infinity=False)


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@st.composite
def _comparisons(draw: st.DrawFn) -> tuple[str, tuple[object, ...]]:
    entity = draw(st.sampled_from(["metrics", "params", "tags"]))
    key = draw(_keys)
    if key == "mlflow.runName":
        key += "x"
    if entity == "metrics":
        op = draw(st.sampled_from(sf.NUMBER_OPS + sf.NULL_OPS))
        value: object = None if op in sf.NULL_OPS else draw(_numbers)
        shown = "" if value is None else repr(value)
    else:
        op = draw(st.sampled_from(sf.STRING_OPS + sf.NULL_OPS))
        if op in sf.NULL_OPS:
            value, shown = None, ""
        elif op in ("IN", "NOT IN"):
            value = tuple(draw(st.lists(_strings, min_size=1, max_size=3)))
            shown = "(" + ", ".join(map(_quote, value)) + ")"  # type: ignore[arg-type]
        else:
            value = draw(_strings)
            shown = _quote(value)  # type: ignore[arg-type]
    return f"{entity}.`{key}` {op} {shown}", (entity, key, op, value)


_trees = st.recursive(
    _comparisons(),
    lambda children: st.tuples(st.sampled_from(["AND", "OR"]), st.lists(children, min_size=2)).map(
        lambda t: (
            "(" + f" {t[0]} ".join(text for text, _ in t[1]) + ")",
            (t[0], tuple(tree for _, tree in t[1])),
        )
    ),
    max_leaves=12,
)


def _normalise(tree: object) -> object:
    """Flatten nested same-operator groups, as the parser does."""
    if isinstance(tree, tuple) and tree and tree[0] in ("AND", "OR"):
        name = "And" if tree[0] == "AND" else "Or"
        items: list[object] = []
        for child in map(_normalise, tree[1]):
            is_same = isinstance(child, tuple) and child[:1] == (name,)
            items.extend(child[1] if is_same else (child,))  # type: ignore[index,arg-type]
        return (name, tuple(items))
    return tree


@settings(max_examples=200, database=None, deadline=None)
@given(_trees)
def test_rendered_filters_parse_back(case: tuple[str, object]) -> None:
    text, tree = case
    assert strip(parse_filter(text)) == _normalise(tree)


@settings(max_examples=300, database=None, deadline=None)
@given(st.text(max_size=80) | st.text("metrcs.pa=<>!'\"`() ,andorINULK01", max_size=40))
def test_random_text_only_raises_invalid_filter(text: str) -> None:
    try:
        parse_filter(text)
    except InvalidFilter as exc:
        assert 0 <= exc.position <= len(text)
