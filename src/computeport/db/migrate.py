"""Alembic driven from code: ``computeport db upgrade`` and the tests both call :func:`upgrade`.

The migration scripts ship inside the package, so an installed computeport can migrate its
database without a checkout or an ini file.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the schema to ``revision`` in one transaction per migration.

    ``heads`` rather than ``head``: work developed side by side may add migrations on parallel
    branches before a merge revision joins them; every head is applied either way.
    """
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    """The applied revision (several, comma-separated, while branches are unmerged)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    return ",".join(sorted(heads)) if heads else None


def script_heads(engine: Engine) -> set[str]:
    """The head revisions of the migration scripts this version of computeport ships."""
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())


def schema_lag(engine: Engine) -> str | None:
    """Why the database is *behind* this version's migrations, or ``None`` when it is not.

    A database at the scripts' head is current.  One at a revision these scripts do not know
    is *ahead*: a newer version migrated it first, which the upgrade order allows (migrate,
    then restart the API processes one by one; expand-then-contract keeps the schema readable
    by the previous version), so it is not a lag either.  Only a database at an older known
    revision (or none) lacks tables or columns this code uses.
    """
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(engine))
    heads = set(script.get_heads())
    applied = set((current_revision(engine) or "").split(",")) - {""}
    if applied == heads:
        return None
    known = {rev.revision for rev in script.walk_revisions()}
    if applied and not applied <= known:
        return None  # ahead: migrated by a newer version
    at = ",".join(sorted(applied)) or "an empty schema"
    need = ",".join(sorted(heads))
    return f"database at {at}, this version needs {need}: run `computeport db upgrade`"
