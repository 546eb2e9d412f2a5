"""Key helpers that settings may import (no Django settings access here)."""

import base64
import hashlib


def development_key(seed: str) -> str:
    """A Fernet key derived from a development-only seed (never used in production)."""
    return base64.urlsafe_b64encode(hashlib.sha256(seed.encode()).digest()).decode()
