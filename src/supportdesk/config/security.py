"""Sign-in, keys and sessions: ``[security]``, ``[audit]``, ``[session]``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, field_validator, model_validator

from .section import Section


class SecurityConfig(Section):
    # Hex-encoded server secret (≥ 32 bytes). Empty: read or create secret_key_file
    # (default <key_dir>/secret.key). Every node of a cluster needs the same secret.
    secret_key: str = ""
    secret_key_file: Path | None = None
    login_idle_minutes: int = Field(15, ge=1, le=240)
    login_absolute_hours: int = Field(8, ge=1, le=24)
    # TOTP is required for every role, agents included. Setting this lets accounts of
    # the agent role sign in with a password alone (an agent who enrolled TOTP still
    # needs it): start-up logs a warning and writes it to the audit trail.
    agents_without_totp: bool = False
    support_key_minutes: int = Field(10, ge=1, le=60)
    join_token_minutes: int = Field(5, ge=1, le=30)
    # A live remote-support session ends by itself after this long.
    session_max_minutes: int = Field(120, ge=5, le=600)
    # Answers to a support-key redemption take at least this long, whatever the
    # outcome, so timing tells nothing about the key.
    redemption_answer_ms: int = Field(250, ge=0, le=5000)
    # An agent's open sockets close at once on logout, disabling, password reset and
    # role change (told over the bus to every node); as a backstop each node also looks
    # at the store this often, which catches changes made where no bus reaches (the
    # command line on a single node) and logins that ran out.
    socket_check_seconds: float = Field(1.0, ge=0.1, le=60)
    # Password hashes (Argon2id, ~64 MiB each) run in this many threads beside the
    # event loop; at most password_hash_queue more logins wait, further ones are
    # answered "busy, try again" (503) at once.
    password_hash_workers: int = Field(2, ge=1, le=64)
    password_hash_queue: int = Field(16, ge=0, le=1000)

    @model_validator(mode="before")
    @classmethod
    def _old_totp_switch(cls, values: Any) -> Any:
        if isinstance(values, dict) and "agent_totp_required" in values:
            if str(values["agent_totp_required"]).lower() in ("false", "0", "no", ""):
                raise ValueError(
                    "agent_totp_required was removed: TOTP is now required for agents"
                    " too. To let agents sign in without it (not recommended), set"
                    " agents_without_totp = true"
                )
            values = {k: v for k, v in values.items() if k != "agent_totp_required"}
        return values

    @field_validator("secret_key")
    @classmethod
    def _hex_secret(cls, value: str) -> str:
        if value:
            try:
                raw = bytes.fromhex(value)
            except ValueError:
                raise ValueError("must be hex-encoded") from None
            if len(raw) < 32:
                raise ValueError("must be at least 32 bytes (64 hex digits)")
        return value


class AuditConfig(Section):
    # Key redemptions refused before any key is looked at (throttled, rate-limited)
    # are counted per window of this many seconds: a client's first refusal of a
    # window is an entry at once, the rest of the window one entry with the count.
    refusal_window_seconds: int = Field(60, ge=1, le=3600)
    # Clients counted one by one per window; the refusals of any more are counted
    # together (actor "client:*"), so an attacker changing addresses cannot make the
    # trail grow by one entry per attempt.
    refusal_window_clients: int = Field(1000, ge=1, le=100_000)
    # Entries per page of the console's audit trail (/console/audit).
    page_size: int = Field(100, ge=10, le=1000)


class SessionConfig(Section):
    # A live session whose customer link dropped waits this long for it to come back
    # before it ends with reason connection_lost.
    reconnect_grace_seconds: float = Field(120, ge=1, le=3600)
    # After a gap longer than this the customer is asked for consent again before
    # anything is captured.
    reconsent_after_seconds: float = Field(30, ge=0, le=3600)
    # Silence on a customer link (no heartbeat, nothing) after which it counts as lost.
    link_timeout_seconds: float = Field(4, ge=1, le=60)
