"""Input sinks: carry out the agent's RFB key and pointer events on the customer's desktop.

:class:`XTestInputSink` injects into an X11 server with the XTEST extension through
python-xlib.  A sink starts **disabled**; the applet sets :attr:`enabled` when the
customer grants control and clears it when control is revoked, paused or the session
ends.  While disabled every event is *dropped* (the methods return False) rather than
raising, because an event already in flight when control is revoked is normal, not an
error; clearing :attr:`enabled` also releases every key and button the agent holds.

Keysyms are looked up in the server's current keyboard mapping (columns 0/1 plain and
Shift, 4/5 AltGr and AltGr+Shift, as XKB exposes them), pressing or releasing Shift and
ISO_Level3_Shift around the key when the key's level needs it.  A keysym the layout
lacks (``ä`` on a US layout) is bound to a spare keycode for as long as the sink lives
(the x11vnc / TigerVNC approach) and unbound again by :meth:`XTestInputSink.close`.
While the agent has control the X server's key repeat is off (and restored after), so a
key release delayed on the way cannot make the server type the key again and again.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any, Protocol

from supportdesk.capture import keysyms as ks
from supportdesk.capture.keysyms import normalize_keysym
from supportdesk.capture.rfb_pointer import MASK_BITS
from supportdesk.capture.sink_gate import SinkGate

log = logging.getLogger(__name__)

# Core keyboard-mapping column -> (shift, level3) it stands for.  Columns 2 and 3 are
# the second group (Mode_switch) and are not used.
_COLUMNS: tuple[tuple[int, bool, bool], ...] = (
    (0, False, False),
    (1, True, False),
    (4, False, True),
    (5, True, True),
)
_SHIFTS = frozenset({ks.Shift_L, ks.Shift_R})


class InputSink(Protocol):
    """Where the agent's input goes; see the module docstring for the enabled contract."""

    enabled: bool

    def key_event(self, keysym: int, down: bool) -> bool:
        """Press or release ``keysym``; return False if dropped (disabled or unmappable)."""
        ...

    def pointer_event(self, x: int, y: int, button_mask: int) -> bool:
        """Move to ``(x, y)`` (framebuffer pixels) with RFB ``button_mask``; False if dropped."""
        ...

    def release_all(self) -> None:
        """Release every key and button the agent holds."""
        ...

    def close(self) -> None:
        """Release everything, undo keymap changes and disconnect."""
        ...


