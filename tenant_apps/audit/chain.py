"""The audit trail's hash chain: every schema's events, linked and keyed, so that tampering shows.

**The chain.** In each schema (every partnership's, and public's for operators) the events form
one chain: ``seq`` is 1, 2, 3... with no gap, ``prev_hash`` is the previous event's ``hash``
(the first event's is the schema's *genesis*, ``HMAC(key, "concord-audit-genesis:<schema>")``,
so a chain copied from another schema does not verify), and

    hash = hex(HMAC-SHA256(AUDIT_CHAIN_KEY, canonical form))

**The canonical form** (version 1) is the UTF-8 JSON object of every stored column except
``hash``: ``action, actor_id, actor_label, changes, id, ip_address, object_id, object_type,
occurred_at, prev_hash, seq, summary, user_agent``, written with sorted keys (nested objects
too), separators ``,`` and ``:`` and ASCII escapes (``json.dumps(..., sort_keys=True,
separators=(",", ":"), ensure_ascii=True)``), where

- ``occurred_at`` is ISO 8601 in UTC to the microsecond: ``2026-12-03T12:47:28.123456Z``;
- ``ip_address`` is the address as Python's ``ipaddress`` writes it (``::1``, ``10.0.0.7``) or null;
- ``changes`` is the JSON value as stored (null when there are none); ``actor_id`` a number or null;
- every other column is its text or number as stored.

**The key** is ``AUDIT_CHAIN_KEY``, read from the environment only (``concord.settings``) and
never stored in the database: whoever can write the database but lacks the key cannot make a
row that verifies.

**Writing** (``chain_append``): the schema's one head row (``audit_chainhead``) is locked
``SELECT ... FOR UPDATE`` in the writer's transaction, the hash computed in Python, then ONE
statement inserts the event and moves the head. Two round trips per event. The lock is held
until the writer's transaction ends, so concurrent writers of one partnership queue on it
(never a fork) and a rollback undoes the event and the head together (never a gap). The cost:
a partnership's audited transactions are serialised from their first audit write to their
commit (audit writes are the last step of our services, so that span is short; other
partnerships never wait). An event recorded apart while the caller's own transaction holds the
head is kept in ``audit_heldevent`` (committed) and chained later (``chain_drain_held``).

**Anchors** (``shared_apps.audit_anchors``): a periodic job copies each active partnership's
last (seq, hash) into an append-only public table when it has moved.

**Verifying** (``chain_verify``; ``manage.py audit_verify``): every event is re-hashed in seq
order, in batches, checking seq continuity, the prev_hash links, every hash, then that the
latest anchor is still in the chain and that the head agrees. Detected: an edited, deleted,
inserted or reordered event; events removed from the end (up to the latest anchor: shorter
than an anchor, or by the head); a rewrite without the key (anywhere); a rewrite of the whole
chain with the key (the anchor's hash no longer matches). Not detected: someone with the key
and write access rewriting, or removing, only the events *after the latest anchor* and
fixing the head (the anchor is the boundary: anchor often), nor an event never written.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

CANONICAL_VERSION = 1
VERIFY_BATCH = 5000
# The stored columns, in insert order; the canonical form holds them all (and not ``hash``).
COLUMNS = (
    "id", "occurred_at", "actor_id", "actor_label", "ip_address", "user_agent", "action",
    "object_type", "object_id", "summary", "changes", "seq", "prev_hash",
)  # fmt: skip
_held_schemas: set[str] = set()  # schemas where this process left events held (``chain_drain_held``)


def _key() -> bytes:
    return settings.AUDIT_CHAIN_KEY.encode()


def genesis(schema_name: str, *, key: bytes | None = None) -> str:
    """The first event's ``prev_hash`` in ``schema_name``."""
    return hmac.new(key or _key(), f"concord-audit-genesis:{schema_name}".encode(), hashlib.sha256).hexdigest()


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _ip(value) -> str | None:
    return None if value in (None, "") else str(ipaddress.ip_address(str(value)))


