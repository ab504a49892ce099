"""The program's screen, served: capture loops (woken by X damage, or polling), the
masks painted into every captured frame before anything else sees it, and one RFB
session per channel over a byte-stream pair.

Nothing here knows the link: ``link/channels.py`` opens a session per channel the
relay opens and hands it its streams (``streams.py``).
"""
