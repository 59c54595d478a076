"""Read API throughput and latency, and page render times, against a real uvicorn server.

    .venv/bin/python benchmarks/bench_read_api.py --threads 4 --seconds 10
    .venv/bin/python benchmarks/bench_read_api.py --client httpx     # the old load generator

Prepares the demo's data in a temporary directory (the seeded Cyberport scenario, the virtual
cluster with ``--history-days`` of history, usage ingested and rated), starts ``uvicorn`` in a
subprocess on a free loopback port (no background worker, so only the load is measured), then:

* drives the read endpoints with ``--threads`` concurrent keep-alive connections for at most
  ``--seconds`` or ``--max-requests``, and reports requests/s and p50/p99 latency per endpoint
  and overall (DESIGN.md budget: ≥ 500 requests/s, p99 ≤ 50 ms on 2 cores);
* reports the CPU seconds the server and the load generator used (from ``/proc``), per request
  too, and the load average: on a shared 2-core machine the client competes with the server, and
  other processes with both, so requests/s alone says little;
* signs in to the portal and times each main page (median of ``--page-repeats``; loopback, so
  client time ≈ server render time; budget ≤ 300 ms).

The default client (``--client async``) is one asyncio task per connection writing raw HTTP/1.1
requests and reading ``Content-Length`` bodies: it costs the machine a fraction of what httpx
threads cost (``--client httpx``, the generator of the first measurements), so more of the two
cores is left to the server.  ``--worker`` runs the virtual cluster's background worker in the
server too (as ``computeport demo`` does), to see reads beside the writer.

Bounded in count and time; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

SERVER = """
import sys
from datetime import timedelta
from pathlib import Path
from computeport.cli.demo import demo_settings, open_state
from computeport.cli.serve import build_app, run_server
settings = demo_settings(Path(sys.argv[1]), 1440.0)
state = open_state(settings, timedelta(days=int(sys.argv[3])))
app = build_app(settings, state)
worker = None
if sys.argv[4] == "worker":
    from computeport.worker import start_background
    worker = start_background(state)
try:
    run_server(app, "127.0.0.1", int(sys.argv[2]))
finally:
    if worker is not None:
        worker.stop()
