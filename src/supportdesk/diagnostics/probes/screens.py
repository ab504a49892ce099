"""Probe: the screens the applet sees (count, sizes, positions), via mss."""

from __future__ import annotations

from typing import Any

import mss

from supportdesk.diagnostics.probe import JSONValue, Label, ProbeContext, ProbeResult


class ScreensProbe:
    name = "screens"
    label = Label("Bildschirme", "Screens")
    timeout = 5.0

    def run(self, context: ProbeContext) -> ProbeResult:
        try:
            with mss.MSS() as grabber:
                monitors: list[dict[str, Any]] = list(grabber.monitors[1:])
        except Exception as exc:  # mss raises ScreenShotError, or OSError without a display
            return ProbeResult.unavailable(
                Label(f"kein Bildschirm erreichbar: {exc}", f"no screen reachable: {exc}")
            )
        screens: list[JSONValue] = [
            {
                "index": index,
                "width": int(m["width"]),
                "height": int(m["height"]),
                "left": int(m["left"]),
                "top": int(m["top"]),
            }
            for index, m in enumerate(monitors)
        ]
        return ProbeResult.ok({"count": len(screens), "screens": screens})
