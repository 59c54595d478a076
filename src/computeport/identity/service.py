"""Use cases of the identity domain: organisations, users, roles, tokens, authentication.

Services flush but never commit (the request or command boundary does).  Every function takes
the time it acts at (``at``/``now``) from the caller's injected clock.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, Select, select
from sqlalchemy.orm import Session

from computeport.audit.service import record_event
from computeport.identity import passwords, tokens
from computeport.identity.errors import (
    DuplicateIdentity,
    InvalidCredentials,
    MembershipNotFound,
    OrganisationNotFound,
    TokenNotFound,
    UserNotFound,
)
from computeport.identity.repository import (
    memberships_of,
    organisations_readable_by,
    token_subject_rows,
    touch_token,
    user_by_email,
    user_subject_rows,
    users_readable_by,
)
from computeport.identity.schemas import EMAIL_PATTERN
from computeport.identity.subject import Subject
from computeport.kit.clock import ensure_aware
from computeport.kit.errors import PermissionDenied, ValidationFailed
from computeport.kit.slurm_names import organisation_account_name, unique_name
from computeport.models.identity import (
    ORGANISATION_ROLES,
    STAFF_ROLES,
    ApiToken,
    Membership,
    Organisation,
    OrganisationCategory,
    Role,
    User,
)

POSIX_USERNAME_RE = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
EMAIL_RE = re.compile(EMAIL_PATTERN)

GRANTABLE: dict[Role, frozenset[Role]] = {
    Role.OPERATOR: frozenset(Role),
    Role.SCHEME_OFFICER: frozenset(
        {Role.REVIEWER, Role.COMMITTEE_MEMBER, Role.ORG_ADMIN, Role.MEMBER}
    ),
}
"""Who grants (and revokes) which roles.  The centre's operators hold every key; a scheme officer
staffs the scheme's panels (reviewers, the committee) and applicant organisations, but cannot
make an operator, another officer or a funder, and grants nothing to itself
(:func:`_check_separation`)."""
ROLE_GRANTERS = frozenset(GRANTABLE)
"""Staff who may create users and grant roles (which ones: :data:`GRANTABLE`)."""


def may_grant(granter: Subject, role: Role) -> bool:
    """Whether ``granter``'s staff roles let it grant or revoke ``role`` in any organisation."""
    return any(granter.has_role(holder) and role in roles for holder, roles in GRANTABLE.items())


# -- organisations -------------------------------------------------------------------------


def create_organisation(
    session: Session,
    *,
    name: str,
    category: OrganisationCategory,
    at: datetime,
    sector: str = "general",
    registration_number: str | None = None,
    creator: Subject | None = None,
    is_assumption: bool = False,
) -> Organisation:
    """Register an organisation; an applicant who registers it becomes its administrator."""
    name = name.strip()
    if not name:
        raise ValidationFailed("name: must not be empty", field="name")
    if session.scalar(select(Organisation.id).where(Organisation.name == name)) is not None:
        raise DuplicateIdentity(f"an organisation named {name!r} already exists", field="name")
    org = Organisation(
        name=name,
        slurm_account=new_organisation_account(session, name),
        category=category,
        sector=sector,
        registration_number=registration_number,
        is_assumption=is_assumption,
        created_at=ensure_aware(at),
    )
    session.add(org)
    session.flush()
    if creator is not None and not creator.is_staff:
        grant_role(
            session, user_id=creator.user_id, role=Role.ORG_ADMIN, organisation_id=org.id, at=at
        )
    return org


def new_organisation_account(session: Session, name: str) -> str:
    """A Slurm parent-account name no stored organisation has (generated once, then stored)."""
    return unique_name(
        lambda _attempt: organisation_account_name(name),
        lambda candidate: (
            session.scalar(select(Organisation.id).where(Organisation.slurm_account == candidate))
            is not None
        ),
    )


def get_organisation(
    session: Session, organisation_id: uuid.UUID, subject: Subject
) -> Organisation:
    """One organisation, or 404 when it does not exist or the subject may not see it."""
    org = session.scalar(
        organisations_readable_by(subject).where(Organisation.id == organisation_id)
    )
    if org is None:
        raise OrganisationNotFound(f"no organisation {organisation_id}")
    return org


