"""Indexes for the audit page's filters: entries of one event code, or of one actor,
in sequence order.

Without them a filtered page or export read the whole trail; a bank's trail grows by
every login, key and session for years.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_audit_entries_event_type_sequence", "audit_entries", ["event_type", "sequence"]
    )
    op.create_index("ix_audit_entries_actor_sequence", "audit_entries", ["actor", "sequence"])


def downgrade() -> None:
    op.drop_index("ix_audit_entries_actor_sequence", table_name="audit_entries")
    op.drop_index("ix_audit_entries_event_type_sequence", table_name="audit_entries")
