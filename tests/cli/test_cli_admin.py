"""``nbtrack db upgrade``, ``nbtrack gc`` and ``nbtrack doctor``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from nbtrack.cli.db import mask_url
from nbtrack.cli.gc import parse_age
from nbtrack.store.sql.migrations import HEAD

# db upgrade ---------------------------------------------------------------------------


def test_db_upgrade_creates_then_reports_up_to_date(invoke, store_uri) -> None:
    out = invoke("db", "upgrade").stdout
    assert out.startswith("Created store sqlite:///")
    assert f"at schema revision {HEAD} (HEAD {HEAD})" in out
    assert (Path(store_uri) / "nbtrack.db").is_file()
    out = invoke("db", "upgrade").stdout
    assert out.endswith(f"is at schema revision {HEAD} (HEAD {HEAD}): up to date.\n")


def test_db_upgrade_bad_uri(invoke) -> None:
    err = invoke("db", "upgrade", "--tracking-uri", "ftp://x/y", uri=False, code=1).stderr
    assert err.startswith("Error: Unsupported tracking URI 'ftp://x/y'")


def test_mask_url_hides_the_password() -> None:
    masked = mask_url("postgresql+psycopg://me:s3cret@db.example:5432/track")
    assert "s3cret" not in masked
    assert masked == "postgresql+psycopg://me:***@db.example:5432/track"


# gc -------------------------------------------------------------------------------------


def _artifact_folder(seeded, run_id: str) -> Path:
    return Path(seeded.uri) / "artifacts" / seeded.exp_a / run_id


def test_gc_purges_binned_runs_and_their_artifacts(invoke, seeded) -> None:
    folder = _artifact_folder(seeded, seeded.alpha)
    assert (folder / "artifacts" / "notes.txt").is_file()
    invoke("runs", "delete", seeded.alpha)

    out = invoke("gc").stdout
    assert f"Purged run {seeded.alpha} and " in out
    assert out.endswith("Purged 1 run and 0 experiments.\n")
    assert not folder.exists()
    err = invoke("runs", "show", seeded.alpha, code=1).stderr
    assert err == f"Error: No run with id '{seeded.alpha}'\n"
    everything = json.loads(invoke("runs", "list", "--view", "all", "--json").stdout)
    assert {r["run_name"] for r in everything} == {"beta-run", "gamma-run"}
    assert invoke("gc").stdout == "Purged 0 runs and 0 experiments.\n"


def test_gc_dry_run_changes_nothing(invoke, seeded) -> None:
    invoke("runs", "delete", seeded.alpha)
    out = invoke("gc", "--dry-run").stdout
    assert f"Would purge run {seeded.alpha} and " in out
    assert out.endswith("1 run and 0 experiments would be purged.\n")
    assert (_artifact_folder(seeded, seeded.alpha) / "artifacts" / "notes.txt").is_file()
    deleted = json.loads(invoke("runs", "list", "--view", "deleted", "--json").stdout)
    assert [r["run_id"] for r in deleted] == [seeded.alpha]


def test_gc_older_than_keeps_recent_deletions(invoke, seeded) -> None:
    invoke("runs", "delete", seeded.beta)
    assert invoke("gc", "--older-than", "1d").stdout == "Purged 0 runs and 0 experiments.\n"
    assert invoke("runs", "show", seeded.beta).stdout.startswith(f"Run {seeded.beta}")
    out = invoke("gc", "--older-than", "0s").stdout
    assert f"Purged run {seeded.beta}" in out


def test_gc_purges_deleted_experiments_with_their_runs(invoke, seeded) -> None:
    invoke("experiments", "delete", "exp-b")
    out = invoke("gc").stdout
    assert f"Purged run {seeded.gamma}" in out
    assert f"Purged experiment 'exp-b' (id {seeded.exp_b})" in out
    err = invoke("experiments", "restore", "exp-b", code=1).stderr
    assert "No experiment named 'exp-b'" in err


def test_gc_older_than_keeps_recently_deleted_experiments(invoke, seeded) -> None:
    invoke("experiments", "delete", "exp-b")
    assert invoke("gc", "--older-than", "1d").stdout == "Purged 0 runs and 0 experiments.\n"
    invoke("experiments", "restore", "exp-b")
    assert invoke("runs", "show", seeded.gamma).stdout.startswith(f"Run {seeded.gamma}")


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("0s", 0),
        ("0", 0),
        ("90s", 90_000),
        ("15m", 900_000),
        ("12h", 43_200_000),
        ("30d", 2_592_000_000),
        ("1.5h", 5_400_000),
        ("2w", 1_209_600_000),
    ],
)
def test_parse_age(text: str, ms: int) -> None:
    assert parse_age(text) == ms


def test_gc_bad_age_is_a_usage_error(invoke) -> None:
    err = invoke("gc", "--older-than", "soon", code=2).stderr
    assert "not an age like 30d" in err


# doctor ---------------------------------------------------------------------------------


def test_doctor_on_a_healthy_store(invoke, seeded, store_uri) -> None:
    out = invoke("doctor").stdout
    assert out.startswith("nbtrack ")
    assert "sqlalchemy" in out.splitlines()[0]
    lines = {
        line.split()[1] if line.startswith("ok") else line.split()[0]: line
        for line in out.splitlines()[1:-1]
    }
    assert f"{store_uri}  [--tracking-uri option]" in out
    assert "revision " + HEAD in lines["schema"]
    assert lines["journal"].split()[-1] == "wal"
    assert "(writable)" in out
    assert "experiments    3 (0 deleted)" in out
    assert out.splitlines()[-2].split() == ["runs", "3"]
    assert out.endswith("No problems found.\n")


def test_doctor_json(invoke, seeded) -> None:
    data = json.loads(invoke("doctor", "--json").stdout)
    assert data["ok"] is True
    assert set(data["versions"]) >= {"nbtrack", "python", "sqlalchemy"}
    checks = {c["name"]: c for c in data["checks"]}
    assert checks["journal mode"] == {"name": "journal mode", "status": "ok", "detail": "wal"}
    assert checks["runs"]["detail"] == "3"


def test_doctor_reports_the_uri_source(invoke, seeded) -> None:
    env = {"NBTRACK_TRACKING_URI": seeded.uri}
    out = invoke("doctor", uri=False, env=env).stdout
    assert "[NBTRACK_TRACKING_URI environment variable]" in out


def test_doctor_does_not_create_a_store(invoke, store_uri) -> None:
    out = invoke("doctor").stdout
    assert "not created yet" in out
    assert not os.path.exists(store_uri)


def test_doctor_fails_on_an_unwritable_artifact_root(invoke, seeded, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    env = {"NBTRACK_ARTIFACT_ROOT": str(blocker / "artifacts")}
    result = invoke("doctor", env=env, code=1)
    assert "FAIL" in result.stdout and "cannot be created" in result.stdout
    assert "(from NBTRACK_ARTIFACT_ROOT)" in result.stdout
    assert result.stdout.endswith("1 problem(s) found.\n")
