"""Issue 13's "done when", end to end on the demo's own setup: the department's application
calls the demo's gateway with its key and the ``openai`` client, its tokens appear on the
department's page (the gateway's meter writes them within a second; the poll allows the
minute the issue gives), the worker's token duty rates them, and the month's close puts them
on the department's invoice as a line of their own.

Real parts throughout: the demo's SQLite database made and seeded as ``computeport demo``
makes it (the demo is SQLite by design, so this test runs on SQLite only), llama.cpp serving
SmolLM2 as the upstream, the whole app (API and portal) under uvicorn, the portal's login form.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from openai import OpenAI
from sqlalchemy import select

from computeport.billing.token_rating import post_all_tokens, token_charge_minor
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
from computeport.seed.gateway_demo import DEMO_MODEL
from computeport.worker.duties import PostTokenUsage
from tests.gateway.rig import NOW, Upstream, poll, serve

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


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
def test_department_tokens_reach_its_page_and_its_invoice(
    tmp_path: Path, upstreams: list[Upstream]
) -> None:
    settings = demo_settings(tmp_path, 1440.0)
    prepare_database(settings)
    seed(settings)
    clock = ManualClock(NOW)
    first = setup_gateway(settings, ["http://127.0.0.1:9/v1"], DEMO_MODEL, clock)
    demo = setup_gateway(settings, [upstreams[0].base_url], DEMO_MODEL, clock)
    assert demo.key == first.key  # the published demo key, stored once
    assert not demo.key_revoked
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    with sessions() as s:  # a restart moves the deployment to where its server now is
        assert list(s.scalars(select(ModelUpstream.base_url))) == [upstreams[0].base_url]
    url, _app, server, thread = serve(
        engine, clock, {"secret_key": settings.secret_key}, build=build_app
    )
    try:
        reply = OpenAI(base_url=f"{url}/v1", api_key=demo.key).chat.completions.create(
            model=DEMO_MODEL,
            messages=[{"role": "user", "content": "Which typhoon signal closes schools?"}],
            max_tokens=12,
        )
        assert reply.usage is not None
        prompt, completion = reply.usage.prompt_tokens, reply.usage.completion_tokens
        web = _signed_in(url)
        page = f"/orgs/{demo.organisation_id}/inference"

        def shown() -> bool:
            text = web.get(page).text
            return f">{prompt}<" in text and f">{completion}<" in text

        poll("the department's tokens on its page", shown, timeout_s=60)
        assert "Policy assistant (demo)" in web.get(page).text

        duty = PostTokenUsage(sessions, clock, post_all_tokens)
        assert duty.run(clock.now()) is not None
        with sessions() as s:
            charge = s.scalars(select(TokenCharge)).one()
            price = PriceBook.load(s).token_price(DEMO_MODEL, NOW.timestamp())
            assert price is not None
            assert charge.list_minor == token_charge_minor(price, prompt, completion)
            assert charge.subsidy_minor + charge.copay_minor == charge.list_minor
            assert charge.organisation_id == demo.organisation_id

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
            tokens = [ln for ln in lines if ln.accelerator_type == f"tokens:{DEMO_MODEL}"]
        assert [(ln.jobs, ln.list_minor) for ln in tokens] == [(1, charge.list_minor)]
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        engine.dispose()
