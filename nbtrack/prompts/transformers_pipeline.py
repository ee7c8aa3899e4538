"""A local ``transformers`` text-generation pipeline as a prompt-comparison provider.

transformers and torch are imported only when a pipeline is wrapped or loaded:
``import nbtrack`` never pays for them.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from nbtrack.errors import InvalidInput
from nbtrack.prompts.providers import Generation, Prompt, ProviderError, as_text

__all__ = ["TransformersPipeline"]


# Sampling-only generate() flags: dropped when decoding greedily, where transformers
# ignores them and logs a warning on every call.
_SAMPLING_FLAGS = ("temperature", "top_p", "top_k", "min_p", "typical_p")


def _generation_options(params: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Translate OpenAI-style params into a text-generation pipeline's keywords."""
    options = dict(params)
    for drop in ("stop", "seed"):  # handled around the call, not by generate()
        options.pop(drop, None)
    if "max_tokens" in options:
        options["max_new_tokens"] = options.pop("max_tokens")
    temperature = options.get("temperature")
    # A pipeline samples by default (temperature 0.7); OpenAI's temperature 0 means greedy.
    options.setdefault("do_sample", temperature is not None and float(temperature) > 0)
    if not options["do_sample"]:
        for flag in _SAMPLING_FLAGS:
            options.pop(flag, None)
    stop = params.get("stop")
    if stop:
        options["stop_sequence"] = [stop] if isinstance(stop, str) else list(stop)
    # generate() stops itself at max_time; the call then fails below instead of hanging.
    options.setdefault("max_time", timeout)
    return options


def _cut_at_stop(text: str, stop: str | list[str] | None) -> str:
    """End the answer before the first stop string, as OpenAI's API does."""
    for marker in [stop] if isinstance(stop, str) else stop or []:
        if marker and marker in text:
            text = text[: text.index(marker)]
    return text


