"""The focused password field on Windows, asked of UI Automation through raw COM calls.

:class:`UiaSecretProbe` creates ``CUIAutomation`` (``IUIAutomation``) and answers, each
time it is called, from ``GetFocusedElement``: the element's ``CurrentIsPassword`` and,
if set, its ``CurrentBoundingRectangle``. UI Automation reports that rectangle in
physical screen pixels to a per-monitor DPI aware client — which the program is
(:func:`~supportdesk.capture.win32_input.make_dpi_aware`, called here first, as mss and
the input sink do), so it lands on the same pixels mss captures. Win32 ``EDIT`` controls
with ``ES_PASSWORD``, WPF/WinForms password boxes and ``<input type=password>`` in
Chromium, Edge and Firefox report ``IsPassword``.

No comtypes or pywin32: the three calls go through the interfaces' vtables, slots from
``UIAutomationClient.h`` (IUnknown's three first). The probe must be opened on the
thread that calls it (capture/focus_poll.py does): it joins the multithreaded
apartment there, as UI Automation recommends for clients.

Imports everywhere; opening it anywhere but Windows raises (automatic masking off).
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable
from typing import Any

from supportdesk.rfb.geometry import Rect

__all__ = ["UiaSecretProbe", "password_rect"]

_CLSID_CUIAUTOMATION = "{FF48DBA4-60EF-4201-AA87-54103EEF594E}"
_IID_IUIAUTOMATION = "{30CBE57D-D9D0-452A-AB13-7AC5AC4825EE}"
_CLSCTX_INPROC_SERVER = 0x1
_COINIT_MULTITHREADED = 0x0
_RPC_E_CHANGED_MODE = -2147417850  # the thread is already in another apartment: fine
# vtable slots
_RELEASE = 2
_GET_FOCUSED_ELEMENT = 8  # IUIAutomation::GetFocusedElement
_CURRENT_IS_PASSWORD = 35  # IUIAutomationElement::get_CurrentIsPassword
_CURRENT_BOUNDING_RECTANGLE = 43  # IUIAutomationElement::get_CurrentBoundingRectangle


_WINFUNCTYPE: Any = getattr(ctypes, "WINFUNCTYPE", None)  # stdcall prototypes: Windows only


def password_rect(is_password: bool, left: int, top: int, right: int, bottom: int) -> Rect | None:
    """What the probe reports for the focused element: its rectangle if it is a password
    field with an area (UI Automation gives an empty one for an element off screen)."""
    if not is_password or right <= left or bottom <= top:
        return None
    return Rect(left, top, right - left, bottom - top)


class _GUID(ctypes.Structure):
    _fields_ = [
        ("d1", ctypes.c_uint32),
        ("d2", ctypes.c_uint16),
        ("d3", ctypes.c_uint16),
        ("d4", ctypes.c_ubyte * 8),
    ]


class _RECT(ctypes.Structure):
    _fields_ = [(n, ctypes.c_long) for n in ("left", "top", "right", "bottom")]


def _method(obj: ctypes.c_void_p, slot: int, *argtypes: Any) -> Callable[..., int]:
    """The COM method in vtable ``slot`` of ``obj``, bound to it; returns the HRESULT."""
    vtable = ctypes.cast(obj, ctypes.POINTER(ctypes.POINTER(ctypes.c_void_p))).contents
    prototype = _WINFUNCTYPE(ctypes.c_long, ctypes.c_void_p, *argtypes)
    function: Callable[..., int] = prototype(vtable[slot])
    return lambda *args: function(obj, *args)


def _check(hr: int, what: str) -> None:
    if hr < 0:
        raise OSError(f"{what} failed (HRESULT {hr & 0xFFFFFFFF:#010x})")


class UiaSecretProbe:
    """The focused element's rectangle if UI Automation says it is a password field.

    Open and call it on one thread. Raises :class:`OSError` when UI Automation does not
    answer (the watcher keeps the last mask, then masks everything).
    """

    _ole32: Any
    _uia: ctypes.c_void_p
    _uninitialize: bool

    def __init__(self) -> None:
        if sys.platform != "win32":
            raise OSError("UI Automation exists on Windows only")
        from supportdesk.capture.win32_input import make_dpi_aware

        make_dpi_aware()  # physical pixels, as mss captures them
        ole32 = ctypes.windll.ole32
        ole32.CoInitializeEx.argtypes = (ctypes.c_void_p, ctypes.c_uint32)
        ole32.CoInitializeEx.restype = ctypes.c_long
        hr = int(ole32.CoInitializeEx(None, _COINIT_MULTITHREADED))
        if hr != _RPC_E_CHANGED_MODE:
            _check(hr, "CoInitializeEx")
        self._uninitialize = hr >= 0  # S_OK or S_FALSE: this thread owes a CoUninitialize
        clsid, iid = _GUID(), _GUID()
        _check(ole32.CLSIDFromString(_CLSID_CUIAUTOMATION, ctypes.byref(clsid)), "CLSIDFromString")
        _check(ole32.IIDFromString(_IID_IUIAUTOMATION, ctypes.byref(iid)), "IIDFromString")
        self._ole32 = ole32
        self._uia = ctypes.c_void_p()
        _check(
            ole32.CoCreateInstance(
                ctypes.byref(clsid),
                None,
                _CLSCTX_INPROC_SERVER,
                ctypes.byref(iid),
                ctypes.byref(self._uia),
            ),
            "CoCreateInstance(CUIAutomation)",
        )

    def __call__(self) -> Rect | None:
        element = ctypes.c_void_p()
        get_focused = _method(self._uia, _GET_FOCUSED_ELEMENT, ctypes.c_void_p)
        _check(get_focused(ctypes.byref(element)), "GetFocusedElement")
        if not element:
            return None  # nothing has the focus (the desktop is locked, say)
        try:
            is_password = ctypes.c_int()
            is_pw = _method(element, _CURRENT_IS_PASSWORD, ctypes.c_void_p)
            _check(is_pw(ctypes.byref(is_password)), "CurrentIsPassword")
            if not is_password.value:
                return None
            r = _RECT()
            bounds = _method(element, _CURRENT_BOUNDING_RECTANGLE, ctypes.c_void_p)
            _check(bounds(ctypes.byref(r)), "CurrentBoundingRectangle")
            return password_rect(True, r.left, r.top, r.right, r.bottom)
        finally:
            _method(element, _RELEASE)()

    def close(self) -> None:
        """Release UI Automation and leave the apartment (on the thread that opened it)."""
        if self._uia:
            _method(self._uia, _RELEASE)()
            self._uia = ctypes.c_void_p()
        if self._uninitialize:
            self._ole32.CoUninitialize()
            self._uninitialize = False
