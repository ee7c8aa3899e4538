"""Param/metric inference over a cell's AST, without a kernel."""

from __future__ import annotations

import numpy as np
import pytest

from nbtrack.tracking.inference import (
    SessionLiterals,
    analyse_cell,
    as_metric_value,
    infer_metrics,
    infer_params,
    is_literal_value,
    split_names,
)


def test_literal_top_level_assignments_are_params() -> None:
    cell = analyse_cell(
        "alpha = 0.5\n"
        "name = 'enet'\n"
        "flag = True\n"
        "nothing = None\n"
        "neg = -3\n"
        "layers = [64, 32]\n"
        "shape = (1, -2.5)\n"
        "opts = {'a': 1, 'b': [True, None]}\n"
        "typed: float = 1e-3\n"
    )
    assert cell.literals == {
        "alpha": 0.5,
        "name": "enet",
        "flag": True,
        "nothing": None,
        "neg": -3,
        "layers": [64, 32],
        "shape": (1, -2.5),
        "opts": {"a": 1, "b": [True, None]},
        "typed": 1e-3,
    }
    assert cell.computed == []


def test_expressions_are_computed_not_params() -> None:
    cell = analyse_cell("import math\nrmse = math.sqrt(4)\nratio = 1 / 3\nlabel = f'x{rmse}'\n")
    assert cell.literals == {}
    assert cell.computed == ["rmse", "ratio", "label"]
    assert {"math", "rmse", "ratio", "label"} <= cell.bound


def test_tuple_assignments_pair_elements() -> None:
    cell = analyse_cell(
        "a, b = 1, 2\n(c, d), e = (3, 'x'), 4.0\nf, g = divmod(7, 2)\nh, *i = 1, 2, 3\n"
    )
    assert cell.literals == {"a": 1, "b": 2, "c": 3, "d": "x", "e": 4.0}
    assert cell.computed == ["f", "g", "h", "i"]


def test_chained_and_mixed_assignments() -> None:
    cell = analyse_cell("x = y = 0.1\nz = [1, len('ab')]\n")
    assert cell.literals == {"x": 0.1, "y": 0.1}
    assert cell.computed == ["z"]


def test_augmented_assignment_makes_a_name_computed() -> None:
    cell = analyse_cell(
        "n = 0\nfor i in range(3):\n    n += 1\nlr = 0.1\nlr = lr * 0.5\ncount = 1\ncount += 1\n"
    )
    assert cell.literals == {}
    assert cell.computed == ["n", "lr", "count"]
    assert "i" in cell.bound  # a for-target is bound but is neither param nor metric


def test_blocks_count_for_metrics_but_not_params() -> None:
    cell = analyse_cell(
        "with open(__file__) as fh:\n    size = len(fh.read())\n    mode = 'r'\n"
        "if True:\n    score = 0.5 * 2\n"
        "try:\n    err = 1 / 1\nexcept ZeroDivisionError as exc:\n    err = None\n"
    )
    assert cell.literals == {}
    assert cell.computed == ["size", "score", "err"]
    assert {"fh", "mode", "exc"} <= cell.bound


def test_function_and_class_bodies_are_not_looked_into() -> None:
    cell = analyse_cell(
        "def f(x):\n    inner = x * 2\n    return inner\nclass C:\n    attr = 1\ny = f(2)\n"
    )
    assert "inner" not in cell.computed and "attr" not in cell.literals
    assert cell.computed == ["y"]
    assert {"f", "C", "y"} <= cell.bound


def test_attribute_and_subscript_targets_bind_nothing() -> None:
    cell = analyse_cell("obj.x = 1\nd['k'] = 2\n")
    assert cell.literals == {} and cell.computed == [] and cell.bound == set()


def test_reads_include_names_used_in_functions() -> None:
    cell = analyse_cell("def f():\n    return alpha\nresult = f() + beta\n")
    assert {"alpha", "beta", "f"} <= cell.reads


def test_syntax_error_propagates() -> None:
    with pytest.raises(SyntaxError):
        analyse_cell("x = = 1")


def test_metric_values_are_real_numbers_not_bools() -> None:
    assert as_metric_value(3) == 3.0
    assert as_metric_value(0.25) == 0.25
    assert as_metric_value(np.float32(1.5)) == 1.5
    assert as_metric_value(np.int64(7)) == 7.0
    assert as_metric_value(np.array(2.5)) == 2.5
    assert as_metric_value(float("nan")) != as_metric_value(float("nan"))  # NaN kept
    for not_metric in (True, np.bool_(False), "1.0", None, [1.0], np.array([1.0, 2.0]), 1j):
        assert as_metric_value(not_metric) is None, not_metric


def test_infer_metrics_keeps_numeric_computed_names_in_order() -> None:
    cell = analyse_cell("rmse = f()\nok = g()\nmodel = h()\nacc = f()\nalpha = 0.5\n")
    ns = {"rmse": np.float64(0.7), "ok": True, "model": object(), "acc": 1, "alpha": 0.5}
    assert infer_metrics(cell, ns) == {"rmse": 0.7, "acc": 1.0}
    assert list(infer_metrics(cell, ns)) == ["rmse", "acc"]


def test_session_literals_follow_rebinding() -> None:
    session = SessionLiterals()
    session.update(analyse_cell("lr = 0.01\nepochs = 10\ndata = load()\n"))
    assert session.names == {"lr", "epochs"}
    session.update(analyse_cell("epochs = compute()\n"))
    assert session.names == {"lr"}
    session.update(analyse_cell("for lr in [1, 2]:\n    pass\n"))
    assert session.names == set()
    session.update(analyse_cell("lr = 0.5\n"))
    assert session.names == {"lr"}


def test_infer_params_adds_session_names_the_cell_reads() -> None:
    session = SessionLiterals()
    session.update(analyse_cell("lr = 0.01\nepochs = 10\nunused = 'x'\nbatch = 32\n"))
    cell = analyse_cell("alpha = 0.5\nmodel = fit(lr=lr, epochs=epochs, batch=batch)\nbatch = 64\n")
    ns = {"lr": 0.01, "epochs": 10, "unused": "x", "batch": 32}
    # batch is assigned by the cell itself: its own literal wins.
    assert infer_params(cell, session.names, ns) == {
        "alpha": 0.5,
        "batch": 64,
        "epochs": 10,
        "lr": 0.01,
    }


def test_infer_params_skips_session_names_whose_value_is_no_longer_literal() -> None:
    session = SessionLiterals()
    session.update(analyse_cell("lr = 0.01\n"))
    cell = analyse_cell("model = fit(lr)\n")
    assert infer_params(cell, session.names, {"lr": object()}) == {}
    assert infer_params(cell, session.names, {}) == {}


def test_is_literal_value() -> None:
    assert is_literal_value({"a": [1, (2.0, None)], "b": "s"})
    assert not is_literal_value([1, object()])
    assert not is_literal_value(np.array([1.0]))


def test_split_names() -> None:
    assert split_names("a,b, c") == ["a", "b", "c"]
    assert split_names("a,,a") == ["a"]
    assert split_names(None) == []
