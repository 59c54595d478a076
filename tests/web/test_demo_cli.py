"""``computeport demo``'s setup steps: schema, idempotent seed with the assumed price, logins."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import select

from computeport.cli.demo import demo_logins, demo_settings, logins_table, prepare_database, seed
from computeport.cli.demo_gateway import EXTERNAL_SPEECH_UPSTREAM, gateway_panel
from computeport.db.engine import make_engine, make_session_factory
from computeport.inventory.repository import all_clusters
from computeport.kit.clock import ManualClock
from computeport.models.pricing import PriceVersion
from computeport.models.sim_cluster import SimCluster
from computeport.seed.demo_centre import demo_cluster_name, seed_demo_centre
from computeport.seed.gateway_demo import DEMO_MODEL, DEMO_SPEECH_MODEL, GatewayDemo


@pytest.mark.slow
def test_setup_is_idempotent_and_prices_usage(tmp_path: Path) -> None:
    settings = demo_settings(tmp_path, 1440.0)
    assert prepare_database(settings) == "database created"
    assert seed(settings).startswith("seeded ")
    assert seed(settings) == "scenario already seeded"
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            prices = session.scalars(select(PriceVersion)).all()
            # The scenario's rate card, once: H800, four QOS factors, two token prices (the
            # assistant's model and the demo's own), two audio prices (the assistant's
            # Whisper and the demo's whisper-1), and Sandy Ridge's accelerator at its site,
            # every one an assumption.
            assert len(prices) == 10
            assert all(p.is_assumption for p in prices)
            whisper = next(p for p in prices if p.subject == "whisper-1")
            assert whisper.unit_price == Decimal("0.06")  # HK$ per audio minute
            h800 = next(p for p in prices if p.subject == "h800")
            assert h800.unit_price == Decimal(30)
            ridge = next(p for p in prices if p.subject == "cn-accel-a")
            assert (ridge.site, ridge.unit_price) == ("sandy-ridge", Decimal(36))
            # its commissioning: a simulated week after the demo is seeded (the scenario)
            ridge_cluster = next(c for c in all_clusters(session) if c.name == "sandy-ridge-a")
            assert ridge.valid_from.date() == ridge_cluster.commissioned
            assert ridge_cluster.commissioned is not None
            assert ridge_cluster.commissioned > datetime.now(UTC).date()
            # Both sites, the demo's virtual cluster under Cyberport's inventory name.
            clusters = {c.name: (c.site.key, c.backend, c.status) for c in all_clusters(session)}
            assert clusters == {
                "cyberport-h800": ("cyberport", "sim", "active"),
                "sandy-ridge-a": ("sandy-ridge", "sim", "planned"),
            }
            assert demo_cluster_name(session) == "cyberport-h800"
    finally:
        engine.dispose()
    assert prepare_database(settings) == "schema upgraded"


def test_a_demo_from_before_sites_keeps_its_cluster(tmp_path: Path) -> None:
    """A demo database whose virtual cluster is journaled as ``aisc`` is not given an
    inventory that would rename it: its history stays one cluster's."""
    settings = demo_settings(tmp_path, 1440.0)
    prepare_database(settings)
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine).begin() as session:
            session.add(SimCluster(cluster="aisc", meta={"origin_s": 0}, position_s=0))
        with make_session_factory(engine).begin() as session:
            assert demo_cluster_name(session) == "aisc"
            assert seed_demo_centre(session, ManualClock(datetime(2026, 10, 1, tzinfo=UTC))) == 0
            assert all_clusters(session) == []
    finally:
        engine.dispose()


def test_logins_table_lists_every_role() -> None:
    rows = demo_logins()
    assert {r.role for r in rows} >= {"operator", "scheme_officer", "funder", "org_admin"}
    console = Console(record=True, width=140)
    console.print(logins_table(rows, "http://127.0.0.1:8000"))
    text = console.export_text()
    assert "http://127.0.0.1:8000" in text
    for row in rows:
        assert row.email in text
        assert row.password in text


def _demo(speech: tuple[str, ...]) -> GatewayDemo:
    return GatewayDemo(
        department="Environmental Monitoring Office",
        organisation_id=uuid.uuid4(),
        award_reference="AW-1",
        model=DEMO_MODEL,
        upstreams=("http://127.0.0.1:8001/v1",),
        key="cpk_demo",
        key_revoked=False,
        speech_upstreams=speech,
    )


def _panel(demo: GatewayDemo, *, local_speech: bool) -> str:
    console = Console(record=True, width=140)
    console.print(
        gateway_panel(demo, "http://127.0.0.1:8000", local=True, local_speech=local_speech)
    )
    return console.export_text()


def test_the_panel_shows_transcription_beside_chat() -> None:
    text = _panel(_demo(("http://127.0.0.1:8002/v1",)), local_speech=True)
    assert "client.chat.completions.create(" in text
    assert "client.audio.transcriptions.create(" in text
    assert f'model="{DEMO_SPEECH_MODEL}", file=audio, language="yue"' in text
    assert "speech    whisper-1 (transcription, same key) at http://127.0.0.1:8002/v1" in text
    assert "nothing is started here" not in text


def test_the_panel_says_how_to_start_an_operators_speech_server() -> None:
    text = _panel(_demo((EXTERNAL_SPEECH_UPSTREAM,)), local_speech=False)
    assert "python -m computeport.gateway.whisper_server 8090 --name whisper-1" in text
    assert EXTERNAL_SPEECH_UPSTREAM in text
    without = _panel(_demo(()), local_speech=False)  # no speech deployment: chat only
    assert "transcriptions" not in without
