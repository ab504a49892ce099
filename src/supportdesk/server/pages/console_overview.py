"""The numbers on the console's start page for the roles that run no sessions: how many
agents (and how many locked), audit entries and kept recordings, each only for a role
whose work it is."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.domain.agent_accounts import Permission
from supportdesk.server.agents.auth import SignedIn
from supportdesk.store.models import AgentRow, AuditEntryRow, RecordingRow


@dataclass(frozen=True)
class OverviewCounts:
    """None where the role has no business with the number."""

    agents: int | None = None
    locked_agents: int | None = None
    audit_entries: int | None = None
    recordings: int | None = None


async def overview_counts(db: AsyncSession, signed_in: SignedIn) -> OverviewCounts:
    agents = locked = entries = recordings = None
    if signed_in.may(Permission.MANAGE_AGENTS):
        agents = await db.scalar(select(func.count()).select_from(AgentRow)) or 0
        locked = await db.scalar(select(func.count()).where(AgentRow.disabled)) or 0
    if signed_in.may(Permission.READ_AUDIT):
        # The sequence numbers run from 1 without gaps: the newest is the count, read
        # from the index instead of counting a long chain.
        entries = await db.scalar(select(func.max(AuditEntryRow.sequence))) or 0
    if signed_in.may(Permission.READ_AUDIT) or signed_in.may(Permission.PLAY_RECORDINGS):
        recordings = (
            await db.scalar(
                select(func.count(func.distinct(RecordingRow.consultation_number))).where(
                    RecordingRow.purged_at.is_(None)
                )
            )
            or 0
        )
    return OverviewCounts(agents, locked, entries, recordings)
