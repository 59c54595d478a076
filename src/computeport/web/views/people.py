"""People the pages offer in pickers (e.g. reviewers an officer may assign)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.models.identity import Membership, Role, User


def reviewers(session: Session) -> list[User]:
    """Active users holding the (staff) reviewer role, by name."""
    stmt = (
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.role == Role.REVIEWER, Membership.organisation_id.is_(None))
        .where(User.is_active.is_(True))
        .order_by(User.display_name)
    )
    return list(session.scalars(stmt).unique())


def display_names(session: Session, user_ids: set[object]) -> dict[object, str]:
    if not user_ids:
        return {}
    rows = session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids))).all()
    return {r[0]: r[1] for r in rows}
