"""Live session state in the database, so any node can serve a session and another
can take it over: the session's snapshot, its version, and the customer's name sealed
with the server key until the session ends.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("support_sessions") as table:
        table.add_column(sa.Column("live_state", sa.Text(), nullable=True))
        table.add_column(
            sa.Column("live_version", sa.Integer(), nullable=False, server_default="0")
        )
        table.add_column(sa.Column("customer_name_sealed", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("support_sessions") as table:
        table.drop_column("customer_name_sealed")
        table.drop_column("live_version")
        table.drop_column("live_state")
