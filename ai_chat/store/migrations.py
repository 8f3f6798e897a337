"""Apply the committed Alembic migrations and detect model/migration drift."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, pool
from sqlmodel import SQLModel

from ai_chat.store import models  # noqa: F401 - registers the tables
from alembic import command

ROOT = Path(__file__).resolve().parents[2]


def alembic_config() -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.attributes["configure_logger"] = False
    return config


def upgrade(sync_url: str, revision: str = "head") -> None:
    engine = create_engine(sync_url, poolclass=pool.NullPool)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()


def drift(sync_url: str) -> list[Any]:
    """Differences between the models and a database at migration head (empty = in sync)."""
    engine = create_engine(sync_url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            found: list[Any] = compare_metadata(
                MigrationContext.configure(connection), SQLModel.metadata
            )
            return found
    finally:
        engine.dispose()
