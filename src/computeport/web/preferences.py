"""The viewer's stored language (``User.locale``).

A one-field preference, written here because the identity service has no setter for it yet.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from computeport.identity.errors import UserNotFound
from computeport.models.identity import User
from computeport.web.i18n import Locale


def set_user_locale(session: Session, user_id: uuid.UUID, locale: Locale) -> None:
    """Store ``locale`` as the user's portal language."""
    user = session.get(User, user_id)
    if user is None:
        raise UserNotFound(f"no user {user_id}")
    user.locale = locale
    session.flush()
