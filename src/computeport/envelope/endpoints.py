"""GET /api/v1/envelope: the scheme's money for the committee, officers, operators and funder."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response
from pydantic import TypeAdapter

from computeport.envelope.schemas import EnvelopeRead
from computeport.envelope.service import envelope_figures, get_scheme
from computeport.http.deps import SessionDep, json_response
from computeport.identity.auth import CurrentSubject
from computeport.models.identity import Role

router = APIRouter(prefix="/api/v1", tags=["envelope"])

ENVELOPE_READ = TypeAdapter(EnvelopeRead)

READERS = (Role.OPERATOR, Role.SCHEME_OFFICER, Role.COMMITTEE_MEMBER, Role.FUNDER)


@router.get("/envelope", response_model=EnvelopeRead, responses={403: {}, 404: {}})
def get_envelope(
    subject: CurrentSubject,
    session: SessionDep,
    scheme: str | None = None,
    scheme_id: uuid.UUID | None = None,
) -> Response:
    """Total, committed, consumed, remaining, per category (the only scheme if none named)."""
    subject.require(*READERS)
    found = get_scheme(session, scheme_id=scheme_id, code=scheme)
    # Serialised once here: FastAPI would validate the model again in the thread pool.
    return json_response(ENVELOPE_READ, EnvelopeRead.of(envelope_figures(session, found)))


__all__ = ["router"]
