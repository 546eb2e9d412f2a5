"""The audit trail's hash chain: every schema's events, linked and keyed, so that tampering shows.

**The chain.** In each schema (every partnership's, and public's for operators) the events form
one chain: ``seq`` is 1, 2, 3... with no gap, ``prev_hash`` is the previous event's ``hash``
(the first event's is the schema's *genesis*, ``HMAC(key, "concord-audit-genesis:<schema>")``,
so a chain copied from another schema does not verify), and (version 2, ``chain_version``)

    mac  = hex(HMAC-SHA256(AUDIT_CHAIN_KEY, canonical form of the content))   (never stored)
    hash = hex(SHA-256("<prev_hash>|<seq>|<id>|<mac>"))

**The canonical form** of the content is the UTF-8 JSON object of what the event says:
``action, actor_id, actor_label, changes, ip_address, object_type, object_id, occurred_at,
summary, user_agent``, written with sorted keys (nested objects too), separators ``,`` and
``:`` and ASCII escapes (``json.dumps(..., sort_keys=True, separators=(",", ":"),
ensure_ascii=True)``), where

- ``occurred_at`` is ISO 8601 in UTC to the microsecond: ``2026-12-03T12:47:28.123456Z``;
- ``ip_address`` is the address as Python's ``ipaddress`` writes it (``::1``, ``10.0.0.7``) or null;
- ``changes`` is the JSON value as stored (null when there are none); ``actor_id`` a number or null;
- every other column is its text or number as stored.

The event's place (``prev_hash``, ``seq``, ``id``) is bound by the SHA-256 around the MAC. As
the MAC is never stored, nobody without the key can compute the hash of an edited, moved or
relinked event. Events of version 1 (written before 2026-12-03) keep their hash,
``hex(HMAC-SHA256(key, canonical form of every stored column but hash))``, and verify by it.

**The key** is ``AUDIT_CHAIN_KEY``, read from the environment only (``concord.settings``) and
never stored in the database, nor sent to it: whoever can write the database but lacks the key
cannot make a row that verifies.

**Writing** (``chain_append``): the MAC is computed in Python, then ONE statement takes the next
id, moves the schema's one head row (``audit_chainhead``: ``UPDATE`` computing the new hash
from the old head, in SQL) and inserts the event with the head's new values. One round trip
per event, and no Python while the head is locked. The row lock is held until the writer's
transaction ends, so concurrent writers of one partnership queue on it (never a fork: a waiter
re-reads the moved head) and a rollback undoes the event and the head together (never a gap).
The cost: a partnership's audited transactions are serialised from their first audit write to
their commit (audit writes are the last step of our services, so that span is short; other
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

CHAIN_VERSION = 2  # what chain_append writes; version 1 events (before 2026-12-03) still verify
VERIFY_BATCH = 5000
# The stored columns, in insert order (``hash`` and ``chain_version`` aside).
COLUMNS = (
    "id", "occurred_at", "actor_id", "actor_label", "ip_address", "user_agent", "action",
    "object_type", "object_id", "summary", "changes", "seq", "prev_hash",
)  # fmt: skip
# What an event says, as opposed to where it is in the chain (id, seq, prev_hash): version 2's content.
CONTENT = tuple(name for name in COLUMNS if name not in ("id", "seq", "prev_hash"))
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


def _form(columns: dict, names: tuple[str, ...]) -> bytes:
    form = {name: columns[name] for name in names}
    form["occurred_at"] = _utc(form["occurred_at"])
    form["ip_address"] = _ip(form["ip_address"])
    return json.dumps(form, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def canonical(columns: dict) -> bytes:
    """Version 2's canonical form (module docstring) of an event's content columns."""
    return _form(columns, CONTENT)


def canonical_v1(columns: dict) -> bytes:
    """Version 1's canonical form: every stored column but ``hash`` (id, seq, prev_hash too)."""
    return _form(columns, COLUMNS)


def content_mac(columns: dict, *, key: bytes | None = None) -> str:
    """Version 2: ``hex(HMAC-SHA256(key, canonical form of the content))``; never stored."""
    return hmac.new(key or _key(), canonical(columns), hashlib.sha256).hexdigest()


def link(prev_hash: str, seq: int, event_id: int, mac: str) -> str:
    """Version 2's hash: ``hex(SHA-256("<prev_hash>|<seq>|<id>|<content MAC>"))``, as the
    database computes it in ``_APPEND`` (``sha256``, built in since PostgreSQL 11)."""
    return hashlib.sha256(f"{prev_hash}|{seq}|{event_id}|{mac}".encode()).hexdigest()