def canonical(columns: dict) -> bytes:
    """The canonical form (module docstring) of an event's stored ``columns``."""
    form = {name: columns[name] for name in COLUMNS}
    form["occurred_at"] = _utc(form["occurred_at"])
    form["ip_address"] = _ip(form["ip_address"])
    return json.dumps(form, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def event_hash(columns: dict, *, key: bytes | None = None) -> str:
    """``hash`` of an event whose stored columns (``seq`` and ``prev_hash`` included) are ``columns``."""
    return hmac.new(key or _key(), canonical(columns), hashlib.sha256).hexdigest()


def _stored_json(changes) -> str | None:
    return None if changes is None else json.dumps(changes, cls=DjangoJSONEncoder)


# --- Writing ---------------------------------------------------------------------------------

_LOCK_HEAD = (
    "SELECT seq, hash, nextval(pg_get_serial_sequence('audit_auditevent', 'id')), txid_current() "
    "FROM audit_chainhead WHERE id = 1 FOR UPDATE"
)
# The head of a schema with no head row yet (new, or migrated empty): made from its last event.
_MAKE_HEAD = (
    "INSERT INTO audit_chainhead (id, seq, hash) "
    "SELECT 1, COALESCE(max(seq), 0), COALESCE((SELECT hash FROM audit_auditevent ORDER BY seq DESC LIMIT 1), %s) "
    "FROM audit_auditevent ON CONFLICT (id) DO NOTHING"
)
_INSERT = (
    "WITH event AS (INSERT INTO audit_auditevent "
    f"({', '.join(COLUMNS)}, hash) VALUES (%s, %s, %s, %s, %s::inet, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s) "
    "RETURNING id) "
    "UPDATE audit_chainhead SET seq = %s, hash = %s WHERE id = 1 AND EXISTS (SELECT 1 FROM event)"
)


def chain_append(event) -> None:
    """Insert ``event`` (an unsaved ``AuditEvent``) at the end of the current schema's chain,
    in the caller's transaction (or a transaction of its own outside one). Sets its ``id``,
    ``seq``, ``prev_hash`` and ``hash``. Two round trips; the head stays locked until the
    caller's transaction ends."""
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        if _held_schemas and connection.schema_name in _held_schemas:
            _drain(cursor)
        _append(cursor, event)


def _lock_head(cursor) -> tuple[int, str, int]:
    cursor.execute(_LOCK_HEAD)
    row = cursor.fetchone()
    if row is None:
        cursor.execute(_MAKE_HEAD, [genesis(connection.schema_name)])
        cursor.execute(_LOCK_HEAD)
        row = cursor.fetchone()
    seq, prev_hash, new_id, xid = row
    connection.audit_chain_xid = (connection.schema_name, xid)  # audit_record_apart: "do I hold it?"
    return seq, prev_hash, new_id


def _append(cursor, event) -> None:
    seq, prev_hash, new_id = _lock_head(cursor)
    if event.occurred_at is None:
        event.occurred_at = timezone.now()
    stored_changes = _stored_json(event.changes)
    event.id, event.seq, event.prev_hash = new_id, seq + 1, prev_hash
    columns = {name: getattr(event, name) for name in COLUMNS}
    columns["changes"] = None if stored_changes is None else json.loads(stored_changes)
    event.hash = event_hash(columns)
    values = [getattr(event, name) for name in COLUMNS]
    values[COLUMNS.index("changes")] = stored_changes
    values[COLUMNS.index("ip_address")] = _ip(event.ip_address)
    cursor.execute(_INSERT, [*values, event.hash, event.seq, event.hash])


def holds_head(own) -> bool:
    """Whether the connection ``own``'s current transaction holds its schema's chain head
    (one query; only ``audit_record_apart`` asks)."""
    mark = getattr(own, "audit_chain_xid", None)
    if not own.in_atomic_block or mark is None or mark[0] != own.schema_name:
        return False
    with own.cursor() as cursor:
        cursor.execute("SELECT txid_current_if_assigned()")
        return cursor.fetchone()[0] == mark[1]


def held_record(event) -> None:
    """Keep ``event`` in the current schema's ``audit_heldevent`` (committed by the caller's
    connection): chained later by ``chain_drain_held``."""
    from tenant_apps.audit.models import HeldEvent

    HeldEvent.objects.create(
        occurred_at=event.occurred_at or timezone.now(),
        **{name: getattr(event, name) for name in COLUMNS[2:11]},
    )
    _held_schemas.add(connection.schema_name)


def chain_drain_held() -> int:
    """Move the current schema's held events into its chain, oldest first; returns how many."""
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        return _drain(cursor)


def drain_held_soon() -> None:
    """After a request: chain what this process held in the current schema (cheap if nothing)."""
    if _held_schemas and connection.schema_name in _held_schemas:
        chain_drain_held()


def _drain(cursor) -> int:
    from tenant_apps.audit.models import AuditEvent

    schema = connection.schema_name
    cursor.execute(
        "DELETE FROM audit_heldevent RETURNING occurred_at, actor_id, actor_label, host(ip_address), user_agent, "
        "action, object_type, object_id, summary, changes::text, id"
    )
    rows = sorted(cursor.fetchall(), key=lambda row: row[-1])
    for row in rows:
        event = AuditEvent(occurred_at=row[0], **dict(zip(COLUMNS[2:10], row[1:9], strict=True)))
        event.changes = None if row[9] is None else json.loads(row[9])
        _append(cursor, event)
    # Forgotten at once: if this transaction rolls back, the rows are back in the table and the
    # periodic job (``jobs.audit_spool_replay``) chains them within a minute.
    _held_schemas.discard(schema)
    return len(rows)


# --- Verifying -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainReport:
    """The outcome of verifying one schema's chain."""

    schema_name: str
    ok: bool
    events: int  # events verified (all of them when ok; those before the first broken one else)
    up_to: int  # the last good event's seq
    problem: str  # the first broken row and why, or ""
    verified_at: datetime

    def line(self) -> str:
        if self.ok:
            return f"{self.schema_name}: verified {self.events:,} events up to #{self.up_to}"
        return f"{self.schema_name}: {self.problem}"


_READ = (
    f"SELECT {', '.join(c for c in COLUMNS if c not in ('ip_address', 'changes'))}, "
    "host(ip_address), changes::text, hash FROM audit_auditevent WHERE seq > %s ORDER BY seq LIMIT %s"
)
_READ_NAMES = [c for c in COLUMNS if c not in ("ip_address", "changes")] + ["ip_address", "changes", "hash"]


def chain_verify(schema_name: str, *, key: bytes | None = None) -> ChainReport:
    """Verify ``schema_name``'s chain against its latest anchor; record and return the result.

    Call it from the public context (it reads the anchors there, then enters the schema)."""
    from django_tenants.utils import schema_context

    from shared_apps.audit_anchors.selectors import anchor_latest

    anchor = anchor_latest(schema_name=schema_name)
    with schema_context(schema_name):
        report = _verify_here(schema_name, anchor, key=key or _key())
        _record(report)
    return report


def _when(value: datetime) -> str:
    return timezone.localtime(value, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _verify_here(schema_name: str, anchor, *, key: bytes) -> ChainReport:
    from tenant_apps.audit.models import ChainHead

    now = timezone.now()

    def broken(problem: str, events: int, up_to: int) -> ChainReport:
        return ChainReport(schema_name, False, events, up_to, problem, now)

    previous_hash, expected, count, anchored_hash = genesis(schema_name, key=key), 1, 0, None
    with connection.cursor() as cursor:
        while True:
            cursor.execute(_READ, [expected - 1, VERIFY_BATCH])
            rows = cursor.fetchall()
            for row in rows:
                columns = dict(zip(_READ_NAMES, row, strict=True))
                columns["changes"] = None if columns["changes"] is None else json.loads(columns["changes"])
                seq, event_id = columns["seq"], columns["id"]
                name = f"event #{seq} (id {event_id})"
                if seq != expected:
                    missing = f"event #{expected} is missing" if seq == expected + 1 else (
                        f"events #{expected} to #{seq - 1} are missing")  # fmt: skip
                    return broken(f"{name}: {missing} (removed or renumbered)", count, expected - 1)
                if columns["prev_hash"] != previous_hash:
                    what = "the chain's start" if seq == 1 else f"event #{seq - 1}"
                    return broken(f"{name}: does not follow {what} (prev_hash differs)", count, expected - 1)
                if not hmac.compare_digest(event_hash(columns, key=key), columns["hash"]):
                    return broken(f"{name}: hash does not match its content", count, expected - 1)
                if anchor is not None and seq == anchor.seq:
                    anchored_hash = columns["hash"]
                previous_hash, expected, count = columns["hash"], expected + 1, count + 1
            if len(rows) < VERIFY_BATCH:
                break
    last = expected - 1
    if anchor is not None:
        if last < anchor.seq:
            return broken(
                f"the chain ends at event #{last} but event #{anchor.seq} was anchored at {_when(anchor.anchored_at)}: "
                f"events were removed from the end",
                count, last,
            )  # fmt: skip
        if anchored_hash != anchor.hash:
            return broken(
                f"event #{anchor.seq} is not the event anchored at {_when(anchor.anchored_at)} (its hash differs): "
                f"the chain was rewritten",
                count, anchor.seq - 1,
            )  # fmt: skip
    head = ChainHead.objects.filter(pk=1).values_list("seq", "hash").first()
    if head is not None and head != (last, previous_hash):
        return broken(
            f"the chain ends at event #{last} but its head says #{head[0]}: events were removed from the end "
            f"or the head was changed",
            count, last,
        )  # fmt: skip
    return ChainReport(schema_name, True, count, last, "", now)


def _record(report: ChainReport) -> None:
    from tenant_apps.audit.models import ChainVerification

    ChainVerification.objects.update_or_create(
        pk=1,
        defaults={"verified_at": report.verified_at, "ok": report.ok, "events": report.events,
                  "up_to": report.up_to, "problem": report.problem},
    )  # fmt: skip


# --- Anchoring -------------------------------------------------------------------------------


def chain_last_link() -> tuple[int, str] | None:
    """The current schema's last committed event's (seq, hash), or None for an empty chain."""
    from tenant_apps.audit.models import AuditEvent

    return AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()


def chains_anchor_all() -> int:
    """Anchor each active partnership's chain head in public when it has moved; how many anchored.

    Runs in the public context; reads each head inside its schema, writes every anchor outside."""
    from django_tenants.utils import get_public_schema_name, schema_context

    from shared_apps.audit_anchors.selectors import anchor_latest
    from shared_apps.audit_anchors.services import anchor_record_for_partnership
    from tenants.models import Partnership

    anchored = 0
    schemas = Partnership.objects.filter(status=Partnership.Status.ACTIVE).exclude(
        schema_name=get_public_schema_name()
    ).values_list("schema_name", flat=True)  # fmt: skip
    for schema_name in list(schemas):
        with schema_context(schema_name):
            link = chain_last_link()
        if link is None:
            continue
        latest = anchor_latest(schema_name=schema_name)
        if latest is not None and latest.seq >= link[0]:
            continue
        anchor_record_for_partnership(schema_name=schema_name, seq=link[0], hash=link[1])
        anchored += 1
    return anchored
