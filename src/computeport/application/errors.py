"""Typed errors of the application domain."""

from __future__ import annotations

from computeport.kit.errors import Conflict, DomainError, NotFound, PermissionDenied


class ApplicationNotFound(NotFound):
    title = "Application not found"


class AttachmentNotFound(NotFound):
    title = "Attachment not found"


class NotEligible(Conflict):
    """The organisation's category or the call does not allow this application now."""

    title = "Not eligible"


class NotEditable(Conflict):
    title = "Application not editable"


class DeclarationRequired(PermissionDenied):
    """A reviewer must declare conflicts of interest before seeing the application."""

    title = "Conflict-of-interest declaration required"


class AttachmentTooLarge(DomainError):
    status_code = 413
    title = "Attachment too large"


class UnsupportedAttachmentType(DomainError):
    status_code = 415
    title = "Unsupported attachment type"
