"""Cluster back ends behind one protocol, like httpx's transports: the surface the services use.

Everything a service above the back ends needs is importable from here: the
:class:`ClusterBackend` protocol and :func:`reconcile`, the plain values that cross the boundary
(desired state, the typed plan, jobs, inventory, accounting) and the error tree.  The two back
ends, :mod:`computeport.backends.sim` (the embedded virtual cluster) and
:mod:`computeport.backends.slurm` (production), never import each other: what they share lives
beside them (:mod:`~computeport.backends.plan`, :mod:`~computeport.backends.reasons`).  The edges
choose one with :func:`computeport.backends.factory.open_backend`.
"""

from computeport.backends.errors import (
    BackendError,
    BackendOutputInvalid,
    BackendUnavailable,
    JobNotFound,
    JobRejected,
    NoCluster,
    ProvisioningConflict,
)
from computeport.backends.protocol import AccountingSource, ClusterBackend, UsageSink, reconcile
from computeport.backends.types.accounting import AccountingRecord, RecordKey
from computeport.backends.types.changes import (
    AddMember,
    AttachQos,
    Change,
    CreateAccount,
    CreateQos,
    CreateReservation,
    DeferredRemoval,
    DeleteAccount,
    DeleteQos,
    DeleteReservation,
    MoveAccount,
    MoveOrganisation,
    ProvisioningPlan,
    RemoveMember,
    UpdateQos,
    UpdateReservation,
)
from computeport.backends.types.desired import (
    RESERVATION_PREFIX,
    AwardAllocation,
    AwardState,
    DesiredState,
    QosLimits,
    ReservedCapacity,
)
from computeport.backends.types.inventory import NodeInfo, NodeState, PartitionInfo
from computeport.backends.types.jobs import JobInfo, JobSpec, JobState, PendingReason

__all__ = [
    "RESERVATION_PREFIX",
    "AccountingRecord",
    "AccountingSource",
    "AddMember",
    "AttachQos",
    "AwardAllocation",
    "AwardState",
    "BackendError",
    "BackendOutputInvalid",
    "BackendUnavailable",
    "Change",
    "ClusterBackend",
    "CreateAccount",
    "CreateQos",
    "CreateReservation",
    "DeferredRemoval",
    "DeleteAccount",
    "DeleteQos",
    "DeleteReservation",
    "DesiredState",
    "JobInfo",
    "JobNotFound",
    "JobRejected",
    "JobSpec",
    "JobState",
    "MoveAccount",
    "MoveOrganisation",
    "NoCluster",
    "NodeInfo",
    "NodeState",
    "PartitionInfo",
    "PendingReason",
    "ProvisioningConflict",
    "ProvisioningPlan",
    "QosLimits",
    "RecordKey",
    "RemoveMember",
    "ReservedCapacity",
    "UpdateQos",
    "UpdateReservation",
    "UsageSink",
    "reconcile",
]
