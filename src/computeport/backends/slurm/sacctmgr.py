"""Read Slurm's accounting configuration: ``sacctmgr show … -P`` text → typed rows.

We choose the ``format=`` columns ourselves, so each reader knows its columns; the header line
Slurm prints is checked against them (a different Slurm version that renames a column fails
loudly, naming the line), then each line must have exactly that many ``|``-separated fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from computeport.backends.errors import BackendOutputInvalid
from computeport.backends.plan import ClusterAccount, ClusterQos
from computeport.backends.slurm.tres import parse_tres_string

__all__ = [
    "ACCOUNT_FORMAT",
    "ASSOC_FORMAT",
    "QOS_FORMAT",
    "USER_FORMAT",
    "SlurmAssociation",
    "parse_accounts",
    "parse_associations",
    "parse_pipe_table",
    "parse_qos",
    "parse_users",
]

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
class SlurmAssociation:
    cluster: str
    account: str
    user: str
    partition: str
    parent: str
    qos: frozenset[str]
    default_qos: str


def parse_accounts(text: str) -> list[ClusterAccount]:
    return [
        ClusterAccount(r["Account"], r["Description"], r["Organization"])
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


def parse_qos(text: str) -> list[ClusterQos]:
    out = []
    for number, r in enumerate(parse_pipe_table(text, QOS_FORMAT, what="show qos"), start=2):
        where = f"sacctmgr show qos line {number} ({r['Name']})"
        out.append(
            ClusterQos(
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
