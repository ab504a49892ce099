"""Secret input where the desktop can only be asked, not listened to: poll the focused element.

Windows (UI Automation) and macOS (the AX API) answer "which element has the focus, is it
a password field, where is it" cheaply, so a thread asks every ``interval`` seconds and
keeps the answer for the capture thread, with the same promises as the AT-SPI watcher
(capture/atspi_secrets.py): the newest and the previous extents are both masked, and a
probe that fails keeps the last answer (never unmasked by an error).

:class:`Win32SecretProbe` asks UI Automation (``IUIAutomationElement.CurrentIsPassword``
and ``CurrentBoundingRectangle`` of the focused element) through raw COM vtable calls.
It cannot run on the Linux test machines: it is written against the documented
interface and **not proven** (docs/masking.md); until it is, the program starts no
automatic masking on Windows, and macOS (``AXSecureTextField``) has no probe yet.
"""

from __future__ import annotations

import ctypes
import logging
import threading
from collections.abc import Callable, Sequence

from supportdesk.capture.mask import MaskArea, MaskKind
from supportdesk.rfb.geometry import Rect

log = logging.getLogger(__name__)

SecretProbe = Callable[[], Rect | None]
"""Where the focused element is if it is a password field, else None; may raise."""


class FocusPollWatcher:
    """Mask the focused password field ``probe`` reports, asking every ``interval`` s."""

    def __init__(self, probe: SecretProbe, *, interval: float = 0.015) -> None:
        self._probe = probe
        self._interval = interval
        self._lock = threading.Lock()
        self._now: Rect | None = None
        self._before: Rect | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll(self) -> None:
        """Ask once (the thread calls this); an error keeps the last answer."""
        try:
            rect = self._probe()
        except Exception:
            log.debug("focus probe failed; keeping the last mask", exc_info=True)
            return
        with self._lock:
            self._before, self._now = self._now, rect

    def start(self) -> bool:
        """Ask once now, then keep asking; True (the probe answered) or False."""
        try:
            rect = self._probe()
        except Exception as exc:
            log.warning("automatic masking unavailable: %s", exc)
            return False
        with self._lock:
            self._now = rect
        self._thread = threading.Thread(target=self._run, name="mask-focus", daemon=True)
        self._thread.start()
        return True

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.poll()

    def stop(self) -> None:
        """Stop asking."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(1.0)

    def areas(self) -> Sequence[MaskArea]:
        """The focused password field, where it is and where it was one poll ago."""
        with self._lock:
            rects = {r for r in (self._now, self._before) if r is not None}
        return [MaskArea(r, MaskKind.SECRET_INPUT) for r in rects]


# -- Windows: UI Automation ------------------------------------------------------------------

_CLSID_CUIAUTOMATION = "{FF48DBA4-60EF-4201-AA87-54103EEF594E}"
_IID_IUIAUTOMATION = "{30CBE57D-D9D0-452A-AB13-7AC5AC4825EE}"
# vtable slots (IUnknown's three first), from UIAutomationClient.h
_GET_FOCUSED_ELEMENT = 8
_CURRENT_IS_PASSWORD = 35
_CURRENT_BOUNDING_RECTANGLE = 43
_RELEASE = 2


class _GUID(ctypes.Structure):
    _fields_ = [
        ("d1", ctypes.c_uint32),
        ("d2", ctypes.c_uint16),
        ("d3", ctypes.c_uint16),
        ("d4", ctypes.c_ubyte * 8),
    ]


class _RECT(ctypes.Structure):
    _fields_ = [(n, ctypes.c_long) for n in ("left", "top", "right", "bottom")]


def _method(obj: ctypes.c_void_p, slot: int, *argtypes: object) -> Callable[..., int]:
    vtable = ctypes.cast(obj, ctypes.POINTER(ctypes.POINTER(ctypes.c_void_p))).contents
    prototype = ctypes.WINFUNCTYPE(ctypes.c_long, ctypes.c_void_p, *argtypes)  # type: ignore[attr-defined]
    function: Callable[..., int] = prototype(vtable[slot])
    return lambda *args: function(obj, *args)


class Win32SecretProbe:
    """The focused element's rectangle if UI Automation says it is a password field.

    Not proven: it cannot run on the Linux test machines (docs/masking.md).
    """

    def __init__(self) -> None:
        ole32 = ctypes.windll.ole32  # type: ignore[attr-defined]
        ole32.CoInitializeEx(None, 0x2)  # COINIT_APARTMENTTHREADED on the polling thread
        clsid, iid = _GUID(), _GUID()
        ole32.CLSIDFromString(_CLSID_CUIAUTOMATION, ctypes.byref(clsid))
        ole32.CLSIDFromString(_IID_IUIAUTOMATION, ctypes.byref(iid))
        self._uia = ctypes.c_void_p()
        hr = ole32.CoCreateInstance(
            ctypes.byref(clsid), None, 0x1, ctypes.byref(iid), ctypes.byref(self._uia)
        )
        if hr != 0:
            raise OSError(f"UI Automation not available (HRESULT {hr & 0xFFFFFFFF:#x})")

    def __call__(self) -> Rect | None:
        element = ctypes.c_void_p()
        get_focused = _method(self._uia, _GET_FOCUSED_ELEMENT, ctypes.c_void_p)
        if get_focused(ctypes.byref(element)) != 0 or not element:
            return None
        try:
            is_password = ctypes.c_int()
            _method(element, _CURRENT_IS_PASSWORD, ctypes.c_void_p)(ctypes.byref(is_password))
            if not is_password.value:
                return None
            r = _RECT()
            _method(element, _CURRENT_BOUNDING_RECTANGLE, ctypes.c_void_p)(ctypes.byref(r))
            return Rect(r.left, r.top, r.right - r.left, r.bottom - r.top)
        finally:
            _method(element, _RELEASE)()
