"""The server's one secret and the purpose-bound keys derived from it.

Support-key digests, pseudonyms of client addresses and customer names all need a
key the database does not hold, so that a copy of the database alone reveals none
of them. One secret, from configuration or a file created on first start (by default
in ``key_dir``, apart from the database: ``config/settings.py``), feeds them all through HMAC
with a label per purpose.

The customer's name, while a session is live, is kept in the database sealed
(AES-256-GCM, bound to the consultation number) so another node can show it to the
agent after a take-over; the row forgets it when the session ends.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from supportdesk.config import Settings

SECRET_BYTES = 32


def load_or_create_secret(settings: Settings) -> bytes:
    config = settings.security
    if config.secret_key:
        return bytes.fromhex(config.secret_key)
    # config/settings.py names the file: <key_dir>/secret.key unless set (or, for an older
    # install, the one still in data_dir).
    path = config.secret_key_file or settings.key_dir / "secret.key"
    if path.exists():
        raw = bytes.fromhex(path.read_text("ascii").strip())
        if len(raw) < SECRET_BYTES:
            raise ValueError(f"{path}: the secret must be at least {SECRET_BYTES} bytes")
        return raw
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    raw = secrets.token_bytes(SECRET_BYTES)
    # Created readable by the owner only; O_EXCL so two starting nodes cannot race.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(raw.hex() + "\n")
    return raw


@dataclass(frozen=True)
class ServerKeys:
    """Keys for each purpose, derived from the server secret."""

    support_key_pepper: bytes
    pseudonym_key: bytes
    token_key: bytes
    name_key: bytes

    @classmethod
    def derive(cls, secret: bytes) -> ServerKeys:
        def key(label: str) -> bytes:
            return hmac.new(secret, f"supportdesk/{label}/v1".encode(), hashlib.sha256).digest()

        return cls(key("support-key-pepper"), key("pseudonym"), key("token"), key("live-name"))

    @classmethod
    def from_settings(cls, settings: Settings) -> ServerKeys:
        return cls.derive(load_or_create_secret(settings))

    def token_digest(self, token: str) -> str:
        """Digest of a random bearer token (login session id, join token)."""
        return hmac.new(self.token_key, token.encode(), hashlib.sha256).hexdigest()

    def seal(self, text: str, context: str) -> str:
        """``text`` encrypted and bound to ``context`` (a consultation number)."""
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(self.name_key).encrypt(nonce, text.encode(), context.encode())
        return base64.urlsafe_b64encode(nonce + sealed).decode()

    def unseal(self, sealed: str, context: str) -> str | None:
        """What :meth:`seal` sealed for ``context``; None if it was not (tampered,
        another context, another server secret)."""
        try:
            raw = base64.urlsafe_b64decode(sealed.encode())
            plain = AESGCM(self.name_key).decrypt(raw[:12], raw[12:], context.encode())
        except (InvalidTag, ValueError):
            return None
        return plain.decode()
