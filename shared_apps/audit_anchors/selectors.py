"""Reading anchors (any context: the table lives in public only)."""

from __future__ import annotations

from shared_apps.audit_anchors.models import AuditAnchor


def anchor_latest(*, schema_name: str) -> AuditAnchor | None:
    """``schema_name``'s latest anchor (the highest seq), or None if its chain was never anchored."""
    return AuditAnchor.objects.filter(schema_name=schema_name).order_by("-seq").first()
