"""``nbtrack experiments list|create|delete|restore``."""

from __future__ import annotations

import json


def test_list(invoke, seeded) -> None:
    lines = invoke("experiments", "list").stdout.strip().splitlines()
    assert lines[0].split()[:4] == ["id", "name", "stage", "created"]
    names = [line.split()[1] for line in lines[1:]]
    assert names == ["Default", "exp-a", "exp-b"]
    assert lines[2].split()[0] == seeded.exp_a
    assert lines[2].split()[-1].endswith(f"artifacts/{seeded.exp_a}")


def test_create_prints_the_id(invoke, store_uri, tmp_path) -> None:
    out = invoke("experiments", "create", "fresh").stdout
    assert out.strip().isdigit()
    location = str(tmp_path / "elsewhere")
    second = invoke("experiments", "create", "placed", "--artifact-location", location).stdout
    rows = {r["name"]: r for r in json.loads(invoke("experiments", "list", "--json").stdout)}
    assert rows["fresh"]["experiment_id"] == out.strip()
    assert rows["placed"]["experiment_id"] == second.strip()
    assert rows["placed"]["artifact_location"] == location
    assert isinstance(rows["fresh"]["creation_time"], int)


def test_create_twice_is_an_error(invoke, seeded) -> None:
    err = invoke("experiments", "create", "exp-a", code=1).stderr
    assert err == "Error: Experiment 'exp-a' already exists\n"


def test_delete_and_restore_by_name_and_id(invoke, seeded) -> None:
    out = invoke("experiments", "delete", "exp-a").stdout
    assert out == f"Deleted experiment 'exp-a' (id {seeded.exp_a})\n"
    active = json.loads(invoke("experiments", "list", "--json").stdout)
    assert "exp-a" not in {r["name"] for r in active}
    deleted = json.loads(invoke("experiments", "list", "--view", "deleted", "--json").stdout)
    assert [(r["name"], r["lifecycle_stage"]) for r in deleted] == [("exp-a", "deleted")]
    assert "exp-a" in invoke("experiments", "list", "--view", "all").stdout

    out = invoke("experiments", "restore", seeded.exp_a).stdout  # by id
    assert out == f"Restored experiment 'exp-a' (id {seeded.exp_a})\n"
    runs = json.loads(invoke("runs", "list", "-e", "exp-a", "--json").stdout)
    assert len(runs) == 2


def test_unknown_experiment(invoke, seeded) -> None:
    for command in ("delete", "restore"):
        err = invoke("experiments", command, "nope", code=1).stderr
        assert err.startswith("Error: No experiment named 'nope'")
    err = invoke("experiments", "delete", "999", code=1).stderr
    assert "No experiment named '999'" in err


def test_default_experiment_cannot_be_deleted(invoke, seeded) -> None:
    err = invoke("experiments", "delete", "Default", code=1).stderr
    assert err == "Error: The Default experiment cannot be deleted\n"
