"""The migrations build exactly the tables the models describe, on the backend under test."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from pipelines.register import db
from pipelines.register.models import Base


def test_migrations_match_the_models(settings):
    with db.engine(settings).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_is_idempotent(settings):
    db.upgrade(settings)
    db.upgrade(settings)
    with db.engine(settings).connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == "0005"
