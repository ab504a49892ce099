"""Finds the relay of a live session, or creates it; forgets it when the session ends."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from supportdesk.domain.support_session import EndReason, SupportSession
from supportdesk.server.recordings.session_recording import RecordingPlace
from supportdesk.server.relay.session_relay import SessionInfo, SessionRelay
from supportdesk.server.remote_support import RemoteSupport


class RelayHub:
    """Finds or creates the relay of a live session; forgets it when it ends."""

    def __init__(
        self,
        remote: RemoteSupport,
        info_for: Callable[[SupportSession], Awaitable[SessionInfo]],
        clock: Callable[[], datetime],
        recordings: RecordingPlace,
    ) -> None:
        self.remote = remote
        self.info_for = info_for
        self.clock = clock
        self.recordings = recordings
        self.relays: dict[str, SessionRelay] = {}
        remote.listeners.append(self._changed)

    async def relay_for(self, session: SupportSession) -> SessionRelay:
        number = str(session.consultation_number)
        relay = self.relays.get(number)
        if relay is None:
            info = await self.info_for(session)
            relay = SessionRelay(self.remote, session, info, self.clock, recordings=self.recordings)
            self.relays[number] = relay
        return relay

    async def end_all(self, reason: EndReason) -> None:
        """End every session this process relays (it is stopping)."""
        for relay in list(self.relays.values()):
            await relay.end(reason)

    def get(self, number: str) -> SessionRelay | None:
        return self.relays.get(number)

    async def _changed(self, session: SupportSession) -> None:
        number = str(session.consultation_number)
        relay = self.relays.get(number)
        if relay is not None:
            await relay.publish()
            if session.is_terminal:
                self.relays.pop(number, None)
