"""Proof that nothing of a prompt or an answer is stored or logged (issue 21).

Unique canary strings go through the gateway in front of the real llama.cpp upstreams — chat
plain, streamed and abandoned mid-stream, content parts, completions, embeddings, a refused
request, with and without redaction — while every logger logs at DEBUG into one capturing
handler and the process's stdout and stderr are captured.  Then every column of every table
(the schema reflected from the database, so a table added tomorrow is covered without touching
this test), every Redis key and value, and every captured log line are searched: no canary may
appear.  Each search first finds something that *was* stored (the model's name, the limits'
keys, the gateway's own log lines), so an empty search cannot pass for a clean one.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis
from openai import OpenAI
from sqlalchemy import Engine, MetaData, select

from computeport.gateway.data_policy import set_policy
from tests.gateway.rig import GatewayRig, Upstream, build_rig


class Everything(logging.Handler):
    """Keeps every record as its formatted text and its raw attributes (args, extras)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
        self.lines.append(repr(vars(record)))


@pytest.fixture(scope="module")
def prefix() -> str:
    return f"canarytest{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def shared_rig(
    gateway_engine: Engine, upstreams: list[Upstream], redis_url: str, prefix: str
) -> Iterator[GatewayRig]:
    """The gateway with its limits in Redis (what several API processes share)."""
    rig = build_rig(
        gateway_engine,
        [u.base_url for u in upstreams],
        settings={"gateway_limits_url": redis_url, "rate_limit_prefix": prefix},
    )
    with rig.sessions.begin() as s:
        org = rig.departments["other"].organisation_id
        set_policy(s, rig.clock, org, redact=True, allowed_sites=None, actor_id=None)
    yield rig
    rig.stop()


@pytest.fixture
def every_log() -> Iterator[Everything]:
    """Every logger at DEBUG into one handler (loggers that do not propagate included)."""
    handler = Everything()
    root = logging.getLogger()
    saved: list[tuple[logging.Logger, int, bool]] = [(root, root.level, root.disabled)]
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    loggers = [v for v in logging.root.manager.loggerDict.values() if isinstance(v, logging.Logger)]
    for logger in loggers:
        saved.append((logger, logger.level, logger.disabled))
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
        if not logger.propagate:
            logger.addHandler(handler)
    yield handler
    for logger, level, disabled in saved:
        logger.setLevel(level)
        logger.disabled = disabled
        logger.removeHandler(handler)


def _traffic(rig: GatewayRig, canary: dict[str, str]) -> None:
    """Each kind of request once, its text a canary of its own."""
    for dept in ("dept", "other"):  # other: redaction on (its code path runs too)
        c = OpenAI(base_url=rig.base_url, api_key=rig.departments[dept].key, max_retries=0)
        c.chat.completions.create(
            model="smollm2",
            messages=[
                {"role": "system", "content": canary[f"{dept}-system"]},
                {"role": "user", "content": [{"type": "text", "text": canary[f"{dept}-part"]}]},
            ],
            max_tokens=4,
        )
        list(
            c.chat.completions.create(
                model="smollm2",
                messages=[{"role": "user", "content": canary[f"{dept}-stream"]}],
                max_tokens=4,
                stream=True,
                stream_options={"include_usage": True},
            )
        )
        c.completions.create(model="smollm2", prompt=canary[f"{dept}-prompt"], max_tokens=4)
        c.embeddings.create(model="smollm2", input=[canary[f"{dept}-input"], "plain"])
    key = rig.departments["dept"].key
    headers = {"Authorization": f"Bearer {key}"}
    body = {
        "model": "smollm2",
        "stream": True,
        "max_tokens": 64,
        "messages": [{"role": "user", "content": canary["abandoned"]}],
    }
    with httpx.stream(
        "POST", rig.base_url + "/chat/completions", json=body, headers=headers, timeout=60
    ) as r:
        next(r.iter_raw())  # the first event, then the client goes away
    refused = {
        "model": "smollm2",
        "messages": [
            {"role": "tool", "content": canary["bad"]},
            {"role": canary["bad-role"], "content": "x"},
        ],
    }
    r2 = httpx.post(rig.base_url + "/chat/completions", json=refused, headers=headers)
    assert r2.status_code == 400
    missing = {"model": canary["model"], "messages": [{"role": "user", "content": "x"}]}
    assert httpx.post(rig.base_url + "/chat/completions", json=missing, headers=headers).is_error


def _database_text(engine: Engine) -> dict[str, list[str]]:
    """Every value of every column of every table, as text, by table (schema reflected)."""
    meta = MetaData()
    meta.reflect(bind=engine)
    found: dict[str, list[str]] = {}
    with engine.connect() as connection:
        for table in meta.sorted_tables:
            values = found.setdefault(table.name, [])
            for row in connection.execute(select(table)):
                values.extend(_text(v) for v in row)
    return found


def _text(value: Any) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


_VALUE_OF: dict[str, Any] = {
    "string": lambda c, k: c.get(k),
    "hash": lambda c, k: c.hgetall(k),
    "list": lambda c, k: c.lrange(k, 0, -1),
    "set": lambda c, k: c.smembers(k),
    "zset": lambda c, k: c.zrange(k, 0, -1, withscores=True),
}
"""How a value of each Redis type is read whole."""


def _redis_text(url: str) -> list[str]:
    """Every key in the test database and its value, whatever its type."""
    client = redis.Redis.from_url(url)
    found: list[str] = []
    try:
        for key in client.scan_iter(count=1000):
            kind = _text(client.type(key))
            value: Any = _VALUE_OF[kind](client, key) if kind in _VALUE_OF else b""
            found.append(f"{_text(key)} {kind} {value!r}")
    finally:
        client.close()
    return found


def test_no_canary_is_stored_or_logged_anywhere(
    shared_rig: GatewayRig,
    every_log: Everything,
    redis_url: str,
    prefix: str,
    capfd: pytest.CaptureFixture[str],
) -> None:
    names = ["abandoned", "bad", "bad-role", "model"] + [
        f"{d}-{k}"
        for d in ("dept", "other")
        for k in ("system", "part", "stream", "prompt", "input")
    ]
    canary = {n: f"zq{uuid.uuid4().hex}" for n in names}
    _traffic(shared_rig, canary)
    rows = shared_rig.settle()
    assert len(rows) >= 9  # eight answered and the abandoned stream, each metered
    tables = _database_text(shared_rig.engine)
    assert {"token_usage", "gateway_key", "data_policy", "audit_record"} <= set(tables)
    assert "smollm2" in tables["token_usage"]  # the search finds what is stored
    keys = _redis_text(redis_url)
    assert any(prefix in k for k in keys)  # the limits' counters are there to search
    out, err = capfd.readouterr()
    logs = [*every_log.lines, out, err]
    assert any("httpx" in line or "httpcore" in line for line in every_log.lines)
    for name, value in canary.items():
        assert not [t for t, vs in tables.items() if any(value in v for v in vs)], name
        assert not [k for k in keys if value in k], name
        assert not [line for line in logs if value in line], name
