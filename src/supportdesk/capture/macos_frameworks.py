"""The macOS system frameworks the backends call, loaded with ctypes and given their
C prototypes once: CoreGraphics (events, displays, the screen-recording permission,
the window list), ApplicationServices (the accessibility permission, the focused
element's attributes), CoreFoundation (strings, arrays, dictionaries, numbers,
release) and the Objective-C runtime with AppKit (the pasteboard).

ctypes rather than pyobjc: the program stays one dependency set on every platform, the
few calls are plain C, and the one variadic function the job seems to need
(``CGEventCreateScrollWheelEvent``) has a fixed-argument twin since macOS 10.13
(``CGEventCreateScrollWheelEvent2``): a variadic call through ctypes is wrong on
Apple silicon, where variadic arguments go on the stack. ``objc_msgSend`` is called
through one function pointer per signature, as Apple requires on arm64.

Imports on every platform; loading happens on first use, on macOS only.
"""

from __future__ import annotations

import ctypes
import sys
from ctypes import (
    c_bool,
    c_char_p,
    c_double,
    c_int32,
    c_int64,
    c_long,
    c_uint16,
    c_uint32,
    c_uint64,
    c_void_p,
)
from functools import cache
from typing import Any

__all__ = [
    "CGPoint",
    "CGRect",
    "CGSize",
    "application_services",
    "cf_string",
    "cf_string_value",
    "core_foundation",
    "core_graphics",
    "objc",
]

CoreGraphics = "/System/Library/Frameworks/CoreGraphics.framework/CoreGraphics"
ApplicationServices = "/System/Library/Frameworks/ApplicationServices.framework/ApplicationServices"
CoreFoundation = "/System/Library/Frameworks/CoreFoundation.framework/CoreFoundation"
AppKit = "/System/Library/Frameworks/AppKit.framework/AppKit"
LIBOBJC = "/usr/lib/libobjc.A.dylib"

kCFStringEncodingUTF8 = 0x08000100
_POINTERS = ctypes.POINTER(c_void_p)


class CGPoint(ctypes.Structure):
    """``CGPoint``: two ``CGFloat`` (double on every 64-bit Mac)."""

    _fields_ = (("x", c_double), ("y", c_double))


class CGSize(ctypes.Structure):
    _fields_ = (("width", c_double), ("height", c_double))


class CGRect(ctypes.Structure):
    _fields_ = (("origin", CGPoint), ("size", CGSize))


def _load(path: str) -> Any:
    if sys.platform != "darwin":
        raise OSError("the macOS backend runs on macOS only")
    return ctypes.CDLL(path)


def _prototypes(library: Any, table: dict[str, tuple[tuple[Any, ...], Any]]) -> Any:
    for name, (args, result) in table.items():
        function = getattr(library, name, None)
        if function is not None:  # newer calls are looked up with hasattr by the caller
            function.argtypes, function.restype = args, result
    return library


@cache
def core_graphics() -> Any:
    """CoreGraphics with the event, display and screen-capture-access calls."""
    return _prototypes(
        _load(CoreGraphics),
        {
            "CGEventCreateKeyboardEvent": ((c_void_p, c_uint16, c_bool), c_void_p),
            "CGEventKeyboardSetUnicodeString": ((c_void_p, c_long, ctypes.POINTER(c_uint16)), None),
            "CGEventCreateMouseEvent": ((c_void_p, c_uint32, CGPoint, c_uint32), c_void_p),
            "CGEventCreateScrollWheelEvent2": (
                (c_void_p, c_uint32, c_uint32, c_int32, c_int32, c_int32),
                c_void_p,
            ),
            "CGEventSetFlags": ((c_void_p, c_uint64), None),
            "CGEventSetIntegerValueField": ((c_void_p, c_uint32, c_int64), None),
            "CGEventPost": ((c_uint32, c_void_p), None),
            "CGGetActiveDisplayList": (
                (c_uint32, ctypes.POINTER(c_uint32), ctypes.POINTER(c_uint32)),
                c_int32,
            ),
            "CGDisplayBounds": ((c_uint32,), CGRect),
            "CGPreflightScreenCaptureAccess": ((), c_bool),
            "CGRequestScreenCaptureAccess": ((), c_bool),
            "CGWindowListCopyWindowInfo": ((c_uint32, c_uint32), c_void_p),
            "CGRectMakeWithDictionaryRepresentation": ((c_void_p, ctypes.POINTER(CGRect)), c_bool),
        },
    )


