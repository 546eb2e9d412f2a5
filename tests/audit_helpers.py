"""Test helpers for the audit trail's hash chain (``tenant_apps.audit.chain``).

Tests that remove committed events (bypassing the append-only trigger as the database
superuser) leave a chain with holes that ``audit_verify`` rightly reports: ``remove_events``
removes them and chains what is left again, in id order, as migration 0004 did, so that the
chain a later test verifies is whole. Tampering tests use ``tamper`` in their own (rolled
back) transaction.
"""

from __future__ import annotations

import json

from django.db import connection
from django_tenants.utils import schema_context

from concord.db_roles import owner_mode
from tenant_apps.audit import chain

_READ = (
    "SELECT id, occurred_at, actor_id, actor_label, host(ip_address), user_agent, action, object_type, object_id, "
    "summary, changes::text, seq, prev_hash, chain_version FROM audit_auditevent ORDER BY {order}"
)


def rows(order: str = "seq") -> list[dict]:
    """Every event of the current schema as its stored columns (``chain.COLUMNS`` and ``hash``)."""
    with connection.cursor() as cursor:
        cursor.execute(_READ.format(order=order).replace("chain_version FROM", "chain_version, hash FROM"))
        found = []
        for row in cursor.fetchall():
            names = (*chain.COLUMNS[:4], "ip_address", *chain.COLUMNS[5:], "chain_version", "hash")
            columns = dict(zip(names, row, strict=True))
            columns["changes"] = None if columns["changes"] is None else json.loads(columns["changes"])
            found.append(columns)
        return found


def tamper(sql: str, params=()) -> None:
    """Run ``sql`` in the current schema with every trigger off (as the superuser can: the owner
    logged in as the cluster's superuser, not the partnership's role, ``concord.db_roles``)."""
    with owner_mode(), connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(sql, params)
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")


def rewrite(*, key: bytes, start: int = 1, change=None) -> None:
    """Rewrite the current schema's chain from ``start`` on, as someone holding ``key`` would:
    ``change(columns)`` edits each row's content, then every hash is recomputed and the head fixed."""
    events = rows()
    previous = chain.genesis(connection.schema_name, key=key) if start == 1 else events[start - 2]["hash"]
    for columns in events[start - 1 :]:
        if change is not None:
            change(columns)
        columns["prev_hash"] = previous
        columns["hash"] = chain.event_hash(columns, key=key)
        tamper(
            "UPDATE audit_auditevent SET summary = %s, prev_hash = %s, hash = %s WHERE id = %s",
            [columns["summary"], columns["prev_hash"], columns["hash"], columns["id"]],
        )
        previous = columns["hash"]
    tamper("UPDATE audit_chainhead SET seq = %s, hash = %s", [events[-1]["seq"], previous])


def rechain() -> None:
    """Chain the current schema's events again, in id order, and reset its head (test cleanup)."""
    previous, seq = chain.genesis(connection.schema_name), 0
    events = rows(order="id")
    tamper("UPDATE audit_auditevent SET seq = -seq")  # out of the way of the unique seq
    for columns in events:
        seq += 1
        columns.update(seq=seq, prev_hash=previous)
        columns["hash"] = chain.event_hash(columns)
        tamper("UPDATE audit_auditevent SET seq = %s, prev_hash = %s, hash = %s WHERE id = %s",
               [seq, previous, columns["hash"], columns["id"]])  # fmt: skip
        previous = columns["hash"]
    tamper("DELETE FROM audit_chainhead")
    if seq:
        tamper("INSERT INTO audit_chainhead (id, seq, hash) VALUES (1, %s, %s)", [seq, previous])


def remove_events(schema: str, where: str, params=()) -> None:
    """Remove ``schema``'s committed events matching ``where`` (and any held ones), then rechain."""
    with schema_context(schema):
        tamper(f"DELETE FROM audit_auditevent WHERE {where}", params)  # noqa: S608 - tests' own SQL
        tamper("DELETE FROM audit_heldevent")
        rechain()
    connection.set_schema_to_public()
