"""Mutation fuzzing of every parser an outsider can reach, with one invariant each.

Every input is accepted, or rejected with the target's documented clean error
(:class:`~supportdesk.rfb.errors.RemoteProtocolError`,
:class:`~supportdesk.link.frames.LinkProtocolError`, ...); anything else -- another
exception type, a broken invariant, a dead worker -- is counted against the target.
atheris is not installed here, so :mod:`fuzzing.mutator` is a small deterministic
mutation engine seeded from valid streams. Run ``python -m fuzzing --help``.
"""