@cache
def application_services() -> Any:
    """ApplicationServices (HIServices) with the accessibility-trust calls."""
    return _prototypes(
        _load(ApplicationServices),
        {
            "AXIsProcessTrusted": ((), c_bool),
            "AXIsProcessTrustedWithOptions": ((c_void_p,), c_bool),
            "AXUIElementCreateSystemWide": ((), c_void_p),
            "AXUIElementCopyAttributeValue": ((c_void_p, c_void_p, _POINTERS), c_int32),
            "AXUIElementSetMessagingTimeout": ((c_void_p, ctypes.c_float), c_int32),
            "AXValueGetValue": ((c_void_p, c_uint32, c_void_p), c_bool),
        },
    )


@cache
def core_foundation() -> Any:
    """CoreFoundation with strings, one-entry dictionaries and release."""
    return _prototypes(
        _load(CoreFoundation),
        {
            "CFRelease": ((c_void_p,), None),
            "CFStringCreateWithBytes": ((c_void_p, c_char_p, c_long, c_uint32, c_bool), c_void_p),
            "CFDictionaryCreate": (
                (c_void_p, _POINTERS, _POINTERS, c_long, c_void_p, c_void_p),
                c_void_p,
            ),
            "CFDictionaryGetValue": ((c_void_p, c_void_p), c_void_p),
            "CFArrayGetCount": ((c_void_p,), c_long),
            "CFArrayGetValueAtIndex": ((c_void_p, c_long), c_void_p),
            "CFGetTypeID": ((c_void_p,), c_long),
            "CFStringGetTypeID": ((), c_long),
            "CFStringGetLength": ((c_void_p,), c_long),
            "CFStringGetMaximumSizeForEncoding": ((c_long, c_uint32), c_long),
            "CFStringGetCString": ((c_void_p, c_char_p, c_long, c_uint32), c_bool),
            "CFNumberGetValue": ((c_void_p, c_long, c_void_p), c_bool),
        },
    )


def cf_string(text: str) -> int:
    """A new ``CFStringRef`` of ``text`` (the caller releases it with ``CFRelease``)."""
    data = text.encode("utf-8")
    ref = core_foundation().CFStringCreateWithBytes(
        None, data, len(data), kCFStringEncodingUTF8, False
    )
    if not ref:
        raise OSError(f"CFStringCreateWithBytes failed for {text!r}")
    return int(ref)


def cf_string_value(ref: int | None) -> str | None:
    """The text of a ``CFStringRef`` (not released), None if ``ref`` is not a string."""
    cf = core_foundation()
    if not ref or cf.CFGetTypeID(ref) != cf.CFStringGetTypeID():
        return None
    size = cf.CFStringGetMaximumSizeForEncoding(cf.CFStringGetLength(ref), kCFStringEncodingUTF8)
    buffer = ctypes.create_string_buffer(size + 1)
    if not cf.CFStringGetCString(ref, buffer, size + 1, kCFStringEncodingUTF8):
        return None
    return buffer.value.decode("utf-8", "replace")


class ObjC:
    """The Objective-C runtime: classes, selectors, and ``objc_msgSend`` per signature."""

    def __init__(self) -> None:
        self.lib = _prototypes(
            _load(LIBOBJC),
            {
                "objc_getClass": ((c_char_p,), c_void_p),
                "sel_registerName": ((c_char_p,), c_void_p),
                "objc_autoreleasePoolPush": ((), c_void_p),
                "objc_autoreleasePoolPop": ((c_void_p,), None),
            },
        )
        self.appkit = _load(AppKit)  # registers NSPasteboard with the runtime
        self._send: int = ctypes.cast(self.lib.objc_msgSend, c_void_p).value or 0
        self._signatures: dict[tuple[Any, ...], Any] = {}

    def cls(self, name: str) -> int:
        return int(self.lib.objc_getClass(name.encode()) or 0)

    def sel(self, name: str) -> int:
        return int(self.lib.sel_registerName(name.encode()))

    def send(self, result: Any, receiver: int, selector: str, *args: tuple[Any, Any]) -> Any:
        """``[receiver selector …]`` with ``args`` as (ctypes type, value) pairs."""
        key = (result, *(kind for kind, _ in args))
        function = self._signatures.get(key)
        if function is None:
            prototype = ctypes.CFUNCTYPE(result, c_void_p, c_void_p, *key[1:])
            function = self._signatures[key] = prototype(self._send)
        return function(receiver, self.sel(selector), *(value for _, value in args))


@cache
def objc() -> ObjC:
    """The Objective-C runtime with AppKit loaded."""
    return ObjC()
