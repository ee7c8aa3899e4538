"""The model registry through ``Client`` on SQLite and PostgreSQL: API, errors, search, races."""

from __future__ import annotations

import multiprocessing
from typing import Any

import pytest

import nbtrack as nbt
from nbtrack.errors import AlreadyExistsError, InvalidFilter, InvalidInput, NotFoundError


def _run_source(client: Any) -> tuple[str, str]:
    run_id = client.create_run("0").info.run_id
    return run_id, f"runs:/{run_id}/model"


def test_registered_model_lifecycle(client: Any) -> None:
    created = client.create_registered_model("iris", tags={"team": "ml"}, description="d")
    assert created.name == "iris"
    assert created.tags == {"team": "ml"}
    assert created.description == "d"
    assert created.creation_timestamp == created.last_updated_timestamp
    with pytest.raises(AlreadyExistsError, match="'iris' already exists"):
        client.create_registered_model("iris")
    assert client.update_registered_model("iris", description="new").description == "new"
    client.set_registered_model_tag("iris", "team", "ds")
    client.set_registered_model_tag("iris", "stage", 2)
    assert client.get_registered_model("iris").tags == {"team": "ds", "stage": "2"}
    client.delete_registered_model_tag("iris", "stage")
    with pytest.raises(NotFoundError, match="no tag 'stage'"):
        client.delete_registered_model_tag("iris", "stage")
    run_id, source = _run_source(client)
    client.create_model_version("iris", source, run_id)
    client.set_registered_model_alias("iris", "champion", 1)
    renamed = client.rename_registered_model("iris", "iris2")
    assert renamed.name == "iris2"
    assert renamed.aliases == {"champion": 1}
    assert renamed.tags == {"team": "ds"}
    assert client.get_model_version("iris2", 1).run_id == run_id
    with pytest.raises(NotFoundError, match="'iris' does not exist"):
        client.get_registered_model("iris")
    client.create_registered_model("other")
    with pytest.raises(AlreadyExistsError):
        client.rename_registered_model("iris2", "other")
    client.delete_registered_model("iris2")
    with pytest.raises(NotFoundError, match="'iris2' does not exist"):
        client.get_model_version("iris2", 1)
    assert [m.name for m in client.search_registered_models()] == ["other"]


def test_invalid_names_are_refused(client: Any) -> None:
    for bad in ("", "  ", "a/b", "a:b"):
        with pytest.raises(InvalidInput):
            client.create_registered_model(bad)
    with pytest.raises(NotFoundError, match="'nope' does not exist"):
        client.create_model_version("nope", "/tmp/model")


def test_versions_are_numbered_and_immutable_but_for_description_and_stage(client: Any) -> None:
    client.create_registered_model("iris")
    run_id, source = _run_source(client)
    v1 = client.create_model_version("iris", source, tags={"k": "v"}, description="first")
    assert (v1.version, v1.run_id, v1.source, v1.current_stage, v1.status) == (
        1,
        run_id,
        source,
        "None",
        "READY",
    )
    assert v1.tags == {"k": "v"}
    v2 = client.create_model_version("iris", "/somewhere/model")
    assert v2.version == 2
    assert v2.run_id is None
    assert client.update_model_version("iris", "2", description="x").description == "x"
    client.set_model_version_tag("iris", 2, "a", "b")
    assert client.get_model_version("iris", 2).tags == {"a": "b"}
    client.delete_model_version_tag("iris", 2, "a")
    with pytest.raises(NotFoundError, match="no tag 'a'"):
        client.delete_model_version_tag("iris", 2, "a")
    with pytest.raises(NotFoundError, match="'iris' has no version 9"):
        client.get_model_version("iris", 9)
    with pytest.raises(InvalidInput, match="must be an integer"):
        client.get_model_version("iris", "two")
    with pytest.raises(NotFoundError, match="No run"):
        client.create_model_version("iris", "runs:/0123456789abcdef/model")


def test_stages_are_canonical_and_archive_existing(client: Any) -> None:
    client.create_registered_model("iris")
    for _ in range(3):
        client.create_model_version("iris", "/m")
    v1 = client.transition_model_version_stage("iris", 1, "production")
    assert v1.current_stage == "Production"
    v2 = client.transition_model_version_stage("iris", 2, "PRODUCTION", True)
    assert v2.current_stage == "Production"
    assert client.get_model_version("iris", 1).current_stage == "Archived"
    client.transition_model_version_stage("iris", 3, "Staging")
    with pytest.raises(InvalidInput, match="Invalid model version stage 'prod'"):
        client.transition_model_version_stage("iris", 3, "prod")
    with pytest.raises(InvalidInput, match="Staging or Production"):
        client.transition_model_version_stage("iris", 3, "Archived", True)
    latest = client.get_latest_versions("iris")
    assert [(v.version, v.current_stage) for v in latest] == [
        (1, "Archived"),
        (2, "Production"),
        (3, "Staging"),
    ]
    assert [v.version for v in client.get_latest_versions("iris", ["production"])] == [2]
    assert client.get_latest_versions("iris", ["None"]) == []
    model = client.get_registered_model("iris")
    assert [v.version for v in model.latest_versions] == [1, 2, 3]


