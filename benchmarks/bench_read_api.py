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

Production shape (issue 11): ``--postgres URL --api-workers 2 --bare``

    .venv/bin/python benchmarks/bench_read_api.py --skip-pages \
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres --api-workers 2 --bare

prepares the same data in a database of its own on that PostgreSQL server (dropped at the end),
serves it with ``computeport serve --workers N`` (N uvicorn processes from the app factory,
settings from the environment), optionally with ``--worker-processes K`` background workers
(``computeport worker run``) beside it, and then, in the same run, drives the same client
against a bare FastAPI app (``benchmarks/bare_app.py``) served with the same uvicorn settings
and answering a constant JSON of the mean size of ours.  It prints requests/s, p50 and p99 for
both and the ratio ours / bare (goal ≥ 0.5; budget ≥ 1,000 requests/s, p99 ≤ 50 ms).

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
from typing import Any

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


def prepare(directory: Path, history_days: int, database_url: str | None = None) -> None:
    """The demo's database with history ingested and rated (one worker round)."""
    from datetime import timedelta

    from computeport.cli.demo import demo_settings, open_state, prepare_database, seed
    from computeport.worker.runner import WorkerThread
    from computeport.worker.start import build_loops

    settings = demo_settings(directory, 1440.0)
    if database_url is not None:
        settings = settings.model_copy(update={"database_url": database_url})
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
    """User + system CPU seconds of a process and its live descendants (uvicorn's worker
    processes under ``--workers``), plus waited-for children, from /proc."""
    try:
        fields = Path(f"/proc/{pid or 'self'}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    total = sum(int(f) for f in fields[11:15]) / ticks  # utime stime cutime cstime
    if pid is not None:
        for child in children(pid):
            total += cpu_seconds(child) or 0.0
    return total


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(c) for c in text.split()]


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


@dataclass(frozen=True)
class Summary:
    rate: float
    p50_ms: float
    p99_ms: float
    errors: int


def warm_up(port: int, token: str, paths: list[str], connections: int) -> None:
    """A few requests per connection first: every server process has started and imported
    what its first requests import, on both servers alike."""
    run_async(port, token, paths, connections, time.monotonic() + 60, 30 * connections)


def load(
    url: str,
    port: int,
    token: str,
    paths: list[str],
    args: argparse.Namespace,
    server_pid: int,
    label: str = "read API",
) -> Summary:
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
        f"\n{label} ({args.client} client): {len(every)} requests in {wall:.1f} s over "
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
    if not every:
        return Summary(0.0, 0.0, 0.0, stats.errors)
    return Summary(len(every) / wall, p(every, 0.5) * 1000, p(every, 0.99) * 1000, stats.errors)


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


def serve_env(directory: Path, database_url: str) -> dict[str, str]:
    """The environment ``computeport serve`` and ``worker run`` read their settings from: the
    demo's settings, on the benchmark's PostgreSQL database."""
    return {
        **os.environ,
        "COMPUTEPORT_DATABASE_URL": database_url,
        "COMPUTEPORT_BACKEND": "sim",
        "COMPUTEPORT_SIM_SPEED": "1440",
        "COMPUTEPORT_ATTACHMENTS_DIR": str(directory / "attachments"),
        "COMPUTEPORT_SECRET_KEY": "computeport-benchmark-only-not-secret-0123456789",
    }


def computeport_command() -> str:
    return str(Path(sys.executable).with_name("computeport"))


def start_background_workers(env: dict[str, str], count: int) -> list[subprocess.Popen[bytes]]:
    """``count`` ``computeport worker run`` processes, where this version has the command."""
    if count == 0:
        return []
    probe = subprocess.run(
        [computeport_command(), "worker", "run", "--help"],
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )
    if probe.returncode != 0:
        print("note: `computeport worker run` is not in this version; measuring without workers")
        return []
    return [
        subprocess.Popen([computeport_command(), "worker", "run"], env=env) for _ in range(count)
    ]


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def mean_body_bytes(url: str, token: str, paths: list[str]) -> int:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as client:
        sizes = [len(client.get(path).content) for path in paths]
    return round(sum(sizes) / len(sizes))


