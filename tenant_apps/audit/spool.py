"""A durable local spool for audit events that a read-only database refused.

Reading a record is audited (``profile.viewed``, ``case.viewed``) and reads must keep
working while the database refuses writes (a standby after a fail-over, a disk made
read-only). Neither may be dropped, so an event the database refuses *because it is
read-only* is written here instead and inserted later, in its own schema:

- **Where.** ``AUDIT_SPOOL_DIR`` (mode 0700), one file per process:
  ``<host>-<pid>.jsonl`` (mode 0600). The file holds what the audit table holds, no
  more: no secret ever reaches an event (``audit_record``'s rules).
- **Format.** One JSON object per line, ``{"v": 1, "schema": "suffolk", "event":
  {column: value, ...}}``: every column of ``AuditEvent`` but ``id`` and the chain's
  (``seq``, ``prev_hash``, ``hash``: given when the event is chained at replay). Each line is
  written by one ``write`` under an exclusive ``flock`` and ``fsync``-ed (and the
  folder too) before the request goes on: once the page is shown, the event is on disk.
- **Replay.** ``replay_spool()`` locks every spool file, inserts all their events in
  the order they happened (``occurred_at``) in one transaction, each at the end of its
  schema's hash chain (``chain.chain_append``),
  then removes the files. An event already in the table (same time, action, actor and
  object: a replay interrupted after its commit) is not inserted twice. It runs after
  the next successful audit write of a process that spooled (after the commit when in a
  transaction), and every minute as the periodic job ``audit_spool_replay``, which also
  picks up the files of processes that have exited. That job sees only its own
  machine's folder: run a worker on every web host, or give them a shared folder.
- **Only read-only refusals**, and only outside a transaction: an event refused inside
  a transaction fails that transaction (the work it describes is rolled back with it),
  and any other database error is raised as before.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
from pathlib import Path

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, connection, transaction
from django.utils.dateparse import parse_datetime
from django_tenants.utils import schema_context

from concord.jobs import check_schema
from concord.postgresql.faults import database_fault, is_read_only
from tenant_apps.audit import chain
from tenant_apps.audit.models import AuditEvent

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
_pending = False  # this process has spooled events not yet replayed


def spoolable(exc: BaseException) -> bool:
    """The database refused an audit write only because it is read-only, outside a transaction."""
    return is_read_only(exc) and not connection.in_atomic_block


def spool_event(event) -> None:
    """Append ``event`` (an unsaved ``AuditEvent``) to this process's spool file, durably."""
    global _pending
    record = {"v": FORMAT_VERSION, "schema": connection.schema_name, "event": _columns(event)}
    line = (json.dumps(record, cls=DjangoJSONEncoder, separators=(",", ":")) + "\n").encode()
    directory = _directory()
    path = directory / f"{socket.gethostname()}-{os.getpid()}.jsonl"
    while True:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if os.fstat(fd).st_nlink == 0:
                continue  # replayed and removed between our open and our lock: start a new file
            os.write(fd, line)
            os.fsync(fd)
            break
        finally:
            os.close(fd)
    _fsync_directory(directory)
    _pending = True
    logger.warning("audit: database read-only; event %s spooled for %s", event.action, connection.schema_name)


def replay_soon() -> None:
    """After a successful audit write: replay this process's spool, if it has one (cheap if not)."""
    if not _pending:
        return
    if connection.in_atomic_block:
        transaction.on_commit(_replay_quietly)
    else:
        _replay_quietly()


def _replay_quietly() -> None:
    try:
        replay_spool()
    except DatabaseError as exc:
        if database_fault(exc) is None:
            raise
        logger.warning("audit: spool not replayed yet (database %s)", database_fault(exc))


def replay_spool() -> int:
    """Insert every spooled event into its schema, in order, then remove the spool files.

    Returns how many events were inserted. Safe to run in several processes at once
    (the files are locked) and again after an interruption (no event twice).
    """
    global _pending
    directory = _directory()
    held: list[tuple[Path, int]] = []
    records = []
    try:
        for path in sorted(directory.glob("*.jsonl")):
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue  # another replayer removed it
            held.append((path, fd))
            fcntl.flock(fd, fcntl.LOCK_EX)
            if os.fstat(fd).st_nlink == 0:
                continue
            with os.fdopen(os.dup(fd), "rb") as stream:
                for number, raw in enumerate(stream, 1):
                    if raw.strip():
                        records.append(_parse(raw, path, number))
        if not held:
            _pending = False
            return 0
        records.sort(key=lambda record: record[1]["occurred_at"])
        inserted = 0
        with transaction.atomic():
            for schema_name, columns in records:
                with schema_context(check_schema(schema_name)):
                    same = {k: columns[k] for k in ("occurred_at", "action", "actor_id", "object_type", "object_id")}
                    if not AuditEvent.objects.filter(**same).exists():
                        chain.chain_append(AuditEvent(**columns))  # chained in replay order
                        inserted += 1
        for path, fd in held:
            if os.fstat(fd).st_nlink:
                os.unlink(path)
        _fsync_directory(directory)
        _pending = False
        if records:
            logger.info("audit: %d spooled event(s) replayed (%d already present)", inserted, len(records) - inserted)
        return inserted
    finally:
        for _, fd in held:
            os.close(fd)


def _columns(event) -> dict:
    columns = {field.attname: field.value_from_object(event) for field in event._meta.concrete_fields}
    for link in ("id", "seq", "prev_hash", "hash", "chain_version"):  # the chain's columns are given at replay
        columns.pop(link, None)
    columns["occurred_at"] = event.occurred_at.isoformat()  # to the microsecond (DjangoJSONEncoder cuts to ms)
    return columns


def _parse(raw: bytes, path: Path, number: int) -> tuple[str, dict]:
    try:
        record = json.loads(raw)
        if record.get("v") != FORMAT_VERSION:
            raise ValueError(f"format version {record.get('v')!r}")
        columns = dict(record["event"])
        columns["occurred_at"] = parse_datetime(columns["occurred_at"])
        return record["schema"], columns
    except (ValueError, KeyError, TypeError) as exc:
        # Never drop an event silently: stop, and leave the file for a person to look at.
        raise RuntimeError(f"audit spool {path.name} line {number} cannot be read ({exc}); nothing replayed") from exc


def _directory() -> Path:
    directory = Path(settings.AUDIT_SPOOL_DIR)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return directory


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
