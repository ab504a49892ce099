"""Agents, login sessions, failure counters, the audit trail, support sessions,
request assignment and notes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(80), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("totp_secret", sa.String(64), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("password_changed_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agents")),
        sa.UniqueConstraint("username", name=op.f("uq_agents_username")),
    )
    op.create_table(
        "login_sessions",
        sa.Column("id_digest", sa.String(64), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("second_factor_done", sa.Boolean(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("last_seen_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_login_sessions_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id_digest", name=op.f("pk_login_sessions")),
    )
    op.create_index(op.f("ix_login_sessions_agent_id"), "login_sessions", ["agent_id"])
    op.create_table(
        "failure_counters",
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_failure_counters")),
    )
    op.create_table(
        "audit_entries",
        sa.Column("sequence", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("timestamp", sa.String(40), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("sequence", name=op.f("pk_audit_entries")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_entries_hash")),
    )
    op.create_index(op.f("ix_audit_entries_timestamp"), "audit_entries", ["timestamp"])
    op.create_index(op.f("ix_audit_entries_subject"), "audit_entries", ["subject"])
    op.create_table(
        "support_sessions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("consultation_number", sa.String(32), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("verification_code", sa.String(16), nullable=False),
        sa.Column("key_digest", sa.String(64), nullable=False),
        sa.Column("key_prefix_digest", sa.String(64), nullable=False),
        sa.Column("key_wrong_tries", sa.Integer(), nullable=False),
        sa.Column("key_void_after", sa.Integer(), nullable=False),
        sa.Column("issued_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("redeemed_at", TZ, nullable=True),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("capabilities", sa.String(128), nullable=False),
        sa.Column("customer_pseudonym", sa.String(64), nullable=True),
        sa.Column("join_token_digest", sa.String(64), nullable=True),
        sa.Column("join_token_expires_at", TZ, nullable=True),
        sa.Column("started_at", TZ, nullable=True),
        sa.Column("ended_at", TZ, nullable=True),
        sa.Column("end_reason", sa.String(16), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_support_sessions_agent_id_agents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_sessions")),
        sa.UniqueConstraint(
            "consultation_number", name=op.f("uq_support_sessions_consultation_number")
        ),
        sa.UniqueConstraint("key_digest", name=op.f("uq_support_sessions_key_digest")),
        sa.UniqueConstraint(
            "join_token_digest", name=op.f("uq_support_sessions_join_token_digest")
        ),
    )
    op.create_index(op.f("ix_support_sessions_agent_id"), "support_sessions", ["agent_id"])
    op.create_index(
        op.f("ix_support_sessions_key_prefix_digest"), "support_sessions", ["key_prefix_digest"]
    )
    op.create_index(op.f("ix_support_sessions_state"), "support_sessions", ["state"])
    op.create_table(
        "service_request_notes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["service_requests.id"],
            name=op.f("fk_service_request_notes_request_id_service_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_service_request_notes_agent_id_agents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_request_notes")),
    )
    op.create_index(
        op.f("ix_service_request_notes_request_id"), "service_request_notes", ["request_id"]
    )
    with op.batch_alter_table("service_requests") as batch:
        batch.add_column(sa.Column("assigned_agent_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_service_requests_assigned_agent_id_agents"),
            "agents",
            ["assigned_agent_id"],
            ["id"],
        )
        batch.create_index(op.f("ix_service_requests_assigned_agent_id"), ["assigned_agent_id"])


def downgrade() -> None:
    with op.batch_alter_table("service_requests") as batch:
        batch.drop_index(op.f("ix_service_requests_assigned_agent_id"))
        batch.drop_constraint(
            op.f("fk_service_requests_assigned_agent_id_agents"), type_="foreignkey"
        )
        batch.drop_column("assigned_agent_id")
    op.drop_table("service_request_notes")
    op.drop_table("support_sessions")
    op.drop_table("audit_entries")
    op.drop_table("failure_counters")
    op.drop_table("login_sessions")
    op.drop_table("agents")
