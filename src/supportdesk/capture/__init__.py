"""Customer-desktop side of a session: screen sources, damage detection, input sinks.

No network and no asyncio here; see docs/capture.md.
"""
