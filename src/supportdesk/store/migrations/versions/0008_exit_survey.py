"""The exit survey and the reports: answers, the survey token, capabilities used.

``survey_answers``: one customer answer per session (stars, solved, comment), keyed
by consultation number. ``support_sessions.survey_token_digest`` / ``_expires_at``:
the one-time token the relay hands out at the end of a session that ran.
``support_sessions.capabilities_used``: every capability granted during the session
(``capabilities`` is emptied at the end), for the supervisors' reports; sessions
before this migration have none recorded.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("support_sessions") as batch:
        batch.add_column(
            sa.Column("capabilities_used", sa.String(128), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("survey_token_digest", sa.String(64), nullable=True))
        batch.add_column(
            sa.Column("survey_token_expires_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch.create_unique_constraint(
            "uq_support_sessions_survey_token_digest", ["survey_token_digest"]
        )
    op.create_table(
        "survey_answers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("consultation_number", sa.String(32), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=True),
        sa.Column("solved", sa.String(8), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("comment_purged_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["consultation_number"],
            ["support_sessions.consultation_number"],
            name="fk_survey_answers_consultation_number_support_sessions",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_survey_answers"),
        sa.UniqueConstraint("consultation_number", name="uq_survey_answers_consultation_number"),
    )
    op.create_index("ix_survey_answers_answered_at", "survey_answers", ["answered_at"])


def downgrade() -> None:
    op.drop_index("ix_survey_answers_answered_at", table_name="survey_answers")
    op.drop_table("survey_answers")
    with op.batch_alter_table("support_sessions") as batch:
        batch.drop_constraint("uq_support_sessions_survey_token_digest", type_="unique")
        batch.drop_column("survey_token_expires_at")
        batch.drop_column("survey_token_digest")
        batch.drop_column("capabilities_used")
