"""``computeport seed cyberport``: the Cyberport scenario of DESIGN.md, idempotently.

Facts (../shared/notes/cyberport-facts.md): the HK$3,000,000,000 AI Subsidy Scheme launched
7 Oct 2024 for three years; 70% of the list price, up to 90% in exceptional cases; published
criteria "alignment with I&T and AI development needs" 25% and "reasonableness of the
computing power requirement" 20%; applications in rolling batches; 20+ applications and 10
approved (over HK$300M) by mid-2025, from universities, R&D centres, enterprises and
government departments; one approved generative-AI R&D centre serves a chat assistant to
government departments.  The AISC runs NVIDIA H800.

Assumptions (marked ``assumption = true`` in the data or stated in the scheme's notes): the
remaining 55% of the rubric, every organisation and project name, the list price used to size
GPU-hours (:data:`ASSUMED_LIST_PRICE_HKD_PER_GPU_HOUR`), each award's cap, dates and terms.

The data lives in ``cyberport.toml`` beside this module (validated by
:mod:`computeport.seed.spec`); this module is the loader: it turns the data into rows through
the domain services, the way an officer, the applicants, reviewers and committee would.

Running it twice changes nothing: every row is found by its natural key before it is made,
and demo tokens are derived deterministically (:mod:`computeport.seed.demo`).
"""

from __future__ import annotations

import functools
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.application.references import next_reference
from computeport.application.service import transition as move_application
from computeport.audit.service import record_transition
from computeport.award.decide import decide
from computeport.award.schemas import AwardLineIn, DecisionIn
from computeport.identity import service as identity
from computeport.identity.passwords import hash_password
from computeport.identity.repository import user_by_email
from computeport.kit.clock import ManualClock
from computeport.models.application import Application, ApplicationStatus, Precision, WorkloadKind
from computeport.models.award import Award
from computeport.models.identity import (
    ApiToken,
    Membership,
    Organisation,
    OrganisationCategory,
    Role,
    User,
)
from computeport.models.scheme import Call, Scheme
from computeport.pricing.service import seed_prices
from computeport.progress.schedule import add_months
from computeport.progress.service import (
    ReportIn,
    ReviewIn,
    reports_of,
    review_report,
    submit_report,
)
from computeport.scheme.service import create_call, create_scheme
from computeport.seed.demo import DEMO_DOMAIN, DEMO_ORGANISATION, DemoLogin, demo_logins
from computeport.seed.names import organisation_names
from computeport.seed.reviews import seed_reviews
from computeport.seed.spec import ProjectEntry, load_cyberport, utc_midnight

S = ApplicationStatus
Cat = OrganisationCategory

DATA = load_cyberport()
"""The scenario's data (``cyberport.toml``), validated when this module is imported."""

SCHEME_CODE = DATA.scheme.code
ENVELOPE_MINOR = DATA.scheme.envelope_hkd * 100
LAUNCH = utc_midnight(DATA.scheme.launch)
ASSUMED_LIST_PRICE_HKD_PER_GPU_HOUR = Decimal(DATA.scheme.list_price.hkd_per_gpu_hour)
"""Assumption: the AISC list price is not public; the file's price sizes the awards."""

SCHEME_NOTES = (
    "Facts: HK$3B over three years from 7 Oct 2024; 70% of the list price, up to 90% in "
    "exceptional cases; criteria 'alignment with I&T and AI development needs' (25%) and "
    "'reasonableness of the computing power requirement' (20%) are published. "
    "Assumptions: the remaining 55% of the rubric (names and weights), the list price "
    f"(HK${ASSUMED_LIST_PRICE_HKD_PER_GPU_HOUR} per H800 GPU-hour), every organisation, "
    "project, cap and date in the seed data."
)

REPORTS_FILED_BEFORE = utc_midnight(DATA.scheme.reports_filed_before)
"""The scenario's reporting date (the Jan 2026 public update): earlier reports are filed and
accepted, except where a project says ``reports_filed = false`` (the demo organisation's, left
overdue to show a held tranche)."""

