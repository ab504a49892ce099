"""Recording segments: a session's recording may continue in further files.

A session whose server node died is taken over by another node, whose recording
continues in segment 2, 3, ... chained to the one before (docs/recording-format.md).
Existing rows become segment 1.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("recordings") as batch:
        batch.add_column(sa.Column("segment", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("previous_hash", sa.String(64), nullable=True))
        batch.add_column(
            sa.Column("interrupted", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.drop_constraint("uq_recordings_consultation_number", type_="unique")
        batch.create_unique_constraint(
            "uq_recordings_consultation_number_segment", ["consultation_number", "segment"]
        )


def downgrade() -> None:
    op.execute("DELETE FROM recordings WHERE segment > 1")
    with op.batch_alter_table("recordings") as batch:
        batch.drop_constraint("uq_recordings_consultation_number_segment", type_="unique")
        batch.create_unique_constraint("uq_recordings_consultation_number", ["consultation_number"])
        batch.drop_column("interrupted")
        batch.drop_column("previous_hash")
        batch.drop_column("segment")
