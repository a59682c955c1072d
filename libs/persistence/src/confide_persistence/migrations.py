"""Per-service Alembic migrations: each service has its own script folder and its
own version table, and its ``MetaData`` a naming convention so constraints can be
dropped by name (as in Airflow's per-provider trees)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, pool

from confide_persistence.engine import normalise_url

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def make_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


def alembic_config(script_location: str | Path, url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def upgrade(script_location: str | Path, url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` with the scripts in ``script_location``."""
    command.upgrade(alembic_config(script_location, url), revision)


def run_env(target_metadata: MetaData, version_table: str) -> None:
    """Body of a service's ``migrations/env.py``."""
    from alembic import context
    from sqlalchemy import engine_from_config

    cfg = context.config
    if context.is_offline_mode():
        context.configure(
            url=cfg.get_main_option("sqlalchemy.url"),
            target_metadata=target_metadata,
            version_table=version_table,
            literal_binds=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    connectable = engine_from_config(
        cfg.get_section(cfg.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            version_table=version_table,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


def heads(script_location: str | Path) -> list[str]:
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    return list(ScriptDirectory.from_config(cfg).get_heads())


def differences(url: str, target_metadata: MetaData, version_table: str) -> list:
    """What Alembic's autogenerate would change to make the migrated database at
    ``url`` match ``target_metadata``; empty when models and migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    engine = create_engine(normalise_url(url), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "version_table": version_table}
            )
            diff = compare_metadata(context, target_metadata)
    finally:
        engine.dispose()
    return [d for d in diff if not _is_version_table(d, version_table)]


def _is_version_table(diff, version_table: str) -> bool:
    return isinstance(diff, tuple) and diff[0] == "remove_table" and diff[1].name == version_table
