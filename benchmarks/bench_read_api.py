"""Read API throughput and latency, and page render times, against a real uvicorn server.

    .venv/bin/python benchmarks/bench_read_api.py --threads 8 --seconds 15

Prepares the demo's data in a temporary directory (the seeded Cyberport scenario, the virtual
cluster with ``--history-days`` of history, usage ingested and rated), starts ``uvicorn`` in a
subprocess on a free loopback port (no background worker, so only the load is measured), then:

* drives the read endpoints with ``--threads`` client threads (httpx, keep-alive) for at most
  ``--seconds`` or ``--max-requests``, and reports requests/s and p50/p99 latency per endpoint
  and overall (DESIGN.md budget: ≥ 500 requests/s, p99 ≤ 50 ms on 2 cores);
* signs in to the portal and times each main page (median of ``--page-repeats``; loopback, so
  client time ≈ server render time; budget ≤ 300 ms).

Bounded in count and time; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
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
import uvicorn
from computeport.cli.demo import demo_settings, open_state
from computeport.cli.serve import build_app
settings = demo_settings(Path(sys.argv[1]), 1440.0)
state = open_state(settings, timedelta(days=int(sys.argv[3])))
uvicorn.run(build_app(settings, state), host="127.0.0.1", port=int(sys.argv[2]),
            log_level="warning", access_log=False)
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


def load(url: str, token: str, paths: list[str], threads: int, seconds: float, cap: int) -> None:
    stats = Stats()
    stop_at = time.monotonic() + seconds
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

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.perf_counter() - started
    every = [v for vs in stats.latencies.values() for v in vs]
    print(
        f"\nread API: {len(every)} requests in {wall:.1f} s with {threads} threads, "
        f"{stats.errors} errors"
    )
    print(
        f"  overall: {len(every) / wall:.0f} req/s, p50 {p(every, 0.5) * 1000:.1f} ms, "
        f"p99 {p(every, 0.99) * 1000:.1f} ms"
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
    parser.add_argument("--threads", type=int, default=8)
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
            [sys.executable, "-c", SERVER, str(directory), str(port), str(args.history_days)]
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_up(url)
            operator = logins["operator"]
            with httpx.Client(
                base_url=url, headers={"Authorization": f"Bearer {operator.token}"}
            ) as c:
                award = c.get("/api/v1/awards").json()
                first = (award.get("items") if isinstance(award, dict) else award)[0]["id"]
            paths = [
                "/healthz",
                "/api/v1/me",
                "/api/v1/schemes",
                "/api/v1/awards",
                f"/api/v1/awards/{first}",
                "/api/v1/envelope",
                "/api/v1/organisations",
            ]
            load(url, operator.token, paths, args.threads, args.seconds, args.max_requests)
            officer = logins["scheme_officer"]  # the role that opens every staff page
            pages(url, officer.email, officer.password, args.page_repeats)
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
