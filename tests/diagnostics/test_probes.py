"""Every probe on this machine: ok, or unavailable with a reason; JSON-clean; and no
personal data in what they report."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import cast

import pytest

from supportdesk.diagnostics.probe import Probe, ProbeContext, ProbeStatus
from supportdesk.diagnostics.probes import ALL_PROBES
from supportdesk.diagnostics.probes.bank_software import BankSoftwareProbe
from supportdesk.diagnostics.probes.disk_space import DiskSpaceProbe
from supportdesk.diagnostics.probes.proxy import ProxyProbe, mask_credentials
from supportdesk.diagnostics.probes.screens import ScreensProbe
from supportdesk.diagnostics.probes.smart_card_readers import SmartCardReadersProbe
from supportdesk.diagnostics.runner import run_probes

LOCAL_PROBES = [p for p in ALL_PROBES if p.name != "bank_endpoints"]


@pytest.mark.parametrize("probe", LOCAL_PROBES, ids=lambda p: p.name)
def test_each_probe_is_ok_or_says_why_not(probe: Probe, tmp_path: Path) -> None:
    result = probe.run(ProbeContext(download_folder=tmp_path / "Fernwartung"))
    assert result.status in (ProbeStatus.OK, ProbeStatus.UNAVAILABLE), result.reason
    if result.status is ProbeStatus.UNAVAILABLE:
        assert result.reason is not None and result.reason.de and result.reason.en
    json.dumps(dict(result.data))
    assert probe.label.de and probe.label.en and probe.timeout > 0


def test_all_probes_together_fit_in_their_timeouts() -> None:
    outcomes = run_probes(ALL_PROBES, ProbeContext())
    assert [o.name for o in outcomes] == [p.name for p in ALL_PROBES]
    assert not [o.name for o in outcomes if o.timed_out]


def test_no_host_name_user_home_or_secret_in_the_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://anna:geheim123@proxy.bank.example:3128")
    context = ProbeContext(download_folder=Path.home() / "Downloads" / "Fernwartung")
    text = json.dumps([dict(p.run(context).data) for p in LOCAL_PROBES])
    assert "geheim123" not in text and "anna" not in text
    assert str(Path.home()) not in text
    host = socket.gethostname()
    if len(host) >= 6:  # a short name could match anything
        assert host not in text


def test_bank_software_is_unsupported_off_windows() -> None:
    result = BankSoftwareProbe().run(ProbeContext(platform="linux"))
    assert result.status is ProbeStatus.UNAVAILABLE
    assert result.reason is not None and "nicht unterstützt" in result.reason.de


def test_smart_card_readers_report_readers_or_the_missing_service() -> None:
    result = SmartCardReadersProbe().run(ProbeContext())
    if result.status is ProbeStatus.OK:
        assert result.data["count"] == len(result.data["readers"])  # type: ignore[arg-type]
    else:
        assert result.reason is not None and "PC/SC" in result.reason.de


def test_disk_space_measures_the_download_folder_before_it_exists(tmp_path: Path) -> None:
    result = DiskSpaceProbe().run(ProbeContext(download_folder=tmp_path / "a" / "b"))
    assert result.status is ProbeStatus.OK
    folder = cast(dict[str, int], result.data["download_folder"])
    assert folder["free_bytes"] > 0


def test_proxy_environment_is_reported_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HTTPS_PROXY", "http://u:p@proxy.bank.example:3128")
    monkeypatch.setenv("no_proxy", "localhost,.bank.example")
    result = ProxyProbe().run(ProbeContext())
    assert result.data["environment"] == {
        "HTTPS_PROXY": "http://***@proxy.bank.example:3128",
        "no_proxy": "localhost,.bank.example",
    }
    system = cast(dict[str, str], result.data["system"])
    assert system["https"] == "http://***@proxy.bank.example:3128"


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("http://proxy:8080", "http://proxy:8080"),
        ("http://user:pw@proxy:8080/", "http://***@proxy:8080/"),
        ("user:pw@proxy:8080", "***@proxy:8080"),
        ("socks5://a@b@proxy:1080", "socks5://***@proxy:1080"),
    ],
)
def test_mask_credentials(given: str, shown: str) -> None:
    assert mask_credentials(given) == shown


@pytest.mark.desktop
def test_screens_on_a_real_x_display(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.desktop import xvfb

    with xvfb(1024, 768) as desk:
        monkeypatch.setenv("DISPLAY", desk.display)
        result = ScreensProbe().run(ProbeContext())
    assert result.status is ProbeStatus.OK, result.reason
    assert result.data["count"] == 1
    assert result.data["screens"] == [
        {"index": 0, "width": 1024, "height": 768, "left": 0, "top": 0}
    ]