class XTestInputSink(SinkGate):
    """Inject RFB input into an X server through XTEST (python-xlib, pure Python).

    ``origin`` is the top-left corner of the monitor being shared in root-window
    coordinates; RFB pointer positions are relative to it.  Use one sink from one
    thread at a time, except :attr:`enabled`, which any thread may set.
    """

    def __init__(
        self,
        display: str | None = None,
        *,
        origin: tuple[int, int] = (0, 0),
        enabled: bool = False,
    ) -> None:
        from Xlib import X  # imported lazily: only the X11 applet needs python-xlib
        from Xlib import display as xdisplay
        from Xlib.ext import xtest

        self._X: Any = X
        self._xtest: Any = xtest
        self._d: Any = xdisplay.Display(display)
        if not self._d.query_extension("XTEST"):
            self._d.close()
            raise RuntimeError("X server has no XTEST extension")
        self._min_kc: int = self._d.display.info.min_keycode
        self._max_kc: int = self._d.display.info.max_keycode
        self._keymap: list[list[int]] | None = None
        self.origin = origin
        self._pressed: dict[int, int] = {}  # RFB keysym -> keycode, in press order
        self._remapped: OrderedDict[int, int] = OrderedDict()  # keysym -> spare keycode, LRU
        self._mask = 0
        self._pos: tuple[int, int] | None = None
        self._repeat_was_on = False
        super().__init__(enabled)

    # -- enabling ---------------------------------------------------------------------

    def _control_began(self) -> None:
        # The X server repeats a key that stays down past its delay (660 ms on Xvfb and
        # Xorg), also one pressed through XTEST: a release held up on the customer's
        # Wi-Fi would type "aaaaaaa". The agent's browser sends its own repeats, so the
        # server's are switched off while the agent has control, as x11vnc does.
        self._repeat_was_on = bool(self._d.get_keyboard_control().global_auto_repeat)
        if self._repeat_was_on:
            self._d.change_keyboard_control(auto_repeat_mode=self._X.AutoRepeatModeOff)
            self._d.sync()

    def _control_ended(self) -> None:
        if self._repeat_was_on:
            self._d.change_keyboard_control(auto_repeat_mode=self._X.AutoRepeatModeOn)
            self._d.sync()
            self._repeat_was_on = False

    # -- keymap -----------------------------------------------------------------------

    def _poll(self) -> None:
        """Drop the cached keymap when the server announces a mapping change."""
        while self._d.pending_events():
            event = self._d.next_event()
            if event.type == self._X.MappingNotify:
                self._keymap = None

    def _map(self) -> list[list[int]]:
        if self._keymap is None:
            count = self._max_kc - self._min_kc + 1
            self._keymap = [list(row) for row in self._d.get_keyboard_mapping(self._min_kc, count)]
        return self._keymap

    def _syms(self, keycode: int) -> list[int]:
        return self._map()[keycode - self._min_kc]

    def _keycodes_for(self, keysym: int, column: int = 0) -> list[int]:
        return [
            self._min_kc + i
            for i, row in enumerate(self._map())
            if column < len(row) and row[column] == keysym
        ]

    def _effective(self, keycode: int, shift: bool, level3: bool) -> int:
        """The keysym ``keycode`` types with the given modifier state (XKB-like fallback)."""
        syms = self._syms(keycode)
        col = (4 if level3 else 0) + (1 if shift else 0)
        sym = syms[col] if col < len(syms) else 0
        if sym == 0 and shift:
            sym = syms[col - 1] if col - 1 < len(syms) else 0
        if sym == 0:
            sym = syms[0] if syms else 0
        return sym

    def _held(self, keysyms: frozenset[int]) -> list[int]:
        return [kc for kc in self._pressed.values() if self._syms(kc)[0] in keysyms]

    # -- keys -------------------------------------------------------------------------

    def key_event(self, keysym: int, down: bool) -> bool:
        """Press (``down``) or release ``keysym`` as an RFB KeyEvent asks.

        Returns False when dropped: the sink is disabled, the key is released without
        having been pressed, or no keycode could be found or freed for it.
        """
        with self._lock:
            if not self._enabled or self._closed:
                return False
            self._poll()
            if not down:
                keycode = self._pressed.pop(keysym, None)
                if keycode is None:
                    return False
                self._fake(self._X.KeyRelease, keycode)
                self._d.flush()
                return True
            if keysym in self._pressed:  # auto-repeat from the viewer: release first
                self._fake(self._X.KeyRelease, self._pressed.pop(keysym))
            done = self._press(keysym)
            self._d.flush()
            return done

    def _press(self, keysym: int) -> bool:
        sym = normalize_keysym(keysym)
        shift = bool(self._held(_SHIFTS))
        level3 = bool(self._held(frozenset({ks.ISO_Level3_Shift})))
        if sym in ks.MODIFIERS:
            codes = self._keycodes_for(sym)
            if codes:
                return self._press_plain(keysym, codes[0])
        # A key that already types sym with the modifiers held as they are.
        for column, _, _ in _COLUMNS:
            for kc in self._keycodes_for(sym, column):
                if self._effective(kc, shift, level3) == sym:
                    return self._press_plain(keysym, kc)
        # A key that types sym with Shift and/or AltGr changed for the moment.
        for column, need_shift, need_level3 in _COLUMNS:
            for kc in self._keycodes_for(sym, column):
                if self._press_with_level(keysym, kc, need_shift, need_level3):
                    return True
        spare = self._bind_spare(sym)
        if spare is None:
            log.warning("no spare keycode for keysym 0x%x; key dropped", sym)
            return False
        return self._press_plain(keysym, spare)

    def _press_plain(self, keysym: int, keycode: int) -> bool:
        self._fake(self._X.KeyPress, keycode)
        self._pressed[keysym] = keycode
        return True

    def _press_with_level(self, keysym: int, keycode: int, shift: bool, level3: bool) -> bool:
        """Press ``keycode`` with Shift/AltGr faked to the wanted state, then restore them."""
        undo: list[tuple[int, int]] = []  # (event type, keycode) to replay afterwards
        for want, mods in ((shift, _SHIFTS), (level3, frozenset({ks.ISO_Level3_Shift}))):
            held = self._held(mods)
            if want and not held:
                codes = [c for m in sorted(mods) for c in self._keycodes_for(m)]
                if not codes:
                    self._replay(undo)
                    return False
                self._fake(self._X.KeyPress, codes[0])
                undo.append((self._X.KeyRelease, codes[0]))
            elif not want and held:
                for kc in held:
                    self._fake(self._X.KeyRelease, kc)
                    undo.append((self._X.KeyPress, kc))
        self._fake(self._X.KeyPress, keycode)
        self._pressed[keysym] = keycode
        self._replay(undo)
        return True

    def _replay(self, undo: list[tuple[int, int]]) -> None:
        for event_type, kc in reversed(undo):
            self._fake(event_type, kc)

    def _bind_spare(self, sym: int) -> int | None:
        """Bind ``sym`` to an unused keycode on every level, reusing the least recent one."""
        if sym in self._remapped:
            self._remapped.move_to_end(sym)
            return self._remapped[sym]
        in_use = set(self._pressed.values())
        free = [
            kc
            for kc in range(self._max_kc, self._min_kc - 1, -1)
            if not any(self._syms(kc)) and kc not in in_use
        ]
        if free:
            keycode = free[0]
        else:
            victims = [s for s, kc in self._remapped.items() if kc not in in_use]
            if not victims:
                return None
            keycode = self._remapped.pop(victims[0])
        width = len(self._syms(keycode))
        self._d.change_keyboard_mapping(keycode, [[sym] * width])
        self._d.sync()
        self._map()[keycode - self._min_kc] = [sym] * width
        self._remapped[sym] = keycode
        return keycode

    # -- pointer ----------------------------------------------------------------------

    def pointer_event(self, x: int, y: int, button_mask: int) -> bool:
        """Move the pointer to ``(x, y)`` relative to :attr:`origin`, then press or release
        the buttons whose bit in ``button_mask`` changed (bit ``n`` is X button ``n + 1``,
        so the wheel bits 3 and 4 become buttons 4 and 5).  Returns False if disabled."""
        with self._lock:
            if not self._enabled or self._closed:
                return False
            if (x, y) != self._pos:
                self._fake(self._X.MotionNotify, 0, x=self.origin[0] + x, y=self.origin[1] + y)
                self._pos = (x, y)
            changed = (button_mask ^ self._mask) & ((1 << MASK_BITS) - 1)
            for bit in range(MASK_BITS):
                if changed & (1 << bit):
                    down = bool(button_mask & (1 << bit))
                    self._fake(self._X.ButtonPress if down else self._X.ButtonRelease, bit + 1)
            self._mask = button_mask & ((1 << MASK_BITS) - 1)
            self._d.flush()
            return True

    # -- lifecycle --------------------------------------------------------------------

    def _release_all(self) -> None:
        for keycode in reversed(list(self._pressed.values())):
            self._fake(self._X.KeyRelease, keycode)
        self._pressed.clear()
        for bit in range(MASK_BITS):
            if self._mask & (1 << bit):
                self._fake(self._X.ButtonRelease, bit + 1)
        self._mask = 0
        self._d.sync()

    def sync(self) -> None:
        """Wait until the X server has processed every event sent so far."""
        with self._lock:
            self._d.sync()

    def _disconnect(self) -> None:
        """Unbind the spare keycodes and disconnect (closing, after the release)."""
        for keycode in self._remapped.values():
            width = len(self._syms(keycode))
            self._d.change_keyboard_mapping(keycode, [[0] * width])
        self._remapped.clear()
        self._d.sync()
        self._d.close()

    def _fake(self, event_type: int, detail: int, x: int = 0, y: int = 0) -> None:
        self._xtest.fake_input(self._d, event_type, detail, x=x, y=y)
