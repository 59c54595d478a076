"""Issues 13 and 21's "done when", end to end on the demo's own setup: the department's
application calls the demo's gateway with its one key and the ``openai`` client — it chats and
transcribes an English and a Cantonese clip — its tokens and audio seconds appear on the
department's page (the gateway's meter writes them within a second; the poll allows the minute
the issue gives), the worker's token duty rates both, and the month's close puts them on the
department's invoice as ``tokens:`` and ``audio:`` lines of their own.

Real parts throughout: the demo's database made and seeded as ``computeport demo`` makes it
(SQLite, as the demo runs; and the same migrations and seed on PostgreSQL, as a deployment
would), llama.cpp serving SmolLM2 and faster-whisper-server serving Whisper base as the
upstreams, speech made by espeak-ng, the whole app (API and portal) under uvicorn, the
portal's login form.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from openai import OpenAI
from sqlalchemy import select

from computeport.billing.token_rating import (
    audio_charge_minor,
    post_all_tokens,
    token_charge_minor,
)
from computeport.cli.demo import demo_settings, prepare_database, seed
from computeport.cli.demo_gateway import setup_gateway
from computeport.cli.serve import build_app
from computeport.db.engine import make_engine, make_session_factory, unit_of_work
from computeport.invoicing.close import close_period
from computeport.kit.clock import ManualClock
from computeport.models.inference import ModelUpstream, TokenCharge
from computeport.models.invoicing import BillingDocument, DocumentKind, DocumentLine
from computeport.pricing.book import PriceBook
from computeport.seed.demo import department_login
from computeport.seed.gateway_demo import DEMO_MODEL, DEMO_SPEECH_MODEL
from computeport.settings import Settings
from computeport.worker.duties import PostTokenUsage
from tests.gateway.rig import NOW, Upstream, poll, serve
from tests.gateway.whisper_upstream import SpeechUpstream
from tests.support.databases import (
    drop_postgres_database,
    fresh_postgres_database,
    worker_suffix,
)

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """The demo's settings, on its own SQLite file or on a fresh PostgreSQL database."""
    made = demo_settings(tmp_path, 1440.0)
    if request.param == "sqlite":
        yield made
        return
    url = fresh_postgres_database(f"cp_demo_gw_{worker_suffix()}")
    yield made.model_copy(update={"database_url": url})
    drop_postgres_database(url)


def _signed_in(url: str) -> httpx.Client:
    web = httpx.Client(base_url=url, timeout=30)
    found = CSRF.search(web.get("/login").text)
    assert found
    login = department_login()
    answer = web.post(
        "/login",
        data={"csrf_token": found[1], "email": login.email, "password": login.password},
    )
    assert answer.status_code in (200, 303), answer.text
    return web


@pytest.mark.slow
def test_one_department_key_chats_and_transcribes_onto_its_page_and_its_invoice(
    settings: Settings,
    upstreams: list[Upstream],
    whisper: SpeechUpstream,
    clips: dict[str, Path],
) -> None:
    prepare_database(settings)
    seed(settings)
    clock = ManualClock(NOW)
    dead = ["http://127.0.0.1:9/v1"]
    first = setup_gateway(settings, dead, DEMO_MODEL, clock, speech_upstreams=dead)
    demo = setup_gateway(
        settings, [upstreams[0].base_url], DEMO_MODEL, clock, speech_upstreams=[whisper.base_url]
    )
    assert demo.key == first.key  # the published demo key, stored once
    assert not demo.key_revoked
    assert demo.speech_model == DEMO_SPEECH_MODEL
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    with sessions() as s:  # a restart moves the deployments to where their servers now are
        assert sorted(s.scalars(select(ModelUpstream.base_url))) == sorted(
            [upstreams[0].base_url, whisper.base_url]
        )
    url, _app, server, thread = serve(
        engine, clock, {"secret_key": settings.secret_key}, build=build_app
    )
    try:
        client = OpenAI(base_url=f"{url}/v1", api_key=demo.key, max_retries=0)
        reply = client.chat.completions.create(
            model=DEMO_MODEL,
            messages=[{"role": "user", "content": "Which typhoon signal closes schools?"}],
            max_tokens=12,
        )
        assert reply.usage is not None
        prompt, completion = reply.usage.prompt_tokens, reply.usage.completion_tokens
        english = client.audio.transcriptions.create(
            model=DEMO_SPEECH_MODEL, file=clips["en"], language="en"
        )
        assert "invoice" in english.text.lower()
        # The demo's speech server logs requests, never what was said.
        assert "invoice" not in whisper.log.read_text().lower()
        cantonese = client.audio.transcriptions.create(
            model=DEMO_SPEECH_MODEL, file=clips["yue"], language="yue"
        )
        assert CJK.search(cantonese.text), cantonese.text
        seconds = [
            a.usage.seconds
            for a in (english, cantonese)
            if a.usage is not None and a.usage.type == "duration"
        ]
        assert len(seconds) == 2  # metered by the audio's duration
        audio_s = round(sum(seconds))
        web = _signed_in(url)
        page = f"/orgs/{demo.organisation_id}/inference"

        def shown() -> bool:
            text = web.get(page).text
            return (
                all(f">{n}<" in text for n in (prompt, completion, audio_s))
                and f"<code>{DEMO_SPEECH_MODEL}</code>" in text
            )

        poll("the department's tokens and audio on its page", shown, timeout_s=60)
        assert "Policy assistant (demo)" in web.get(page).text

        duty = PostTokenUsage(sessions, clock, post_all_tokens)
        assert duty.run(clock.now()) is not None
        with sessions() as s:
            charges = {c.model: c for c in s.scalars(select(TokenCharge))}
            assert set(charges) == {DEMO_MODEL, DEMO_SPEECH_MODEL}
            book = PriceBook.load(s)
            price = book.token_price(DEMO_MODEL, NOW.timestamp())
            assert price is not None
            chat = charges[DEMO_MODEL]
            assert chat.list_minor == token_charge_minor(price, prompt, completion)
            per_minute = book.audio_price(DEMO_SPEECH_MODEL, NOW.timestamp())
            assert per_minute is not None
            speech = s.scalars(select(TokenCharge).where(TokenCharge.audio_ms > 0)).all()
            assert len(speech) == 2  # one rating per clip
            audio_ms = sum(c.audio_ms for c in speech)
            audio_minor = sum(c.list_minor for c in speech)
            assert audio_minor == sum(audio_charge_minor(per_minute, c.audio_ms) for c in speech)
            assert audio_minor > 0
            for c in [chat, *speech]:
                assert c.subsidy_minor + c.copay_minor == c.list_minor
                assert c.organisation_id == demo.organisation_id
        assert abs(audio_ms / 1000 - audio_s) <= 1

        with unit_of_work(sessions) as s:
            close_period(s, ManualClock(NOW + timedelta(days=40)), "2026-12")
        with sessions() as s:
            lines = s.execute(
                select(DocumentLine)
                .join(BillingDocument, BillingDocument.id == DocumentLine.document_id)
                .where(
                    BillingDocument.kind == DocumentKind.INVOICE,
                    BillingDocument.organisation_id == demo.organisation_id,
                )
            ).scalars()
            by_kind = {ln.accelerator_type: (ln.jobs, ln.list_minor) for ln in lines}
        assert by_kind[f"tokens:{DEMO_MODEL}"] == (1, chat.list_minor)
        assert by_kind[f"audio:{DEMO_SPEECH_MODEL}"] == (2, audio_minor)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        engine.dispose()
