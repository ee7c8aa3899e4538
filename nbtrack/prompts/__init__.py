"""Prompts: versioned templates in the registry, and comparing them across models."""

from nbtrack.prompts.compare import clear_cache, compare_prompts
from nbtrack.prompts.grid import PromptGrid
from nbtrack.prompts.providers import (
    CallableProvider,
    Generation,
    OpenAICompatible,
    Provider,
    ProviderError,
    as_provider,
    register_provider,
)
from nbtrack.prompts.registry import (
    delete_prompt_alias,
    load_prompt,
    register_prompt,
    search_prompts,
    set_prompt_alias,
)
from nbtrack.prompts.template import PromptVersion
from nbtrack.prompts.transformers_pipeline import TransformersPipeline

__all__ = [
    "CallableProvider",
    "Generation",
    "OpenAICompatible",
    "PromptGrid",
    "PromptVersion",
    "Provider",
    "ProviderError",
    "TransformersPipeline",
    "as_provider",
    "clear_cache",
    "compare_prompts",
    "delete_prompt_alias",
    "load_prompt",
    "register_prompt",
    "register_provider",
    "search_prompts",
    "set_prompt_alias",
]
