"""What a session's relay tells the applet about the bank and the agent: ``SessionInfo``.

Its own module, so the relay's side modules can name it without importing the relay.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from supportdesk.domain.customer_link import LinkPolicy
from supportdesk.domain.mask_rules import MaskRules
from supportdesk.server.relay.session_files import FilesSetup


@dataclass
class SessionInfo:
    """What the relay tells the applet about the bank and the agent."""

    bank_name: str
    bank_domain: str
    agent_name: str
    files: FilesSetup = field(default_factory=FilesSetup)
    clipboard_max: int = 256 * 1024  # bytes of clipboard text a viewer may send
    link_policy: LinkPolicy = field(default_factory=LinkPolicy)  # grace, re-consent
    link_timeout: float = 4.0  # seconds of silence after which the link counts as lost
    mask_rules: MaskRules = field(default_factory=MaskRules)  # the bank's window rules
