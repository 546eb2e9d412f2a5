"""Strict readers of environment variables.

Every reader names the variable in its error, so a malformed value stops
start-up with a message that says what to fix. Nothing here has a working
default for a secret outside development: callers pass ``default`` only where
a default is safe.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_MISSING = object()
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class EnvError(ImproperlyConfigured):
    """A variable is missing or malformed; the message names it."""


def _raw(name: str, default):
    value = os.environ.get(name)
    if value is None or value == "":
        if default is _MISSING:
            raise EnvError(f"{name} must be set")
        return default
    return value


def env_str(name: str, default=_MISSING) -> str:
    return _raw(name, default)


def env_bool(name: str, default=_MISSING) -> bool:
    value = _raw(name, default)
    if isinstance(value, bool):
        return value
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise EnvError(f"{name} must be true or false (got {value!r})")


def env_int(name: str, default=_MISSING, *, minimum: int | None = None, maximum: int | None = None) -> int:
    value = _raw(name, default)
    if isinstance(value, int):
        number = value
    else:
        try:
            number = int(value.strip(), 10)
        except ValueError:
            raise EnvError(f"{name} must be a whole number (got {value!r})") from None
    if minimum is not None and number < minimum:
        raise EnvError(f"{name} must be at least {minimum} (got {number})")
    if maximum is not None and number > maximum:
        raise EnvError(f"{name} must be at most {maximum} (got {number})")
    return number


def env_choice(name: str, choices: tuple[str, ...], default=_MISSING) -> str:
    value = _raw(name, default).strip()
    if value not in choices:
        raise EnvError(f"{name} must be one of {', '.join(choices)} (got {value!r})")
    return value


def env_port(name: str, default=_MISSING) -> str:
    """A TCP port, or empty for the scheme's default."""
    value = _raw(name, default)
    if value == "":
        return ""
    return str(env_int(name, value, minimum=1, maximum=65535))


def env_list(name: str, default=_MISSING) -> list[str]:
    value = _raw(name, default)
    if isinstance(value, list):
        return value
    return [item.strip() for item in value.split(",") if item.strip()]


def env_networks(name: str, default=_MISSING) -> list[str]:
    """IP addresses and networks (CIDR), comma-separated, each normalised (``10.0.0.0/8``,
    ``2001:db8::/32``; a bare address is its own /32 or /128). A malformed one is named."""
    import ipaddress

    networks = []
    for item in env_list(name, default):
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise EnvError(f"{name} must be IP addresses or networks such as 10.0.0.0/8, comma-separated "
                           f"(got {item!r})") from None  # fmt: skip
    return networks


_HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")


def env_hostname(name: str, default=_MISSING) -> str:
    value = _raw(name, default).strip().lower()
    if not _HOSTNAME.match(value):
        raise EnvError(f"{name} must be a bare host name such as concord.example.org (got {value!r})")
    return value


def env_url(name: str, default=_MISSING, *, schemes: tuple[str, ...] = ("http", "https")) -> str | None:
    value = _raw(name, default)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.hostname:
        allowed = " or ".join(schemes)
        raise EnvError(f"{name} must be a {allowed} URL with a host (got a value that is not)")
    try:
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise EnvError(f"{name} has a malformed port") from None
    return value


@dataclass(frozen=True)
class DatabaseURL:
    name: str
    user: str
    password: str
    host: str
    port: int
    options: dict[str, str]

    def django(self, **extra) -> dict:
        config = {
            "ENGINE": "concord.tenant_postgresql",  # django-tenants', switching role with the schema
            "NAME": self.name,
            "USER": self.user,
            "PASSWORD": self.password,
            "HOST": self.host,
            "PORT": str(self.port),
            "OPTIONS": dict(self.options),
        }
        config.update(extra)
        return config


def env_database_url(name: str, default=_MISSING) -> DatabaseURL:
    """Parse ``postgres://user:password@host:port/dbname?sslmode=require``.

    A host may be a socket directory given URL-encoded (``%2Frun%2Fpostgresql``).
    Values are never echoed in errors: a URL can carry a password.
    """
    value = _raw(name, default)
    parts = urlsplit(value)
    if parts.scheme not in ("postgres", "postgresql"):
        raise EnvError(f"{name} must start with postgres:// or postgresql://")
    try:
        port = parts.port or 5432
    except ValueError:
        raise EnvError(f"{name} has a malformed port") from None
    database = unquote(parts.path.lstrip("/"))
    if not database or "/" in database:
        raise EnvError(f"{name} must name one database after the host, e.g. postgres://host:5432/concord")
    host = unquote(parts.netloc.rsplit("@", 1)[-1].rsplit(":", 1)[0]) if parts.netloc else ""
    if not host:
        raise EnvError(f"{name} must name a host (or a URL-encoded socket directory)")
    allowed_options = {"sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout", "application_name"}
    options = dict(parse_qsl(parts.query, keep_blank_values=False, strict_parsing=False))
    unknown = set(options) - allowed_options
    if unknown:
        raise EnvError(f"{name} has unsupported options: {', '.join(sorted(unknown))}")
    return DatabaseURL(
        name=database,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        host=host,
        port=port,
        options=options,
    )


def env_fernet_keys(name: str, default=_MISSING) -> list[str]:
    """One or more Fernet keys, comma-separated (the first encrypts; all decrypt)."""
    import base64
    import binascii

    keys = env_list(name, default)
    if not keys:
        raise EnvError(f"{name} must hold at least one key")
    for key in keys:
        try:
            valid = len(base64.urlsafe_b64decode(key.encode())) == 32
        except (binascii.Error, ValueError):
            valid = False
        if not valid:
            raise EnvError(f"{name} must be Fernet keys (32 bytes, URL-safe base64), comma-separated")
    return keys
