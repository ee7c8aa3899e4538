"""Prompt comparison against a real local model served over OpenAI's API (llama.cpp, SmolLM2)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from local_llm import llama_server

import nbtrack as nbt
from nbtrack.prompts import OpenAICompatible, clear_cache

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with llama_server() as base:
        yield base


def test_grid_over_a_real_local_model(server: str, tmp_dir: Path) -> None:
    nbt.set_tracking_uri(str(tmp_dir / "store"))
    clear_cache()
    smollm = OpenAICompatible(base_url=server, model="smollm")
    inputs = [
        {"text": "The cat sat on the mat all afternoon.", "expected": "cat"},
        {"text": "Rain fell over the city during the night.", "expected": "rain"},
    ]
    prompts = ["Summarize in three words: {{text}}", "What is the main subject? {{text}}"]
    params = {"temperature": 0, "max_tokens": 12, "seed": 0}
    grid = nbt.compare_prompts(
        prompts,
        {"smollm": smollm, "echo": lambda p: p.split(": ", 1)[-1]},
        inputs,
        params=params,
        reference="expected",
        max_workers=1,
    )
    frame = grid.to_frame()
    outputs = frame["prompt_1 × smollm"].tolist() + frame["prompt_2 × smollm"].tolist()
    assert all(isinstance(o, str) and o.strip() and not o.startswith("error:") for o in outputs)
    combo = next(c for c in grid.combinations if c.label == "prompt_1 × smollm")
    assert all(cell.tokens and 0 < cell.tokens <= 12 for cell in combo.cells)
    run = nbt.Client().get_run(combo.run_id)
    assert run.data.params["gen.temperature"] == "0"
    assert run.data.metrics["latency_ms_mean"] > 0
    assert run.data.metrics["errors"] == 0

    # Greedy decoding: asking again (past the cache) gives the same text.
    again = nbt.compare_prompts(
        prompts[:1], {"smollm": smollm}, inputs, params=params, refresh=True, max_workers=1
    )
    assert again.to_frame()["prompt_1 × smollm"].tolist() == frame["prompt_1 × smollm"].tolist()


def test_prompt_comparison_example_runs(tmp_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    import ipykernel  # noqa: F401  (the kernel the notebook runs in)
    import nbclient
    import nbformat

    example = Path(__file__).parents[2] / "examples" / "prompt_comparison.ipynb"
    notebook = tmp_dir / example.name
    shutil.copy(example, notebook)
    monkeypatch.setenv("NBTRACK_TRACKING_URI", str(tmp_dir / "store"))
    nb = nbformat.read(notebook, as_version=4)
    nbclient.NotebookClient(
        nb, kernel_name="python3", timeout=300, resources={"metadata": {"path": str(tmp_dir)}}
    ).execute()
    grid_html = nb.cells[2].outputs[0]["data"]["text/html"]
    assert "prompt_2 × smollm" in grid_html and "exact_match" in grid_html
    client = nbt.Client(str(tmp_dir / "store"))
    assert (
        client.get_model_version("summarizer", 1)
        .tags["mlflow.prompt.text"]
        .startswith("In five words")
    )
    experiment = client.get_experiment_by_name("prompt-comparison")
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 5  # the comparison and its four combinations


def test_text_evaluation_scores_similarity_with_local_embeddings(tmp_dir: Path) -> None:
    import pandas as pd

    from nbtrack.evaluation import OpenAIEmbeddings

    nbt.set_tracking_uri(str(tmp_dir / "store"))
    data = pd.DataFrame(
        {"q": ["The cat sat on the mat.", "Tax law"], "ref": ["The cat sat on the mat.", "A cat"]}
    )
    with llama_server(embedding=True) as base:
        embed = OpenAIEmbeddings(base_url=base, model="smollm")
        same, other = embed(["The cat sat on the mat.", "Tax law"])
        result = nbt.evaluate(lambda q: q, data, targets="ref", model_type="text", embedder=embed)
    scores = result.tables["eval_results_table"]["similarity"].tolist()
    assert scores[0] == pytest.approx(1.0, abs=1e-6)  # identical text
    assert scores[1] < scores[0]
    assert result.metrics["similarity"] == pytest.approx(sum(scores) / 2)
    assert len(same) == len(other) > 100  # pooled: one vector per text