PROJECTS: list[ProjectEntry] = DATA.projects

PATHS: dict[ApplicationStatus, list[ApplicationStatus]] = {
    S.DRAFT: [],
    S.SUBMITTED: [S.SUBMITTED],
    S.UNDER_REVIEW: [S.SUBMITTED, S.UNDER_REVIEW],
    S.REVISION_REQUESTED: [S.SUBMITTED, S.UNDER_REVIEW, S.REVISION_REQUESTED],
    S.RECOMMENDED: [S.SUBMITTED, S.UNDER_REVIEW, S.RECOMMENDED],
    S.NOT_RECOMMENDED: [S.SUBMITTED, S.UNDER_REVIEW, S.NOT_RECOMMENDED],
    S.APPROVED: [S.SUBMITTED, S.UNDER_REVIEW, S.RECOMMENDED],
    S.REJECTED: [S.SUBMITTED, S.UNDER_REVIEW, S.NOT_RECOMMENDED],
    S.WITHDRAWN: [S.SUBMITTED, S.WITHDRAWN],
}
"""How each target state is reached; approval and rejection then go through the committee."""


@dataclass
class SeedResult:
    """What one run found and made (a second run makes nothing)."""

    created: dict[str, int] = field(default_factory=dict)
    existing: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str, made: bool) -> None:
        bucket = self.created if made else self.existing
        bucket[kind] = bucket.get(kind, 0) + 1

    @property
    def changed(self) -> bool:
        return any(self.created.values())


def _scheme(session: Session, result: SeedResult) -> Scheme:
    scheme = session.scalars(select(Scheme).where(Scheme.code == SCHEME_CODE)).one_or_none()
    result.count("scheme", scheme is None)
    if scheme is None:
        scheme = create_scheme(
            session,
            code=SCHEME_CODE,
            name=DATA.scheme.name,
            envelope_minor=ENVELOPE_MINOR,
            period_start=LAUNCH,
            period_end=LAUNCH.replace(year=LAUNCH.year + DATA.scheme.years),
            criteria=DATA.criterion_specs,
            at=utc_midnight(DATA.scheme.created),
            default_rate=DATA.scheme.default_rate,
            max_rate=DATA.scheme.max_rate,
            eligible_categories=[c.value for c in OrganisationCategory],
            notes=SCHEME_NOTES,
        )
    for entry in DATA.calls:
        found = session.scalar(
            select(Call.id).where(Call.scheme_id == scheme.id, Call.name == entry.name)
        )
        if found is None:
            opens = utc_midnight(entry.opens)
            closes = utc_midnight(entry.closes) if entry.closes is not None else None
            create_call(
                session, scheme.id, name=entry.name, opens_at=opens, closes_at=closes, at=opens
            )
        result.count("call", found is None)
    return scheme


def _organisations(session: Session, result: SeedResult) -> dict[Cat, list[Organisation]]:
    existing = {o.name: o for o in session.scalars(select(Organisation))}
    by_category: dict[Cat, list[Organisation]] = {c: [] for c in Cat}
    wanted = list(organisation_names())
    wanted.extend((o.name, o.category, o.sector) for o in DATA.organisations)
    wanted.append((DEMO_ORGANISATION, Cat.ENTERPRISE, "retail"))
    for name, category, sector in wanted:
        org = existing.get(name)
        if org is None:
            org = identity.create_organisation(
                session,
                name=name,
                category=category,
                sector=sector,
                at=LAUNCH,
                is_assumption=True,
            )
        result.count("organisation", name not in existing)
        by_category[category].append(org)
    return by_category


def _grant(
    session: Session, result: SeedResult, user: User, role: Role, org: Organisation | None
) -> None:
    made = grant_once(session, user, role, org.id if org is not None else None, LAUNCH)
    result.count("membership", made)