def _organisations_page(
    subject: Subject, category: OrganisationCategory | None, limit: int, offset: int
) -> Select[Organisation]:
    stmt = organisations_readable_by(subject)
    if category is not None:
        stmt = stmt.where(Organisation.category == category)
    return stmt.order_by(Organisation.name).limit(limit).offset(offset)


def list_organisations(
    session: Session,
    subject: Subject,
    *,
    category: OrganisationCategory | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Organisation]:
    return list(session.scalars(_organisations_page(subject, category, limit, offset)))


def organisation_rows(
    session: Session,
    subject: Subject,
    *,
    category: OrganisationCategory | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Sequence[Row[Any]]:
    """:func:`list_organisations` as plain rows (the columns by their attribute names), for a
    read that only shows them: a page of 100 rows costs a tenth of 100 ORM objects."""
    stmt = _organisations_page(subject, category, limit, offset)
    columns = stmt.with_only_columns(*Organisation.__table__.columns)
    return session.connection().execute(columns).all()  # Core path: plain rows, less overhead


# -- users and roles -----------------------------------------------------------------------


def create_user(
    session: Session,
    *,
    email: str,
    display_name: str,
    posix_username: str,
    at: datetime,
    password: str | None = None,
    locale: str = "en",
) -> User:
    """Create a person; the POSIX username is what the cluster will know them by."""
    email = email.strip().lower()
    if not EMAIL_RE.match(email):
        raise ValidationFailed(f"email: not an email address: {email!r}", field="email")
    if not POSIX_USERNAME_RE.match(posix_username):
        raise ValidationFailed(
            "posix_username: lower-case letters, digits, '_' or '-', starting with a letter or "
            f"'_', at most 32 characters; got {posix_username!r}",
            field="posix_username",
        )
    if user_by_email(session, email) is not None:
        raise DuplicateIdentity(f"a user with email {email} already exists", field="email")
    taken = session.scalar(select(User.id).where(User.posix_username == posix_username))
    if taken is not None:
        raise DuplicateIdentity(
            f"POSIX username {posix_username!r} is taken", field="posix_username"
        )
    user = User(
        email=email,
        display_name=display_name.strip() or email,
        posix_username=posix_username,
        locale=locale,
        created_at=ensure_aware(at),
    )
    if password is not None:
        user.password_hash = _checked_password_hash(password)
    session.add(user)
    session.flush()
    return user


def _checked_password_hash(password: str) -> str:
    if len(password) < passwords.MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"password: at least {passwords.MIN_PASSWORD_LENGTH} characters", field="password"
        )
    return passwords.hash_password(password)


def set_password(session: Session, user_id: uuid.UUID, password: str) -> None:
    user = _user(session, user_id)
    user.password_hash = _checked_password_hash(password)
    session.flush()


def get_user(session: Session, user_id: uuid.UUID, subject: Subject) -> User:
    user = session.scalar(users_readable_by(subject).where(User.id == user_id))
    if user is None:
        raise UserNotFound(f"no user {user_id}")
    return user


def list_users(
    session: Session, subject: Subject, *, limit: int = 100, offset: int = 0
) -> list[User]:
    stmt = users_readable_by(subject).order_by(User.email).limit(limit).offset(offset)
    return list(session.scalars(stmt))


def _user(session: Session, user_id: uuid.UUID) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise UserNotFound(f"no user {user_id}", field="user_id")
    return user


