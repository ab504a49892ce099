"""One diagnostics probe per module, all with the interface of
:class:`supportdesk.diagnostics.probe.Probe`; :data:`ALL_PROBES` in report order."""

from __future__ import annotations

from supportdesk.diagnostics.probe import Probe
from supportdesk.diagnostics.probes.bank_endpoints import BankEndpointsProbe
from supportdesk.diagnostics.probes.bank_software import BankSoftwareProbe
from supportdesk.diagnostics.probes.browsers import BrowsersProbe
from supportdesk.diagnostics.probes.clock import ClockProbe
from supportdesk.diagnostics.probes.cpu import CpuProbe
from supportdesk.diagnostics.probes.disk_space import DiskSpaceProbe
from supportdesk.diagnostics.probes.memory import MemoryProbe
from supportdesk.diagnostics.probes.operating_system import OperatingSystemProbe
from supportdesk.diagnostics.probes.proxy import ProxyProbe
from supportdesk.diagnostics.probes.screens import ScreensProbe
from supportdesk.diagnostics.probes.smart_card_readers import SmartCardReadersProbe

ALL_PROBES: tuple[Probe, ...] = (
    OperatingSystemProbe(),
    CpuProbe(),
    MemoryProbe(),
    DiskSpaceProbe(),
    ScreensProbe(),
    ClockProbe(),
    ProxyProbe(),
    BankEndpointsProbe(),
    BrowsersProbe(),
    BankSoftwareProbe(),
    SmartCardReadersProbe(),
)