def grant_once(
    session: Session, user: User, role: Role, org_id: uuid.UUID | None, at: datetime
) -> bool:
    """Grant ``role`` (in ``org_id``) unless the user holds it; whether it was granted."""
    found = session.scalar(
        select(Membership.id).where(
            Membership.user_id == user.id,
            Membership.role == role,
            Membership.organisation_id.is_(None)
            if org_id is None
            else Membership.organisation_id == org_id,
        )
    )
    if found is None:
        identity.grant_role(session, user_id=user.id, role=role, organisation_id=org_id, at=at)
    return found is None


@functools.cache
def _demo_password_hash(password: str) -> str:
    """argon2id is slow on purpose; the demo passwords are hashed once per process."""
    return hash_password(password)


def _demo_users(session: Session, result: SeedResult, demo_org: Organisation) -> None:
    for login in demo_logins():
        user, made = demo_user(session, login, LAUNCH)
        result.count("user", made)
        org = demo_org if login.role in (Role.ORG_ADMIN, Role.MEMBER) else None
        _grant(session, result, user, login.role, org)
        token = session.scalar(select(ApiToken.id).where(ApiToken.token_hash == login.token_hash))
        if token is None:
            session.add(
                ApiToken(
                    user_id=user.id,
                    name="demo (public, for demonstrations only)",
                    prefix=login.token_prefix,
                    token_hash=login.token_hash,
                    created_at=LAUNCH,
                )
            )
        result.count("token", token is None)
    session.flush()


def demo_user(session: Session, login: DemoLogin, at: datetime) -> tuple[User, bool]:
    """The demo login's user, made with its public password if missing; (user, made)."""
    user = user_by_email(session, login.email)
    if user is not None:
        return user, False
    user = identity.create_user(
        session,
        email=login.email,
        display_name=login.display_name,
        posix_username=login.posix_username,
        password=None,
        at=at,
    )
    user.password_hash = _demo_password_hash(login.password)
    return user, True


def _reviewer(session: Session, result: SeedResult, email: str, name: str, posix: str) -> User:
    """A reviewer of the seeded panel (the demo reviewer exists already; others have no
    password and cannot sign in)."""
    user = user_by_email(session, email)
    made = user is None
    if user is None:
        user = identity.create_user(
            session,
            email=email,
            display_name=name,
            posix_username=posix,
            password=None,
            at=LAUNCH,
        )
    result.count("user", made)
    _grant(session, result, user, Role.REVIEWER, None)
    return user


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40]


def _contact(session: Session, result: SeedResult, org: Organisation, n: int) -> User:
    """The applicant organisation's administrator (no password: cannot sign in)."""
    if org.name == DEMO_ORGANISATION:
        admin = next(d for d in demo_logins() if d.role is Role.ORG_ADMIN)
        found = user_by_email(session, admin.email)
        assert found is not None
        return found
    user = user_by_email(session, f"admin@{_slug(org.name)}.example")
    made = user is None
    if user is None:
        user = identity.create_user(
            session,
            email=f"admin@{_slug(org.name)}.example",
            display_name=f"{org.name} admin",
            posix_username=f"applicant{n:02d}",
            password=None,
            at=LAUNCH,
        )
    result.count("user", made)
    _grant(session, result, user, Role.ORG_ADMIN, org)
    return user


def gpu_hours_for(cap_hkd: int, rate: Decimal) -> int:
    """GPU-hours a cap buys at the assumed list price and the rate, in whole thousands."""
    hours = Decimal(cap_hkd) / (ASSUMED_LIST_PRICE_HKD_PER_GPU_HOUR * rate)
    return int((hours / 1000).to_integral_value(rounding=ROUND_FLOOR)) * 1000


