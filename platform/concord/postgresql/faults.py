"""What a database error means for the person waiting: unavailable, read-only, or neither.

- ``UNAVAILABLE``: no connection (refused, timed out, the pool's checkout timed out, the
  server shut down or terminated the connection). Try again in a minute.
- ``READ_ONLY``: the database refuses writes (a standby after fail-over, a full disk made
  read-only: SQLSTATE 25006). Reads work; changes cannot be saved.

Anything else (a constraint, a bug) is not a fault of the database: ``None``.
"""

from __future__ import annotations

import psycopg
from django.db import InterfaceError, OperationalError

UNAVAILABLE = "unavailable"
READ_ONLY = "read_only"


def _causes(exc: BaseException | None):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__  # Django wraps the driver's error: raise ... from psycopg_error


def is_read_only(exc: BaseException | None) -> bool:
    """The error (or what caused it) is PostgreSQL refusing a write in a read-only transaction."""
    return any(isinstance(e, psycopg.errors.ReadOnlySqlTransaction) for e in _causes(exc))


def database_fault(exc: BaseException | None) -> str | None:
    """``READ_ONLY``, ``UNAVAILABLE`` or ``None`` for an exception a request raised."""
    if is_read_only(exc):
        return READ_ONLY
    for e in _causes(exc):
        if isinstance(e, (OperationalError, InterfaceError, psycopg.OperationalError, psycopg.InterfaceError)):
            return UNAVAILABLE
    return None
