"""contribution ledger

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contribution_reports",
        sa.Column("payer_inn", sa.String(length=12), nullable=False),
        sa.Column("payer_kpp", sa.String(length=9), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.Integer(), nullable=False),
        sa.Column("correction_no", sa.Integer(), nullable=False),
        sa.Column("period_code", sa.String(length=2), nullable=False),
        sa.Column("document_date", sa.Date(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["received_files.id"],
            name=op.f("fk_contribution_reports_file_id_received_files"),
        ),
        sa.PrimaryKeyConstraint(
            "payer_inn", "payer_kpp", "year", "quarter", name=op.f("pk_contribution_reports")
        ),
    )
    op.create_table(
        "foreign_eligibility",
        sa.Column("snils", sa.String(length=11), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("months", sa.JSON(), nullable=False),
        sa.Column("months_count", sa.Integer(), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("evaluated_on", sa.Date(), nullable=False),
        sa.Column("run_id", sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_foreign_eligibility_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_foreign_eligibility_run_id_runs")
        ),
        sa.PrimaryKeyConstraint("snils", name=op.f("pk_foreign_eligibility")),
    )
    op.create_table(
        "contribution_ledger",
        sa.Column("payer_inn", sa.String(length=12), nullable=False),
        sa.Column("payer_kpp", sa.String(length=9), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.Integer(), nullable=False),
        sa.Column("snils", sa.String(length=11), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("insured_category", sa.String(length=8), nullable=False),
        sa.Column("amount", sa.Numeric(precision=17, scale=2), nullable=False),
        sa.Column("base", sa.Numeric(precision=17, scale=2), nullable=True),
        sa.Column("contributions", sa.Numeric(precision=17, scale=2), nullable=True),
        sa.Column("counts_for_foreign", sa.Boolean(), nullable=False),
        sa.Column("correction_no", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["received_records.id"],
            name=op.f("fk_contribution_ledger_record_id_received_records"),
        ),
        sa.PrimaryKeyConstraint(
            "payer_inn",
            "payer_kpp",
            "year",
            "quarter",
            "snils",
            "month",
            name=op.f("pk_contribution_ledger"),
        ),
    )
    with op.batch_alter_table("contribution_ledger", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contribution_ledger_counts_for_foreign"),
            ["counts_for_foreign"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_contribution_ledger_snils"), ["snils"], unique=False)

    op.create_table(
        "reported_persons",
        sa.Column("snils", sa.String(length=11), nullable=False),
        sa.Column("inn", sa.String(length=12), nullable=True),
        sa.Column("last_name", sa.String(length=200), nullable=True),
        sa.Column("first_name", sa.String(length=200), nullable=True),
        sa.Column("middle_name", sa.String(length=200), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("citizenship", sa.String(length=3), nullable=True),
        sa.Column("sex", sa.Integer(), nullable=True),
        sa.Column("document_kind", sa.String(length=4), nullable=True),
        sa.Column("document_number", sa.String(length=40), nullable=True),
        sa.Column("payer_inn", sa.String(length=12), nullable=False),
        sa.Column("payer_kpp", sa.String(length=9), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["received_records.id"],
            name=op.f("fk_reported_persons_record_id_received_records"),
        ),
        sa.PrimaryKeyConstraint("snils", name=op.f("pk_reported_persons")),
    )
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.add_column(sa.Column("employment_as_of", sa.Date(), nullable=True))
    with op.batch_alter_table("received_files", schema=None) as batch_op:
        batch_op.add_column(sa.Column("correction_no", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("received_files", schema=None) as batch_op:
        batch_op.drop_column("correction_no")
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.drop_column("employment_as_of")

    op.drop_table("reported_persons")
    with op.batch_alter_table("contribution_ledger", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contribution_ledger_snils"))
        batch_op.drop_index(batch_op.f("ix_contribution_ledger_counts_for_foreign"))

    op.drop_table("contribution_ledger")
    op.drop_table("foreign_eligibility")
    op.drop_table("contribution_reports")
