"""Prompt templates: versioned in the registry, formatted with ``{{variable}}`` placeholders."""

from nbtrack.prompts.registry import (
    delete_prompt_alias,
    load_prompt,
    register_prompt,
    search_prompts,
    set_prompt_alias,
)
from nbtrack.prompts.template import PromptVersion

__all__ = [
    "PromptVersion",
    "delete_prompt_alias",
    "load_prompt",
    "register_prompt",
    "search_prompts",
    "set_prompt_alias",
]
