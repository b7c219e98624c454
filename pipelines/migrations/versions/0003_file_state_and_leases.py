"""a file is a unit of work with a durable state; runs hold leases

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("owner", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("file_contents") as batch:
        # False for a file refused before hashing (too large): its key is not its SHA-256
        batch.add_column(
            sa.Column("hashed", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    if op.get_bind().dialect.name == "postgresql":  # SQLite's INTEGER is 64-bit already
        # a file over 2 GiB is journalled too (and refused): its size needs 64 bits
        op.alter_column("file_contents", "size", type_=sa.BigInteger(), existing_nullable=False)
    with op.batch_alter_table("received_files") as batch:
        batch.add_column(
            sa.Column("state", sa.String(length=20), nullable=False, server_default="received")
        )
        batch.add_column(sa.Column("owner_run_id", sa.String(length=120), nullable=True))
        batch.add_column(sa.Column("records_seen", sa.Integer(), nullable=True))
        # who sent it, as far as the file says (an РСВ payer's ИНН/КПП): files of one sender
        # are applied in order, files of different senders may run side by side
        batch.add_column(sa.Column("sender", sa.String(length=40), nullable=True))
        batch.create_index("ix_received_files_state", ["state"])
    # files processed before states existed were applied and their receipts written
    op.execute("UPDATE received_files SET state = 'emitted' WHERE status <> 'received'")


def downgrade() -> None:
    with op.batch_alter_table("received_files") as batch:
        batch.drop_index("ix_received_files_state")
        batch.drop_column("sender")
        batch.drop_column("records_seen")
        batch.drop_column("owner_run_id")
        batch.drop_column("state")
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("file_contents", "size", type_=sa.Integer(), existing_nullable=False)
    with op.batch_alter_table("file_contents") as batch:
        batch.drop_column("hashed")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("owner")
