"""Errors of the cluster back ends (typed, rendered as RFC 9457 problems by kit.errors)::

    DomainError
    ├── BackendError              502  the back end failed in a way retrying did not fix
    │   ├── BackendUnavailable    503  the cluster did not answer (after the retries)
    │   └── BackendOutputInvalid  502  the cluster answered nonsense (names the field/line)
    ├── NoCluster                 503  this deployment runs without a cluster back end
    ├── Conflict
    │   ├── JobRejected           409  the cluster refused a submission (account, limits, paused)
    │   └── ProvisioningConflict  409  an account/QOS exists that computeport did not create
    └── NotFound
        └── JobNotFound           404

They live apart from the types so that any layer may catch them without importing a back end.
"""

from __future__ import annotations

from computeport.kit.errors import Conflict, DomainError, NotFound

__all__ = [
    "BackendError",
    "BackendOutputInvalid",
    "BackendUnavailable",
    "JobNotFound",
    "JobRejected",
    "NoCluster",
    "ProvisioningConflict",
]


class BackendError(DomainError):
    """The cluster back end failed in a way that retrying did not fix."""

    status_code = 502
    title = "Cluster back end error"


class BackendUnavailable(BackendError):
    """The cluster did not answer within the retry budget (controller or database down)."""

    status_code = 503
    title = "Cluster unavailable"


class BackendOutputInvalid(BackendError):
    """The cluster's output could not be read (truncated JSON, a missing field)."""

    title = "Unreadable cluster output"


class JobRejected(Conflict):
    """The cluster refused a submission: unknown account, a paused award, limits at submit."""

    title = "Job rejected"


class ProvisioningConflict(Conflict):
    """An account or QOS of the desired name exists but was not created by computeport."""

    title = "Provisioning conflict"


class JobNotFound(NotFound):
    title = "Job not found"


class NoCluster(DomainError):
    """This deployment runs without a cluster back end."""

    status_code = 503
    title = "No cluster"
