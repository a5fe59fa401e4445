"""HTTP latency and throughput of ``/api/search`` and ``/api/ask`` under concurrent clients, with server memory.

The server is the real app (``medevidence.web.create_app``) under uvicorn in its own process, with
the rate limit off. Its resident memory (VmRSS) is read from /proc when it has started, and after
each endpoint's warm-up and after its run, so growth during a measured run shows apart from the
one-time index load. Each endpoint gets ``--clients`` concurrent clients that send requests back
to back for ``--duration`` seconds, cycling through the starter library's sample questions, after
a short warm-up that is not counted. Latency is measured in the client, from sending the request
to having read the whole response. Client and server share the machine, so the figures include
that contention; the 1-minute load average at the start is printed.

    python bench/http_load.py [--library PATH] [--duration 60] [--clients 10]    (as a script, not with -m)

Without ``--library`` a library is built from ``starter/`` with the default settings in a
temporary folder (not timed). Pass ``--library`` for a prepared one, e.g. 100k passages. Kept out
of the test run: it takes minutes.
"""

from __future__ import annotations

import os
import sys

# Run as a script, this file's folder comes first on sys.path, and its name would hide the standard library's http.
sys.path.remove(os.path.dirname(os.path.realpath(__file__)))

import argparse
import asyncio
import itertools
import platform
import shlex
import socket
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
STARTER = REPO / "starter"
WARM_UP_SECONDS = 5

SERVER = """
import sys, uvicorn
from medevidence.web import create_app
app = create_app(sys.argv[1], rate_limit_per_minute=0)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
"""


@dataclass
class Run:
    endpoint: str
    latencies: list[float] = field(default_factory=list)
    errors: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def hardware() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.is_file() else []
    model = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "")
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{model or platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs, "
        f"{memory:.0f} GiB RAM, {platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def build_starter_library(directory: Path) -> None:
    from medevidence import Library

    with Library.open(directory) as library:
        report = library.ingest([STARTER])
    print(f"built {directory} from starter/: {report.added} documents added", file=sys.stderr)


def questions() -> list[str]:
    lines = (STARTER / "questions.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


async def load(
    client: httpx.AsyncClient,
    name: str,
    send: Callable[[str], Awaitable[httpx.Response]],
    clients: int,
    seconds: float,
    warmed: Callable[[], None],
) -> Run:
    """``clients`` loops sending requests for ``seconds`` after the warm-up; every response is read in full.

    ``warmed`` is called once the warm-up is over, so memory can be read before the measured run."""
    run = Run(name)
    pool = itertools.cycle(questions())
    loop = asyncio.get_running_loop()
    warm_until = loop.time() + WARM_UP_SECONDS
    stop = warm_until + seconds

    async def one_client() -> None:
        while (now := loop.time()) < stop:
            started = time.perf_counter()
            response = await send(next(pool))
            await response.aread()
            elapsed = time.perf_counter() - started
            if now < warm_until:
                continue
            if response.status_code == 200:
                run.latencies.append(elapsed)
            else:
                run.errors[response.status_code] = run.errors.get(response.status_code, 0) + 1

    async def after_warm_up() -> None:
        await asyncio.sleep(WARM_UP_SECONDS)
        warmed()

    await asyncio.gather(after_warm_up(), *(one_client() for _ in range(clients)))
    run.seconds = seconds
    return run


async def measure(base_url: str, pid: int, clients: int, seconds: float) -> tuple[list[Run], list[tuple[str, float]]]:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    memory = [("server started", rss_mib(pid))]
    async with httpx.AsyncClient(base_url=base_url, timeout=120, limits=limits) as client:
        search = await load(
            client,
            "GET /api/search (k=10)",
            lambda q: client.get("/api/search", params={"q": q, "k": 10}),
            clients,
            seconds,
            lambda: memory.append(("after search warm-up", rss_mib(pid))),
        )
        memory.append(("after search run", rss_mib(pid)))
        ask = await load(
            client,
            "POST /api/ask",
            lambda q: client.post("/api/ask", json={"question": q}),
            clients,
            seconds,
            lambda: memory.append(("after ask warm-up", rss_mib(pid))),
        )
        memory.append(("after ask run", rss_mib(pid)))
    return [search, ask], memory


def start_server(library: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", SERVER, str(library), str(port)])
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with status {process.returncode}")
        try:
            if httpx.get(f"{base_url}/api/health", timeout=5).status_code == 200:
                return process, base_url
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not answer /api/health within 300 s")


def report(
    console: Console, runs: list[Run], memory: list[tuple[str, float]], health: dict[str, Any], args: Any
) -> None:
    console.print(f"hardware: {hardware()}")
    console.print(f"load average at start (1 min): {args.load_average:.2f}")
    console.print(f"library: {args.library_label}: {health['documents']:,} documents, {health['passages']:,} passages")
    console.print(f"command: python bench/http_load.py {shlex.join(args.argv)}")
    console.print(
        f"one run per endpoint: {args.clients} concurrent clients, {args.duration:.0f} s measured after "
        f"{WARM_UP_SECONDS} s warm-up; server: uvicorn, 1 process, rate limit off"
    )
    table = Table(title="HTTP API latency and throughput")
    for column in ("endpoint", "requests", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms"):
        table.add_column(column, justify="left" if column == "endpoint" else "right")
    for run in runs:
        errors = sum(run.errors.values())
        table.add_row(
            run.endpoint,
            f"{len(run.latencies):,}",
            f"{errors:,}" + (f" {dict(sorted(run.errors.items()))}" if errors else ""),
            f"{len(run.latencies) / run.seconds:,.1f}",
            f"{run.percentile(0.50):,.0f}",
            f"{run.percentile(0.95):,.0f}",
            f"{run.percentile(0.99):,.0f}",
            f"{max(run.latencies, default=float('nan')) * 1000:,.0f}",
        )
    console.print(table)
    memory_table = Table(title="server memory (VmRSS, MiB)")
    memory_table.add_column("when")
    memory_table.add_column("RSS", justify="right")
    for when, mib in memory:
        memory_table.add_row(when, f"{mib:,.0f}")
    console.print(memory_table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--library", type=Path, help="An existing library (default: build one from starter/).")
    parser.add_argument("--duration", type=float, default=60.0, help="Seconds measured per endpoint (default 60).")
    parser.add_argument("--clients", type=int, default=10, help="Concurrent clients (default 10).")
    args = parser.parse_args()
    args.argv = sys.argv[1:]
    args.load_average = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="medevidence-http-") as scratch:
        if args.library is None:
            library = Path(scratch) / "library"
            build_starter_library(library)
            args.library_label = "starter/ (default settings)"
        else:
            library = args.library
            args.library_label = str(library)
        process, base_url = start_server(library)
        try:
            health = httpx.get(f"{base_url}/api/health", timeout=30).json()
            runs, memory = asyncio.run(measure(base_url, process.pid, args.clients, args.duration))
        finally:
            process.terminate()
            process.wait(timeout=30)
    report(Console(width=120), runs, memory, health, args)


if __name__ == "__main__":
    main()
