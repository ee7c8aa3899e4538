"""``nbt.compare_prompts``: every (prompt template × model) pair over the inputs, one run each.

Calls run concurrently (bounded), each with a timeout and retries with
exponential backoff for transient failures; a call that still fails leaves
its error in the cell instead of failing the grid. Outputs are cached by
(template, variables, model, params), so re-running the cell does not call
the models again unless ``refresh=True``.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from nbtrack.errors import InvalidInput
from nbtrack.prompts.grid import Cell, Combination, PromptGrid
from nbtrack.prompts.providers import Generation, Provider, ProviderError, as_provider
from nbtrack.prompts.template import PromptVersion

__all__ = ["clear_cache", "compare_prompts"]

_MAX_PARAM = 500  # longer templates go in full to template.txt; the param holds the start
_cache: dict[str, Generation] = {}
_cache_lock = threading.Lock()


def clear_cache() -> None:
    """Forget every cached model output."""
    with _cache_lock:
        _cache.clear()


def _templates(prompts: Sequence[Any]) -> list[PromptVersion]:
    from nbtrack.prompts.registry import load_prompt

    found = []
    for index, prompt in enumerate(prompts):
        if isinstance(prompt, PromptVersion):
            found.append(prompt)
        elif isinstance(prompt, str) and prompt.startswith("prompts:/"):
            found.append(load_prompt(prompt))
        elif isinstance(prompt, (str, list)):
            found.append(PromptVersion(name=f"prompt_{index + 1}", version=0, template=prompt))
        else:
            raise InvalidInput(
                f"prompts[{index}] is a {type(prompt).__name__}: pass template text, chat "
                "messages, a prompts:/ URI or a PromptVersion"
            )
    return found


def _rows(inputs: Any) -> list[dict[str, Any]]:
    if hasattr(inputs, "to_dict"):
        return list(inputs.to_dict("records"))
    rows = list(inputs)
    for position, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise InvalidInput(f"inputs[{position}] must be a dict of template variables")
    return [dict(row) for row in rows]


def _key(
    template: PromptVersion, row: dict[str, Any], identity: str, params: dict[str, Any]
) -> str:
    text = json.dumps(
        [template.template, row, identity, params], sort_keys=True, default=str, ensure_ascii=False
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _call(
    provider: Provider,
    prompt: Any,
    params: dict[str, Any],
    timeout: float,
    retries: int,
    backoff: float,
) -> Generation:
    attempt = 0
    while True:
        try:
            return provider.generate(prompt, params, timeout)
        except ProviderError as exc:
            if not exc.retryable or attempt >= retries:
                raise
        attempt += 1
        time.sleep(backoff * 2 ** (attempt - 1))


def compare_prompts(
    prompts: Sequence[Any],
    models: Mapping[str, Any] | Sequence[Any],
    inputs: Any,
    params: dict[str, Any] | None = None,
    metrics: Mapping[str, Callable[[list[str], list[Any] | None], float]] | None = None,
    reference: str | None = None,
    max_workers: int = 4,
    timeout: float = 60.0,
    retries: int = 2,
    backoff: float = 0.5,
    refresh: bool = False,
    experiment: str | None = None,
) -> PromptGrid:
    """Run every template on every model over the inputs; one run per combination.

    Parameters
    ----------
    prompts:
        Template texts (``"Summarize: {{text}}"``), chat message lists,
        ``prompts:/`` URIs or ``PromptVersion`` objects.
    models:
        ``{name: model}`` (or a list, named ``model_1``…): callables,
        ``nbt.prompts.OpenAICompatible(...)``, transformers pipelines.
    inputs:
        A DataFrame or list of dicts: one column per template variable, and
        optionally the ``reference`` column.
    params:
        Generation parameters sent to every model (``temperature``, ``max_tokens``…).
    metrics:
        ``{name: fn(outputs, references)}`` scores computed per combination.
    reference:
        The column holding expected outputs (adds ``exact_match``).
    max_workers, timeout, retries, backoff:
        Concurrency bound, seconds per call, retries of transient failures
        and the first retry's delay (doubling each time).
    refresh:
        Call the models even for outputs already cached.
    experiment:
        Experiment of the runs (the active one by default).

    Returns
    -------
    PromptGrid

    Raises
    ------
    InvalidInput
        Bad prompts, models or inputs, or a template variable missing from the
        inputs (named, with the template).
    """
    from nbtrack.tracking import fluent

    templates = _templates(prompts)
    named = (
        dict(models)
        if isinstance(models, Mapping)
        else {f"model_{i + 1}": m for i, m in enumerate(models)}
    )
    if not templates or not named:
        raise InvalidInput("compare_prompts needs at least one prompt and one model")
    providers = {name: as_provider(model, name) for name, model in named.items()}
    rows = _rows(inputs)
    if reference is not None and any(reference not in row for row in rows):
        raise InvalidInput(f"No reference column {reference!r} in inputs")
    for template in templates:
        for position, row in enumerate(rows):
            missing = [v for v in template.variables if v not in row]
            if missing:
                raise InvalidInput(
                    f"Input row {position} has no value for {missing[0]!r}, "
                    f"used by template {template.uri if template.version else template.name}"
                )
    generation_params = dict(params or {})
    references = [row[reference] for row in rows] if reference else None
    combos = [Combination(f"{t.name} × {name}", t, name) for t in templates for name in providers]
    if experiment is not None:
        fluent.set_experiment(experiment)
    with fluent.start_run(
        run_name="prompt-comparison", nested=fluent.active_run() is not None
    ) as parent:
        fluent.log_params(
            {"n_prompts": len(templates), "n_models": len(providers), "n_inputs": len(rows)}
        )
        _fill(
            combos,
            providers,
            rows,
            generation_params,
            timeout,
            retries,
            backoff,
            refresh,
            max_workers,
        )
        for combo in combos:
            _log_combination(combo, rows, generation_params, references, metrics)
        parent_id = parent.info.run_id
    return PromptGrid(rows, combos, parent_id, reference)


def _fill(
    combos: list[Combination],
    providers: dict[str, Provider],
    rows: list[dict[str, Any]],
    params: dict[str, Any],
    timeout: float,
    retries: int,
    backoff: float,
    refresh: bool,
    max_workers: int,
) -> None:
    def one(combo: Combination, row: dict[str, Any]) -> Cell:
        provider = providers[combo.model_name]
        key = _key(combo.template, row, provider.identity, params)
        with _cache_lock:
            hit = None if refresh else _cache.get(key)
        if hit is not None:
            return Cell(
                hit.text, None, hit.latency_ms, hit.completion_tokens, True, hit.prompt_tokens
            )
        prompt = combo.template.format(**{k: v for k, v in row.items()})
        try:
            generation = _call(provider, prompt, params, timeout, retries, backoff)
        except Exception as exc:  # the grid shows the failure in its cell and goes on
            return Cell(None, f"{type(exc).__name__}: {exc}")
        with _cache_lock:
            _cache[key] = generation
        return Cell(
            generation.text,
            None,
            generation.latency_ms,
            generation.completion_tokens,
            prompt_tokens=generation.prompt_tokens,
        )

    with ThreadPoolExecutor(max_workers=max(1, max_workers)) as pool:
        futures = [[pool.submit(one, combo, row) for row in rows] for combo in combos]
        for combo, pending in zip(combos, futures, strict=True):
            combo.cells = [future.result() for future in pending]


def _log_combination(
    combo: Combination,
    rows: list[dict[str, Any]],
    params: dict[str, Any],
    references: list[Any] | None,
    metrics: Mapping[str, Callable[[list[str], list[Any] | None], float]] | None,
) -> None:
    import pandas as pd

    from nbtrack.tracking import fluent

    template_text = (
        combo.template.template
        if isinstance(combo.template.template, str)
        else json.dumps(combo.template.template, ensure_ascii=False)
    )
    with fluent.start_run(run_name=combo.label, nested=True) as run:
        combo.run_id = run.info.run_id
        fluent.log_params(
            {
                "template": template_text[:_MAX_PARAM],
                "prompt": combo.template.uri if combo.template.version else combo.template.name,
                "model": combo.model_name,
                **{f"gen.{k}": v for k, v in params.items()},
            }
        )
        fluent.log_text(template_text, "template.txt")
        ok = [c for c in combo.cells if c.error is None]
        outputs = [c.output or "" for c in combo.cells]
        found: dict[str, float] = {"errors": float(len(combo.cells) - len(ok))}
        latencies = [c.latency_ms for c in ok if c.latency_ms is not None]
        if latencies:
            found["latency_ms_mean"] = sum(latencies) / len(latencies)
        tokens = [c.tokens for c in ok if c.tokens is not None]
        if tokens:
            found["tokens_mean"] = sum(tokens) / len(tokens)
        prompt_tokens = [c.prompt_tokens for c in ok if c.prompt_tokens is not None]
        if prompt_tokens:
            found["prompt_tokens_mean"] = sum(prompt_tokens) / len(prompt_tokens)
        if references is not None:
            matches = [
                float(c.error is None and str(c.output).strip() == str(r).strip())
                for c, r in zip(combo.cells, references, strict=True)
            ]
            found["exact_match"] = sum(matches) / len(matches) if matches else 0.0
        for name, fn in (metrics or {}).items():
            found[name] = float(fn(outputs, references))
        combo.metrics = found
        fluent.log_metrics(found)
        table = pd.DataFrame(rows)
        table["output"] = [c.output for c in combo.cells]
        table["error"] = [c.error for c in combo.cells]
        table["latency_ms"] = [c.latency_ms for c in combo.cells]
        table["tokens"] = [c.tokens for c in combo.cells]
        table["prompt_tokens"] = [c.prompt_tokens for c in combo.cells]
        fluent.log_table(table, "predictions.json")
