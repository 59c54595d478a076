"""Read Slurm's accounting configuration: ``sacctmgr show … -P`` text → typed rows.

We choose the ``format=`` columns ourselves, so each reader knows its columns; the header line
Slurm prints is checked against them (a different Slurm version that renames a column fails
loudly, naming the line), then each line must have exactly that many ``|``-separated fields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from computeport.backends.protocol import BackendOutputInvalid, QosLimits
from computeport.backends.slurm.tres import parse_tres_string

__all__ = [
    "ACCOUNT_FORMAT",
    "ASSOC_FORMAT",
    "MANAGED_PREFIX",
    "QOS_FORMAT",
    "USER_FORMAT",
    "SlurmAccount",
    "SlurmAssociation",
    "SlurmQos",
    "parse_accounts",
    "parse_associations",
    "parse_pipe_table",
    "parse_qos",
    "parse_users",
]

MANAGED_PREFIX = "computeport:"
"""Descriptions of accounts and QOS computeport created start with this; only those are removed."""

# (format= column, header Slurm prints for it)
ACCOUNT_FORMAT = (("Account", "Account"), ("Description", "Descr"), ("Organization", "Org"))
ASSOC_FORMAT = (
    ("Cluster", "Cluster"),
    ("Account", "Account"),
    ("User", "User"),
    ("Partition", "Partition"),
    ("ParentName", "ParentName"),
    ("QOS", "QOS"),
    ("DefaultQOS", "Def QOS"),
)
QOS_FORMAT = (
    ("Name", "Name"),
    ("Description", "Descr"),
    ("Flags", "Flags"),
    ("GrpTRESMins", "GrpTRESMins"),
    ("GrpTRES", "GrpTRES"),
    ("GrpSubmitJobs", "GrpSubmit"),
    ("GrpJobs", "GrpJobs"),
)
USER_FORMAT = (("User", "User"), ("DefaultAccount", "Def Acct"))


def format_arg(columns: Sequence[tuple[str, str]]) -> str:
    return "format=" + ",".join(c for c, _ in columns)


def parse_pipe_table(
    text: str, columns: Sequence[tuple[str, str]], *, what: str
) -> list[dict[str, str]]:
    """``-P`` output with its header → one dict per line keyed by our column names."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise BackendOutputInvalid(f"sacctmgr {what}: no header line (empty output)")
    header = lines[0].split("|")
    expected = [h for _, h in columns]
    if header != expected:
        raise BackendOutputInvalid(
            f"sacctmgr {what} line 1: header {header} is not the expected {expected}"
        )
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split("|")
        if len(fields) != len(columns):
            raise BackendOutputInvalid(
                f"sacctmgr {what} line {number}: {len(fields)} fields, expected {len(columns)}"
            )
        rows.append({c: f.strip() for (c, _), f in zip(columns, fields, strict=True)})
    return rows


def _opt_int(value: str, *, what: str) -> int | None:
    if value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise BackendOutputInvalid(f"{what}: {value!r} is not a number") from None


@dataclass(frozen=True, slots=True)
class SlurmAccount:
    name: str
    description: str
    organization: str
    parent: str = ""
    qos: frozenset[str] = frozenset()
    default_qos: str = ""

    @property
    def managed(self) -> bool:
        return self.description.startswith(MANAGED_PREFIX)


@dataclass(frozen=True, slots=True)
class SlurmAssociation:
    cluster: str
    account: str
    user: str
    partition: str
    parent: str
    qos: frozenset[str]
    default_qos: str


@dataclass(frozen=True, slots=True)
class SlurmQos:
    name: str
    description: str
    flags: frozenset[str]
    grp_tres_mins: Mapping[str, int]
    grp_tres: Mapping[str, int]
    grp_submit_jobs: int | None
    grp_jobs: int | None

    @property
    def managed(self) -> bool:
        return self.description.startswith(MANAGED_PREFIX)

    @property
    def limits(self) -> QosLimits:
        """The award-level view; a QOS missing its GPU-minute budget reads as 0 (no budget)."""
        return QosLimits(
            gpu_minutes=self.grp_tres_mins.get("gres/gpu", 0),
            gpu_cap=self.grp_tres.get("gres/gpu"),
            paused=self.grp_submit_jobs == 0 or self.grp_jobs == 0,
        )


def parse_accounts(text: str) -> list[SlurmAccount]:
    return [
        SlurmAccount(r["Account"], r["Description"], r["Organization"])
        for r in parse_pipe_table(text, ACCOUNT_FORMAT, what="show account")
    ]


def parse_associations(text: str) -> list[SlurmAssociation]:
    return [
        SlurmAssociation(
            cluster=r["Cluster"],
            account=r["Account"],
            user=r["User"],
            partition=r["Partition"],
            parent=r["ParentName"],
            qos=frozenset(q for q in r["QOS"].split(",") if q),
            default_qos=r["DefaultQOS"],
        )
        for r in parse_pipe_table(text, ASSOC_FORMAT, what="show assoc")
    ]


def parse_qos(text: str) -> list[SlurmQos]:
    out = []
    for number, r in enumerate(parse_pipe_table(text, QOS_FORMAT, what="show qos"), start=2):
        where = f"sacctmgr show qos line {number} ({r['Name']})"
        out.append(
            SlurmQos(
                name=r["Name"],
                description=r["Description"],
                flags=frozenset(f for f in r["Flags"].split(",") if f),
                grp_tres_mins=parse_tres_string(r["GrpTRESMins"], field=where + " GrpTRESMins"),
                grp_tres=parse_tres_string(r["GrpTRES"], field=where + " GrpTRES"),
                grp_submit_jobs=_opt_int(r["GrpSubmitJobs"], what=where + " GrpSubmit"),
                grp_jobs=_opt_int(r["GrpJobs"], what=where + " GrpJobs"),
            )
        )
    return out


def parse_users(text: str) -> dict[str, str]:
    """User name → default account ("" when its default association was removed)."""
    rows = parse_pipe_table(text, USER_FORMAT, what="show user")
    return {r["User"]: r["DefaultAccount"] for r in rows}
