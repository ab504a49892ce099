"""The applet's shared words: how it translates, and the words for the codes it shows.

The applet speaks German first and English on request through the server's gettext
catalogue (:func:`supportdesk.i18n.translations`: English message ids, German in
``locale/de``). There is no current language: every window, dialog and text-mode
function is handed the customer's :class:`~supportdesk.domain.consent.Language` and
looks its words up with :func:`gettext_for`. Constants are marked with :func:`N_` so
``make messages`` extracts them; they are translated where they are shown. Codes that
come over the link (capabilities, session states, roles, end reasons, transfer
outcomes) become words here; an unknown code is shown as it came.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from supportdesk.code_words import ROLES, SESSION_STATES, TRANSFER_STOPS
from supportdesk.domain.capabilities import Capability
from supportdesk.domain.consent import DEFAULT_LANGUAGE, Language
from supportdesk.i18n import N_ as N_  # re-exported: the applet marks its words with it
from supportdesk.i18n import translations

Gettext = Callable[[str], str]


def gettext_for(language: Language) -> Gettext:
    """The ``gettext`` of ``language``'s catalogue (English: the message ids)."""
    return translations(language.value).gettext


def language_of(code: str | Language) -> Language:
    """``"de"``/``"en"`` (``join --language``) as a :class:`Language`; German otherwise."""
    if isinstance(code, Language):
        return code
    return Language.EN if code == Language.EN.value else DEFAULT_LANGUAGE


def other_language(language: Language) -> Language:
    """The language the switch button offers: English from German, German from English."""
    return Language.EN if language is Language.DE else Language.DE


# -- words shown in more than one place -------------------------------------------------

# What the program asks for when started by hand: in the first window and in text mode.
YOUR_NAME, SUPPORT_KEY = N_("Your name"), N_("Support key")
SESSION_ACTIVE = N_("Remote support active — recorded")
BANK = N_("Bank")
AGENT = N_("Your agent")
CONSULTATION_NUMBER = N_("Consultation number")
VERIFICATION_CODE = N_("Verification code")
AGENT_IN_CHAT = N_("Agent")  # the chat line's sender when the agent has no name
RECORDING_NOTICE = N_(
    "The session is recorded (screen, input, chat, file transfers) and deleted when the "
    "statutory retention period ends."
)
# Painted over a masked area, and said in the customer's window while one is on.
PROTECTED_INPUT = N_("Protected input")
PROTECTED_NOTICE = N_("Protected input – hidden from the agent")
PRIVACY_SCREEN = N_("Privacy screen")
PRIVACY_SCREEN_OFF = N_("Show screen again")

# The server holds the session when it cannot record; the same words as its console.
HELD_NOTICE = N_("Recording not possible – session paused")

# The customer's link dropped and is being dialled again; back again; gone for good.
RECONNECTING = N_("Connection interrupted – reconnecting …")
RECONNECTED = N_("Connection restored")
CONNECTION_LOST = N_("Connection lost – the session has ended")
# Back after a long gap: the consent dialog is shown again.
ASKED_AGAIN = N_(
    "The connection was interrupted for a while. Please confirm again that your screen may be "
    "shared."
)

# Each language's own name, on the button that switches to it: never translated.
ENDONYMS: dict[Language, str] = {Language.DE: "Deutsch", Language.EN: "English"}

CAPABILITY_NAMES: dict[Capability, str] = {
    Capability.VIEW: N_("View my screen"),
    Capability.CONTROL: N_("Control mouse and keyboard"),
    Capability.FILE_TRANSFER: N_("Transfer files"),
    Capability.DIAGNOSTICS: N_("Read diagnostic information"),
}
REQUIRED = N_("{capability} (required)")
CONTROLS = N_("{role}, in control")  # a watcher who has the mouse and keyboard

END_REASONS: dict[str, str] = {
    "customer": N_("by you"),
    "agent": N_("by the agent"),
    "timeout": N_("timed out"),
    "error": N_("because of an error"),
    "connection_lost": N_("connection lost"),
    "recording_limit": N_("the recording reached its size limit"),
}

# Why a transfer stopped: the cancel reasons and error codes of transfer.messages.
TRANSFER_OUTCOMES: dict[str, str] = {
    "declined": N_("declined"),
    "cancelled": N_("cancelled"),
    "failed": N_("failed"),
    "customer": N_("by you"),
    "agent": N_("by the agent"),
    **TRANSFER_STOPS,
}


# -- codes to words ---------------------------------------------------------------------


def _word(words: dict[str, str], code: object, _: Gettext) -> str:
    text = str(code)
    return _(words[text]) if text in words else text


def capability_name(capability: Capability, _: Gettext) -> str:
    """``Capability.CONTROL`` → "Maus und Tastatur steuern" / "Control mouse and keyboard"."""
    return _(CAPABILITY_NAMES[capability])


def capability_names(codes: Iterable[object], _: Gettext) -> str:
    """Capability codes from the link (``"view"``, ...) as a comma-separated list, in the
    consent dialog's order; unknown codes last, as they came."""
    given = [str(code) for code in codes]
    known = [c for c in CAPABILITY_NAMES if c.value in given]
    unknown = [code for code in given if code not in {c.value for c in known}]
    return ", ".join([capability_name(c, _) for c in known] + unknown)


def session_state(code: object, _: Gettext) -> str:
    """A session state code (``"active"``) in words."""
    return _word(SESSION_STATES, code, _)


def end_reason(code: object, _: Gettext) -> str:
    """Why the session ended (``"agent"``) in words."""
    return _word(END_REASONS, code, _)


def transfer_outcome(code: object, _: Gettext) -> str:
    """Why a transfer stopped (``"too_large"``) in words."""
    return _word(TRANSFER_OUTCOMES, code, _)


def watcher(name: object, role: object, _: Gettext, controls: bool = False) -> str:
    """One person watching: "Anna Berger (Berater)", or "Anna Berger (Berater, steuert)"
    when that person has the mouse and keyboard."""
    role_word = _word(ROLES, role, _)
    return f"{name} ({_(CONTROLS).format(role=role_word) if controls else role_word})"


def watchers(state: Mapping[str, Any], _: Gettext) -> list[str]:
    """Everyone watching, from a ``state`` message: a viewer that is not view-only
    controls while control is granted and the session is not paused."""
    control = Capability.CONTROL.value in state.get("capabilities", []) and not state.get("paused")
    return [
        watcher(w.get("name"), w.get("role"), _, control and not w.get("view_only", True))
        for w in state.get("watchers", [])
        if isinstance(w, dict)
    ]


def session_notice(held: bool, notice: str, _: Gettext) -> str:
    """Why the session is held: the applet's own words when the server holds it for the
    recording, else the server's notice as it came (empty: nothing to say)."""
    return _(HELD_NOTICE) if held else notice


def link_notice(reconnecting: bool, held: bool, notice: str, _: Gettext) -> str:
    """The active window's notice line: a lost link first ("Verbindung unterbrochen –
    wird wiederhergestellt …"), else why the server holds the session."""
    return _(RECONNECTING) if reconnecting else session_notice(held, notice, _)


def byte_count(count: int, _: Gettext) -> str:
    """ "1234 Bytes" / "1234 bytes"."""
    return _("{count} bytes").format(count=count)


def decimal(value: float, language: Language) -> str:
    """One decimal place with the language's separator: "1,5" / "1.5"."""
    text = f"{value:.1f}"
    return text.replace(".", ",") if language is Language.DE else text
