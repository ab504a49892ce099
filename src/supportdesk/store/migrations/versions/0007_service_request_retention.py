"""Service-request retention: when a request was closed, and when its personal data
was erased.

``closed_at`` is set when a request's status becomes "done" and cleared when it is
reopened; requests already done get their last change as closing time. ``purged_at``
marks a request whose contact detail, description and notes were erased.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("service_requests") as batch:
        batch.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_service_requests_closed_at", ["closed_at"])
    op.execute("UPDATE service_requests SET closed_at = updated_at WHERE status = 'done'")


def downgrade() -> None:
    with op.batch_alter_table("service_requests") as batch:
        batch.drop_index("ix_service_requests_closed_at")
        batch.drop_column("purged_at")
        batch.drop_column("closed_at")
