"""The artifact route: any file name, pages and SVG never opened on Jupyter's origin, streamed."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import tornado.simple_httpclient

import nbtrack as nbt

_BIG = 500 << 20


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """One run with a non-Latin-1 name, a page, an SVG and a PNG among its artifacts."""
    folder = tmp_path / "store"
    client = nbt.Client(str(folder))
    run = client.create_run(client.create_experiment("files"))
    run_id = run.info.run_id
    client.log_text(run_id, "loss went down", "損失.txt")
    client.log_text(run_id, "<script>alert(document.cookie)</script>", "report.html")
    client.log_text(run_id, '<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', "plot.svg")
    client.log_text(run_id, "png bytes", 'fig "1".png')
    client.set_terminated(run_id)
    client.flush()
    (tmp_path / "run_id").write_text(run_id)
    return folder


def _run_id(store: Path) -> str:
    return (store.parent / "run_id").read_text()


async def _artifact(jp_fetch: Any, store: Path, path: str) -> Any:
    return await jp_fetch(
        "nbtrack", "api", "runs", _run_id(store), "artifact", params={"path": path}
    )


async def test_a_file_name_outside_latin1_downloads_under_its_name(
    jp_fetch: Any, store: Path
) -> None:
    response = await _artifact(jp_fetch, store, "損失.txt")
    assert response.code == 200
    assert response.body == b"loss went down"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("inline;")
    assert f"filename*=UTF-8''{quote('損失.txt')}" in disposition
    assert 'filename="__.txt"' in disposition  # the ASCII fallback old clients read

    quoted = await _artifact(jp_fetch, store, 'fig "1".png')
    assert 'filename="fig _1_.png"' in quoted.headers["Content-Disposition"]
    assert quoted.headers["Content-Type"] == "image/png"


@pytest.mark.parametrize(
    ("path", "kind"), [("report.html", "text/html"), ("plot.svg", "image/svg+xml")]
)
async def test_pages_and_svg_are_attachments_in_a_sandbox(
    jp_fetch: Any, store: Path, path: str, kind: str
) -> None:
    response = await _artifact(jp_fetch, store, path)
    assert response.headers["Content-Type"].startswith(kind)
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Content-Security-Policy"] == "sandbox"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert b"<script" in response.body  # the bytes themselves are untouched


def _rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.mark.slow
async def test_a_large_artifact_is_streamed_not_held_in_memory(
    jp_fetch: Any,
    store: Path,
    tmp_path: Path,
    jp_http_port: int,
    jp_base_url: str,
    jp_auth_header: dict[str, str],
) -> None:
    big = tmp_path / "big.bin"
    block = bytes(range(256)) * 4096  # 1 MiB
    with big.open("wb") as fh:
        for _ in range(_BIG // len(block)):
            fh.write(block)
    client = nbt.Client(str(store))
    client.log_artifact(_run_id(store), str(big))
    big.unlink()
    await jp_fetch("api", "status")  # the server is up

    # The Jupyter server runs in this process: its resident memory is ours.
    baseline, peak = _rss_bytes(), [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss_bytes())
            time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    received = [0]

    def count(chunk: bytes) -> None:
        received[0] += len(chunk)

    http = tornado.simple_httpclient.SimpleAsyncHTTPClient(
        force_instance=True, max_body_size=1 << 40
    )
    url = (
        f"http://127.0.0.1:{jp_http_port}{jp_base_url}nbtrack/api/runs/{_run_id(store)}"
        "/artifact?path=big.bin"
    )
    try:
        response = await http.fetch(
            url, headers=jp_auth_header, streaming_callback=count, request_timeout=600
        )
    finally:
        done.set()
        sampler.join()
        http.close()
    assert response.code == 200
    assert response.headers["Content-Length"] == str(_BIG)
    assert received[0] == _BIG
    assert peak[0] - baseline < 50 << 20, f"RSS grew {(peak[0] - baseline) >> 20} MiB"
