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
    return _keyed_hash(value, purpose=purpose, key=settings.FIELD_ENCRYPTION_KEYS[0])


def keyed_hashes(value: str, *, purpose: str) -> list[str]:
    """``keyed_hash`` under each of ``FIELD_ENCRYPTION_KEYS``, the first key's first: a value
    stored under an older key still matches after a new key is put in front."""
    return [_keyed_hash(value, purpose=purpose, key=key) for key in settings.FIELD_ENCRYPTION_KEYS]


def _keyed_hash(value: str, *, purpose: str, key: str) -> str:
    derived = hashlib.sha256(f"{purpose}:{key}".encode()).digest()
    return hmac.new(derived, value.encode(), hashlib.sha256).hexdigest()
