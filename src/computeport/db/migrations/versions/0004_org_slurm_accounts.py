"""organisation.slurm_account: every organisation gets its own stored name; the column is NOT NULL

Revision ID: 0004_org_slurm_accounts
Revises: 0003
Create Date: 2026-12-04 14:45:00

Until now an organisation without a stored ``slurm_account`` was given ``org_<first 12 hex of
its id>`` on the fly; those 12 digits are a UUIDv7's millisecond timestamp, so organisations
created in the same millisecond shared one Slurm parent account.  This migration stores a name
for every organisation lacking one, by the rule of :mod:`computeport.kit.slurm_names` (copied
here so the migration stays what it was when the rule changes): ``org_<slug ≤ 20>_<6 random
hex>``, distinct from every stored name.  The next ``slurm reconcile`` moves their award
accounts from the old derived parent to the new one (``MoveOrganisation`` in the plan).

Downgrade makes the column nullable again and keeps the names (they are valid names).

SQLite cannot alter a column's NULL-ability, and batch mode's table rebuild is wrong *here*:
it drops ``organisation``, and with ``PRAGMA foreign_keys=ON`` (every computeport connection;
it cannot be switched off inside the migration's transaction) that drop deletes every
membership by ``ON DELETE CASCADE`` — the data test caught it.  So on SQLite the column's
declaration in ``sqlite_master`` is edited in place, the procedure SQLite documents for
constraint changes that leave the stored rows' format alone ("Making Other Kinds Of Table
Schema Changes", lang_altertable.html §7): every row was given a name just before, so none
violates the new NOT NULL, and ``PRAGMA integrity_check`` is asked to agree.
"""

import re
import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_org_slurm_accounts"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_organisation = sa.table(
    "organisation",
    sa.column("id", sa.Uuid()),
    sa.column("name", sa.String(200)),
    sa.column("slurm_account", sa.String(64)),
)


def _name(org_name: str) -> str:
    words = re.sub(r"[^a-z0-9]+", "_", org_name.lower()).strip("_")[:20].rstrip("_")
    token = secrets.token_hex(3)
    return f"org_{words}_{token}" if words else f"org_{token}"


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(_organisation.c.id, _organisation.c.name, _organisation.c.slurm_account)
    ).all()
    taken = {row.slurm_account for row in rows if row.slurm_account}
    for row in sorted(rows, key=lambda r: r.id):
        if row.slurm_account:
            continue
        name = _name(row.name)
        while name in taken:
            name = _name(row.name)
        taken.add(name)
        bind.execute(
            sa.update(_organisation).where(_organisation.c.id == row.id).values(slurm_account=name)
        )
    _set_nullable(nullable=False)


def downgrade() -> None:
    _set_nullable(nullable=True)


_NULLABLE = "slurm_account VARCHAR(64),"
_NOT_NULL = "slurm_account VARCHAR(64) NOT NULL,"


def _set_nullable(*, nullable: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.alter_column(
            "organisation", "slurm_account", existing_type=sa.String(length=64), nullable=nullable
        )
        return
    select_sql = "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'organisation'"
    sql = bind.exec_driver_sql(select_sql).scalar_one()
    before, after = (_NOT_NULL, _NULLABLE) if nullable else (_NULLABLE, _NOT_NULL)
    if sql.count(before) != 1:
        raise RuntimeError(f"organisation's declaration is not the expected one: {sql}")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'organisation'",
        (sql.replace(before, after),),
    )
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    problems = bind.exec_driver_sql("PRAGMA integrity_check").scalars().all()
    if problems != ["ok"]:
        raise RuntimeError(f"integrity check after editing organisation: {problems}")
