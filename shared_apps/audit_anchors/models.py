"""Anchors of the partnerships' audit chains (``tenant_apps.audit.chain``), in public only.

An anchor says: at ``anchored_at``, event ``seq`` of ``schema_name``'s chain had ``hash``.
Verification checks that the latest anchor's (seq, hash) is still in the chain, which shows a
tail cut off or a chain rewritten from the start. Rows are never changed nor removed: a trigger
refuses UPDATE, DELETE and TRUNCATE (of a non-empty table), as the audit trail's does
(migration 0001). A partnership's schema name, not a foreign key: nothing here points into a
partnership, and an anchor outlives anything that happens to its row.
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Now


class AuditAnchor(models.Model):
    schema_name = models.CharField(max_length=63)
    seq = models.BigIntegerField()
    hash = models.CharField(max_length=64)
    anchored_at = models.DateTimeField(db_default=Now())

    class Meta:
        constraints = [models.UniqueConstraint(fields=["schema_name", "seq"], name="audit_anchor_schema_seq_uniq")]

    def __str__(self) -> str:
        return f"{self.schema_name} #{self.seq} anchored at {self.anchored_at:%Y-%m-%d %H:%M}"
