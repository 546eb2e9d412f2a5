"""E-mails waiting to be sent, and the record that they were.

Each row lives in the schema of the partnership whose data it may carry
(operators' e-mails in public), beside the business rows written in the same
transaction. The job that sends it (``outbox.jobs.send_email``) carries only the schema
name and the row's id, so nothing personal reaches the shared job queue.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


class OutboundEmail(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        # An attempt is talking SMTP (committed before it starts): see outbox.mail.
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The SMTP Message-ID, fixed when queued: a re-send after a crash carries the same one.
    message_id = models.CharField(max_length=255, unique=True)
    to = models.JSONField()  # list of addresses
    subject = models.CharField(max_length=255)
    body = models.TextField()
    html_body = models.TextField(blank=True, default="")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)  # SMTP deliveries tried
    # While "sending": until when that attempt may still be running; past it, it counts as dead.
    sending_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:  # never the subject, addresses or body
        return f"e-mail {self.id} ({self.status})"
