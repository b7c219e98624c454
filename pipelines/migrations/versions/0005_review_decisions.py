"""review decisions: analysts' resolutions of held records

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-09
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # who decided what about a held record, when and why; an acceptance may wait for a second
    # analyst, and what is applied is applied in a run of its own
    op.create_table(
        "review_decisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=30), nullable=False),
        sa.Column("codes", sa.JSON(), nullable=False),
        sa.Column("decided_by", sa.String(length=120), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("confirmed_by", sa.String(length=120), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("run_id", sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["received_records.id"],
            name=op.f("fk_review_decisions_record_id_received_records"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_review_decisions_run_id_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_decisions")),
    )
    with op.batch_alter_table("review_decisions") as batch:
        batch.create_index(batch.f("ix_review_decisions_record_id"), ["record_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("review_decisions") as batch:
        batch.drop_index(batch.f("ix_review_decisions_record_id"))
    op.drop_table("review_decisions")
