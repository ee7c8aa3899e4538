"""Key and value rules (``nbtrack/_validation.py``) checked against MLflow 3.17's own.

The key rule is MLflow's: the same keys are accepted and refused, which this
module asks MLflow's ``mlflow.utils.validation`` directly, in its own venv.
Over-long values follow nbtrack's one policy: refused when passed by hand,
cut with a marker (and a warning) when logged automatically or taken by the
tracking server.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

import nbtrack as nbt
from nbtrack import _validation as check
from nbtrack.errors import InvalidKey, NbtrackWarning, ValueTooLong

#: Keys with MLflow 3.17's verdict on Linux (True: accepted), the edge cases of its rule.
KEYS = {
    "loss": True,
    "val:loss": True,
    "a:b:c": True,
    "a..b": True,
    "a/..b": True,
    "a.": True,
    " lead space": True,
    "trail space ": True,
    "é/ü": True,
    "..a": False,
    "a/../b": False,
    "a/./b": False,
    "./a": False,
    "a/": False,
    "a//b": False,
    "/abs": False,
    ".": False,
    "a\tb": False,
    "semi;colon": False,
    "a!b": False,
    "k" * 250: True,
}


def _accepts(key: str) -> bool:
    try:
        check.validate_key(key, "metric")
    except InvalidKey:
        return False
    return True


@pytest.mark.parametrize("key", KEYS, ids=[k[:20] for k in KEYS])
def test_key_rule_is_mlflows(key: str) -> None:
    assert _accepts(key) is KEYS[key]


def test_the_same_keys_as_mlflow_itself_accepts() -> None:
    from bench.runner import default_cache_dir, ensure_mlflow

    python = ensure_mlflow(default_cache_dir())
    keys = [*KEYS, "k" * 251, ""]
    script = (
        "import json, sys\n"
        "from mlflow.utils.validation import _validate_metric_name, _validate_param_name,"
        " _validate_tag_name, _validate_length_limit, MAX_ENTITY_KEY_LENGTH\n"
        "out = []\n"
        "for key in json.loads(sys.stdin.read()):\n"
        "    verdicts = []\n"
        "    for check in (_validate_metric_name, _validate_param_name, _validate_tag_name):\n"
        "        try:\n"
        "            check(key)\n"
        "            _validate_length_limit('key', MAX_ENTITY_KEY_LENGTH, key)\n"
        "            verdicts.append(True)\n"
        "        except Exception:\n"
        "            verdicts.append(False)\n"
        "    out.append(verdicts)\n"
        "print(json.dumps(out))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NBTRACK_", "MLFLOW_"))}
    env.pop("PYTHONPATH", None)
    proc = subprocess.run(
        [python, "-c", script],
        input=json.dumps(keys),
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    mlflow_says = dict(zip(keys, json.loads(proc.stdout.strip().splitlines()[-1]), strict=True))
    ours = {key: [_accepts(key)] * 3 for key in keys}
    assert ours == mlflow_says


def test_colons_in_keys_go_through_every_layer(client: nbt.Client) -> None:
    run_id = client.create_run("0").info.run_id
    client.log_metric(run_id, "val:loss", 0.5, step=1)
    client.log_param(run_id, "opt:lr", 0.1)
    client.set_tag(run_id, "team:name", "vision")
    client.flush()
    data = client.get_run(run_id).data
    assert data.metrics == {"val:loss": 0.5}
    assert data.params == {"opt:lr": "0.1"}
    assert data.tags["team:name"] == "vision"
    found = client.search_runs(["0"], "metrics.`val:loss` < 1 and params.`opt:lr` = '0.1'")
    assert [r.info.run_id for r in found] == [run_id]


def test_a_param_passed_by_hand_over_the_limit_is_refused_naming_it() -> None:
    with pytest.raises(ValueTooLong, match="'notes'"):
        check.param_value("notes", "x" * 6001)
    assert check.param_value("notes", "x" * 6000) == "x" * 6000


def test_captured_values_over_the_limit_are_cut_with_the_marker_and_a_warning() -> None:
    with pytest.warns(NbtrackWarning, match="'grid'"):
        text = check.captured_param("grid", "y" * 7000)
    assert len(text) == check.MAX_PARAM_VALUE_LENGTH
    assert text.endswith(check.TRUNCATED) and text.startswith("y" * 5000)
    text, note = check.cut_value("Tag", "log", "z" * 9000, check.MAX_TAG_VALUE_LENGTH)
    assert len(text) == check.MAX_TAG_VALUE_LENGTH and text.endswith(check.TRUNCATED)
    assert note is not None and "'log'" in note and "9000" in note
    assert check.cut_value("Tag", "log", "short", 8000) == ("short", None)
