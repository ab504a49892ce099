"""Table definitions. Every change here comes with an Alembic migration."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Counter(Base):
    """Named running numbers, such as the yearly sequence of reference numbers."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, nullable=False)


class ServiceRequestRow(Base):
    """A service request from the portal. The contact detail is kept because the
    request cannot be answered without it, and only until the retention period after
    closing is over; then it, the description and the notes are erased (``purged_at``)."""

    __tablename__ = "service_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True, nullable=False)
    topic: Mapped[str] = mapped_column(String(64), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    contact_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    contact_value: Mapped[str] = mapped_column(String(254), nullable=False)
    status: Mapped[str] = mapped_column(String(32), nullable=False, default="new")
    secret_digest: Mapped[str] = mapped_column(String(128), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    assigned_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id"), nullable=True, index=True
    )
    # When it was last closed (status "done"); None while open.
    closed_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True, index=True
    )
    purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AgentRow(Base):
    """A bank employee's personal account."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(String(80), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    totp_secret: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The last TOTP time step a login used: a code is taken only for a later step.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    disabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    password_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class LoginSessionRow(Base):
    """A signed-in browser. Only a digest of the cookie's id is stored."""

    __tablename__ = "login_sessions"

    id_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), nullable=False, index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64), nullable=False)
    second_factor_done: Mapped[bool] = mapped_column(Boolean, nullable=False)
    # While the agent enrols TOTP: the secret the enrolment page shows, kept here (not
    # in a cookie the browser could change) until the first code confirms it.
    totp_pending_secret: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class FailureCounterRow(Base):
    """Failed attempts per throttled key (an account, a pseudonymised address)."""

    __tablename__ = "failure_counters"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, nullable=False)
    last_failure_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class AuditEntryRow(Base):
    """One link of the hash-chained audit trail. Rows are only ever inserted."""

    __tablename__ = "audit_entries"
    # The audit page and its exports filter by event code or actor and read the
    # newest (or, exporting, the oldest) entries first: these serve both directions
    # without scanning a year's trail.
    __table_args__ = (
        Index("ix_audit_entries_event_type_sequence", "event_type", "sequence"),
        Index("ix_audit_entries_actor_sequence", "actor", "sequence"),
    )

    sequence: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    timestamp: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    event_type: Mapped[str] = mapped_column(String(64), nullable=False)
    actor: Mapped[str] = mapped_column(String(128), nullable=False)
    subject: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    data: Mapped[str] = mapped_column(Text, nullable=False)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)


class SupportSessionRow(Base):
    """What is kept of a remote-support session: never the customer's name."""

    __tablename__ = "support_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    consultation_number: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), nullable=False, index=True)
    verification_code: Mapped[str] = mapped_column(String(16), nullable=False)
    key_digest: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    key_prefix_digest: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    key_wrong_tries: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    key_void_after: Mapped[int] = mapped_column(Integer, nullable=False)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    redeemed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    state: Mapped[str] = mapped_column(String(24), nullable=False, index=True)
    capabilities: Mapped[str] = mapped_column(String(128), nullable=False, default="")
    customer_pseudonym: Mapped[str | None] = mapped_column(String(64), nullable=True)
    join_token_digest: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    join_token_expires_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # While the session is not over: its snapshot (domain/session_snapshot.py), bumped
    # version on every change, and the customer's name sealed with the server key.
    live_state: Mapped[str | None] = mapped_column(Text, nullable=True)
    live_version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    customer_name_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Every capability granted at any time of the session (``capabilities`` is what is
    # granted now and empty once it is over): what the reports count as used.
    capabilities_used: Mapped[str] = mapped_column(
        String(128), nullable=False, default="", server_default=""
    )
    # The exit survey's one-time token, handed out at the end of a session that ran.
    survey_token_digest: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    survey_token_expires_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )


class ServiceRequestNoteRow(Base):
    """An agent's internal note on a service request; never shown to the customer."""

    __tablename__ = "service_request_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("service_requests.id", ondelete="CASCADE"), nullable=False, index=True
    )
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class RecordingRow(Base):
    """A session recording on disk: where it is, its audited final hash, hold and purge."""

    __tablename__ = "recordings"
    __table_args__ = (
        UniqueConstraint(
            "consultation_number", "segment", name="uq_recordings_consultation_number_segment"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    consultation_number: Mapped[str] = mapped_column(String(32), nullable=False)
    segment: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")
    """1, 2, ...: a session whose server died continues in a new file (segment)."""
    previous_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The final hash of the previous segment, which this segment's file header carries."""
    interrupted: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    """Ended by a takeover: its writer died; ``final_hash`` is its last good chunk's."""
    file_name: Mapped[str] = mapped_column(String(255), nullable=False)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    final_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    legal_hold: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


class SurveyAnswerRow(Base):
    """A customer's exit-survey answer: with the consultation number, never a name. One
    per session (unique). The comment is erased with the service-request retention."""

    __tablename__ = "survey_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    consultation_number: Mapped[str] = mapped_column(
        ForeignKey("support_sessions.consultation_number"), unique=True, nullable=False
    )
    stars: Mapped[int | None] = mapped_column(Integer, nullable=True)
    solved: Mapped[str | None] = mapped_column(String(8), nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    answered_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, index=True
    )
    comment_purged_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
