"""The exceptions the RFB core raises, split by whose fault the failure is.

Every failure of the protocol core is a :class:`ProtocolError`:

* :class:`RemoteProtocolError` -- the peer sent bytes that break RFC 6143 or
  one of our documented limits. The connection cannot continue: flush
  ``data_to_send()`` (it may hold a failure message for the peer) and close.
* :class:`LocalProtocolError` -- our own code asked for something the protocol
  does not allow in the current state (sending an update nobody asked for,
  resizing for a client that cannot be told). It is a bug in the caller.
"""

from __future__ import annotations

__all__ = ["LocalProtocolError", "ProtocolError", "RemoteProtocolError"]


class ProtocolError(Exception):
    """Base class of every error raised by :mod:`supportdesk.rfb`."""


class RemoteProtocolError(ProtocolError):
    """The peer violated the protocol or exceeded a limit; close the connection."""


class LocalProtocolError(ProtocolError):
    """We tried to do something the protocol forbids in the current state."""