class TransformersPipeline:
    """A local ``transformers`` text-generation pipeline, called with OpenAI's parameter names.

    One ``params`` dict then serves every model of a comparison:
    ``max_tokens`` becomes ``max_new_tokens``; no ``temperature``, or 0, decodes
    greedily (a pipeline samples by default, so outputs would change from run
    to run); a positive ``temperature`` samples, seeded by ``seed`` when given;
    ``stop`` ends the answer before the first stop string. Other params go to
    ``generate`` as they are.

    Parameters
    ----------
    pipeline:
        A ``transformers.pipeline("text-generation", ...)``.
    name:
        Added to :attr:`identity`, to tell apart pipelines over the same model.
    chat:
        Send plain-text prompts as one user message through the tokenizer's
        chat template, as :class:`OpenAICompatible` does by default, so one
        template means the same to every model. ``None`` (default): when the
        tokenizer has a chat template. ``False``: complete the text as it is.

    Raises
    ------
    InvalidInput
        The pipeline is not a text-generation one with a tokenizer, or
        ``chat=True`` and the tokenizer has no chat template.
    """

    def __init__(self, pipeline: Any, name: str | None = None, chat: bool | None = None) -> None:
        from transformers import TextGenerationPipeline  # imported already: it made `pipeline`

        tokenizer = getattr(pipeline, "tokenizer", None)
        if not isinstance(pipeline, TextGenerationPipeline) or tokenizer is None:
            raise InvalidInput(
                f"Cannot compare prompts on a {type(pipeline).__name__}: "
                "pass a 'text-generation' pipeline with a tokenizer"
            )
        has_template = bool(getattr(tokenizer, "chat_template", None))
        if chat and not has_template:
            raise InvalidInput(
                f"chat=True, but the tokenizer of {pipeline.model.name_or_path!r} "
                "has no chat template"
            )
        # Any: transformers' own annotations say the tokenizer may be None, checked above.
        self.pipeline: Any = pipeline
        self.chat = has_template if chat is None else chat
        self.identity = self._identity(str(pipeline.model.name_or_path), name)
        # One call at a time: a fast tokenizer is not safe to share between threads, and a
        # model already uses the cores it is given, so concurrent calls would only skew latency.
        self._lock = threading.Lock()

    def _identity(self, source: str, name: str | None) -> str:
        mode = "chat" if self.chat else "completions"
        return ":".join(["transformers", source, *([name] if name else []), mode])

    @classmethod
    def from_pretrained(
        cls,
        model: str | os.PathLike[str],
        gguf_file: str | None = None,
        *,
        name: str | None = None,
        chat: bool | None = None,
        **pipeline_kwargs: Any,
    ) -> TransformersPipeline:
        """Load a model and its tokenizer into a text-generation pipeline.

        Parameters
        ----------
        model:
            A Hub id, a local folder, or the path of a ``.gguf`` file.
        gguf_file:
            A GGUF file inside ``model`` (llama.cpp's format; needs the ``gguf``
            package). Its weights are de-quantized to run in torch.
        name, chat:
            As for the constructor.
        **pipeline_kwargs:
            Passed to ``transformers.pipeline`` (``device``, ``dtype``…).

        Returns
        -------
        TransformersPipeline

        Examples
        --------
        >>> smollm = TransformersPipeline.from_pretrained("models/SmolLM2-135M-Instruct.Q4_1.gguf")
        >>> nbt.compare_prompts(["Summarize: {{text}}"], {"smollm": smollm}, inputs)
        """
        from pathlib import Path

        try:
            from transformers import pipeline
        except ImportError as exc:
            raise ImportError(
                "TransformersPipeline needs transformers and torch: pip install transformers torch"
            ) from exc

        source = Path(model)
        if gguf_file is None and source.suffix == ".gguf" and source.is_file():
            source, gguf_file = source.parent, source.name
        location = str(source) if source.exists() else str(model)
        model_kwargs = dict(pipeline_kwargs.pop("model_kwargs", None) or {})
        if gguf_file is not None:
            # pipeline() hands model_kwargs to the tokenizer's loading too, which reads the GGUF.
            model_kwargs["gguf_file"] = gguf_file
        loaded = pipeline(
            "text-generation", model=location, model_kwargs=model_kwargs, **pipeline_kwargs
        )
        provider = cls(loaded, name=name, chat=chat)
        provider.identity = provider._identity(
            location + (f"/{gguf_file}" if gguf_file else ""), name
        )
        return provider

    def _render(self, prompt: Prompt) -> tuple[str, bool | None]:
        """The text the model sees, and ``add_special_tokens`` for tokenizing it."""
        if isinstance(prompt, str) and not self.chat:
            return prompt, None
        if not self.chat:  # no chat template: the messages as text, as /completions would get
            return as_text(prompt), None
        messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
        # A chat ending with the assistant's words is a prefill to continue, as in the pipeline.
        prefill = messages[-1]["role"] == "assistant"
        text = self.pipeline.tokenizer.apply_chat_template(
            messages,
            tokenize=False,
            add_generation_prompt=not prefill,
            continue_final_message=prefill,
        )
        # The template wrote the special tokens itself: adding them again would double the BOS.
        return str(text), False

    def generate(self, prompt: Prompt, params: dict[str, Any], timeout: float) -> Generation:
        """Run the pipeline on one prompt; the new text with prompt and completion tokens.

        Raises
        ------
        ProviderError
            Generation reached ``timeout`` seconds, or the pipeline changed the
            prompt's tokens (a pipeline with a ``prefix``).
        """
        tokenizer = self.pipeline.tokenizer
        text, special = self._render(prompt)
        encoding = {} if special is None else {"add_special_tokens": special}
        prompt_ids = [int(i) for i in tokenizer(text, **encoding)["input_ids"]]
        options = _generation_options(params, timeout)
        with self._lock:
            if options["do_sample"] and params.get("seed") is not None:
                import torch

                torch.manual_seed(int(params["seed"]))
            started = time.perf_counter()
            # Token ids rather than text: the exact count of new tokens, which
            # re-encoding the decoded answer would only approximate.
            result = self.pipeline(text, return_tensors=True, **encoding, **options)
            latency = (time.perf_counter() - started) * 1000
        sequence = [int(i) for i in result[0]["generated_token_ids"]]
        if sequence[: len(prompt_ids)] != prompt_ids:
            raise ProviderError(
                f"The pipeline of {self.identity} changed the prompt's tokens (a prefix?)"
            )
        new = sequence[len(prompt_ids) :]
        ends = set(tokenizer.all_special_ids)
        while new and new[-1] in ends:  # EOS or padding closes the answer; no part of it
            new.pop()
        if latency >= timeout * 1000:
            raise ProviderError(f"{self.identity} took over {timeout:g} s", retryable=False)
        answer = tokenizer.decode(new, skip_special_tokens=True)
        return Generation(
            _cut_at_stop(answer, params.get("stop")), latency, len(prompt_ids), len(new)
        )
