"""The customer's support applet: consent, capture and RFB serving, the active window, the receipt.

Nothing here listens on a port: the RFB stream runs over byte streams handed in by the
caller (a channel of the outbound link to the bank's server, or a test harness).
"""
