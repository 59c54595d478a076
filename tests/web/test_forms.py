"""``Form.attempt``: the one way a page calls a service with what a person typed."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from computeport.identity import service as identity
from computeport.kit.errors import ValidationFailed
from computeport.models.identity import Organisation, OrganisationCategory
from computeport.web.forms import Done, Form
from computeport.web.i18n import translator

AT = datetime(2025, 1, 1, tzinfo=UTC)


def _form(**values: str) -> Form:
    return Form(FormData(values), translator("en"))


def _organisation(session: Session, name: str) -> Organisation:
    return identity.create_organisation(
        session, name=name, category=OrganisationCategory.ENTERPRISE, sector="ai", at=AT
    )


def _names(session: Session) -> set[str]:
    return set(session.scalars(select(Organisation.name)))


def test_a_call_that_goes_through_returns_its_result(session: Session) -> None:
    form = _form()
    done = form.attempt(session, ("name",), lambda: _organisation(session, "Kept Ltd"))
    assert isinstance(done, Done)
    assert done.value.name == "Kept Ltd"
    assert "Kept Ltd" in _names(session)
    assert form.ok


def test_a_refused_call_leaves_nothing_and_shows_the_error_at_its_field(
    session: Session,
) -> None:
    form = _form()

    def refused() -> None:
        _organisation(session, "Half-made Ltd")
        raise ValidationFailed("name: already taken", field="organisation.name")

    assert form.attempt(session, ("name",), refused) is None
    assert "Half-made Ltd" not in _names(session)  # the savepoint rolled it back
    assert form.errors == {"name": "already taken"}
    assert form.form_error is None


def test_an_error_without_a_known_field_goes_to_the_top(session: Session) -> None:
    form = _form()

    def refused() -> None:
        raise ValidationFailed("the call is closed", field="call_id")

    assert form.attempt(session, ("name",), refused) is None
    assert (form.errors, form.form_error) == ({}, "the call is closed")


def test_aliases_map_a_service_field_to_the_form_s() -> None:
    form = _form()

    def refused() -> None:
        raise ValidationFailed("too high", field="scores.team")

    aliases = {"scores.team": "score_team"}
    assert form.attempt(None, ["score_team"], refused, aliases=aliases) is None
    assert form.errors == {"score_team": "too high"}


def test_a_form_with_errors_does_not_call_the_service() -> None:
    form = _form(gpus="many")
    form.integer("gpus", minimum=1, maximum=8)
    called: list[int] = []
    assert form.attempt(None, ("gpus",), lambda: called.append(1)) is None
    assert called == []
