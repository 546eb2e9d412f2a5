"""Writing anchors: one function, from the public context only (one grant covers every write)."""

from __future__ import annotations

from django.db import connection
from django_tenants.utils import get_public_schema_name

from shared_apps.audit_anchors.models import AuditAnchor


def anchor_record_for_partnership(*, schema_name: str, seq: int, hash: str) -> AuditAnchor:  # noqa: A002
    """Anchor ``schema_name``'s chain at event ``seq`` whose hash is ``hash`` (a new row; an
    anchor already at that seq is kept as it is and returned)."""
    if connection.schema_name != get_public_schema_name():
        raise RuntimeError(
            f"anchor_record_for_partnership writes public rows: call it outside schema_context "
            f"(the connection is on {connection.schema_name!r})"
        )
    anchor, _ = AuditAnchor.objects.get_or_create(schema_name=schema_name, seq=seq, defaults={"hash": hash})
    return anchor
