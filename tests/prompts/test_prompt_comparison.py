"""``nbt.compare_prompts``: the grid, its runs and artifacts, caching, failures, HTTP providers."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
import pytest

import nbtrack as nbt
from nbtrack.errors import InvalidInput
from nbtrack.prompts import Generation, OpenAICompatible, ProviderError

INPUTS = pd.DataFrame(
    {"text": ["the cat sat", "dogs bark loudly"], "expected": ["THE CAT SAT", "dogs"]}
)


def shout(prompt: str) -> str:
    return prompt.split(": ", 1)[1].upper()


def first_word(prompt: str, max_tokens: int = 1) -> str:
    return " ".join(prompt.split(": ", 1)[1].split()[:max_tokens])


def test_grid_runs_and_artifacts(store: nbt.Client) -> None:
    grid = nbt.compare_prompts(
        prompts=["Repeat: {{text}}", "Shorten: {{ text }}"],
        models={"shout": shout, "first": first_word},
        inputs=INPUTS,
        params={"max_tokens": 1},
        reference="expected",
        metrics={"chars": lambda outputs, refs: sum(map(len, outputs)) / len(outputs)},
    )
    frame = grid.to_frame()
    assert list(frame.columns) == [
        "prompt_1 × shout",
        "prompt_1 × first",
        "prompt_2 × shout",
        "prompt_2 × first",
    ]
    assert frame["prompt_1 × shout"].tolist() == ["THE CAT SAT", "DOGS BARK LOUDLY"]
    assert frame["prompt_2 × first"].tolist() == ["the", "dogs"]
    assert grid.metrics["prompt_1 × shout"]["exact_match"] == 0.5
    assert grid.metrics["prompt_2 × first"]["exact_match"] == 0.5
    assert grid.metrics["prompt_1 × first"]["chars"] == pytest.approx((3 + 4) / 2)

    parent = store.get_run(grid.parent_run_id)
    assert parent.data.params == {"n_prompts": "2", "n_models": "2", "n_inputs": "2"}
    combo = grid.combinations[0]
    run = store.get_run(combo.run_id)
    assert run.data.tags["nbtrack.parent_run_id"] == grid.parent_run_id
    assert run.data.params["template"] == "Repeat: {{text}}"
    assert run.data.params["model"] == "shout"
    assert run.data.params["gen.max_tokens"] == "1"
    assert run.data.metrics["errors"] == 0
    table = json.loads(Path(store.download_artifacts(combo.run_id, "predictions.json")).read_text())
    assert table["columns"][:2] == ["text", "expected"]
    assert [row[table["columns"].index("output")] for row in table["data"]] == [
        "THE CAT SAT",
        "DOGS BARK LOUDLY",
    ]
    html = grid._repr_html_()
    assert html.count("<tr>") == 4 and "exact_match" in html


def test_marks_and_registering_the_winner(store: nbt.Client) -> None:
    grid = nbt.compare_prompts(["A: {{text}}", "B: {{text}}"], {"shout": shout}, INPUTS)
    grid.mark(0, "prompt_2 × shout")
    grid.mark(1, "prompt_2 × shout")
    winner = store.get_run(grid.combinations[1].run_id)
    assert winner.data.metrics["preferred_count"] == 2
    assert store.get_run(grid.combinations[0].run_id).data.metrics["preferred_count"] == 0
    with pytest.raises(InvalidInput, match="No combination 'nope'"):
        grid.mark(0, "nope")
    with pytest.raises(InvalidInput, match="No input row 5"):
        grid.mark(5, "prompt_1 × shout")
    version = grid.register("prompt_2 × shout", "summarizer")
    assert nbt.load_prompt("prompts:/summarizer/1").template == "B: {{text}}"
    assert version.tags["nbtrack.comparison.run_id"] == grid.combinations[1].run_id
    again = nbt.compare_prompts(["prompts:/summarizer/1"], {"shout": shout}, INPUTS)
    assert again.combinations[0].label == "summarizer × shout"


def test_outputs_are_cached_unless_refreshed(store: nbt.Client) -> None:
    calls: list[str] = []

    def counted(prompt: str) -> str:
        calls.append(prompt)
        return prompt[::-1]

    nbt.compare_prompts(["R: {{text}}"], {"rev": counted}, INPUTS)
    grid = nbt.compare_prompts(["R: {{text}}"], {"rev": counted}, INPUTS)
    assert len(calls) == 2
    assert all(cell.cached for cell in grid.combinations[0].cells)
    nbt.compare_prompts(["R: {{text}}"], {"rev": counted}, INPUTS, refresh=True)
    assert len(calls) == 4
    nbt.compare_prompts(["R: {{text}}"], {"rev": counted}, INPUTS, params={"t": 0})
    assert len(calls) == 6  # other params are another cache entry


class Flaky:
    """A provider failing transiently a set number of times, then answering."""

    identity = "flaky"

    def __init__(self, failures: int, retryable: bool = True) -> None:
        self.failures = failures
        self.retryable = retryable
        self.calls = 0
        self.lock = threading.Lock()

    def generate(self, prompt: Any, params: dict[str, Any], timeout: float) -> Generation:
        with self.lock:
            self.calls += 1
            if self.calls <= self.failures:
                raise ProviderError("busy", retryable=self.retryable)
        return Generation("ok", 1.0)


def test_failures_retry_then_show_in_their_cells(store: nbt.Client) -> None:
    flaky = Flaky(failures=2)
    grid = nbt.compare_prompts(
        ["X: {{text}}"], {"flaky": flaky}, INPUTS.head(1), retries=2, backoff=0.01, max_workers=1
    )
    assert grid.to_frame().iloc[0, 0] == "ok" and flaky.calls == 3

    def broken(prompt: str) -> str:
        if "cat" in prompt:
            raise ValueError("model crashed")
        return "fine"

    grid = nbt.compare_prompts(["X: {{text}}"], {"broken": broken}, INPUTS)
    assert grid.to_frame()["prompt_1 × broken"].tolist() == [
        "error: ValueError: model crashed",
        "fine",
    ]
    assert store.get_run(grid.combinations[0].run_id).data.metrics["errors"] == 1
    permanent = Flaky(failures=5, retryable=False)
    permanent.identity = "permanent"  # not the answer cached for "flaky" above
    grid = nbt.compare_prompts(["X: {{text}}"], {"p": permanent}, INPUTS.head(1), backoff=0.01)
    assert permanent.calls == 1  # not retried
    assert "error: ProviderError: busy" in grid.to_frame().iloc[0, 0]


def test_bad_input_names_what_is_wrong(store: nbt.Client) -> None:
    with pytest.raises(InvalidInput, match="Input row 0 has no value for 'topic'"):
        nbt.compare_prompts(["About {{topic}}"], {"s": shout}, INPUTS)
    with pytest.raises(InvalidInput, match="No reference column 'gold'"):
        nbt.compare_prompts(["{{text}}"], {"s": shout}, INPUTS, reference="gold")
    with pytest.raises(InvalidInput, match="Cannot use a int as a model"):
        nbt.compare_prompts(["{{text}}"], {"s": 3}, INPUTS)
    with pytest.raises(InvalidInput, match=r"prompts\[0\] is a int"):
        nbt.compare_prompts([3], {"s": shout}, INPUTS)
    with pytest.raises(InvalidInput, match=r"inputs\[1\] must be a dict"):
        nbt.compare_prompts(["{{text}}"], {"s": shout}, [{"text": "a"}, "b"])
    assert store.search_runs(["0"]) == []


class _OpenAIHandler(BaseHTTPRequestHandler):
    """An OpenAI-style endpoint on 127.0.0.1 recording requests (answers reverse the prompt)."""

    requests: ClassVar[list[dict[str, Any]]] = []
    fail_next: ClassVar[int] = 0

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(
            {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
        )
        if type(self).fail_next:
            type(self).fail_next -= 1
            self.send_response(503)
            self.end_headers()
            self.wfile.write(b"overloaded")
            return
        if self.path.endswith("/chat/completions"):
            text = body["messages"][-1]["content"][::-1]
            answer = {"choices": [{"message": {"role": "assistant", "content": text}}]}
        else:
            answer = {"choices": [{"text": body["prompt"][::-1]}]}
        answer["usage"] = {"prompt_tokens": 3, "completion_tokens": 2}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


def test_openai_compatible_provider_speaks_the_protocol(
    store: nbt.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OpenAIHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}/v1"
        monkeypatch.setenv("LOCAL_KEY", "secret")
        chat = OpenAICompatible(base, "tiny", api_key_env="LOCAL_KEY")
        plain = OpenAICompatible(base, "tiny", chat=False)
        _OpenAIHandler.fail_next = 1
        grid = nbt.compare_prompts(
            ["Q: {{text}}"],
            {"chat": chat, "plain": plain},
            INPUTS.head(1),
            params={"temperature": 0, "max_tokens": 8},
            backoff=0.01,
            max_workers=1,
        )
        assert grid.to_frame().iloc[0].tolist() == ["tas tac eht :Q", "tas tac eht :Q"]
        assert grid.combinations[0].cells[0].tokens == 2
        chat_calls = [r for r in _OpenAIHandler.requests if r["path"] == "/v1/chat/completions"]
        assert len(chat_calls) == 2  # one 503, retried
        assert chat_calls[-1]["body"] == {
            "model": "tiny",
            "temperature": 0,
            "max_tokens": 8,
            "messages": [{"role": "user", "content": "Q: the cat sat"}],
        }
        assert chat_calls[-1]["auth"] == "Bearer secret"
        down = OpenAICompatible("http://127.0.0.1:9/v1", "x")
        grid = nbt.compare_prompts(["{{text}}"], {"down": down}, INPUTS.head(1), retries=0)
        assert "Cannot reach http://127.0.0.1:9/v1" in grid.to_frame().iloc[0, 0]
    finally:
        server.shutdown()
        server.server_close()


def test_a_name_bound_to_another_function_is_not_answered_from_the_cache(
    store: nbt.Client,
) -> None:
    def model(prompt: str) -> str:
        return prompt.upper()

    first = nbt.compare_prompts(["R: {{text}}"], {"m": model}, INPUTS)

    def model(prompt: str) -> str:  # the user redefines it in a cell
        return "".join(c for c in reversed(prompt))

    second = nbt.compare_prompts(["R: {{text}}"], {"m": model}, INPUTS)
    assert [c.cached for c in second.combinations[0].cells] == [False] * len(INPUTS)
    assert second.combinations[0].cells[0].output == f"R: {INPUTS['text'][0]}"[::-1]
    assert first.combinations[0].cells[0].output != second.combinations[0].cells[0].output

    def model(prompt: str) -> str:  # the same code run again: a cache hit
        return "".join(c for c in reversed(prompt))

    third = nbt.compare_prompts(["R: {{text}}"], {"m": model}, INPUTS)
    assert all(cell.cached for cell in third.combinations[0].cells)