def bare(args: argparse.Namespace, paths: list[str], size: int, token: str) -> Summary:
    """The same client against ``bare_app`` under the same uvicorn settings as ``serve``."""
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, uvicorn; uvicorn.run('bare_app:app_factory', factory=True, "
            "host='127.0.0.1', port=int(sys.argv[1]), workers=int(sys.argv[2]), "
            "log_level='warning', proxy_headers=False, "
            "timeout_worker_healthcheck=60)",
            str(port),
            str(args.api_workers),
        ],
        env={
            **os.environ,
            "BENCH_BARE_BYTES": str(size),
            "PYTHONPATH": str(Path(__file__).resolve().parent),
        },
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_up(url)
        warm_up(port, token, paths, args.threads)
        return load(url, port, token, paths, args, server.pid, label="bare FastAPI")
    finally:
        stop(server)


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
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="a PostgreSQL server (any database on it): the data goes to a database of its own",
    )
    parser.add_argument(
        "--api-workers", type=int, default=1, help="API processes (`serve --workers N`)"
    )
    parser.add_argument(
        "--worker-processes", type=int, default=0, help="`computeport worker run` processes"
    )
    parser.add_argument(
        "--bare", action="store_true", help="also measure a bare FastAPI app (ratio ours/bare)"
    )
    args = parser.parse_args()
    if args.api_workers > 1 and not args.postgres:
        parser.error("--api-workers > 1 needs --postgres (SQLite has one writer)")

    from computeport.seed.demo import demo_logins

    logins = {d.role.value: d for d in demo_logins()}
    database_url = None
    if args.postgres:
        database_url = create_database(args.postgres, f"cp_bench_{os.getpid()}")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            directory = args.dir or Path(tmp)
            if args.dir is None or database_url is not None:
                t0 = time.perf_counter()
                prepare(directory, args.history_days, database_url)
                print(
                    f"prepared {args.history_days} days of history in "
                    f"{time.perf_counter() - t0:.0f} s"
                    + (f" on PostgreSQL ({database_url.rsplit('/', 1)[1]})" if database_url else "")
                )
            run_ours(args, directory, database_url, logins)
    finally:
        if database_url is not None:
            drop_database(database_url)


def run_ours(
    args: argparse.Namespace, directory: Path, database_url: str | None, logins: dict[str, Any]
) -> None:
    port = free_port()
    helpers: list[subprocess.Popen[bytes]] = []
    if database_url is not None:
        env = serve_env(directory, database_url)
        command = [computeport_command(), "serve", "--port", str(port), "--log-level", "warning"]
        server = subprocess.Popen([*command, "--workers", str(args.api_workers)], env=env)
        helpers = start_background_workers(env, args.worker_processes)
    else:
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
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {operator.token}"}) as c:
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
        warm_up(port, operator.token, paths, args.threads)
        setup = f"{args.api_workers} API process(es)" + (
            f", {len(helpers)} worker(s)" if database_url else ""
        )
        ours = load(url, port, operator.token, paths, args, server.pid, f"read API, {setup}")
        if args.bare:
            size = mean_body_bytes(url, operator.token, paths)
            print(f"\nmean answer of ours: {size} bytes; the bare app answers that many")
            theirs = bare(args, paths, size, operator.token)
            print(
                f"\nours {ours.rate:.0f} req/s (p50 {ours.p50_ms:.1f} ms, p99 {ours.p99_ms:.1f} ms)"
                f" / bare {theirs.rate:.0f} req/s (p50 {theirs.p50_ms:.1f} ms, p99 "
                f"{theirs.p99_ms:.1f} ms) = {ours.rate / max(theirs.rate, 1e-9):.2f} "
                f"(goal >= 0.5); load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
            )
        if not args.skip_pages:
            officer = logins["scheme_officer"]  # the role that opens every staff page
            pages(url, officer.email, officer.password, args.page_repeats)
    finally:
        for helper in helpers:
            stop(helper)
        stop(server)


def create_database(server_url: str, name: str) -> str:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from computeport.db.engine import make_engine

    admin = make_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from computeport.db.engine import make_engine

    parsed = make_url(url)
    admin = make_engine(
        parsed.set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    finally:
        admin.dispose()


if __name__ == "__main__":
    main()
