"""Agent accounts: roles, what each role may do, and the password rule."""

from __future__ import annotations

import re
import unicodedata
from enum import Enum

PASSWORD_MIN = 12
PASSWORD_MAX = 128
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


class Role(Enum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    ADMIN = "admin"


class Permission(Enum):
    RUN_SESSIONS = "run_sessions"
    HANDLE_REQUESTS = "handle_requests"
    SEE_ALL_LIVE_SESSIONS = "see_all_live_sessions"
    WATCH_SESSIONS = "watch_sessions"
    READ_AUDIT = "read_audit"
    # Watching recorded sessions: the auditor's alone (an admin reads the trail, not screens).
    PLAY_RECORDINGS = "play_recordings"
    MANAGE_AGENTS = "manage_agents"
    # The reports' counts (sessions, durations, outcomes, scores)...
    READ_REPORTS = "read_reports"
    # ...and the customers' survey comments, which are customer content: supervisors only.
    READ_SURVEY_COMMENTS = "read_survey_comments"


PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.AGENT: frozenset({Permission.RUN_SESSIONS, Permission.HANDLE_REQUESTS}),
    Role.SUPERVISOR: frozenset(
        {
            Permission.RUN_SESSIONS,
            Permission.HANDLE_REQUESTS,
            Permission.SEE_ALL_LIVE_SESSIONS,
            Permission.WATCH_SESSIONS,
            Permission.READ_REPORTS,
            Permission.READ_SURVEY_COMMENTS,
        }
    ),
    Role.AUDITOR: frozenset(
        {Permission.READ_AUDIT, Permission.PLAY_RECORDINGS, Permission.READ_REPORTS}
    ),
    Role.ADMIN: frozenset(
        {Permission.MANAGE_AGENTS, Permission.READ_AUDIT, Permission.READ_REPORTS}
    ),
}

# Every role sees a customer's PC (live or recorded) or changes who may: each proves
# a second factor. Only the agent role may be relaxed, by an explicit setting.
SECOND_FACTOR_ROLES = frozenset({Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN})
RELAXABLE_ROLES = frozenset({Role.AGENT})


class InvalidAccount(ValueError):
    """An account detail that breaks a rule; the message says which."""


def may(role: Role, permission: Permission) -> bool:
    return permission in PERMISSIONS[role]


def needs_second_factor(role: Role, agents_relaxed: bool = False) -> bool:
    """Whether the role must prove TOTP: always, unless it is the agent role and the
    deployment set ``security.agents_without_totp``."""
    return role in SECOND_FACTOR_ROLES or not (agents_relaxed and role in RELAXABLE_ROLES)


def check_password(password: str) -> str:
    """Length only (NIST SP 800-63B): no composition rules. Returns it NFC-normalised."""
    normalised = unicodedata.normalize("NFC", password)
    if len(normalised) < PASSWORD_MIN:
        raise InvalidAccount(f"the password needs at least {PASSWORD_MIN} characters")
    if len(normalised) > PASSWORD_MAX:
        raise InvalidAccount(f"the password may have at most {PASSWORD_MAX} characters")
    return normalised


def check_username(username: str) -> str:
    cleaned = username.strip().lower()
    if not USERNAME.match(cleaned):
        raise InvalidAccount(
            "a user name has 2–64 characters: lower-case letters, digits, '.', '_' or '-'"
        )
    return cleaned


def check_display_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not 2 <= len(cleaned) <= 80:
        raise InvalidAccount("a display name has 2–80 characters")
    return cleaned
