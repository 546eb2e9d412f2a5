"""The shape of an API client's token, and the keyed hash stored for it.

``concord_<partnership>_<lookup>_<secret>``: a fixed prefix that secret scanners can match, the
partnership's slug (a token says where it belongs, and another host refuses it before any
query), 12 characters that find the row, and 40 random base62 characters (about 238 bits) that
prove it. Only ``token_digest`` is stored: HMAC-SHA256 over the schema and the whole token,
keyed by the environment (``concord.crypto.keyed_hash``), so a copy of the database alone cannot
check a guess, and a row copied into another schema matches nothing.
"""

from __future__ import annotations

import hmac
import secrets
import string

from django.db import connection

from concord.crypto import keyed_hash, keyed_hashes

PURPOSE = "api-client-token"
TOKEN_PREFIX = "concord"  # noqa: S105 - the public prefix secret scanners match, not a secret
LOOKUP_LENGTH = 12
SECRET_LENGTH = 40
ALPHABET = string.ascii_letters + string.digits  # base62: no "_", which separates the parts


def token_parts(token: str) -> tuple[str, str] | None:
    """(slug, lookup) of a well-formed token, else None."""
    head, _, rest = token.partition("_")
    parts = rest.rsplit("_", 2)
    if head != TOKEN_PREFIX or len(parts) != 3:
        return None
    slug, lookup, secret = parts
    well_formed = (
        bool(slug)
        and len(lookup) == LOOKUP_LENGTH
        and len(secret) == SECRET_LENGTH
        and all(c in ALPHABET for c in lookup + secret)
    )
    return (slug, lookup) if well_formed else None


def token_digest(token: str) -> str:
    """The keyed hash stored for a new ``token`` in the current schema (under the first key)."""
    return keyed_hash(f"{connection.schema_name}:{token}", purpose=PURPOSE)


def token_matches(token: str, digest: str) -> bool:
    """Whether ``digest`` is ``token``'s under any of the keys (a key rotation keeps tokens
    working), each compared in constant time."""
    found = False
    for candidate in keyed_hashes(f"{connection.schema_name}:{token}", purpose=PURPOSE):
        found |= hmac.compare_digest(candidate, digest)
    return found


def token_new() -> tuple[str, str]:
    """(lookup, token) of a new random token of the current partnership."""
    lookup = _random(LOOKUP_LENGTH)
    return lookup, f"{TOKEN_PREFIX}_{connection.schema_name}_{lookup}_{_random(SECRET_LENGTH)}"


def _random(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))
