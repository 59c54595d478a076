"""The centre's jobs for staff: every job the cluster back end holds, each with the award and
organisation its account belongs to, filtered and a page at a time.

The scheduler is the source of the jobs (``ClusterBackend.jobs``); the database only says which
award (and so which organisation) an account is.  A job on an account no award holds (a
centre account, a test) is listed without an award rather than hidden.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.backends import ClusterBackend, JobInfo, JobState
from computeport.models.award import Award
from computeport.models.identity import Organisation

PAGE = 50
"""Jobs per page: the operations page's job tables show as many and link here for the rest."""


@dataclass(frozen=True)
class AwardAccount:
    """What the portal knows of a cluster account: its award and organisation."""

    award_id: uuid.UUID
    reference: str
    organisation_id: uuid.UUID
    organisation_name: str


@dataclass(frozen=True)
class StaffJob:
    job: JobInfo
    account: AwardAccount | None


@dataclass(frozen=True)
class JobFilters:
    """The list's filters; ``None`` is "any".  Values a form cannot hold are dropped, not kept."""

    state: JobState | None = None
    partition: str | None = None
    account: str | None = None
    organisation_id: uuid.UUID | None = None
    user: str | None = None

    def admits(self, job: JobInfo, account: AwardAccount | None) -> bool:
        if self.state is not None and job.state is not self.state:
            return False
        if self.partition is not None and job.partition != self.partition:
            return False
        if self.account is not None and job.account != self.account:
            return False
        if self.user is not None and job.user != self.user:
            return False
        if self.organisation_id is not None:
            return account is not None and account.organisation_id == self.organisation_id
        return True


@dataclass(frozen=True)
class JobListing:
    """One page of the jobs that match, with what the filter form offers."""

    rows: list[StaffJob]
    matching: int
    page: int
    pages: int
    states: list[str]
    partitions: list[str]
    organisations: list[tuple[uuid.UUID, str]]

    @property
    def first(self) -> int:
        return (self.page - 1) * PAGE + 1 if self.matching else 0

    @property
    def last(self) -> int:
        return min(self.page * PAGE, self.matching)


def award_accounts(session: Session) -> dict[str, AwardAccount]:
    """Every award's cluster account → its award and organisation."""
    rows = session.execute(
        select(Award.slurm_account, Award.id, Award.reference, Organisation.id, Organisation.name)
        .join(Organisation, Organisation.id == Award.organisation_id)
        .where(Award.slurm_account.is_not(None))
    ).all()
    return {str(r[0]): AwardAccount(r[1], r[2], r[3], r[4]) for r in rows}


def centre_jobs(
    session: Session, backend: ClusterBackend, filters: JobFilters, page: int = 1
) -> JobListing:
    """The jobs that pass ``filters``, newest submission first, page ``page`` (clamped)."""
    accounts = award_accounts(session)
    every = backend.jobs()
    matching = [
        StaffJob(job, accounts.get(job.account))
        for job in every
        if filters.admits(job, accounts.get(job.account))
    ]
    matching.sort(key=lambda r: (r.job.submit_time, r.job.job_id), reverse=True)
    pages = max(1, -(-len(matching) // PAGE))
    page = min(max(page, 1), pages)
    organisations = sorted(
        {(a.organisation_id, a.organisation_name) for a in accounts.values()},
        key=lambda o: o[1],
    )
    return JobListing(
        rows=matching[(page - 1) * PAGE : page * PAGE],
        matching=len(matching),
        page=page,
        pages=pages,
        states=sorted({j.state.value for j in every} | {"PENDING", "RUNNING"}),
        partitions=sorted({j.partition for j in every if j.partition}),
        organisations=organisations,
    )