def _project(
    session: Session,
    result: SeedResult,
    scheme: Scheme,
    calls: list[Call],
    org: Organisation,
    contact: User,
    committee: User,
    officer: User,
    reviewers: list[User],
    spec: ProjectEntry,
) -> None:
    if session.scalar(
        select(Application.id).where(
            Application.scheme_id == scheme.id, Application.title == spec.title
        )
    ):
        result.count("application", False)
        return
    result.count("application", True)
    created = spec.created_at
    call = [c for c in calls if c.opens_at <= created][-1]
    rate = spec.rate if spec.rate is not None else scheme.default_rate
    hours = (
        gpu_hours_for(spec.cap_hkd, rate)
        if spec.cap_hkd
        else spec.gpus * 24 * 30 * spec.months // 2
    )
    app = Application(
        reference=next_reference(session, scheme.id, scheme.code, created.year),
        scheme_id=scheme.id,
        call_id=call.id,
        organisation_id=org.id,
        created_by_id=contact.id,
        status=S.DRAFT,
        title=spec.title,
        abstract=f"{spec.title} (seeded project; an assumption of the Cyberport scenario).",
        sector=spec.sector,
        accelerator_type="h800",
        gpus=spec.gpus,
        gpu_hours=hours,
        duration_months=spec.months,
        model_parameters=spec.model_parameters,
        dataset_tokens=spec.dataset_tokens,
        precision=Precision.BF16,
        workload=WorkloadKind.TRAINING,
        justification="Sized from model size, tokens and BF16 throughput on H800 (seed data).",
        created_at=created,
    )
    session.add(app)
    session.flush()
    record_transition(session, app, None, S.DRAFT, contact.id, "created", created)
    at = created
    for step, target in enumerate(PATHS[spec.status], start=1):
        at = at + timedelta(days=7 * step)
        actor = contact.id if target in (S.SUBMITTED, S.WITHDRAWN) else officer.id
        reason = spec.reason if target in (S.REVISION_REQUESTED, S.WITHDRAWN) else ""
        move_application(session, app, target, actor_id=actor, reason=reason or "seed", at=at)
        if target is S.UNDER_REVIEW:
            seed_reviews(session, app, spec.status, officer, reviewers, at)
            at = at + timedelta(days=7)
    if spec.status not in (S.APPROVED, S.REJECTED):
        return
    decided = at + timedelta(days=21)
    clock = ManualClock(decided)
    if spec.status is S.REJECTED:
        decide(
            session, app.id, DecisionIn(outcome="reject", reason=spec.reason), committee.id, clock
        )
        return
    starts = add_months(decided.replace(day=1), 1)
    award = decide(
        session,
        app.id,
        DecisionIn(
            outcome="approve",
            reason="Recommended by the reviewers; approved by the committee (seed data).",
            lines=[AwardLineIn(accelerator_type="h800", gpu_hours=hours)],
            starts_at=starts,
            ends_at=add_months(starts, spec.months),
            subsidy_rate=rate,
            rate_reason=spec.rate_reason,
            cap_minor=spec.cap_hkd * 100,
            terms="Standard AISS terms (assumed): progress reports every six months; "
            "usage beyond the cap is charged at the list price.",
            tranche_shares_bp=list(spec.tranches),
            report_every_months=6,
        ),
        committee.id,
        clock,
    )
    assert award is not None
    if not spec.reports_filed:
        return  # left open: overdue by the scenario date, so it holds the next tranche
    for report in reports_of(session, award.id):
        if report.due_at >= REPORTS_FILED_BEFORE:
            break
        clock.set(max(clock.now(), report.due_at - timedelta(days=3)))
        submit_report(
            session,
            report.id,
            ReportIn(
                models_released=report.sequence,
                papers=2 * report.sequence,
                products=report.sequence // 2,
                jobs_created=3 * report.sequence,
                narrative=f"Progress to report {report.sequence}: checkpoints trained and "
                "evaluated (seed data).",
            ),
            contact.id,
            clock,
        )
        clock.advance(timedelta(days=14))
        review_report(session, report.id, ReviewIn(outcome="accept"), committee.id, clock)


