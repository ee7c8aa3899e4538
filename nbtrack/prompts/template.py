"""One version of a prompt template and how it is filled in.

Placeholders are MLflow's: ``{{ name }}`` (spaces optional, dotted names
allowed), so a template written for MLflow's prompt registry formats the same
here. A template is either text or chat messages (``[{"role", "content"}]``),
whose contents are formatted one by one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from nbtrack.errors import InvalidInput

__all__ = ["PromptVersion", "template_variables"]

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*\}\}")

Template = str | list[dict[str, str]]


def _texts(template: Template) -> list[str]:
    if isinstance(template, str):
        return [template]
    return [message["content"] for message in template]


def template_variables(template: Template) -> list[str]:
    """Return the placeholder names of ``template``, each once, in order of appearance."""
    names: dict[str, None] = {}
    for text in _texts(template):
        names.update(dict.fromkeys(_PLACEHOLDER.findall(text)))
    return list(names)


def _fill(text: str, values: dict[str, Any]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        return str(values[name]) if name in values else match.group(0)

    return _PLACEHOLDER.sub(replace, text)


@dataclass(slots=True)
class PromptVersion:
    """A registered prompt template at one version, as MLflow's ``PromptVersion``.

    ``template`` is the text (or chat messages); ``tags`` are the user's tags
    of this version; ``aliases`` the aliases pointing at it.
    """

    name: str
    version: int
    template: Template
    commit_message: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)
    creation_timestamp: int | None = None

    @property
    def uri(self) -> str:
        """``prompts:/<name>/<version>``, which :func:`nbtrack.load_prompt` reads back."""
        return f"prompts:/{self.name}/{self.version}"

    @property
    def is_chat(self) -> bool:
        """True when the template is a list of chat messages rather than text."""
        return not isinstance(self.template, str)

    @property
    def variables(self) -> list[str]:
        """The placeholder names of the template, in order of appearance."""
        return template_variables(self.template)

    def format(self, allow_partial: bool = False, **values: Any) -> Template:
        """Fill the placeholders with ``values`` (converted with ``str``).

        Parameters
        ----------
        allow_partial:
            Leave placeholders without a value in place instead of raising.
        **values:
            One value per placeholder; names the template lacks are ignored.

        Returns
        -------
        str or list of dict
            The filled text, or the chat messages with filled contents.

        Raises
        ------
        InvalidInput
            A placeholder has no value (each missing name is listed).
        """
        missing = [name for name in self.variables if name not in values]
        if missing and not allow_partial:
            names = ", ".join(repr(name) for name in missing)
            raise InvalidInput(
                f"Prompt {self.uri} needs a value for {names}; "
                f"its variables are {', '.join(self.variables)}"
            )
        if isinstance(self.template, str):
            return _fill(self.template, values)
        return [{**m, "content": _fill(m["content"], values)} for m in self.template]

    def to_single_brace_format(self) -> Template:
        """Return the template with ``{name}`` placeholders (Python's, LangChain's)."""

        def single(text: str) -> str:
            escaped = text.replace("{", "{{").replace("}", "}}")
            return re.sub(r"\{\{\{\{\s*([A-Za-z_][\w.]*)\s*\}\}\}\}", r"{\1}", escaped)

        if isinstance(self.template, str):
            return single(self.template)
        return [{**message, "content": single(message["content"])} for message in self.template]

    def __str__(self) -> str:
        return self.template if isinstance(self.template, str) else repr(self.template)
