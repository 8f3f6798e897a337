"""The committed migrations build exactly the schema the models describe."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import SQLModel

from ai_chat.store import migrations
from tests.conftest import sync_url


def test_models_match_migration_head(db_url):
    diff = migrations.drift(sync_url(db_url))
    assert diff == [], f"models and migrations differ; run `reflex db makemigrations`: {diff}"


def test_drift_is_detected(sqlite_url):
    """The check above can fail: a model change without a migration shows up."""
    migrations.upgrade(sqlite_url)
    extra = sa.Table(
        "not_migrated", SQLModel.metadata, sa.Column("id", sa.Integer, primary_key=True)
    )
    try:
        assert migrations.drift(sqlite_url), "an unmigrated table must be reported"
    finally:
        SQLModel.metadata.remove(extra)


def test_upgrade_is_idempotent(sqlite_url):
    migrations.upgrade(sqlite_url)
    migrations.upgrade(sqlite_url)
    engine = sa.create_engine(sqlite_url)
    with engine.connect() as conn:
        version = conn.execute(sa.text("select version_num from alembic_version")).scalar()
    engine.dispose()
    from alembic.script import ScriptDirectory

    assert version == ScriptDirectory.from_config(migrations.alembic_config()).get_current_head()
    assert version != "0001_initial"  # later migrations applied too
