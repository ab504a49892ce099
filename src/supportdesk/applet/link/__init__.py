"""The program's end of the link to the bank's server: dialling and keeping the link, the
consent exchange, the relay's messages checked and followed, one RFB session per channel
the relay opens, and each channel's bytes written within the relay's credit.

The link's wire format is shared with the relay (``supportdesk.link``); this is what the
program does with it. ``client.AppletLink`` is the entry point.
"""
