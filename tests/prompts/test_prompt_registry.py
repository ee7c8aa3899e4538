"""Prompt templates in the registry on SQLite and PostgreSQL: versions, aliases, URIs, errors."""

from __future__ import annotations

from typing import Any

import pytest

import nbtrack as nbt
from nbtrack.errors import InvalidFilter, InvalidInput, NotFoundError


def test_register_versions_and_load_by_uri(client: Any) -> None:
    first = nbt.register_prompt(
        "qa", "Answer {{ question }} in {{language}}.", commit_message="first", tags={"team": "ml"}
    )
    second = nbt.register_prompt("qa", "Answer {{question}} briefly, in {{language}}.")
    assert (first.version, second.version) == (1, 2)
    assert first.uri == "prompts:/qa/1"
    assert first.commit_message == "first"
    assert first.tags == {"team": "ml"}
    assert first.variables == ["question", "language"]

    assert nbt.load_prompt("prompts:/qa/1").template == "Answer {{ question }} in {{language}}."
    assert nbt.load_prompt("prompts:/qa").version == 2
    assert nbt.load_prompt("prompts:/qa/latest").version == 2
    assert nbt.load_prompt("qa").version == 2
    assert nbt.load_prompt("qa", version=1).version == 1

    nbt.set_prompt_alias("qa", "production", 1)
    loaded = nbt.load_prompt("prompts:/qa@production")
    assert loaded.version == 1
    assert loaded.aliases == ["production"]
    nbt.set_prompt_alias("qa", "production", 2)
    assert nbt.load_prompt("prompts:/qa@production").version == 2
    nbt.delete_prompt_alias("qa", "production")
    with pytest.raises(NotFoundError, match="production"):
        nbt.load_prompt("prompts:/qa@production")


def test_format_fills_placeholders_and_names_the_missing_ones(client: Any) -> None:
    prompt = nbt.register_prompt("greet", "Hello {{ name }}, you are {{age}} ({{name}}).")
    assert prompt.format(name="Ada", age=36, unused=1) == "Hello Ada, you are 36 (Ada)."
    with pytest.raises(InvalidInput, match=r"prompts:/greet/1 needs a value for 'age'"):
        prompt.format(name="Ada")
    assert prompt.format(allow_partial=True, name="Ada") == "Hello Ada, you are {{age}} (Ada)."
    assert prompt.to_single_brace_format() == "Hello {name}, you are {age} ({name})."
    assert prompt.to_single_brace_format().format(name="Ada", age=36) == (
        "Hello Ada, you are 36 (Ada)."
    )


def test_chat_prompts_round_trip_and_format_each_message(client: Any) -> None:
    messages = [
        {"role": "system", "content": "You answer in {{ language }}."},
        {"role": "user", "content": "{{question}}"},
    ]
    nbt.register_prompt("chat", messages)
    loaded = nbt.load_prompt("prompts:/chat/1")
    assert loaded.is_chat
    assert loaded.template == messages
    assert loaded.variables == ["language", "question"]
    assert loaded.format(language="French", question="Why?") == [
        {"role": "system", "content": "You answer in French."},
        {"role": "user", "content": "Why?"},
    ]


def test_prompts_and_models_stay_apart(client: Any) -> None:
    nbt.register_prompt("qa", "Q: {{q}}")
    client.create_registered_model("iris")
    run_id = client.create_run("0").info.run_id
    client.create_model_version("iris", f"runs:/{run_id}/model", run_id)

    assert [m.name for m in client.search_registered_models()] == ["iris"]
    assert [v.name for v in client.search_model_versions()] == ["iris"]
    assert [p.name for p in nbt.search_prompts()] == ["qa"]
    assert [p.name for p in client.search_prompts("name LIKE 'q%'")] == ["qa"]
    with pytest.raises(InvalidInput, match="'iris' is a registered model, not a prompt"):
        nbt.load_prompt("iris")
    with pytest.raises(InvalidInput, match="'iris' is a registered model, not a prompt"):
        nbt.register_prompt("iris", "text")
    with pytest.raises(InvalidInput, match="'qa' is a prompt"):
        nbt.register_model(f"runs:/{run_id}/model", "qa")
    with pytest.raises(InvalidInput, match="names a prompt, not a model"):
        nbt.load_model("models:/qa/1")
    # Nothing stored was changed by the refused calls.
    assert nbt.load_prompt("qa").version == 1
    assert client.get_registered_model("iris").latest_versions[0].version == 1


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("", "cannot be empty"),
        ("   ", "cannot be empty"),
        (42, "got int"),
        ([], "got list"),
        ([{"role": "user"}], "message 0 must be a dict"),
        ([{"role": "user", "content": "a"}, "b"], "message 1 must be a dict"),
        ("x" * 5001, "5001 characters; the limit is 5000"),
    ],
)
def test_bad_templates_are_refused_and_store_nothing(
    client: Any, template: Any, message: str
) -> None:
    nbt.register_prompt("p", "kept {{x}}")
    with pytest.raises(InvalidInput, match=message):
        nbt.register_prompt("p", template)
    assert nbt.load_prompt("p").version == 1
    assert nbt.load_prompt("p").template == "kept {{x}}"


def test_bad_names_uris_and_references(client: Any) -> None:
    with pytest.raises(InvalidInput, match="Invalid prompt name 'a b'"):
        nbt.register_prompt("a b", "t")
    with pytest.raises(InvalidInput, match="set by nbtrack"):
        nbt.register_prompt("p", "t", tags={"mlflow.prompt.text": "x"})
    nbt.register_prompt("p", "t")
    for uri in ("prompts:/", "prompts:/p/x", "prompts:/p/1/2", "prompts:/p@", "prompts:/@a"):
        with pytest.raises(InvalidInput, match=r"Cannot read prompt URI|Invalid prompt name"):
            nbt.load_prompt(uri)
    with pytest.raises(InvalidInput, match="either in the prompts:/ URI or as version="):
        nbt.load_prompt("prompts:/p/1", version=1)
    with pytest.raises(NotFoundError, match="No prompt called 'nope'"):
        nbt.load_prompt("prompts:/nope/1")
    with pytest.raises(NotFoundError):
        nbt.load_prompt("prompts:/p/7")
    with pytest.raises(InvalidFilter):
        nbt.search_prompts("name ~ 'p'")


def test_prompt_search_pages(client: Any) -> None:
    for index in range(5):
        nbt.register_prompt(f"p{index}", "t")
    first = nbt.search_prompts(max_results=2)
    second = nbt.search_prompts(max_results=2, page_token=first.token)
    third = nbt.search_prompts(max_results=2, page_token=second.token)
    assert [p.name for p in (*first, *second, *third)] == [f"p{i}" for i in range(5)]
    assert third.token is None
