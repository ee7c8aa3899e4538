"""Prompts in the model registry: ``register_prompt``, ``load_prompt`` and ``prompts:/`` URIs.

A prompt is a registered model tagged ``mlflow.prompt.is_prompt = true`` whose
versions hold the template in the tag ``mlflow.prompt.text``: MLflow's layout,
so prompts keep their versions, aliases and tags, and searches of models
leave them out. The commit message is the version's description.
"""

from __future__ import annotations

import contextlib
import json
import re
from typing import TYPE_CHECKING, Any

from nbtrack.entities import IS_PROMPT_TAG, PROMPT_TEXT_TAG, PROMPT_TYPE_TAG
from nbtrack.errors import AlreadyExistsError, InvalidInput, NotFoundError
from nbtrack.prompts.template import PromptVersion, Template

if TYPE_CHECKING:
    from nbtrack.entities import ModelVersion
    from nbtrack.tracking.client import Client
    from nbtrack.tracking.paged import PagedList

__all__ = [
    "delete_prompt_alias",
    "load_prompt",
    "parse_prompts_uri",
    "register_prompt",
    "search_prompts",
    "set_prompt_alias",
]

#: Letters, digits, ``_``, ``.`` and ``-``: MLflow's rule for prompt names.
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
#: The registry's limit on a tag value, which holds the template.
MAX_TEMPLATE_LENGTH = 5000
_SYSTEM_TAGS = (IS_PROMPT_TAG, PROMPT_TEXT_TAG, PROMPT_TYPE_TAG)


def _client(client: Client | None) -> Client:
    from nbtrack.tracking.client import Client

    return client or Client()


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInput(
            f"Invalid prompt name {name!r}: use letters, digits, '_', '.' and '-' only"
        )
    return name


def _encode(template: object) -> tuple[str, str]:
    """Return the stored text and type of a template, or raise naming what is wrong."""
    if isinstance(template, str):
        if not template.strip():
            raise InvalidInput("A prompt template cannot be empty")
        text, kind = template, "text"
    elif isinstance(template, list) and template:
        for position, message in enumerate(template):
            if not (
                isinstance(message, dict)
                and isinstance(message.get("role"), str)
                and isinstance(message.get("content"), str)
            ):
                raise InvalidInput(
                    f"Chat prompt message {position} must be a dict with string 'role' and "
                    f"'content', got {message!r}"
                )
        text, kind = json.dumps(template, ensure_ascii=False), "chat"
    else:
        raise InvalidInput(
            "A prompt template is a non-empty string or a non-empty list of "
            f"{{'role', 'content'}} messages, got {type(template).__name__}"
        )
    if len(text) > MAX_TEMPLATE_LENGTH:
        raise InvalidInput(
            f"Prompt template is {len(text)} characters; the limit is {MAX_TEMPLATE_LENGTH}"
        )
    return text, kind


def _decode(version: ModelVersion) -> PromptVersion:
    text = version.tags.get(PROMPT_TEXT_TAG, "")
    template: Template = json.loads(text) if version.tags.get(PROMPT_TYPE_TAG) == "chat" else text
    return PromptVersion(
        name=version.name,
        version=version.version,
        template=template,
        commit_message=version.description,
        tags={k: v for k, v in version.tags.items() if k not in _SYSTEM_TAGS},
        aliases=list(version.aliases),
        creation_timestamp=version.creation_timestamp,
    )


def _require_prompt(client: Client, name: str) -> None:
    model = client.get_registered_model(name)
    if model.tags.get(IS_PROMPT_TAG) != "true":
        raise InvalidInput(f"{name!r} is a registered model, not a prompt")


def register_prompt(
    name: str,
    template: Template,
    commit_message: str | None = None,
    tags: dict[str, Any] | None = None,
    client: Client | None = None,
) -> PromptVersion:
    """Register ``template`` as the next version of the prompt ``name``.

    Parameters
    ----------
    name:
        The prompt, created on first use; letters, digits, ``_ . -``.
    template:
        Text with ``{{variable}}`` placeholders, or chat messages
        ``[{"role": "system", "content": "…"}, …]``.
    commit_message:
        What changed, kept as the version's description.
    tags:
        Tags of this version.
    client:
        The store to use; the current tracking URI's by default.

    Returns
    -------
    PromptVersion
        The new version, numbered from 1.

    Raises
    ------
    InvalidInput
        A bad name, an empty or oversized template, a malformed chat message,
        or a name already used by a registered model.
    """
    _check_name(name)
    text, kind = _encode(template)
    user_tags = dict(tags or {})
    for key in user_tags:
        if key in _SYSTEM_TAGS:
            raise InvalidInput(f"Tag {key!r} is set by nbtrack; choose another key")
    client = _client(client)
    # Another process may create the prompt between a check and an insert.
    with contextlib.suppress(AlreadyExistsError):
        client.create_registered_model(name, tags={IS_PROMPT_TAG: "true"})
    _require_prompt(client, name)
    version = client.create_model_version(
        name,
        f"prompts:/{name}",
        tags={**user_tags, PROMPT_TEXT_TAG: text, PROMPT_TYPE_TAG: kind},
        description=commit_message,
    )
    return _decode(version)


