"""A bounded HTTP load generator for W7: ``wrk`` when installed, else keep-alive asyncio sockets.

Both send one fixed POST body over 4 keep-alive connections to 127.0.0.1 and
report requests/s and latency percentiles. ``wrk`` (Debian's package, the
tool the issue's MLflow figures were taken with: ``-t2 -c4``) runs for a
fixed time; the fallback sends a fixed number of requests. On a small
machine the generator shares the CPU with the server, and wrk, written in C,
takes far less of it than Python does, so every record names its generator.

Standard library only: this also runs in MLflow's venv.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass

__all__ = ["Load", "fetch", "run_load"]

CONCURRENCY = 4
_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass(frozen=True, slots=True)
class Load:
    """What a load run measured."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    generator: str

    @property
    def per_s(self) -> float:
        """Requests answered per second."""
        return self.requests / self.seconds


def fetch(
    port: int, path: str, body: bytes | None = None, timeout: float = 5.0
) -> tuple[int, bytes]:
    """One request to 127.0.0.1 (GET, or POST of a JSON ``body``); return status and body."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=body,
        headers={"Content-Type": "application/json"} if body is not None else {},
        method="POST" if body is not None else "GET",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def run_load(port: int, body: bytes, *, seconds: float, requests: int) -> Load:
    """Load ``POST /invocations`` with ``body``: ``seconds`` of wrk, else ``requests`` requests."""
    if shutil.which("wrk"):
        return _wrk(port, body, seconds)
    return asyncio.run(_sockets(port, body, requests))


def _wrk(port: int, body: bytes, seconds: float) -> Load:
    with tempfile.TemporaryDirectory(prefix="nbtrack-wrk-") as folder:
        body_file = os.path.join(folder, "body.json")
        with open(body_file, "wb") as f:
            f.write(body)
        script = os.path.join(folder, "post.lua")
        with open(script, "w") as f:
            f.write(
                'wrk.method = "POST"\n'
                'wrk.headers["Content-Type"] = "application/json"\n'
                f'local f = io.open("{body_file}", "rb")\n'
                "wrk.body = f:read('*a')\n"
                "f:close()\n"
            )
        duration = max(1, round(seconds))
        cmd = ["wrk", "-t2", f"-c{CONCURRENCY}", f"-d{duration}s", "--latency", "-s", script]
        out = subprocess.run(
            [*cmd, f"http://127.0.0.1:{port}/invocations"],
            capture_output=True,
            text=True,
            check=True,
            timeout=duration + 60,
        ).stdout
    total = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    if total is None:
        raise RuntimeError(f"cannot read wrk's output:\n{out}")
    elapsed_ms = float(total.group(2)) * _UNITS_MS[total.group(3)]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    errors = int(non_2xx.group(1)) if non_2xx else 0
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return Load(
        requests=int(total.group(1)),
        seconds=elapsed_ms / 1000,
        p50_ms=_percentile(out, "50"),
        p99_ms=_percentile(out, "99"),
        errors=errors,
        generator=f"wrk -t2 -c{CONCURRENCY} -d{duration}s",
    )


def _percentile(wrk_output: str, which: str) -> float:
    found = re.search(rf"^\s+{which}%\s+([\d.]+)(us|ms|s|m)\s*$", wrk_output, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"no {which}th percentile in wrk's output:\n{wrk_output}")
    return float(found.group(1)) * _UNITS_MS[found.group(2)]


async def _sockets(port: int, body: bytes, requests: int) -> Load:
    head = (
        f"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    message = head + body
    latencies: list[float] = []
    errors = 0
    per_connection = [
        requests // CONCURRENCY + (i < requests % CONCURRENCY) for i in range(CONCURRENCY)
    ]

    async def connection(count: int) -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for _ in range(count):
                start = time.perf_counter()
                writer.write(message)
                status = await _read_response(reader)
                latencies.append((time.perf_counter() - start) * 1000)
                errors += status != 200
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(connection(n) for n in per_connection))
    elapsed = time.perf_counter() - start
    ordered = sorted(latencies)
    return Load(
        requests=len(latencies),
        seconds=elapsed,
        p50_ms=statistics.median(ordered),
        p99_ms=ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        errors=errors,
        generator=f"asyncio keep-alive sockets, c={CONCURRENCY}, n={requests}",
    )


async def _read_response(reader: asyncio.StreamReader) -> int:
    header = await reader.readuntil(b"\r\n\r\n")
    lines = header.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    await reader.readexactly(length)
    return status
