"""Probe: the smart-card readers PC/SC knows (for HBCI chip cards and TAN generators).

Talks to the system's PC/SC library directly through ctypes - winscard.dll, the
PCSC framework, or pcsc-lite's libpcsclite.so.1 - instead of through pyscard: pyscard
has no Linux wheel and would need a compiler and SWIG on the customer's machine for
three library calls. Without the library or its service the probe is unavailable.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from typing import Any

from supportdesk.diagnostics.probe import JSONValue, Label, ProbeContext, ProbeResult

SCARD_SCOPE_SYSTEM = 2
SCARD_S_SUCCESS = 0
SCARD_E_NO_SERVICE = 0x8010001D
SCARD_E_SERVICE_STOPPED = 0x8010001E
SCARD_E_NO_READERS_AVAILABLE = 0x8010002E
MAX_READERS = 16


class PcscUnavailable(Exception):
    def __init__(self, reason: Label) -> None:
        super().__init__(reason.en)
        self.reason = reason


class SmartCardReadersProbe:
    name = "smart_card_readers"
    label = Label("Chipkartenleser (PC/SC)", "Smart-card readers (PC/SC)")
    timeout = 8.0

    def run(self, context: ProbeContext) -> ProbeResult:
        try:
            readers = list_readers(context.platform)
        except PcscUnavailable as exc:
            return ProbeResult.unavailable(exc.reason)
        listed: list[JSONValue] = list(readers)
        return ProbeResult.ok({"count": len(readers), "readers": listed})


def _types(target: str) -> tuple[Any, Any, Any]:
    """(SCARDCONTEXT, DWORD, LONG) of the platform's PC/SC ABI."""
    if target == "win32":
        return ctypes.c_size_t, ctypes.c_uint32, ctypes.c_int32
    if target == "darwin":
        return ctypes.c_int32, ctypes.c_uint32, ctypes.c_int32
    return ctypes.c_long, ctypes.c_ulong, ctypes.c_long  # pcsc-lite: long-sized


def _library(target: str) -> Any:
    if target == "win32":
        name: str | None = "winscard.dll"
    elif target == "darwin":
        name = "/System/Library/Frameworks/PCSC.framework/PCSC"
    else:
        name = ctypes.util.find_library("pcsclite") or "libpcsclite.so.1"
    try:
        if sys.platform == "win32":
            return ctypes.WinDLL(name)
        return ctypes.CDLL(name)
    except OSError:
        raise PcscUnavailable(
            Label(
                "keine PC/SC-Bibliothek installiert (z. B. pcsc-lite)",
                "no PC/SC library installed (e.g. pcsc-lite)",
            )
        ) from None


def list_readers(target: str = sys.platform) -> list[str]:
    """The reader names PC/SC lists now; :class:`PcscUnavailable` if it cannot."""
    library = _library(target)
    context_type, dword, _long = _types(target)
    establish = library.SCardEstablishContext
    list_function = library.SCardListReadersA if target == "win32" else library.SCardListReaders
    release = library.SCardReleaseContext
    establish.restype = list_function.restype = release.restype = _long

    handle = context_type(0)
    code = establish(dword(SCARD_SCOPE_SYSTEM), None, None, ctypes.byref(handle)) & 0xFFFFFFFF
    if code in (SCARD_E_NO_SERVICE, SCARD_E_SERVICE_STOPPED):
        raise PcscUnavailable(
            Label(
                "der PC/SC-Dienst läuft nicht (pcscd bzw. Smartcard-Dienst)",
                "the PC/SC service is not running (pcscd or Smart Card service)",
            )
        )
    if code != SCARD_S_SUCCESS:
        raise PcscUnavailable(Label.same(f"SCardEstablishContext: 0x{code:08X}"))
    try:
        size = dword(0)
        code = list_function(handle, None, None, ctypes.byref(size)) & 0xFFFFFFFF
        if code == SCARD_E_NO_READERS_AVAILABLE:
            return []
        if code != SCARD_S_SUCCESS:
            raise PcscUnavailable(Label.same(f"SCardListReaders: 0x{code:08X}"))
        buffer = ctypes.create_string_buffer(int(size.value))
        code = list_function(handle, None, buffer, ctypes.byref(size)) & 0xFFFFFFFF
        if code == SCARD_E_NO_READERS_AVAILABLE:
            return []
        if code != SCARD_S_SUCCESS:
            raise PcscUnavailable(Label.same(f"SCardListReaders: 0x{code:08X}"))
        names = buffer.raw[: int(size.value)].split(b"\0")
        return [n.decode("utf-8", "replace") for n in names if n][:MAX_READERS]
    finally:
        release(handle)