def grant_role(
    session: Session,
    *,
    user_id: uuid.UUID,
    role: Role,
    at: datetime,
    organisation_id: uuid.UUID | None = None,
    granted_by: Subject | None = None,
) -> Membership:
    """Give a user a role: staff roles have no organisation; applicant roles need one.

    ``granted_by`` (when given) must be an operator or scheme officer, or — for applicant
    roles — an administrator of that organisation.  Granting a role already held returns the
    existing membership.
    """
    if role in STAFF_ROLES and organisation_id is not None:
        raise ValidationFailed(
            f"role {role.value} is a staff role and belongs to no organisation",
            field="organisation_id",
        )
    if role in ORGANISATION_ROLES and organisation_id is None:
        raise ValidationFailed(f"role {role.value} needs an organisation", field="organisation_id")
    if granted_by is not None:
        may = may_grant(granted_by, role) or (
            organisation_id is not None
            and role in ORGANISATION_ROLES
            and granted_by.has_organisation_role(organisation_id, Role.ORG_ADMIN)
        )
        if not may:
            raise PermissionDenied(f"you may not grant the role {role.value} here")
        _check_separation(session, granted_by, user_id, role)
    user = _user(session, user_id)
    if organisation_id is not None and session.get(Organisation, organisation_id) is None:
        raise OrganisationNotFound(f"no organisation {organisation_id}", field="organisation_id")
    existing = session.scalar(
        select(Membership).where(
            Membership.user_id == user.id,
            Membership.role == role,
            Membership.organisation_id.is_(None)
            if organisation_id is None
            else Membership.organisation_id == organisation_id,
        )
    )
    if existing is not None:
        return existing
    membership = Membership(
        user_id=user.id, organisation_id=organisation_id, role=role, created_at=ensure_aware(at)
    )
    session.add(membership)
    session.flush()
    return membership


def _check_separation(
    session: Session, granted_by: Subject, user_id: uuid.UUID, role: Role
) -> None:
    """Separation of duties, for every granter but an operator: no one grants a role to
    themselves (an officer making itself a committee member, or an applicant's administrator,
    would decide or apply on its own behalf), and a staff account joins an applicant
    organisation only through an operator (an organisation could otherwise enrol the reviewer
    assigned to it)."""
    if granted_by.has_role(Role.OPERATOR):
        return
    if user_id == granted_by.user_id:
        raise PermissionDenied("only an operator grants roles to themselves")
    if role in ORGANISATION_ROLES and session.scalar(
        select(Membership.id)
        .where(Membership.user_id == user_id, Membership.role.in_(list(STAFF_ROLES)))
        .limit(1)
    ):
        raise PermissionDenied(
            "a staff account joins an applicant organisation only through an operator"
        )


def revoke_role(session: Session, membership_id: uuid.UUID, *, revoked_by: Subject) -> None:
    membership = session.get(Membership, membership_id)
    if membership is None or not (
        revoked_by.sees_all_organisations
        or membership.user_id == revoked_by.user_id
        or (
            membership.organisation_id is not None
            and membership.organisation_id in revoked_by.organisation_ids
        )
    ):
        raise MembershipNotFound(f"no membership {membership_id}")
    may = may_grant(revoked_by, membership.role) or (
        membership.organisation_id is not None
        and revoked_by.has_organisation_role(membership.organisation_id, Role.ORG_ADMIN)
    )
    if not may:
        raise PermissionDenied("you may not revoke this role")
    session.delete(membership)
    session.flush()


def subject_for(session: Session, user: User) -> Subject:
    """The :class:`Subject` of a user, from its memberships now."""
    return Subject.from_memberships(
        user.id, user.email, [(m.role, m.organisation_id) for m in memberships_of(session, user.id)]
    )


# -- authentication ------------------------------------------------------------------------


def authenticate_password(session: Session, email: str, password: str) -> User:
    """The active user with this email and password, or :class:`InvalidCredentials` (401).

    The message never says which of the two was wrong.
    """
    user = user_by_email(session, email)
    if user is None or not user.is_active or user.password_hash is None:
        # Hash anyway so the answer takes as long as for a real user.
        passwords.verify_password(_DUMMY_HASH, password)
        raise InvalidCredentials("wrong email or password")
    if not passwords.verify_password(user.password_hash, password):
        raise InvalidCredentials("wrong email or password")
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
        session.flush()
    return user


_DUMMY_HASH = passwords.hash_password("computeport-timing-equaliser")

LAST_USED_RESOLUTION = timedelta(minutes=5)
"""``last_used_at`` is written at most once per this interval per token, so reads stay reads."""


@dataclass(frozen=True)
class TokenCheck:
    """A valid API token's subject, and what is needed to record its use."""

    subject: Subject
    token_id: uuid.UUID
    last_used_at: datetime | None

    def use_is_stale(self, now: datetime) -> bool:
        """Whether ``last_used_at`` is older than :data:`LAST_USED_RESOLUTION` (or unset)."""
        return self.last_used_at is None or now - self.last_used_at >= LAST_USED_RESOLUTION


