"""Migration 0004 on a database with data: organisations get their own stored Slurm names.

The database is built at the previous head (0003) with two organisations created in the same
millisecond (the defect: both derived ``org_<same 12 hex>``), one with a member, then upgraded.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError
from tests.support.databases import drop_postgres_database, fresh_postgres_database, worker_suffix

from computeport.db.base import UtcDateTime
from computeport.db.engine import make_engine
from computeport.db.migrate import current_revision, downgrade, upgrade
from computeport.kit.ids import uuid7
from computeport.kit.slurm_names import SLURM_NAME_RE

PREVIOUS = "0003"
THIS = "0004_org_slurm_accounts"
WHEN = datetime(2026, 10, 1, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    url = (
        f"sqlite:///{tmp_path / 'migrate.sqlite3'}"
        if request.param == "sqlite"
        else fresh_postgres_database(f"cp_migrate_names_{worker_suffix()}")
    )
    made = make_engine(url)
    yield made
    made.dispose()
    if request.param != "sqlite":
        drop_postgres_database(url)


def _same_millisecond_ids() -> tuple[uuid.UUID, uuid.UUID]:
    """Two UUIDv7s whose first 12 hex digits (the millisecond) agree, as in one seed run."""
    first = uuid7()
    second = uuid.UUID(first.hex[:12] + uuid.uuid4().hex[12:])
    return first, second


_utc = UtcDateTime(timezone=True)
_organisation = sa.table(
    "organisation",
    sa.column("id", sa.Uuid()),
    sa.column("name", sa.String()),
    sa.column("category", sa.String()),
    sa.column("sector", sa.String()),
    sa.column("slurm_account", sa.String()),
    sa.column("is_assumption", sa.Boolean()),
    sa.column("created_at", _utc),
)
_user = sa.table(
    "app_user",
    sa.column("id", sa.Uuid()),
    sa.column("email", sa.String()),
    sa.column("display_name", sa.String()),
    sa.column("posix_username", sa.String()),
    sa.column("locale", sa.String()),
    sa.column("is_active", sa.Boolean()),
    sa.column("created_at", _utc),
)
_membership = sa.table(
    "membership",
    sa.column("id", sa.Uuid()),
    sa.column("user_id", sa.Uuid()),
    sa.column("organisation_id", sa.Uuid()),
    sa.column("role", sa.String()),
    sa.column("created_at", _utc),
)


def _insert_org(connection: Connection, org_id: uuid.UUID, name: str, account: str | None) -> None:
    connection.execute(
        sa.insert(_organisation).values(
            id=org_id, name=name, category="enterprise", sector="general",
            slurm_account=account, is_assumption=False, created_at=WHEN,
        )
    )  # fmt: skip


def _seed_previous_head(engine: Engine) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    upgrade(engine, PREVIOUS)
    a, b = _same_millisecond_ids()
    kept = uuid7()
    user = uuid7()
    with engine.begin() as c:
        _insert_org(c, a, "Harbourview Generative AI R&D Centre", None)
        _insert_org(c, b, "Jadesampan AI Limited", None)
        _insert_org(c, kept, "Already Named Ltd", "operator_chosen")
        c.execute(
            sa.insert(_user).values(
                id=user, email="m@example.org", display_name="M", posix_username="mem",
                locale="en", is_active=True, created_at=WHEN,
            )
        )  # fmt: skip
        c.execute(
            sa.insert(_membership).values(
                id=uuid7(), user_id=user, organisation_id=a, role="member", created_at=WHEN
            )
        )
    return a, b, kept


def _accounts(engine: Engine) -> dict[uuid.UUID, str | None]:
    with engine.connect() as c:
        rows = c.execute(sa.select(_organisation.c.id, _organisation.c.slurm_account)).all()
    return {r[0]: r[1] for r in rows}


def test_every_organisation_gets_its_own_stored_name(engine: Engine) -> None:
    a, b, kept = _seed_previous_head(engine)
    assert a.hex[:12] == b.hex[:12]  # the old rule would have given both one parent

    upgrade(engine, THIS)

    assert THIS in (current_revision(engine) or "")
    accounts = _accounts(engine)
    assert accounts[kept] == "operator_chosen"  # a stored name is never recomputed
    new = [accounts[a], accounts[b]]
    assert all(n is not None and SLURM_NAME_RE.match(n) for n in new)
    assert accounts[a] != accounts[b]
    assert str(accounts[a]).startswith("org_harbourview_generat")
    assert str(accounts[b]).startswith("org_jadesampan_ai_limite_")
    with engine.connect() as c:  # the table rebuild (SQLite) kept the organisation's members
        members = c.execute(
            sa.select(sa.func.count()).where(_membership.c.organisation_id == a)
        ).scalar_one()
    assert members == 1


def test_the_column_refuses_null_and_duplicates_after_it(engine: Engine) -> None:
    _seed_previous_head(engine)
    upgrade(engine, THIS)
    with pytest.raises(IntegrityError), engine.begin() as c:
        _insert_org(c, uuid7(), "Nameless Ltd", None)
    with pytest.raises(IntegrityError), engine.begin() as c:
        _insert_org(c, uuid7(), "Copycat Ltd", "operator_chosen")


def test_downgrade_keeps_the_names_and_allows_null_again(engine: Engine) -> None:
    a, _b, _kept = _seed_previous_head(engine)
    upgrade(engine, THIS)
    name = _accounts(engine)[a]
    downgrade(engine, PREVIOUS)
    assert _accounts(engine)[a] == name
    with engine.begin() as c:
        _insert_org(c, uuid7(), "Nameless Ltd", None)
