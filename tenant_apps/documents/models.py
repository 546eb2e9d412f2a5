"""Documents' metadata, in each partnership's schema. The bytes are in object storage.

A row exists only for an object that was stored: ``document_store`` uploads
first and inserts the row afterwards, so the application never writes a row for a
missing file. If the object is lost afterwards (removed outside the application),
reading it raises ``services.DocumentMissing`` (404, audited ``document.missing``).
An object without a row (an upload whose transaction rolled back) is removed by
the orphan sweep (``tenant_apps.documents.jobs``).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Document(models.Model):
    class Status(models.TextChoices):
        STORED = "stored", "Stored"
        DELETED = "deleted", "Deleted"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The full object key: <schema>/documents/<yyyy>/<mm>/<uuid><ext>.
    storage_key = models.CharField(max_length=255, unique=True)
    # What the uploader called it, sanitised: for display and the download's name only.
    original_filename = models.CharField(max_length=255)
    # Detected from the content, never from the name or the browser's claim.
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField(help_text="Bytes stored (after re-encoding, for images).")
    sha256 = models.CharField(max_length=64, help_text="Of the bytes stored.")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)
    is_image = models.BooleanField(default=False)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    # What the document belongs to, e.g. ("timeline_entry", "42"): no foreign key, so that
    # any app can attach documents; access is decided by the rule registered for the type.
    attached_to_type = models.CharField(max_length=64)
    attached_to_id = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.STORED)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-uploaded_at"]
        indexes = [models.Index(fields=["attached_to_type", "attached_to_id"], name="documents_attached_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="stored", deleted_at__isnull=True)
                | Q(status="deleted", deleted_at__isnull=False) & ~Q(deleted_reason=""),
                name="documents_deleted_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.original_filename

    @property
    def is_stored(self) -> bool:
        return self.status == self.Status.STORED
