"""References under concurrency on PostgreSQL: many drafts at once, distinct and gap-free."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select

from computeport.application import service
from computeport.db.engine import make_session_factory, unit_of_work
from computeport.identity.service import subject_for
from computeport.models.application import Application
from computeport.models.identity import Role, User
from tests.factories import application as fa
from tests.factories import identity as fi
from tests.factories import scheme as fs
from tests.support.databases import own_database

THREADS = 8
DRAFTS_EACH = 5


@pytest.fixture
def pg_engine() -> Iterator[Engine]:
    with own_database("postgresql", "cp_refs", connections=THREADS) as engine:
        yield engine


@pytest.mark.postgres
def test_concurrent_drafts_get_distinct_gap_free_references(pg_engine: Engine) -> None:
    sessions = make_session_factory(pg_engine)
    with unit_of_work(sessions) as session:
        scheme = fs.scheme(session, code="AISS")
        org = fi.organisation(session)
        user = fi.user(session, roles=(Role.ORG_ADMIN,), organisation=org)
        ids = (scheme.id, org.id, user.id)
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            for _ in range(DRAFTS_EACH):
                with unit_of_work(sessions) as s:
                    who = subject_for(s, s.get_one(User, ids[2]))
                    service.create_application(
                        s, who, scheme_id=ids[0], organisation_id=ids[1], title="race",
                        sector="x", request=fa.REQUEST, at=fa.T,
                    )  # fmt: skip
        except BaseException as exc:  # collected and re-raised in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with sessions() as s:
        refs = sorted(s.scalars(select(Application.reference)))
    total = THREADS * DRAFTS_EACH
    assert refs == [f"AISS-2026-{n:04d}" for n in range(1, total + 1)]