def check_token(session: Session, plaintext: str, now: datetime) -> TokenCheck:
    """The subject behind an API token, or :class:`InvalidCredentials` (401); writes nothing.

    One indexed query per call (token, user and memberships together), never cached, so a
    revoked token or a removed role takes effect on the very next request.  The caller records
    the use with :func:`record_token_use` when :meth:`TokenCheck.use_is_stale`.
    """
    if not tokens.looks_like_token(plaintext):
        raise InvalidCredentials("malformed API token (expected cpt_<prefix>_<secret>)")
    rows = token_subject_rows(session, tokens.hash_token(plaintext))
    if not rows:
        raise InvalidCredentials("unknown API token")
    token = rows[0]
    if token.revoked_at is not None:
        raise InvalidCredentials("this API token was revoked")
    now = ensure_aware(now)
    if token.expires_at is not None and token.expires_at <= now:
        raise InvalidCredentials("this API token has expired")
    if not token.is_active:
        raise InvalidCredentials("the token's user is not active")
    subject = Subject.from_memberships(
        token.user_id,
        token.email,
        [(r.role, r.organisation_id) for r in rows if r.role is not None],
    )
    return TokenCheck(subject, token.token_id, token.last_used_at)


def record_token_use(session: Session, token_id: uuid.UUID, now: datetime) -> bool:
    """Set the token's ``last_used_at`` to ``now`` unless it was set less than
    :data:`LAST_USED_RESOLUTION` ago; returns whether it wrote.  Idempotent under races."""
    now = ensure_aware(now)
    return touch_token(session, token_id, now, now - LAST_USED_RESOLUTION)


def authenticate_token(session: Session, plaintext: str, now: datetime) -> Subject:
    """:func:`check_token` and :func:`record_token_use` in one unit of work (CLI, scripts).

    The HTTP API records the use in a separate transaction instead (``identity.auth``).
    """
    check = check_token(session, plaintext, now)
    if check.use_is_stale(ensure_aware(now)):
        record_token_use(session, check.token_id, now)
    return check.subject


def authenticate_user_id(session: Session, user_id: uuid.UUID) -> Subject:
    """The subject for a user id held in a signed browser session (the web portal)."""
    rows = user_subject_rows(session, user_id)
    if not rows or not rows[0].is_active:
        raise InvalidCredentials("your session is no longer valid; sign in again")
    return Subject.from_memberships(
        user_id, rows[0].email, [(r.role, r.organisation_id) for r in rows if r.role is not None]
    )


# -- tokens --------------------------------------------------------------------------------


def issue_token(
    session: Session,
    *,
    user_id: uuid.UUID,
    name: str,
    at: datetime,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token; returns the row and the plaintext, which is never shown again."""
    at = ensure_aware(at)
    if expires_at is not None and ensure_aware(expires_at) <= at:
        raise ValidationFailed("expires_at: must be in the future", field="expires_at")
    user = _user(session, user_id)
    new = tokens.generate_token()
    token = ApiToken(
        user_id=user.id,
        name=name.strip() or "token",
        prefix=new.prefix,
        token_hash=new.token_hash,
        expires_at=expires_at,
        created_at=at,
    )
    session.add(token)
    session.flush()
    record_event(session, token, "token_issued", user.id, token.name, at)
    return token, new.plaintext


def list_tokens(session: Session, user_id: uuid.UUID) -> list[ApiToken]:
    stmt = select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.created_at)
    return list(session.scalars(stmt))


def revoke_token(session: Session, token_id: uuid.UUID, *, by: Subject, at: datetime) -> ApiToken:
    """Revoke a token (its owner or an operator); revoking twice keeps the first time."""
    token = session.get(ApiToken, token_id)
    if token is None or (token.user_id != by.user_id and not by.has_role(Role.OPERATOR)):
        raise TokenNotFound(f"no token {token_id}")
    if token.revoked_at is None:
        token.revoked_at = ensure_aware(at)
        session.flush()
        record_event(session, token, "token_revoked", by.user_id, "", at)
    return token