def seed_cyberport(session: Session) -> SeedResult:
    """Load the scenario into ``session`` (the caller commits); idempotent."""
    result = SeedResult()
    scheme = _scheme(session, result)
    calls = list(
        session.scalars(select(Call).where(Call.scheme_id == scheme.id).order_by(Call.opens_at))
    )
    orgs = _organisations(session, result)
    demo_org = next(o for o in orgs[Cat.ENTERPRISE] if o.name == DEMO_ORGANISATION)
    _demo_users(session, result, demo_org)
    panel = _panel(session, result, scheme, calls)
    next_of: dict[Cat, int] = dict.fromkeys(Cat, 0)
    for n, spec in enumerate(PROJECTS, start=1):
        named = DEMO_ORGANISATION if spec.demo_organisation else spec.organisation
        if named is not None:
            org = next(o for o in orgs[spec.category] if o.name == named)
        else:
            org = orgs[spec.category][next_of[spec.category]]
            next_of[spec.category] += 1
        panel.project(session, result, org, n, spec)
    _prices(session, result)
    session.flush()
    return result


@dataclass(frozen=True)
class SeedPanel:
    """The scheme, its calls and the people who move an application to its decision."""

    scheme: Scheme
    calls: list[Call]
    committee: User
    officer: User
    reviewers: list[User]

    def project(
        self, session: Session, result: SeedResult, org: Organisation, n: int, spec: ProjectEntry
    ) -> None:
        """One application of ``org`` through the domain services to ``spec.status`` (and
        its award, where approved); ``n`` numbers the contact's POSIX name."""
        contact = _contact(session, result, org, n)
        _project(
            session,
            result,
            self.scheme,
            self.calls,
            org,
            contact,
            self.committee,
            self.officer,
            self.reviewers,
            spec,
        )


def _panel(session: Session, result: SeedResult, scheme: Scheme, calls: list[Call]) -> SeedPanel:
    logins = {d.role: d for d in demo_logins()}
    committee = user_by_email(session, logins[Role.COMMITTEE_MEMBER].email)
    officer = user_by_email(session, logins[Role.SCHEME_OFFICER].email)
    assert committee is not None
    assert officer is not None
    reviewers = [_reviewer(session, result, logins[Role.REVIEWER].email, "", "")]
    for n in (2, 3):
        reviewers.append(
            _reviewer(
                session,
                result,
                f"reviewer{n}@{DEMO_DOMAIN}",
                f"Reviewer {n} (assumed panel member)",
                f"demo_reviewer{n}",
            )
        )
    return SeedPanel(scheme, calls, committee, officer, reviewers)


def seeded_panel(session: Session) -> SeedPanel:
    """The panel of a database :func:`seed_cyberport` has seeded (it finds, never makes)."""
    scheme = session.scalars(select(Scheme).where(Scheme.code == SCHEME_CODE)).one()
    calls = list(
        session.scalars(select(Call).where(Call.scheme_id == scheme.id).order_by(Call.opens_at))
    )
    return _panel(session, SeedResult(), scheme, calls)


def _prices(session: Session, result: SeedResult) -> None:
    """The scenario's rate card, each price labelled an assumption (keys already priced are
    left alone: an operator's own prices are never overwritten)."""
    table = DATA.prices
    start = utc_midnight(table.valid_from)
    made = seed_prices(
        session,
        ManualClock(start),
        dict(table.gpu_hour),
        dict(table.qos_multiplier),
        tokens={m: (p.input, p.output) for m, p in table.tokens.items()},
        audio=dict(table.audio_minute),
        valid_from=start,
    )
    total = len(table.gpu_hour) + len(table.qos_multiplier) + len(table.tokens)
    total += len(table.audio_minute)
    for n in range(total):
        result.count("price", n < made)


def awards_total_minor(session: Session, scheme_id: uuid.UUID) -> int:
    return sum(
        a.cap_minor for a in session.scalars(select(Award).where(Award.scheme_id == scheme_id))
    )


__all__ = [
    "ASSUMED_LIST_PRICE_HKD_PER_GPU_HOUR",
    "PROJECTS",
    "SeedPanel",
    "SeedResult",
    "demo_user",
    "grant_once",
    "seed_cyberport",
    "seeded_panel",
]
