"""TOTP without replay, enrolment secret on the server.

``agents.totp_last_step``: the last 30-second step a login's code was accepted for;
a code is taken only for a later step. ``login_sessions.totp_pending_secret``: the
secret the enrolment page shows, kept with the login until a code confirms it (it
was a cookie, which the browser controls).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("login_sessions") as batch:
        batch.add_column(sa.Column("totp_pending_secret", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("login_sessions") as batch:
        batch.drop_column("totp_pending_secret")
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("totp_last_step")
