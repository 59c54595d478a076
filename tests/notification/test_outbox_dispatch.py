"""The outbox end to end: rows written with the event, sent over real SMTP, never twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from computeport.db.engine import make_engine, make_session_factory
from computeport.db.schema import create_schema
from computeport.kit.clock import ManualClock
from computeport.models.notification import OutboxMessage, OutboxStatus
from computeport.notification.dispatcher import RetryPolicy, SmtpSender, dispatch_pending
from computeport.notification.outbox import enqueue
from computeport.notification.templates import known_kinds, template_for
from tests.notification.smtp_sink import smtp_sink
from tests.support.databases import drop_postgres_database, fresh_postgres_database, worker_suffix
from tests.support.processes import free_port

SENDER = "aiss-noreply@example.org"
CONTEXT = {"reference": "AISS-2026-0001", "title": "A model", "organisation": "Org"}


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], scope="module"
)
def committing_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A database whose commits are real: the dispatcher is a job boundary and commits."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('outbox') / 'o.sqlite3'}")
        url = None
    else:
        url = fresh_postgres_database(f"cp_outbox_{worker_suffix()}")
        engine = make_engine(url)
    create_schema(engine)
    yield engine
    engine.dispose()
    if url is not None:
        drop_postgres_database(url)


@pytest.fixture
def sessions(committing_engine: Engine) -> Iterator[sessionmaker[Session]]:
    factory = make_session_factory(committing_engine)
    yield factory
    with factory() as s, s.begin():
        s.query(OutboxMessage).delete()


def _enqueue(
    sessions: sessionmaker[Session], clock: ManualClock, *recipients: str, key: str = "evt"
) -> None:
    with sessions() as session, session.begin():
        for r in recipients:
            enqueue(
                session,
                clock,
                kind="submission_received",
                recipient=r,
                context={**CONTEXT, "submitted_at": "2026-10-01"},
                dedupe_key=key,
            )


def _statuses(sessions: sessionmaker[Session]) -> list[tuple[str, OutboxStatus, int]]:
    with sessions() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.recipient))
        return [(r.recipient, r.status, r.attempts) for r in rows]


def test_sends_each_pending_message_once(
    sessions: sessionmaker[Session], clock: ManualClock
) -> None:
    _enqueue(sessions, clock, "a@example.org", "b@example.org")
    with smtp_sink() as (sink, port):
        mailer = SmtpSender("127.0.0.1", port)
        first = dispatch_pending(sessions, mailer, clock, sender=SENDER)
        again = dispatch_pending(sessions, mailer, clock, sender=SENDER)
    assert (first.sent, again.sent) == (2, 0)
    assert sorted(m["To"] for m in sink.messages) == ["a@example.org", "b@example.org"]
    assert all(m["Subject"] == "[AISS-2026-0001] Application received" for m in sink.messages)
    assert len({m["Message-ID"] for m in sink.messages}) == 2
    assert [s for _, s, _ in _statuses(sessions)] == [OutboxStatus.SENT, OutboxStatus.SENT]


def test_enqueue_is_idempotent_per_event_and_recipient(
    sessions: sessionmaker[Session], clock: ManualClock
) -> None:
    _enqueue(sessions, clock, "a@example.org", "A@example.org")
    _enqueue(sessions, clock, "a@example.org")
    assert len(_statuses(sessions)) == 1


def test_a_rolled_back_event_leaves_no_message(
    sessions: sessionmaker[Session], clock: ManualClock
) -> None:
    with sessions() as session:
        session.begin()
        enqueue(
            session,
            clock,
            kind="revision_requested",
            recipient="a@example.org",
            context={**CONTEXT, "reason": "x"},
            dedupe_key="rolled-back",
        )
        session.flush()
        session.rollback()
    assert _statuses(sessions) == []


def test_failures_retry_with_backoff_then_deliver_once(
    sessions: sessionmaker[Session], clock: ManualClock
) -> None:
    _enqueue(sessions, clock, "a@example.org")
    port = free_port()  # nothing listens yet: connection refused
    mailer = SmtpSender("127.0.0.1", port, timeout_seconds=2)
    policy = RetryPolicy(max_attempts=5, base_delay=timedelta(minutes=1))

    assert dispatch_pending(sessions, mailer, clock, sender=SENDER, policy=policy).retrying == 1
    assert _statuses(sessions) == [("a@example.org", OutboxStatus.PENDING, 1)]
    # not due again before the backoff has passed
    clock.advance(timedelta(seconds=59))
    assert dispatch_pending(sessions, mailer, clock, sender=SENDER, policy=policy).retrying == 0
    clock.advance(timedelta(seconds=1))
    assert dispatch_pending(sessions, mailer, clock, sender=SENDER, policy=policy).retrying == 1
    with sessions() as session:
        row = session.scalars(select(OutboxMessage)).one()
        assert row.next_attempt_at == clock.now() + timedelta(minutes=2)  # doubled
        assert "ConnectionRefused" in row.last_error
    clock.advance(timedelta(minutes=2))
    with smtp_sink(port) as (sink, _):
        result = dispatch_pending(sessions, mailer, clock, sender=SENDER, policy=policy)
        dispatch_pending(sessions, mailer, clock, sender=SENDER, policy=policy)
    assert result.sent == 1
    assert len(sink.messages) == 1
    assert _statuses(sessions) == [("a@example.org", OutboxStatus.SENT, 3)]


def test_gives_up_after_the_last_attempt(
    sessions: sessionmaker[Session], clock: ManualClock
) -> None:
    _enqueue(sessions, clock, "a@example.org")
    mailer = SmtpSender("127.0.0.1", free_port(), timeout_seconds=2)
    policy = RetryPolicy(max_attempts=2, base_delay=timedelta(seconds=10))
    dispatch_pending(sessions, mailer, clock, sender=SENDER, policy=policy)
    clock.advance(timedelta(seconds=10))
    assert dispatch_pending(sessions, mailer, clock, sender=SENDER, policy=policy).failed == 1
    clock.advance(timedelta(days=1))
    assert dispatch_pending(sessions, mailer, clock, sender=SENDER, policy=policy).failed == 0
    assert _statuses(sessions) == [("a@example.org", OutboxStatus.FAILED, 2)]


def test_a_permanent_refusal_fails_at_once(
    sessions: sessionmaker[Session], clock: ManualClock
) -> None:
    _enqueue(sessions, clock, "gone@example.org", "ok@example.org")
    with smtp_sink() as (sink, port):
        sink.refuse.add("gone@example.org")
        result = dispatch_pending(sessions, SmtpSender("127.0.0.1", port), clock, sender=SENDER)
    assert (result.sent, result.failed, result.retrying) == (1, 1, 0)
    assert _statuses(sessions) == [
        ("gone@example.org", OutboxStatus.FAILED, 1),
        ("ok@example.org", OutboxStatus.SENT, 1),
    ]


def test_a_claimed_message_is_never_picked_up_again(
    sessions: sessionmaker[Session], clock: ManualClock
) -> None:
    """A dispatcher that died after claiming leaves the row 'sending': no second e-mail."""
    _enqueue(sessions, clock, "a@example.org")
    with sessions() as session, session.begin():
        session.execute(update(OutboxMessage).values(status=OutboxStatus.SENDING, attempts=1))
    with smtp_sink() as (sink, port):
        dispatch_pending(sessions, SmtpSender("127.0.0.1", port), clock, sender=SENDER)
    assert sink.messages == []


def test_every_kind_renders_with_a_subject_and_signature() -> None:
    samples: dict[str, dict[str, object]] = {
        "submission_received": {**CONTEXT, "submitted_at": "2026-10-01"},
        "revision_requested": {**CONTEXT, "reason": "explain the batch size"},
        "decision": {**CONTEXT, "approved": False, "outcome": "not approved", "reason": "r"},
        "progress_report_due": {
            "award_reference": "A-1",
            "sequence": 1,
            "due_at": "2027-01-01",
            "overdue": True,
        },
        "award_expiring": {"award_reference": "A-1", "ends_at": "2027-01-01", "days_left": 3},
    }
    assert set(samples) <= set(known_kinds())
    for kind, context in samples.items():
        subject, body = template_for(kind).render(context)
        assert subject
        assert "\n" not in subject
        assert body.endswith("sent automatically.\n")
