"""Encryption of secrets at rest (TOTP keys) with keys from the environment.

``FIELD_ENCRYPTION_KEYS`` holds one or more Fernet keys, comma-separated, the
first used to encrypt and all tried to decrypt, so keys can be rotated. Someone
with a copy of the database but not the environment cannot read the secrets.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def encrypt(value: bytes) -> str:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS)).encrypt(value).decode()


def decrypt(token: str) -> bytes:
    try:
        return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS)).decrypt(token.encode())
    except InvalidToken:
        raise ValueError("secret cannot be decrypted with FIELD_ENCRYPTION_KEYS") from None


def keyed_hash(value: str, *, purpose: str) -> str:
    """HMAC-SHA256 of a high-entropy value (a backup code), keyed by the environment."""
    key = hashlib.sha256(f"{purpose}:{settings.FIELD_ENCRYPTION_KEYS[0]}".encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
