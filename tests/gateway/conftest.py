"""Gateway fixtures: two real upstreams for the session, a served gateway per module."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from computeport.db.engine import make_engine
from computeport.db.schema import create_schema
from computeport.gateway.local_process import stop as stop_process
from tests.api.fixtures import actors, api_settings, app, client, world
from tests.gateway.rig import GatewayRig, Upstream, build_rig, start_upstream
from tests.gateway.whisper_upstream import (
    CANTONESE,
    ENGLISH,
    MANDARIN_PINYIN,
    SpeechUpstream,
    require_speech_tools,
    speak,
    start_whisper,
)
from tests.support.databases import (
    drop_postgres_database,
    fresh_postgres_database,
    require,
    worker_suffix,
)

__all__ = ["actors", "api_settings", "app", "client", "world"]


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The test Redis (``COMPUTEPORT_TEST_REDIS_URL``): skipped where it is absent, a
    failure under CI (:func:`~tests.support.databases.require`)."""
    url = os.environ.get("COMPUTEPORT_TEST_REDIS_URL")
    require(url is not None, "Redis (COMPUTEPORT_TEST_REDIS_URL)")
    assert url is not None
    return url


@pytest.fixture(scope="session")
def upstreams(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Upstream]]:
    logs = tmp_path_factory.mktemp("upstreams")
    started = [start_upstream(alias, logs / f"{alias}.log") for alias in ("up-a", "up-b")]
    yield started
    for u in started:
        stop_process(u.process)


@pytest.fixture(scope="session")
def whisper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SpeechUpstream]:
    """faster-whisper-server with the multilingual Whisper base (int8, two threads)."""
    started = start_whisper(tmp_path_factory.mktemp("whisper"))
    yield started
    stop_process(started.process)


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Speech made offline by espeak-ng: English, Cantonese, Mandarin (16 kHz mono WAV)."""
    require_speech_tools()
    d = tmp_path_factory.mktemp("clips")
    return {
        "en": speak(ENGLISH, "en-us", d / "en.wav"),
        "yue": speak(CANTONESE, "yue", d / "yue.wav"),
        "cmn": speak(MANDARIN_PINYIN, "cmn-latn-pinyin", d / "cmn.wav", speed=110),
    }


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def gateway_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    url = (
        f"sqlite:///{tmp_path_factory.mktemp('gw') / 'gateway.sqlite3'}"
        if request.param == "sqlite"
        else fresh_postgres_database(f"cp_gw_{worker_suffix()}_{Path(request.path).stem[-12:]}")
    )
    engine = make_engine(url)
    create_schema(engine)
    yield engine
    engine.dispose()
    if request.param != "sqlite":
        drop_postgres_database(url)


@pytest.fixture(scope="module")
def rig(gateway_engine: Engine, upstreams: list[Upstream]) -> Iterator[GatewayRig]:
    served = build_rig(gateway_engine, [u.base_url for u in upstreams])
    yield served
    served.stop()
