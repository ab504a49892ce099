"""The customer's receipt: ``Fernwartung-<Beratungsnummer>.txt`` and a ``.json`` twin.

Written once at the end of a session into the user's documents folder (platformdirs),
in the customer's language (German unless told otherwise), so the customer can later
quote the consultation number and see what was allowed when. The file names stay the
same in both languages. The JSON twin carries the same facts for machines (UTC ISO
times).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from supportdesk.applet import texts
from supportdesk.applet.texts import N_
from supportdesk.domain.capabilities import Capability
from supportdesk.domain.consent import DEFAULT_LANGUAGE, Language

LOCAL_ZONE = ZoneInfo("Europe/Berlin")
_UNSAFE = re.compile(r"[^A-Za-z0-9-]")

TITLE = N_("Remote support receipt")
START, END, DURATION = N_("Start time"), N_("End time"), N_("Duration")
ENDED = N_("Ended")  # how: "durch Sie", "Verbindung verloren", …
PERMISSIONS = N_("Permissions:")
GRANTED, WITHDRAWN = N_("granted"), N_("withdrawn")
FILES = N_("Files transferred:")
NONE = N_("(none)")
TO_BANK, FROM_BANK = N_("to the bank"), N_("from the bank")
QUOTE_NUMBER = N_("Please quote the consultation number if you have any questions.")
# A strftime format for local times (Europe/Berlin).
TIME_FORMAT = N_("%Y-%m-%d, %H:%M:%S %Z")
SAVED = N_("Receipt saved: {path}")


@dataclass(frozen=True)
class CapabilityChange:
    """The customer granted or withdrew one capability at ``at`` (aware UTC)."""

    at: datetime
    capability: Capability
    granted: bool


@dataclass(frozen=True)
class TransferredFile:
    """One file that crossed during the session."""

    at: datetime
    name: str
    size: int
    to_agent: bool  # True: from the customer to the agent
    sha256: str = ""


@dataclass
class SessionTimeline:
    """Collects capability changes while the session runs (called from any window)."""

    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    changes: list[CapabilityChange] = field(default_factory=list)
    files: list[TransferredFile] = field(default_factory=list)

    def grant(self, capability: Capability) -> None:
        """Record that ``capability`` was granted now."""
        self.changes.append(CapabilityChange(self.clock(), capability, True))

    def revoke(self, capability: Capability) -> None:
        """Record that ``capability`` was withdrawn now."""
        self.changes.append(CapabilityChange(self.clock(), capability, False))


@dataclass(frozen=True)
class Receipt:
    """Everything the receipt states."""

    consultation_number: str
    bank_name: str
    agent_name: str
    started_at: datetime
    ended_at: datetime
    capabilities: Sequence[CapabilityChange] = ()
    files: Sequence[TransferredFile] = ()
    bank_domain: str = ""
    language: Language = DEFAULT_LANGUAGE
    end_reason: str = ""  # the code: customer, agent, timeout, error, connection_lost

    @property
    def duration(self) -> timedelta:
        """How long the session ran."""
        return self.ended_at - self.started_at

    @property
    def file_stem(self) -> str:
        """``Fernwartung-<Beratungsnummer>`` with anything unsafe for a file name removed."""
        return "Fernwartung-" + _UNSAFE.sub("", self.consultation_number)

    def as_text(self) -> str:
        """The receipt text in the receipt's language."""
        _ = texts.gettext_for(self.language)

        def local(moment: datetime) -> str:
            return moment.astimezone(LOCAL_ZONE).strftime(_(TIME_FORMAT))

        title = _(TITLE)
        bank = self.bank_name + (f" ({self.bank_domain})" if self.bank_domain else "")
        facts = [
            (_(texts.CONSULTATION_NUMBER), self.consultation_number),
            (_(texts.BANK), bank),
            (_(texts.AGENT), self.agent_name),
            (_(START), local(self.started_at)),
            (_(END), local(self.ended_at)),
            (_(DURATION), _duration(self.duration)),
        ]
        if self.end_reason:
            facts.append((_(ENDED), texts.end_reason(self.end_reason, _)))
        width = max(len(label) for label, _value in facts) + 1
        lines = [title, "=" * len(title), ""]
        lines += [f"{label + ':':<{width}} {value}" for label, value in facts]
        lines += ["", _(PERMISSIONS)]
        if not self.capabilities:
            lines.append(f"  {_(NONE)}")
        for change in self.capabilities:
            verb = _(GRANTED if change.granted else WITHDRAWN)
            label = texts.capability_name(change.capability, _)
            lines.append(f"  {local(change.at)}  {label}: {verb}")
        lines += ["", _(FILES)]
        if not self.files:
            lines.append(f"  {_(NONE)}")
        for f in self.files:
            size = texts.byte_count(f.size, _)
            direction = _(TO_BANK if f.to_agent else FROM_BANK)
            lines.append(f"  {local(f.at)}  {f.name} ({size}, {direction})")
        lines += ["", _(texts.RECORDING_NOTICE), "", _(QUOTE_NUMBER)]
        return "\n".join(lines) + "\n"

    def as_json(self) -> dict[str, Any]:
        """The same facts as plain JSON values (times in UTC, ISO 8601)."""
        return {
            "consultation_number": self.consultation_number,
            "bank": self.bank_name,
            "bank_domain": self.bank_domain,
            "agent_name": self.agent_name,
            "started_at": _iso(self.started_at),
            "ended_at": _iso(self.ended_at),
            "duration_seconds": round(self.duration.total_seconds()),
            "end_reason": self.end_reason,
            "capabilities": [
                {"at": _iso(c.at), "capability": c.capability.value, "granted": c.granted}
                for c in self.capabilities
            ],
            "files": [
                {
                    "at": _iso(f.at),
                    "name": f.name,
                    "size": f.size,
                    "direction": "to_bank" if f.to_agent else "from_bank",
                    "sha256": f.sha256,
                }
                for f in self.files
            ],
            "recording_notice": texts.gettext_for(self.language)(texts.RECORDING_NOTICE),
            "language": self.language.value,
        }


def saved_notice(path: Path, language: Language = DEFAULT_LANGUAGE) -> str:
    """What to tell the customer once the receipt is written: "Quittung gespeichert: …"."""
    return texts.gettext_for(language)(SAVED).format(path=path)


def documents_folder() -> Path:
    """The user's documents folder (``~/Documents``, ``~/Dokumente``, ... per platform)."""
    import platformdirs  # imported lazily: only the applet's last step needs it

    return Path(platformdirs.user_documents_dir())


def write_receipt(receipt: Receipt, folder: Path | None = None) -> Path:
    """Write the ``.txt`` and ``.json`` receipt into ``folder`` (default: documents).

    Returns the path of the ``.txt`` file; the caller tells the customer where it is.
    Files are written whole or not at all (temporary file, then rename).
    """
    target = folder if folder is not None else documents_folder()
    target.mkdir(parents=True, exist_ok=True)
    text_path = target / f"{receipt.file_stem}.txt"
    _write_atomically(text_path, receipt.as_text())
    as_json = json.dumps(receipt.as_json(), ensure_ascii=False, indent=2) + "\n"
    _write_atomically(target / f"{receipt.file_stem}.json", as_json)
    return text_path


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".receipt-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _duration(delta: timedelta) -> str:
    seconds = max(0, round(delta.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d} (h:mm:ss)"