def parse_prompts_uri(uri: str) -> tuple[str, str, str | None]:
    """Split a prompt URI into ``(name, kind, reference)``.

    ``prompts:/qa/3`` → ``("qa", "version", "3")``; ``prompts:/qa@prod`` →
    ``("qa", "alias", "prod")``; ``prompts:/qa``, ``prompts:/qa/latest`` and
    ``prompts:/qa@latest`` → ``("qa", "latest", None)``.

    Raises
    ------
    InvalidInput
        Not a ``prompts:/`` URI, or malformed.
    """
    usage = "expected prompts:/<name>/<version>, prompts:/<name>@<alias> or prompts:/<name>"
    if not uri.startswith("prompts:/"):
        raise InvalidInput(f"Not a prompts:/ URI: {uri!r}; {usage}")
    rest = uri[len("prompts:/") :].strip("/")
    name, slash, ref = rest.partition("/")
    if slash:
        if not name or "/" in ref or not (ref.isdigit() or ref.lower() == "latest"):
            raise InvalidInput(f"Cannot read prompt URI {uri!r}: {usage}")
        return (name, "version", ref) if ref.isdigit() else (name, "latest", None)
    name, at, alias = rest.rpartition("@")
    if not at:
        name, alias = rest, ""
    if not name or (at and not alias):
        raise InvalidInput(f"Cannot read prompt URI {uri!r}: {usage}")
    if not alias or alias.lower() == "latest":
        return name, "latest", None
    return name, "alias", alias


def load_prompt(
    name_or_uri: str, version: int | str | None = None, client: Client | None = None
) -> PromptVersion:
    """Return a prompt version by URI (``prompts:/qa/3``, ``prompts:/qa@prod``) or name.

    Parameters
    ----------
    name_or_uri:
        A ``prompts:/`` URI, or a prompt name (then ``version``, or the latest).
    version:
        With a plain name: the version number.
    client:
        The store to use; the current tracking URI's by default.

    Raises
    ------
    InvalidInput
        A malformed URI, or a name that belongs to a registered model.
    NotFoundError
        No such prompt, version or alias.
    """
    client = _client(client)
    if name_or_uri.startswith("prompts:/"):
        if version is not None:
            raise InvalidInput("Pass a version either in the prompts:/ URI or as version=")
        name, kind, ref = parse_prompts_uri(name_or_uri)
        _check_name(name)
    else:
        name = _check_name(name_or_uri)
        kind, ref = ("latest", None) if version is None else ("version", str(version))
    try:
        _require_prompt(client, name)
    except NotFoundError:
        raise NotFoundError(f"No prompt called {name!r}") from None
    if kind == "version":
        return _decode(client.get_model_version(name, ref or ""))
    if kind == "alias":
        return _decode(client.get_model_version_by_alias(name, ref or ""))
    newest = client.get_latest_versions(name)
    if not newest:
        raise NotFoundError(f"Prompt {name!r} has no versions")
    return _decode(max(newest, key=lambda v: v.version))


def set_prompt_alias(
    name: str, alias: str, version: int | str, client: Client | None = None
) -> None:
    """Point ``prompts:/<name>@<alias>`` at ``version`` (moving it if it exists)."""
    client = _client(client)
    _require_prompt(client, name)
    client.set_registered_model_alias(name, alias, version)


def delete_prompt_alias(name: str, alias: str, client: Client | None = None) -> None:
    """Remove an alias of a prompt."""
    client = _client(client)
    _require_prompt(client, name)
    client.delete_registered_model_alias(name, alias)


def search_prompts(
    filter_string: str | None = None,
    max_results: int = 100,
    page_token: str | None = None,
    client: Client | None = None,
) -> PagedList:
    """Return one page of prompts (as registered models) matching e.g. ``name LIKE 'qa%'``."""
    return _client(client).search_prompts(filter_string, max_results, page_token)
