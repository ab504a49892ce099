"""The errors of :mod:`supportdesk.transfer`, by whose fault they are: the peer's
(:class:`RemoteTransferError`: fail that transfer) or our caller's
(:class:`LocalTransferError`: a bug)."""

from __future__ import annotations


class TransferError(Exception):
    """Base of every error raised by :mod:`supportdesk.transfer`."""


class RemoteTransferError(TransferError):
    """The peer sent something the protocol does not allow: fail that transfer."""


class LocalTransferError(TransferError):
    """Our own caller asked for something the protocol does not allow: a bug."""


class InvalidMessage(RemoteTransferError, ValueError):
    """A ``file_*`` message with a missing, mistyped or out-of-range field."""