"""

PAGES = [
    "/",
    "/ops",
    "/scheme",
    "/funder",
    "/reports?by=organisation",
    "/reports?by=month",
    "/committee",
    "/capacity",
]


def prepare(directory: Path, history_days: int) -> None:
    """The demo's database with history ingested and rated (one worker round)."""
    from datetime import timedelta

    from computeport.cli.demo import demo_settings, open_state, prepare_database, seed
    from computeport.worker.runner import WorkerThread
    from computeport.worker.start import build_loops

    settings = demo_settings(directory, 1440.0)
    prepare_database(settings)
    seed(settings)
    state = open_state(settings, timedelta(days=history_days))
    WorkerThread(build_loops(state), state.clock).run_round()
    state.engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_up(url: str, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("server did not start")


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def cpu_seconds(pid: int | None = None) -> float | None:
    """User + system CPU seconds of a process (and its waited-for children), from /proc."""
    try:
        fields = Path(f"/proc/{pid or 'self'}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(f) for f in fields[11:15]) / ticks  # utime stime cutime cstime


def run_httpx(
    url: str, token: str, paths: list[str], threads: int, stop_at: float, cap: int
) -> Stats:
    """The first load generator: ``threads`` httpx clients in threads (costly in CPU)."""
    stats = Stats()
    counter = iter(range(cap))
    headers = {"Authorization": f"Bearer {token}"}

    def worker(offset: int) -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
            i = offset
            while time.monotonic() < stop_at and next(counter, None) is not None:
                path = paths[i % len(paths)]
                i += 1
                start = time.perf_counter()
                response = client.get(path)
                elapsed = time.perf_counter() - start
                with stats.lock:
                    if response.status_code != 200:
                        stats.errors += 1
                    stats.latencies.setdefault(path, []).append(elapsed)

    pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return stats


async def _connection(
    port: int,
    token: str,
    paths: list[str],
    offset: int,
    stop_at: float,
    budget: list[int],
    stats: Stats,
) -> None:
    """One keep-alive connection sending GETs back to back (raw HTTP/1.1, Content-Length)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    requests = [
        (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {token}\r\nAccept: application/json\r\n\r\n"
        ).encode()
        for path in paths
    ]
    i = offset
    try:
        while time.monotonic() < stop_at and budget[0] > 0:
            budget[0] -= 1
            k = i % len(paths)
            i += 1
            start = time.perf_counter()
            writer.write(requests[k])
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            elapsed = time.perf_counter() - start
            if status != 200:
                stats.errors += 1
            stats.latencies.setdefault(paths[k], []).append(elapsed)
    finally:
        writer.close()


def run_async(
    port: int, token: str, paths: list[str], connections: int, stop_at: float, cap: int
) -> Stats:
    """``connections`` concurrent keep-alive connections on one asyncio loop (cheap in CPU)."""
    stats = Stats()
    budget = [cap]

    async def main() -> None:
        await asyncio.gather(
            *(
                _connection(port, token, paths, k, stop_at, budget, stats)
                for k in range(connections)
            )
        )

    asyncio.run(main())
    return stats


def load(
    url: str, port: int, token: str, paths: list[str], args: argparse.Namespace, server_pid: int
) -> None:
    loadavg = os.getloadavg()
    server_cpu0, client_cpu0 = cpu_seconds(server_pid), time.process_time()
    started = time.perf_counter()
    stop_at = time.monotonic() + args.seconds
    if args.client == "httpx":
        stats = run_httpx(url, token, paths, args.threads, stop_at, args.max_requests)
    else:
        stats = run_async(port, token, paths, args.threads, stop_at, args.max_requests)
    wall = time.perf_counter() - started
    server_cpu1, client_cpu = cpu_seconds(server_pid), time.process_time() - client_cpu0
    every = [v for vs in stats.latencies.values() for v in vs]
    n = max(1, len(every))
    print(
        f"\nread API ({args.client} client): {len(every)} requests in {wall:.1f} s over "
        f"{args.threads} connections, {stats.errors} errors; load average before "
        f"{loadavg[0]:.2f}, after {os.getloadavg()[0]:.2f} (2 cores)"
    )
    print(
        f"  overall: {len(every) / wall:.0f} req/s, p50 {p(every, 0.5) * 1000:.1f} ms, "
        f"p99 {p(every, 0.99) * 1000:.1f} ms"
    )
    if server_cpu0 is not None and server_cpu1 is not None:
        server_cpu = server_cpu1 - server_cpu0
        print(
            f"  CPU: server {server_cpu:.2f} s ({server_cpu / wall:.0%} of a core, "
            f"{server_cpu / n * 1000:.2f} ms/request), client {client_cpu:.2f} s "
            f"({client_cpu / n * 1000:.2f} ms/request)"
        )
    for path, values in stats.latencies.items():
        print(
            f"  {path:<34} n={len(values):5d} p50 {p(values, 0.5) * 1000:6.1f} ms "
            f"p99 {p(values, 0.99) * 1000:6.1f} ms"
        )


def pages(url: str, email: str, password: str, repeats: int) -> None:
    with httpx.Client(base_url=url, timeout=60) as client:
        html = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert token is not None
        client.post(
            "/login",
            data={"csrf_token": token.group(1), "email": email, "password": password, "next": "/"},
        )
        print(f"\npages (median of {repeats}, signed in as {email}):")
        for path in PAGES:
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                response = client.get(path)
                times.append(time.perf_counter() - start)
                assert response.status_code == 200, (path, response.status_code)
            print(
                f"  {path:<28} {statistics.median(times) * 1000:7.1f} ms "
                f"(max {max(times) * 1000:.1f} ms, {len(response.content) // 1024} KiB)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=8, help="concurrent connections")
    parser.add_argument("--client", choices=["async", "httpx"], default="async")
    parser.add_argument(
        "--worker", action="store_true", help="run the virtual cluster's worker in the server"
    )
    parser.add_argument("--skip-pages", action="store_true")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--max-requests", type=int, default=50_000)
    parser.add_argument("--history-days", type=int, default=30)
    parser.add_argument("--page-repeats", type=int, default=5)
    parser.add_argument("--dir", type=Path, help="an existing demo directory to reuse")
    args = parser.parse_args()

    from computeport.seed.demo import demo_logins

    logins = {d.role.value: d for d in demo_logins()}
    with tempfile.TemporaryDirectory() as tmp:
        directory = args.dir or Path(tmp)
        if args.dir is None:
            t0 = time.perf_counter()
            prepare(directory, args.history_days)
            print(
                f"prepared {args.history_days} days of history in {time.perf_counter() - t0:.0f} s"
            )
        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-c",
                SERVER,
                str(directory),
                str(port),
                str(args.history_days),
                "worker" if args.worker else "-",
            ]
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_up(url)
            operator = logins["operator"]
            with httpx.Client(
                base_url=url, headers={"Authorization": f"Bearer {operator.token}"}
            ) as c:
                awards: list[dict[str, str]] = c.get("/api/v1/awards").json()
                first = awards[0]["id"]
            paths = [
                "/healthz",
                "/api/v1/me",
                "/api/v1/schemes",
                "/api/v1/awards",
                f"/api/v1/awards/{first}",
                "/api/v1/envelope",
                "/api/v1/organisations",
            ]
            load(url, port, operator.token, paths, args, server.pid)
            if not args.skip_pages:
                officer = logins["scheme_officer"]  # the role that opens every staff page
                pages(url, officer.email, officer.password, args.page_repeats)
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
