"""The applet link: one WebSocket multiplexing a JSON control channel and RFB channels.

Shared by the applet and the server; pure framing and flow-control arithmetic.
"""
