"""register and intake journal

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "enp_counters",
        sa.Column("region", sa.String(length=2), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("issued", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("region", "birth_date", name=op.f("pk_enp_counters")),
    )
    op.create_table(
        "file_contents",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("archive_path", sa.String(length=500), nullable=False),
        sa.Column("first_file_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_file_contents")),
    )
    op.create_table(
        "insurers",
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("share", sa.Numeric(precision=9, scale=6), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_insurers")),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.String(length=120), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("totals", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
    )
    op.create_table(
        "persons",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("snils", sa.String(length=11), nullable=True),
        sa.Column("last_name", sa.String(length=200), nullable=True),
        sa.Column("first_name", sa.String(length=200), nullable=True),
        sa.Column("middle_name", sa.String(length=200), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("sex", sa.Integer(), nullable=True),
        sa.Column("citizenship", sa.String(length=3), nullable=True),
        sa.Column("birth_place", sa.Text(), nullable=True),
        sa.Column("residence", sa.Text(), nullable=True),
        sa.Column("working", sa.Boolean(), nullable=True),
        sa.Column("employer_inn", sa.String(length=12), nullable=True),
        sa.Column("employer_kpp", sa.String(length=9), nullable=True),
        sa.Column("insurer_code", sa.String(length=20), nullable=True),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("included_on", sa.Date(), nullable=True),
        sa.Column("name_key", sa.String(length=400), nullable=True),
        sa.ForeignKeyConstraint(
            ["insurer_code"], ["insurers.code"], name=op.f("fk_persons_insurer_code_insurers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persons")),
        sa.UniqueConstraint("snils", name=op.f("uq_persons_snils")),
    )
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_persons_name_key"), ["name_key"], unique=False)

    op.create_table(
        "received_files",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=120), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("feed", sa.String(length=30), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("codes", sa.JSON(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("duplicate_of", sa.Integer(), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=True),
        sa.Column("receipt_name", sa.String(length=300), nullable=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["duplicate_of"],
            ["received_files.id"],
            name=op.f("fk_received_files_duplicate_of_received_files"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_received_files_run_id_runs")
        ),
        sa.ForeignKeyConstraint(
            ["sha256"],
            ["file_contents.sha256"],
            name=op.f("fk_received_files_sha256_file_contents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_received_files")),
    )
    with op.batch_alter_table("received_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_received_files_sha256"), ["sha256"], unique=False)

    op.create_table(
        "received_records",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("record_key", sa.String(length=64), nullable=True),
        sa.Column("version", sa.String(length=8), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("codes", sa.JSON(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("enp", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["received_files.id"],
            name=op.f("fk_received_records_file_id_received_files"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_received_records_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_received_records")),
        sa.UniqueConstraint("file_id", "seq", name=op.f("uq_received_records_file_id")),
    )
    with op.batch_alter_table("received_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_received_records_file_id"), ["file_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_received_records_record_key"), ["record_key"], unique=False
        )

    op.create_table(
        "identity_documents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("series", sa.String(length=20), nullable=True),
        sa.Column("number", sa.String(length=40), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_identity_documents_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["received_records.id"],
            name=op.f("fk_identity_documents_record_id_received_records"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_documents")),
    )
    with op.batch_alter_table("identity_documents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identity_documents_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "insurer_assignments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("insurer_code", sa.String(length=20), nullable=False),
        sa.Column("assigned_on", sa.Date(), nullable=False),
        sa.Column("basis", sa.String(length=30), nullable=False),
        sa.Column("run_id", sa.String(length=120), nullable=True),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["insurer_code"],
            ["insurers.code"],
            name=op.f("fk_insurer_assignments_insurer_code_insurers"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_insurer_assignments_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["received_records.id"],
            name=op.f("fk_insurer_assignments_record_id_received_records"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_insurer_assignments_run_id_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insurer_assignments")),
    )
    with op.batch_alter_table("insurer_assignments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_insurer_assignments_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=120), nullable=False),
        sa.Column("insurer_code", sa.String(length=20), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("enp", sa.String(length=16), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("basis", sa.String(length=30), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("notice_file", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["insurer_code"], ["insurers.code"], name=op.f("fk_notifications_insurer_code_insurers")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_notifications_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["received_records.id"],
            name=op.f("fk_notifications_record_id_received_records"),
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_notifications_run_id_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notifications_run_insurer", ["run_id", "insurer_code"], unique=False
        )

    op.create_table(
        "person_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(length=40), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("run_id", sa.String(length=120), nullable=True),
        sa.Column("file_id", sa.Integer(), nullable=True),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["received_files.id"],
            name=op.f("fk_person_history_file_id_received_files"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_person_history_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["received_records.id"],
            name=op.f("fk_person_history_record_id_received_records"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_person_history_run_id_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_history")),
        sa.UniqueConstraint("person_id", "version", name=op.f("uq_person_history_person_id")),
    )
    with op.batch_alter_table("person_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_person_history_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "person_keys",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.String(length=8), nullable=True),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_person_keys_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["received_records.id"],
            name=op.f("fk_person_keys_record_id_received_records"),
        ),
        sa.PrimaryKeyConstraint("kind", "value", name=op.f("pk_person_keys")),
    )
    with op.batch_alter_table("person_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_keys_person_id"), ["person_id"], unique=False)

    op.create_table(
        "policies",
        sa.Column("enp", sa.String(length=16), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("issued_run_id", sa.String(length=120), nullable=True),
        sa.Column("issued_record_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["issued_record_id"],
            ["received_records.id"],
            name=op.f("fk_policies_issued_record_id_received_records"),
        ),
        sa.ForeignKeyConstraint(
            ["issued_run_id"], ["runs.id"], name=op.f("fk_policies_issued_run_id_runs")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_policies_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("enp", name=op.f("pk_policies")),
    )
    with op.batch_alter_table("policies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_policies_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("policies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_policies_person_id"))

    op.drop_table("policies")
    with op.batch_alter_table("person_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_keys_person_id"))

    op.drop_table("person_keys")
    with op.batch_alter_table("person_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_history_person_id"))

    op.drop_table("person_history")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_run_insurer")

    op.drop_table("notifications")
    with op.batch_alter_table("insurer_assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_insurer_assignments_person_id"))

    op.drop_table("insurer_assignments")
    with op.batch_alter_table("identity_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_documents_person_id"))

    op.drop_table("identity_documents")
    with op.batch_alter_table("received_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_received_records_record_key"))
        batch_op.drop_index(batch_op.f("ix_received_records_file_id"))

    op.drop_table("received_records")
    with op.batch_alter_table("received_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_received_files_sha256"))

    op.drop_table("received_files")
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_persons_name_key"))

    op.drop_table("persons")
    op.drop_table("runs")
    op.drop_table("insurers")
    op.drop_table("file_contents")
    op.drop_table("enp_counters")
