"""An organisation's data policy for the inference gateway (issue 21, "departments' data
protected").

Why a row per organisation, not a setting: each department decides for itself, and an operator
sets it on the department's request, audited.  Without a row the defaults hold: no redaction,
any site.  ``allowed_sites`` holds inventory site keys (``centre_site.key``) as a
comma-separated list, so the policy survives a reload of the inventory (site ids change, keys
do not); None means unrestricted.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from computeport.db.base import Base, IdMixin, TimestampMixin


class DataPolicy(IdMixin, TimestampMixin, Base):
    """Redaction on or off, and the sites whose deployments may serve the organisation."""

    __tablename__ = "data_policy"

    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), unique=True)
    redact: Mapped[bool] = mapped_column(default=False)
    """Replace HKID numbers, phone numbers and e-mail addresses in prompts before they leave
    the gateway (:mod:`computeport.gateway.redaction`)."""
    allowed_sites: Mapped[str | None] = mapped_column(String(500), default=None)
    """Comma-separated site keys; None: deployments at any site may serve it."""

    @property
    def sites(self) -> tuple[str, ...] | None:
        if self.allowed_sites is None:
            return None
        return tuple(s for s in self.allowed_sites.split(",") if s)


__all__ = ["DataPolicy"]
