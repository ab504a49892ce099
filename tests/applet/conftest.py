"""Fixtures for the applet tests: a consent request, real Xvfb desktops (tests/desktop.py)."""

from __future__ import annotations

import pytest

from supportdesk.applet.consent import ConsentRequest

try:  # tests/ is a package when the suite grows a tests/__init__.py
    from tests.desktop import desktop
except ModuleNotFoundError:  # otherwise tests/ itself is on sys.path (rootdir-relative)
    from desktop import desktop  # type: ignore[no-redef,import-not-found]

__all__ = ["desktop", "request_"]


@pytest.fixture
def request_() -> ConsentRequest:
    return ConsentRequest(
        bank_name="Volksbank Musterstadt eG",
        bank_domain="support.volksbank-musterstadt.de",
        agent_name="Anna Schmidt",
        consultation_number="BN-2026-4821-7730-8",
        verification_code="K7M-4XP",
    )