def test_aliases_and_their_removal_with_the_version(client: Any) -> None:
    client.create_registered_model("iris")
    for _ in range(3):
        client.create_model_version("iris", "/m")
    client.set_registered_model_alias("iris", "champion", 2)
    client.set_registered_model_alias("iris", "challenger", "3")
    assert client.get_model_version_by_alias("iris", "champion").version == 2
    assert client.get_model_version("iris", 2).aliases == ["champion"]
    client.set_registered_model_alias("iris", "champion", 3)  # moves
    assert client.get_model_version("iris", 3).aliases == ["challenger", "champion"]
    assert client.get_registered_model("iris").aliases == {"challenger": 3, "champion": 3}
    for bad in ("latest", "LATEST", "v1", "V12", "a b", "x/y", ""):
        with pytest.raises(InvalidInput):
            client.set_registered_model_alias("iris", bad, 1)
    with pytest.raises(NotFoundError, match="no version 7"):
        client.set_registered_model_alias("iris", "gold", 7)
    client.delete_model_version("iris", 3)
    assert client.get_registered_model("iris").aliases == {}
    with pytest.raises(NotFoundError, match="no alias 'champion'"):
        client.get_model_version_by_alias("iris", "champion")
    with pytest.raises(NotFoundError, match="no version 3"):
        client.get_model_version("iris", 3)
    # A deleted version's number is never handed out again.
    assert client.create_model_version("iris", "/m").version == 4
    client.set_registered_model_alias("iris", "gold", 4)
    client.delete_registered_model_alias("iris", "gold")
    with pytest.raises(NotFoundError, match="no alias 'gold'"):
        client.delete_registered_model_alias("iris", "gold")
    with pytest.raises(NotFoundError, match="'ghost' does not exist"):
        client.get_model_version_by_alias("ghost", "gold")


def test_search_filters(client: Any) -> None:
    for name in ("iris", "iris-v2", "wine"):
        client.create_registered_model(name, tags={"team": "a" if name != "wine" else "b"})
    assert [m.name for m in client.search_registered_models("name LIKE 'iris%'")] == [
        "iris",
        "iris-v2",
    ]
    assert [m.name for m in client.search_registered_models("tags.team = 'b'")] == ["wine"]
    assert [m.name for m in client.search_registered_models(order_by=["name DESC"])] == [
        "wine",
        "iris-v2",
        "iris",
    ]
    assert len(client.search_registered_models(max_results=1)) == 1
    with pytest.raises(InvalidFilter):
        client.search_registered_models("run_id = 'x'")
    run_id, source = _run_source(client)
    client.create_model_version("iris", source, tags={"k": "v"})
    client.create_model_version("iris", "/m")
    client.create_model_version("wine", "/m")
    found = client.search_model_versions("name = 'iris'")
    assert sorted(v.version for v in found) == [1, 2]
    assert [v.version for v in client.search_model_versions(f"run_id = '{run_id}'")] == [1]
    assert [v.name for v in client.search_model_versions("tags.k = 'v'")] == ["iris"]
    by_number = client.search_model_versions(
        "name = 'iris' AND version_number >= 2", order_by=["version_number DESC"]
    )
    assert [v.version for v in by_number] == [2]
    client.delete_model_version("iris", 2)
    assert [v.version for v in client.search_model_versions("name = 'iris'")] == [1]


def _register_five(folder: str, barrier: Any, out: Any) -> None:
    import nbtrack
    from nbtrack.models import register_model

    nbtrack.set_tracking_uri(folder)
    nbtrack.Client()  # open the store before the barrier: the race is on registering
    barrier.wait()
    try:
        out.put([register_model("/models/m", "shared").version for _ in range(5)])
    except Exception as exc:  # reported to the parent, which fails the test
        out.put(f"{type(exc).__name__}: {exc}")


@pytest.mark.slow
def test_processes_registering_at_once_get_distinct_versions(tracking_uri: str) -> None:
    """4 processes × 5 versions of one model at once: numbers 1..20, no error, both backends."""
    folder = tracking_uri
    nbt.Client(folder)  # create the store before the race
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(4)
    out = ctx.Queue()
    procs = [ctx.Process(target=_register_five, args=(folder, barrier, out)) for _ in range(4)]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert all(isinstance(r, list) for r in results), results
    numbers = sorted(v for r in results for v in r)
    assert numbers == list(range(1, 21))
    versions = nbt.Client(folder).search_model_versions("name = 'shared'")
    assert sorted(v.version for v in versions) == list(range(1, 21))


def test_registry_searches_page_with_tokens(client: Any) -> None:
    run_id, source = _run_source(client)
    for index in range(5):
        client.create_registered_model(f"m{index}")
        client.create_model_version(f"m{index}", source, run_id)
    seen, token = [], None
    while True:
        page = client.search_registered_models(max_results=2, page_token=token)
        seen += [m.name for m in page]
        token = page.token
        if token is None:
            break
    assert seen == [f"m{i}" for i in range(5)]
    versions = client.search_model_versions(max_results=3, order_by=["name ASC"])
    rest = client.search_model_versions(
        max_results=3, order_by=["name ASC"], page_token=versions.token
    )
    assert [v.name for v in (*versions, *rest)] == [f"m{i}" for i in range(5)]
    assert rest.token is None
    with pytest.raises(InvalidInput, match="Invalid page_token"):
        client.search_registered_models(page_token="garbage")