def event_hash(columns: dict, *, key: bytes | None = None) -> str:
    """``hash`` of an event whose stored columns (``seq``, ``prev_hash`` and, for an event of
    version 1, ``chain_version``; 2 when absent) are ``columns``."""
    if columns.get("chain_version", CHAIN_VERSION) == 1:
        return event_hash_v1(columns, key=key)
    return link(columns["prev_hash"], columns["seq"], columns["id"], content_mac(columns, key=key))


def event_hash_v1(columns: dict, *, key: bytes | None = None) -> str:
    """Version 1: ``hex(HMAC-SHA256(key, canonical_v1))`` (migration 0004 chained with it)."""
    return hmac.new(key or _key(), canonical_v1(columns), hashlib.sha256).hexdigest()


def _stored_json(changes) -> str | None:
    return None if changes is None else json.dumps(changes, cls=DjangoJSONEncoder)


# --- Writing ---------------------------------------------------------------------------------

# ONE statement: the next id; the head moved (row-locked by the UPDATE until the transaction
# ends: a concurrent writer waits, then re-reads the moved head, so the chain never forks) with
# the new hash computed from the old head; the event inserted with the head's new values.
_APPEND = (
    "WITH nid AS MATERIALIZED (SELECT nextval(pg_get_serial_sequence('audit_auditevent', 'id')) AS id), "
    "head AS (UPDATE audit_chainhead SET seq = seq + 1, prev_hash = hash, hash = encode(sha256(convert_to("
    "hash || '|' || (seq + 1) || '|' || (SELECT id FROM nid) || '|' || %s, 'UTF8')), 'hex') "
    "WHERE id = 1 RETURNING seq, prev_hash, hash) "
    f"INSERT INTO audit_auditevent (id, {', '.join(CONTENT)}, seq, prev_hash, hash, chain_version) "
    f"SELECT nid.id, %s, %s, %s, %s::inet, %s, %s, %s, %s, %s, %s::jsonb, head.seq, head.prev_hash, head.hash, "
    f"{CHAIN_VERSION} FROM nid, head RETURNING id, seq, prev_hash, hash, txid_current()"
)
# The head of a schema with no head row yet (new, or migrated empty): made from its last event.
_MAKE_HEAD = (
    "INSERT INTO audit_chainhead (id, seq, hash, prev_hash) "
    "SELECT 1, COALESCE(max(seq), 0), COALESCE((SELECT hash FROM audit_auditevent ORDER BY seq DESC LIMIT 1), %s), '' "
    "FROM audit_auditevent ON CONFLICT (id) DO NOTHING"
)


def chain_append(event) -> None:
    """Insert ``event`` (an unsaved ``AuditEvent``) at the end of the current schema's chain,
    in the caller's transaction (or a transaction of its own outside one). Sets its ``id``,
    ``seq``, ``prev_hash``, ``hash`` and ``chain_version``. One round trip (two for a schema's
    first event); the head stays locked until the caller's transaction ends."""
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        if _held_schemas and connection.schema_name in _held_schemas:
            _drain(cursor)
        _append(cursor, event)


def _append(cursor, event) -> None:
    if event.occurred_at is None:
        event.occurred_at = timezone.now()
    stored_changes = _stored_json(event.changes)
    columns = {name: getattr(event, name) for name in CONTENT}
    columns["changes"] = None if stored_changes is None else json.loads(stored_changes)
    mac = content_mac(columns)  # computed before the head is locked: the lock spans no Python
    values = [getattr(event, name) for name in CONTENT]
    values[CONTENT.index("changes")] = stored_changes
    values[CONTENT.index("ip_address")] = _ip(event.ip_address)
    cursor.execute(_APPEND, [mac, *values])
    row = cursor.fetchone()
    if row is None:  # no head row yet: make it from the events, then append
        cursor.execute(_MAKE_HEAD, [genesis(connection.schema_name)])
        cursor.execute(_APPEND, [mac, *values])
        row = cursor.fetchone()
    event.id, event.seq, event.prev_hash, event.hash, xid = row
    event.chain_version = CHAIN_VERSION
    connection.audit_chain_xid = (connection.schema_name, xid)  # audit_record_apart: "do I hold it?"


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
    "host(ip_address), changes::text, hash, chain_version FROM audit_auditevent WHERE seq > %s ORDER BY seq LIMIT %s"
)
_READ_NAMES = [c for c in COLUMNS if c not in ("ip_address", "changes")] + [
    "ip_address", "changes", "hash", "chain_version",
]  # fmt: skip


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
