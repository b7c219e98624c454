"""format versions, linking keys and the insurer-share ledger

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("received_files") as batch:
        # the format and version a file was read as ("ROGDZP 4.0.1", "РСВ 5.06"), or the one it
        # named when that version is not supported
        batch.add_column(sa.Column("format", sa.String(length=40), nullable=True))
    with op.batch_alter_table("received_records") as batch:
        # which keys linked the record's people to the register: {"mother": ["name", ...]}
        batch.add_column(sa.Column("links", sa.JSON(), nullable=True))
        # ROGDZP 4.0.0 has no НомерВерс: its version is the date of the record's latest change
        batch.alter_column("version", type_=sa.String(length=20), existing_nullable=True)
    with op.batch_alter_table("person_keys") as batch:
        batch.alter_column("version", type_=sa.String(length=20), existing_nullable=True)
    with op.batch_alter_table("insurers") as batch:
        # the fund's assignments by share: how many each insurer got, and how far that lags its
        # quota (share × assignments so far), in 10^-12 persons: exact integers, the same on
        # every backend, and within ±10^12 while the shares hold
        batch.add_column(sa.Column("share_count", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("share_deficit", sa.BigInteger(), nullable=False, server_default="0")
        )
    _count_past_share_assignments()
    _recompute_name_keys()


def _count_past_share_assignments() -> None:
    """The ledger starts from the assignments already made by share; the quota starts level."""
    bind = op.get_bind()
    assignments = sa.table(
        "insurer_assignments", sa.column("insurer_code", sa.String), sa.column("basis", sa.String)
    )
    insurers = sa.table(
        "insurers", sa.column("code", sa.String), sa.column("share_count", sa.Integer)
    )
    counts = bind.execute(
        sa.select(assignments.c.insurer_code, sa.func.count())
        .where(assignments.c.basis == "fund_share")
        .group_by(assignments.c.insurer_code)
    ).all()
    for code, count in counts:
        bind.execute(insurers.update().where(insurers.c.code == code).values(share_count=count))


def _recompute_name_keys() -> None:
    """Names are compared with hyphens, dashes and Latin look-alikes normalised now."""
    from pipelines.enrol.register_ops import name_key

    bind = op.get_bind()
    persons = sa.table(
        "persons",
        sa.column("id", sa.Integer),
        sa.column("last_name", sa.String),
        sa.column("first_name", sa.String),
        sa.column("middle_name", sa.String),
        sa.column("birth_date", sa.Date),
        sa.column("name_key", sa.String),
    )
    rows = bind.execute(
        sa.select(
            persons.c.id,
            persons.c.last_name,
            persons.c.first_name,
            persons.c.middle_name,
            persons.c.birth_date,
            persons.c.name_key,
        )
    ).all()
    for row in rows:
        key = name_key(row.last_name, row.first_name, row.middle_name, row.birth_date)
        if key != row.name_key:
            bind.execute(persons.update().where(persons.c.id == row.id).values(name_key=key))


def downgrade() -> None:
    with op.batch_alter_table("insurers") as batch:
        batch.drop_column("share_deficit")
        batch.drop_column("share_count")
    with op.batch_alter_table("person_keys") as batch:
        batch.alter_column("version", type_=sa.String(length=8), existing_nullable=True)
    with op.batch_alter_table("received_records") as batch:
        batch.alter_column("version", type_=sa.String(length=8), existing_nullable=True)
        batch.drop_column("links")
    with op.batch_alter_table("received_files") as batch:
        batch.drop_column("format")
