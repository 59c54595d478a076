"""The inference gateway's overhead: the same load straight to the upstream and through it.

    .venv/bin/python benchmarks/bench_gateway.py                    # 64 clients, 2 rounds
    .venv/bin/python benchmarks/bench_gateway.py --clients 64 --requests 640 --rounds 3

Starts a real upstream (llama.cpp's server from the ``xllamacpp`` wheel serving SmolLM2-135M,
:mod:`computeport.gateway.llama_server`) and the gateway as ``computeport serve`` builds it (this
script with ``--serve``: the app from ``create_app`` on a temporary SQLite database with one
deployment and one key, under uvicorn, in its own process).  Then, for each round, the same
load of ``--requests`` chat requests from ``--clients`` concurrent keep-alive connections
(``max_tokens`` answers with ``ignore_eos``), alternately direct and through the gateway,
non-streaming and streaming, and prints per mode: requests/s, the ratio gateway/direct,
p50/p99 latency, the added p50, time to first token (streaming), and the CPU the gateway
process spent per request (from ``/proc``: the one figure a busy machine does not distort).
Budgets (issue 13): added p50 ≤ 2 ms, throughput ≥ 80% of direct, TTFT through the gateway
≤ direct + 5 ms.  With ``--upstream paced`` the latency figures are judged with each request's
drawn pace taken out (the stub names it in the answer's ``id``); the raw difference of the
p50s is printed beside them (benchmarks/README.md says why the two differ).

On a shared 2-core machine the upstream, the gateway and the load generator compete for the
same cores, so the upstream's inference dominates and the numbers move with the machine's
other load: read them side by side, within one run.  Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import functools
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
MODEL = "smollm2"


@dataclass
class Sample:
    latencies: list[float] = field(default_factory=list)
    ttft: list[float] = field(default_factory=list)
    beyond_pace: list[float] = field(default_factory=list)
    """Paced upstream: each latency less the time the upstream was told to take for it."""
    ttft_beyond_pace: list[float] = field(default_factory=list)
    wall: float = 0.0
    served: int = 0
    """Answered requests, the connection-opening ones included (throughput counts them)."""
    errors: int = 0
    gateway_cpu: float = 0.0
    """CPU seconds the gateway process used during the run (0 for direct runs)."""

    @property
    def rps(self) -> float:
        return self.served / self.wall if self.wall else 0.0


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux ``/proc``): what the gateway costs
    per request, whatever else the machine's cores are doing."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait(url: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url}: the process exited ({process.returncode})")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url}: not ready in {timeout:.0f} s")


def serve_gateway(
    upstream: str, port: int, db: Path, model: str = MODEL, modality: str = "text"
) -> None:
    """``--serve``: one deployment (``model``, of ``modality``) and one key on a fresh SQLite
    file, then uvicorn (bench_speech.py serves a speech model the same way)."""
    import uvicorn

    from computeport.api.app import create_app
    from computeport.cli.serve import freeze_startup_heap
    from computeport.db.engine import make_engine, make_session_factory
    from computeport.db.schema import create_schema
    from computeport.gateway.budget_admin import set_budget
    from computeport.gateway.keys import issue_key, register_deployment
    from computeport.gateway.routes import open_gateway
    from computeport.http.state import AppState
    from computeport.identity.service import create_organisation
    from computeport.kit.clock import SystemClock
    from computeport.models.identity import OrganisationCategory
    from computeport.models.inference import BudgetScope
    from computeport.pricing.service import set_audio_price, set_token_price
    from computeport.settings import Settings

    url = f"sqlite:///{db}"
    settings = Settings(
        database_url=url,
        gateway_key_rpm=10**9,
        gateway_key_tpm=10**12,
        gateway_org_rpm=10**9,
        gateway_org_tpm=10**12,
    )
    engine = make_engine(url)
    create_schema(engine)
    sessions = make_session_factory(engine)
    clock = SystemClock()
    with sessions.begin() as s:
        org = create_organisation(
            s,
            name="Bench department",
            category=OrganisationCategory.GOVERNMENT,
            sector="government",
            at=clock.now(),
        )
        register_deployment(
            s,
            clock,
            name=model,
            organisation_id=org.id,
            accelerator_type="h800",
            upstreams=[upstream],
            modality=modality,
        )
        issued = issue_key(s, clock, org.id, "bench")
        key = issued.plaintext
        # Budgets on (issue 21): a price, and a budget on every level, so each request holds
        # and settles money on three levels as a department's would (a speech model by the
        # audio minute, as bench_speech.py's transcriptions are held).
        since = clock.now() - timedelta(1)
        if modality == "speech":
            set_audio_price(s, clock, model, Decimal("0.60"), since)
        else:
            set_token_price(s, clock, model, Decimal("2"), Decimal("6"), since)
        big = 10**15
        set_budget(s, clock, org.id, BudgetScope.DEPARTMENT, big)
        set_budget(s, clock, org.id, BudgetScope.APPLICATION, big, application="bench")
        set_budget(s, clock, org.id, BudgetScope.KEY, big, key_id=issued.key.id)
        # A second department without budgets: its requests pass the same rate limits but
        # hold no money, so the two side by side show what holding and settling adds.
        free = create_organisation(
            s,
            name="Bench department without budgets",
            category=OrganisationCategory.GOVERNMENT,
            sector="government",
            at=clock.now(),
        )
        free_key = issue_key(s, clock, free.id, "bench").plaintext
    state = AppState(settings, engine, sessions, clock, None)
    app = create_app(settings, state)
    app.state.gateway = open_gateway(state, clock)
    print(f"KEY {key}", flush=True)
    print(f"UNBUDGETED {free_key}", flush=True)
    # COMPUTEPORT_BENCH_PROFILE=FILE: the gateway process runs under cProfile and writes its
    # stats to FILE when it stops (read them with ``python -m pstats FILE``).  It counts the
    # process's CPU time, not wall time: on a busy machine wall time blames whatever call the
    # process was descheduled in (a socket write waking Redis read as 0.8 ms a call).
    # (Written at the app's shutdown: uvicorn re-raises the SIGTERM once it has shut down.)
    profile_to = os.environ.get("COMPUTEPORT_BENCH_PROFILE")
    if profile_to:
        profiler = cProfile.Profile(time.process_time)

        def dump() -> None:
            profiler.disable()
            profiler.dump_stats(profile_to)

        serving = app.router.lifespan_context

        @contextlib.asynccontextmanager
        async def profiled(app_: Any) -> AsyncIterator[Any]:
            async with serving(app_) as state:
                yield state
            dump()

        app.router.lifespan_context = profiled
        profiler.enable()
    freeze_startup_heap()  # as `computeport serve` does
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


PACE_ID = re.compile(rb'"id":"pace-([0-9.]+)"')
"""The paced stub's answer names its pace factor in its ``id`` (which the gateway passes as it
is): the client takes the time the upstream was told to take out of what it measured."""
UNPACED_ID = b'"id":"pace-1.000000"'
"""The id the stub's answers are built with, replaced by each request's own pace factor."""


@functools.cache
def _chat(n: int) -> bytes:
    """A plain answer of ``n`` tokens, usage included (vLLM's layout)."""
    return (
        b'{"id":"pace-1.000000","object":"chat.completion","created":0,"model":"stub",'
        b'"choices":[{"index":0,"finish_reason":"length","message":{"role":"assistant",'
        b'"content":"%s"}}],'
        b'"usage":{"prompt_tokens":12,"completion_tokens":%d,"total_tokens":%d}}'
        % (b" w" * n, n, 12 + n)
    )


@functools.cache
def _events(n: int) -> tuple[bytes, ...]:
    """A stream of ``n`` tokens: role, one event a token, finish, usage in a last
    ``choices: []`` event, ``[DONE]``."""
    return (
        b'data: {"id":"pace-1.000000","object":"chat.completion.chunk","choices":[{"index":0,'
        b'"delta":{"role":"assistant","content":null}}]}',
        *[
            b'data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":'
            b'{"content":" w"}}]}'
        ]
        * n,
        b'data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,'
        b'"finish_reason":"length","delta":{}}]}',
        b'data: {"id":"c","object":"chat.completion.chunk","choices":[],'
        b'"usage":{"prompt_tokens":12,"completion_tokens":%d,"total_tokens":%d}}' % (n, 12 + n),
        b"data: [DONE]",
    )


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """One HTTP/1.1 request's body (the stub upstreams answer whatever was asked)."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return await reader.readexactly(length)


async def stub_upstream(
    port: int, ttft: float = 0.0, itl: float = 0.0, jitter: float = 0.0
) -> None:
    """``--stub-serve``: a minimal OpenAI-compatible upstream (labelled as a stub: vLLM's byte
    layout, usage in a last ``choices: []`` chunk), so that the gateway's own cost is what the
    comparison shows, not the model's.  With ``ttft``/``itl`` (seconds) it keeps a served
    model's pace without spending CPU: the first token after ``ttft``, each further token
    ``itl`` later, a plain answer when its last token would have come (``--upstream paced``),
    each request's pace drawn within ± ``jitter`` of it (a served model's latency varies; a
    fixed one lines 64 closed-loop clients up in waves that no real load has)."""
    pace = random.Random(port)

    def chunked(events: Sequence[bytes]) -> bytes:
        return b"".join(b"%x\r\n%s\n\n\r\n" % (len(e) + 2, e) for e in events)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                body = json.loads(await read_request(reader))
                n = max(1, int(body.get("max_tokens") or 4))
                f = pace.uniform(1 - jitter, 1 + jitter)
                paced_id = b'"id":"pace-%.6f"' % f
                if body.get("stream") is True:
                    # Role and first token go together at TTFT; each further token waits.
                    events = _events(n)
                    first, later, tail = events[:2], events[2 : n + 1], events[n + 1 :]
                    first = (first[0].replace(UNPACED_ID, paced_id), first[1])
                    writer.write(
                        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                        b"transfer-encoding: chunked\r\n\r\n"
                    )
                    if ttft:
                        await writer.drain()
                        await asyncio.sleep(ttft * f)
                    writer.write(chunked(first))
                    for event in later:
                        if itl:
                            await writer.drain()
                            await asyncio.sleep(itl * f)
                        writer.write(chunked([event]))
                    writer.write(chunked(tail) + b"0\r\n\r\n")
                else:
                    if ttft or itl:
                        await asyncio.sleep((ttft + itl * (n - 1)) * f)
                    answer = _chat(n).replace(UNPACED_ID, paced_id)
                    writer.write(
                        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                        b"content-length: %d\r\n\r\n%s" % (len(answer), answer)
                    )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    print("READY", flush=True)
    async with server:
        await server.serve_forever()


async def drive(
    base: str,
    key: str,
    clients: int,
    total: int,
    stream: bool,
    tokens: int,
    pace: tuple[float, float] = (0.0, 0.0),
) -> Sample:
    """``total`` requests from ``clients`` concurrent keep-alive connections (aiohttp: with
    httpx as the load generator, its own pool scan capped the direct path near 130 req/s on
    this machine, so the load tool, not the gateway, set the ratio).  ``pace``: the paced
    upstream's (TTFT, time per further token) in seconds, for the figures beyond the pace."""
    import aiohttp

    body = json.dumps(
        {
            "model": MODEL,
            "messages": [{"role": "user", "content": "Count to ten."}],
            "max_tokens": tokens,
            "ignore_eos": True,
            "stream": stream,
        }
    ).encode()
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    url = base + "/chat/completions"
    sample = Sample()
    left = [total]
    connector = aiohttp.TCPConnector(limit=clients)
    timeout = aiohttp.ClientTimeout(total=300)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

        async def one() -> None:
            # Each client's first request opens its connection, and all 64 open at once when
            # a mode starts: a burst the gateway answers in one long turn of its loop, which
            # steady keep-alive traffic never sends.  It counts for throughput, not latency.
            opening = True
            while left[0] > 0:
                left[0] -= 1
                t0 = time.perf_counter()
                first = None
                factor = None
                try:
                    async with http.post(url, data=body, headers=headers) as r:
                        if stream:
                            async for chunk in r.content.iter_any():
                                if factor is None and (m := PACE_ID.search(chunk)):
                                    factor = float(m[1])
                                if first is None and b'"content":"' in chunk:
                                    first = time.perf_counter() - t0
                        else:
                            m = PACE_ID.search(await r.read())
                            factor = float(m[1]) if m else None
                        if r.status != 200:
                            sample.errors += 1
                            continue
                except aiohttp.ClientError:
                    sample.errors += 1
                    continue
                latency = time.perf_counter() - t0
                sample.served += 1
                if opening:
                    opening = False
                    continue
                if first is not None:
                    sample.ttft.append(first)
                sample.latencies.append(latency)
                if factor is not None and pace[0]:
                    told = (pace[0] + pace[1] * (tokens - 1)) * factor
                    sample.beyond_pace.append(latency - told)
                    if first is not None:
                        sample.ttft_beyond_pace.append(first - pace[0] * factor)

        start = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(clients)))
        sample.wall = time.perf_counter() - start
    return sample


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--requests", type=int, default=384, help="per mode and round")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--tokens", type=int, default=4, help="max_tokens of each answer")
    ap.add_argument("--parallel", type=int, default=4, help="the upstream's slots")
    ap.add_argument(
        "--upstream",
        choices=("llama", "stub", "paced"),
        default="llama",
        help="llama: llama.cpp serving SmolLM2 (real; the model bounds the load); stub: a "
        "minimal protocol-speaking upstream that answers at once (shows the gateway's cost); "
        "paced: the stub at a served model's pace (--ttft-ms, --itl-ms), as a model on its "
        "own accelerator host would answer, without taking the gateway's CPU",
    )
    ap.add_argument("--ttft-ms", type=float, default=40.0, help="paced: time to first token")
    ap.add_argument("--itl-ms", type=float, default=15.0, help="paced: time between tokens")
    ap.add_argument(
        "--jitter", type=float, default=0.25, help="paced: each request's pace within ± this"
    )
    ap.add_argument(
        "--pin",
        action="store_true",
        help="give the gateway a core of its own (the last one) and run the upstream and the "
        "load generator on the others, so that the gateway's latency is not its neighbours'",
    )
    ap.add_argument("--serve", nargs=3, metavar=("UPSTREAM", "PORT", "DB"), help=argparse.SUPPRESS)
    ap.add_argument("--stub-serve", nargs=4, type=float, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.stub_serve:
        port, ttft, itl, jitter = a.stub_serve
        asyncio.run(stub_upstream(int(port), ttft, itl, jitter))
        return
    if a.serve:
        serve_gateway(a.serve[0], int(a.serve[1]), Path(a.serve[2]))
        return
    console = Console(width=120)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    up_port, gw_port = _free_port(), _free_port()
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            argv = (
                [
                    "-m",
                    "computeport.gateway.llama_server",
                    str(up_port),
                    "--alias",
                    MODEL,
                    "--parallel",
                    str(a.parallel),
                ]
                if a.upstream == "llama"
                else [__file__, "--stub-serve", str(up_port), *_pace(a)]
            )
            cores = _cores(a.pin)
            upstream = subprocess.Popen(
                [sys.executable, *argv],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
            procs.append(upstream)
            if cores:
                os.sched_setaffinity(upstream.pid, cores[0])
                os.sched_setaffinity(0, cores[0])
            assert upstream.stdout is not None
            upstream.stdout.readline()  # READY
            if a.upstream == "llama":
                _wait(f"http://127.0.0.1:{up_port}/health", upstream)
            direct = f"http://127.0.0.1:{up_port}/v1"
            gateway = subprocess.Popen(
                [sys.executable, __file__, "--serve", direct, str(gw_port), f"{tmp}/gw.sqlite3"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
            procs.append(gateway)
            if cores:
                os.sched_setaffinity(gateway.pid, cores[1])
            assert gateway.stdout is not None
            key = gateway.stdout.readline().decode().split()[-1]
            unbudgeted = gateway.stdout.readline().decode().split()[-1]
            _wait(f"http://127.0.0.1:{gw_port}/healthz", gateway)
            through = f"http://127.0.0.1:{gw_port}/v1"
            keys = {DIRECT: key, GATEWAY: key, UNBUDGETED: unbudgeted}
            urls = {DIRECT: direct, GATEWAY: through, UNBUDGETED: through}
            results: dict[tuple[str, bool], list[Sample]] = {}
            modes = [(name, stream) for stream in (False, True) for name in PATHS]
            # Warm every path (connections, the model's caches) before measuring.
            for name, stream in modes:
                asyncio.run(drive(urls[name], keys[name], 8, 16, stream, a.tokens))
            loads = [os.getloadavg()[0]]
            with Progress(console=console) as progress:
                task = progress.add_task("load", total=a.rounds * len(modes))
                for _ in range(a.rounds):
                    for name, stream in modes:
                        before = _cpu_seconds(gateway.pid)
                        s = asyncio.run(
                            drive(
                                urls[name],
                                keys[name],
                                a.clients,
                                a.requests,
                                stream,
                                a.tokens,
                                _told_pace(a),
                            )
                        )
                        if name != DIRECT:
                            s.gateway_cpu = _cpu_seconds(gateway.pid) - before
                        results.setdefault((name, stream), []).append(s)
                        progress.advance(task)
                        loads.append(os.getloadavg()[0])
        finally:
            for p in procs:
                p.terminate()
                p.wait(timeout=30)
    report(console, a, results, loads)


def _pace(a: argparse.Namespace) -> list[str]:
    """The stub's arguments: time to first token and between tokens in seconds, and the
    jitter (all 0 for ``stub``)."""
    jitter = a.jitter if a.upstream == "paced" else 0
    return [*(str(t) for t in _told_pace(a)), str(jitter)]


def _told_pace(a: argparse.Namespace) -> tuple[float, float]:
    """The paced upstream's TTFT and time per further token in seconds ((0, 0): not paced)."""
    return (a.ttft_ms / 1000, a.itl_ms / 1000) if a.upstream == "paced" else (0.0, 0.0)


def _paced_title(a: argparse.Namespace) -> str:
    if a.upstream != "paced":
        return ""
    return f", TTFT {a.ttft_ms:g} ms, {a.itl_ms:g} ms/token ± {a.jitter:.0%}"


def _cores(pin: bool) -> tuple[set[int], set[int]] | None:
    """With ``--pin``: (the load generator's and upstream's cores, the gateway's core)."""
    if not pin:
        return None
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < 2:
        raise SystemExit("--pin needs at least two cores")
    return set(allowed[:-1]), {allowed[-1]}


DIRECT, GATEWAY, UNBUDGETED = "direct", "gateway", "gateway, no budget"
PATHS = (DIRECT, GATEWAY, UNBUDGETED)


@dataclass
class Figures:
    """One path's figures over all rounds of one mode."""

    rps: float
    p50: float
    p99: float
    ttft: float
    errors: int
    cpu_per_request: float
    p50_beyond_pace: float
    ttft_beyond_pace: float


def figures(runs: list[Sample]) -> Figures:
    lat = [x for r in runs for x in r.latencies]
    return Figures(
        statistics.median(r.rps for r in runs),
        pct(lat, 0.5),
        pct(lat, 0.99),
        pct([x for r in runs for x in r.ttft], 0.5),
        sum(r.errors for r in runs),
        sum(r.gateway_cpu for r in runs) / max(1, len(lat)),
        pct([x for r in runs for x in r.beyond_pace], 0.5),
        pct([x for r in runs for x in r.ttft_beyond_pace], 0.5),
    )


def report(
    console: Console,
    a: argparse.Namespace,
    results: dict[tuple[str, bool], list[Sample]],
    loads: list[float],
) -> None:
    """The table per path, then the issues' figures against their budgets (issue 13: ratio
    ≥ 0.8, added p50 ≤ 2 ms, TTFT ≤ direct + 5 ms; issue 21: hold + settle ≤ 1 ms p50)."""
    table = Table(
        title=f"Gateway overhead ({a.upstream} upstream{_paced_title(a)}): {a.clients} clients, "
        f"{a.requests} requests × {a.rounds} rounds per mode, max_tokens={a.tokens}"
        + (", gateway on a core of its own" if a.pin else "")
    )
    for col in ("mode", "path", "req/s", "p50 ms", "p99 ms", "TTFT p50 ms", "CPU ms/req", "errors"):
        table.add_column(col, justify="right")
    paced = a.upstream == "paced"
    verdicts = Table(
        title="The issues' figures (gateway with budgets against direct"
        + ("; latencies less the pace the upstream was told, request by request)" if paced else ")")
    )
    for col in (
        "mode",
        "ratio",
        "added p50 ms",
        "TTFT added ms",
        "hold+settle added p50 ms",
        "hold+settle CPU ms/req",
        *(["raw added p50 / TTFT ms"] if paced else []),
    ):
        verdicts.add_column(col, justify="right")
    for stream in (False, True):
        mode = "stream" if stream else "plain"
        found = {name: figures(results[(name, stream)]) for name in PATHS}
        for name, f in found.items():
            table.add_row(
                mode,
                name,
                f"{f.rps:.1f}",
                f"{f.p50 * 1000:.1f}",
                f"{f.p99 * 1000:.1f}",
                f"{f.ttft * 1000:.1f}" if stream else "",
                f"{f.cpu_per_request * 1000:.2f}" if name != DIRECT else "",
                str(f.errors),
            )
        d, g, u = found[DIRECT], found[GATEWAY], found[UNBUDGETED]
        ratio = g.rps / d.rps
        raw_added, raw_ttft = (g.p50 - d.p50) * 1000, (g.ttft - d.ttft) * 1000
        if paced:  # the same differences with each request's drawn pace taken out: the
            # jitter that spreads the raw medians by milliseconds from run to run cancels
            added = (g.p50_beyond_pace - d.p50_beyond_pace) * 1000
            ttft = (g.ttft_beyond_pace - d.ttft_beyond_pace) * 1000
            holds = (g.p50_beyond_pace - u.p50_beyond_pace) * 1000
        else:
            added, ttft, holds = raw_added, raw_ttft, (g.p50 - u.p50) * 1000
        raw = f"{raw_added:+.1f} / {raw_ttft:+.1f}" if stream else f"{raw_added:+.1f}"
        verdicts.add_row(
            mode,
            _judged(f"{ratio:.2f}", ratio >= 0.8),
            _judged(f"{added:+.1f}", added <= 2),
            _judged(f"{ttft:+.1f}", ttft <= 5) if stream else "",
            _judged(f"{holds:+.1f}", holds <= 1),
            f"{(g.cpu_per_request - u.cpu_per_request) * 1000:+.2f}",
            *([raw] if paced else []),
        )
    console.print(table)
    console.print(verdicts)
    console.print(
        f"load average (1 min) during the run: {min(loads):.1f}–{max(loads):.1f} on "
        f"{os.cpu_count()} cores; CPU ms/req is the gateway process's own (/proc), the one "
        "figure the machine's other load does not distort"
    )


def _judged(value: str, met: bool) -> str:
    return f"{value} {'✓' if met else '✗'}"


if __name__ == "__main__":
    main()
