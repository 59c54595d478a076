"""Identity use cases: users, roles, tokens, passwords and what each subject may read."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.identity import service
from computeport.identity.errors import DuplicateIdentity, InvalidCredentials, TokenNotFound
from computeport.identity.subject import Subject
from computeport.identity.tokens import hash_token
from computeport.kit.clock import ManualClock
from computeport.kit.errors import PermissionDenied, ValidationFailed
from computeport.models.audit import AuditRecord
from computeport.models.identity import ApiToken, Membership, OrganisationCategory, Role
from tests.factories import identity as f


class TestUsersAndRoles:
    def test_email_is_normalised_and_unique(self, session: Session, clock: ManualClock) -> None:
        service.create_user(
            session,
            email=" Ann@Example.org ",
            display_name="Ann",
            posix_username="ann",
            at=clock.now(),
        )
        with pytest.raises(DuplicateIdentity) as info:
            service.create_user(
                session,
                email="ann@example.org",
                display_name="A",
                posix_username="ann2",
                at=clock.now(),
            )
        assert info.value.field == "email"

    @pytest.mark.parametrize("bad", ["Ann", "1ann", "a" * 33, "ann smith", ""])
    def test_posix_username_must_be_valid(
        self, session: Session, clock: ManualClock, bad: str
    ) -> None:
        with pytest.raises(ValidationFailed) as info:
            service.create_user(
                session, email="x@example.org", display_name="X", posix_username=bad, at=clock.now()
            )
        assert info.value.field == "posix_username"

    def test_staff_role_has_no_organisation(self, session: Session, clock: ManualClock) -> None:
        org = f.organisation(session)
        person = f.user(session)
        with pytest.raises(ValidationFailed):
            service.grant_role(
                session,
                user_id=person.id,
                role=Role.REVIEWER,
                organisation_id=org.id,
                at=clock.now(),
            )
        with pytest.raises(ValidationFailed):
            service.grant_role(session, user_id=person.id, role=Role.MEMBER, at=clock.now())

    def test_granting_twice_returns_the_same_membership(
        self, session: Session, clock: ManualClock
    ) -> None:
        person = f.user(session)
        first = service.grant_role(session, user_id=person.id, role=Role.FUNDER, at=clock.now())
        again = service.grant_role(session, user_id=person.id, role=Role.FUNDER, at=clock.now())
        assert first.id == again.id

    def test_org_admin_grants_only_in_own_organisation(
        self, session: Session, clock: ManualClock
    ) -> None:
        mine, theirs = f.organisation(session), f.organisation(session)
        admin = f.subject(session, f.user(session, roles=(Role.ORG_ADMIN,), organisation=mine))
        person = f.user(session)

        def grant(role: Role, organisation_id: uuid.UUID | None = None) -> Membership:
            return service.grant_role(
                session,
                user_id=person.id,
                role=role,
                organisation_id=organisation_id,
                granted_by=admin,
                at=clock.now(),
            )

        grant(Role.MEMBER, mine.id)
        with pytest.raises(PermissionDenied):
            grant(Role.MEMBER, theirs.id)
        with pytest.raises(PermissionDenied):
            grant(Role.SCHEME_OFFICER)

    def test_applicant_who_registers_becomes_admin(
        self, session: Session, clock: ManualClock
    ) -> None:
        person = f.user(session)
        org = service.create_organisation(
            session,
            name="Kowloon Robotics",
            category=OrganisationCategory.ENTERPRISE,
            creator=f.subject(session, person),
            at=clock.now(),
        )
        assert f.subject(session, person).has_organisation_role(org.id, Role.ORG_ADMIN)


class TestReadableBy:
    def test_applicant_sees_only_its_organisation(self, session: Session) -> None:
        mine, theirs = f.organisation(session), f.organisation(session)
        applicant = f.subject(session, f.user(session, roles=(Role.MEMBER,), organisation=mine))
        assert [o.id for o in service.list_organisations(session, applicant)] == [mine.id]
        funder = f.subject(session, f.user(session, roles=(Role.FUNDER,)))
        seen = {o.id for o in service.list_organisations(session, funder)}
        assert {mine.id, theirs.id} <= seen

    def test_user_without_roles_sees_no_organisation(self, session: Session) -> None:
        f.organisation(session)
        nobody = f.subject(session, f.user(session))
        assert service.list_organisations(session, nobody) == []

    def test_users_visible_only_within_organisation(self, session: Session) -> None:
        mine = f.organisation(session)
        colleague = f.user(session, roles=(Role.MEMBER,), organisation=mine)
        stranger = f.user(session, roles=(Role.MEMBER,), organisation=f.organisation(session))
        me = f.subject(session, f.user(session, roles=(Role.ORG_ADMIN,), organisation=mine))
        ids = {u.id for u in service.list_users(session, me)}
        assert colleague.id in ids
        assert me.user_id in ids
        assert stranger.id not in ids


class TestSubject:
    def test_require_raises_403_naming_the_roles(self) -> None:
        import uuid

        s = Subject(uuid.uuid4(), "a@b.c", frozenset({Role.FUNDER}))
        s.require(Role.FUNDER, Role.OPERATOR)
        with pytest.raises(PermissionDenied, match="scheme_officer"):
            s.require(Role.SCHEME_OFFICER)

    def test_reviewer_does_not_oversee(self) -> None:
        import uuid

        reviewer = Subject(uuid.uuid4(), "r@b.c", frozenset({Role.REVIEWER}))
        assert reviewer.is_staff
        assert not reviewer.sees_all_organisations
        assert not reviewer.can_see_organisation(uuid.uuid4())


class TestTokens:
    def test_token_is_stored_hashed_and_authenticates(
        self, session: Session, clock: ManualClock
    ) -> None:
        person = f.user(session, roles=(Role.OPERATOR,))
        row, plaintext = service.issue_token(session, user_id=person.id, name="ci", at=clock.now())
        assert plaintext.startswith(f"cpt_{row.prefix}_")
        assert row.token_hash == hash_token(plaintext)
        assert plaintext not in {row.token_hash, row.prefix, row.name}
        subject = service.authenticate_token(session, plaintext, clock.now())
        assert subject.user_id == person.id
        assert subject.staff_roles == {Role.OPERATOR}
        assert row.last_used_at == clock.now()

    def test_revoked_token_is_refused_and_audited(
        self, session: Session, clock: ManualClock
    ) -> None:
        person = f.user(session)
        row, plaintext = service.issue_token(session, user_id=person.id, name="ci", at=clock.now())
        service.revoke_token(session, row.id, by=f.subject(session, person), at=clock.now())
        with pytest.raises(InvalidCredentials, match="revoked"):
            service.authenticate_token(session, plaintext, clock.now())
        actions = {
            r.action for r in session.query(AuditRecord).filter(AuditRecord.entity_id == row.id)
        }
        assert actions == {"token_issued", "token_revoked"}

    def test_expired_token_is_refused(self, session: Session, clock: ManualClock) -> None:
        person = f.user(session)
        _row, plaintext = service.issue_token(
            session,
            user_id=person.id,
            name="ci",
            at=clock.now(),
            expires_at=clock.now() + timedelta(days=1),
        )
        service.authenticate_token(session, plaintext, clock.now())
        clock.advance(timedelta(days=1))
        with pytest.raises(InvalidCredentials, match="expired"):
            service.authenticate_token(session, plaintext, clock.now())

    def test_expiry_in_the_past_is_bad_input(self, session: Session, clock: ManualClock) -> None:
        person = f.user(session)
        with pytest.raises(ValidationFailed):
            service.issue_token(
                session, user_id=person.id, name="x", at=clock.now(), expires_at=clock.now()
            )

    def test_someone_elses_token_cannot_be_revoked(
        self, session: Session, clock: ManualClock
    ) -> None:
        owner, other = f.user(session), f.user(session)
        row, _ = service.issue_token(session, user_id=owner.id, name="ci", at=clock.now())
        with pytest.raises(TokenNotFound):
            service.revoke_token(session, row.id, by=f.subject(session, other), at=clock.now())
        assert session.get_one(ApiToken, row.id).revoked_at is None

    @pytest.mark.parametrize("bad", ["", "cpt_", "cpt_zzzzzzzz_" + "a" * 43, "Bearer x"])
    def test_malformed_token_is_refused(
        self, session: Session, clock: ManualClock, bad: str
    ) -> None:
        with pytest.raises(InvalidCredentials):
            service.authenticate_token(session, bad, clock.now())


class TestPasswords:
    def test_authenticate_password(self, session: Session) -> None:
        person = f.user(session, email="pw@example.org", password="correct horse battery")
        assert (
            service.authenticate_password(session, "PW@example.org", "correct horse battery").id
            == person.id
        )
        with pytest.raises(InvalidCredentials, match="wrong email or password"):
            service.authenticate_password(session, "pw@example.org", "wrong horse battery")
        with pytest.raises(InvalidCredentials, match="wrong email or password"):
            service.authenticate_password(session, "nobody@example.org", "correct horse battery")
        assert person.password_hash is not None
        assert person.password_hash.startswith("$argon2id$")

    def test_short_password_is_refused(self, session: Session, clock: ManualClock) -> None:
        with pytest.raises(ValidationFailed) as info:
            service.create_user(
                session,
                email="s@example.org",
                display_name="S",
                posix_username="s",
                password="short",
                at=clock.now(),
            )
        assert info.value.field == "password"


class TestTokenChecksAndUse:
    """The read path (``check_token``) writes nothing and is never cached; the use is recorded
    apart (``record_token_use``) at most once per ``LAST_USED_RESOLUTION``."""

    def test_check_writes_nothing(self, session: Session, clock: ManualClock) -> None:
        person = f.user(session, roles=(Role.OPERATOR,))
        row, plaintext = service.issue_token(session, user_id=person.id, name="ci", at=clock.now())
        session.flush()
        check = service.check_token(session, plaintext, clock.now())
        assert check.subject.staff_roles == {Role.OPERATOR}
        assert check.token_id == row.id
        assert check.use_is_stale(clock.now())
        assert not session.new
        assert not session.dirty
        assert not session.deleted
        assert row.last_used_at is None

    def test_use_is_written_at_most_once_per_resolution(
        self, session: Session, clock: ManualClock
    ) -> None:
        person = f.user(session)
        row, plaintext = service.issue_token(session, user_id=person.id, name="ci", at=clock.now())
        first = clock.now()
        assert service.record_token_use(session, row.id, first)
        clock.advance(service.LAST_USED_RESOLUTION - timedelta(seconds=1))
        assert not service.check_token(session, plaintext, clock.now()).use_is_stale(clock.now())
        assert not service.record_token_use(session, row.id, clock.now())
        session.expire_all()
        assert session.get_one(ApiToken, row.id).last_used_at == first
        clock.advance(timedelta(seconds=1))
        assert service.check_token(session, plaintext, clock.now()).use_is_stale(clock.now())
        assert service.record_token_use(session, row.id, clock.now())
        session.expire_all()
        assert session.get_one(ApiToken, row.id).last_used_at == clock.now()

    def test_revocation_and_role_changes_take_effect_on_the_next_check(
        self, session: Session, clock: ManualClock
    ) -> None:
        person = f.user(session, roles=(Role.OPERATOR, Role.FUNDER))
        row, plaintext = service.issue_token(session, user_id=person.id, name="ci", at=clock.now())
        assert service.check_token(session, plaintext, clock.now()).subject.staff_roles == {
            Role.OPERATOR,
            Role.FUNDER,
        }
        operator = session.scalars(
            select(Membership).where(
                Membership.user_id == person.id, Membership.role == Role.OPERATOR
            )
        ).one()
        session.delete(operator)
        session.flush()
        assert service.check_token(session, plaintext, clock.now()).subject.staff_roles == {
            Role.FUNDER
        }
        service.revoke_token(session, row.id, by=f.subject(session, person), at=clock.now())
        with pytest.raises(InvalidCredentials, match="revoked"):
            service.check_token(session, plaintext, clock.now())

    def test_inactive_user_and_user_without_roles(
        self, session: Session, clock: ManualClock
    ) -> None:
        person = f.user(session)
        _row, plaintext = service.issue_token(session, user_id=person.id, name="ci", at=clock.now())
        subject = service.check_token(session, plaintext, clock.now()).subject
        assert subject.user_id == person.id
        assert not subject.roles
        person.is_active = False
        session.flush()
        with pytest.raises(InvalidCredentials, match="not active"):
            service.check_token(session, plaintext, clock.now())
        with pytest.raises(InvalidCredentials, match="sign in again"):
            service.authenticate_user_id(session, person.id)
        with pytest.raises(InvalidCredentials, match="sign in again"):
            service.authenticate_user_id(session, uuid.uuid4())
