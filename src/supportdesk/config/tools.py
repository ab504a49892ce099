"""What a session may use and hides: ``[transfer]``, ``[clipboard]``, ``[masking]``,
``[applet]``, ``[diagnostics]``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from supportdesk.domain.mask_rules import InvalidMaskRules, MaskRules

from .section import Section


class TransferConfig(Section):
    # Largest file either side may send in a session, in MiB.
    max_size_mb: int = Field(100, ge=1, le=4096)
    # Incoming transfers the server takes at once per session.
    max_active: int = Field(4, ge=1, le=16)
    # A transfer with no chunk or answer for this many seconds is cancelled ("timeout").
    stall_seconds: int = Field(60, ge=1, le=3600)
    # An offer the other side has not answered after this many seconds is cancelled.
    answer_seconds: int = Field(300, ge=1, le=86400)

    @property
    def max_size(self) -> int:
        return self.max_size_mb * 1024 * 1024


class ClipboardConfig(Section):
    # Largest clipboard text the console lets an agent send, in KiB of UTF-8. The
    # applet takes at most 256 KiB whatever this says, so only lower values matter.
    max_text_kb: int = Field(256, ge=1, le=256)

    @property
    def max_text(self) -> int:
        return self.max_text_kb * 1024


class MaskingConfig(Section):
    # The bank's window rules: the support program masks every window whose title
    # contains ``title`` and/or whose application is ``application`` (case ignored),
    # e.g. windows = [{ title = "SecureGo" }, { application = "keepassxc" }].
    # ``rules_version`` names the list in the audit of every consent: change it with them.
    rules_version: str = Field("1", min_length=1, max_length=64)
    windows: tuple[dict[str, str], ...] = Field((), max_length=100)

    @model_validator(mode="after")
    def _rules_are_valid(self) -> MaskingConfig:
        try:
            self.rules  # noqa: B018 - built to be checked
        except InvalidMaskRules as exc:
            raise ValueError(str(exc)) from None
        return self

    @property
    def rules(self) -> MaskRules:
        return MaskRules.from_json({"version": self.rules_version, "windows": list(self.windows)})


class AppletConfig(Section):
    # The folder the portal's download page (/fernwartung/programm) offers the support
    # program from: the build's files supportdesk-join-windows.exe,
    # supportdesk-join-macos.zip and supportdesk-join-linux, those present. Unset: the
    # page offers none and points to sharing the screen in the browser.
    download_directory: Path | None = None


class DiagnosticsEndpointConfig(Section):
    kind: str = Field(pattern=r"^[a-z_]{1,32}$")
    host: str = Field(pattern=r"^[A-Za-z0-9.-]{1,253}$")
    port: int = Field(443, ge=1, le=65535)


class DiagnosticsConfig(Section):
    # The bank's services the applet's endpoint probe checks (DNS, TCP, TLS).
    endpoints: tuple[DiagnosticsEndpointConfig, ...] = Field((), max_length=8)
