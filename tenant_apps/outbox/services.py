"""Queueing e-mail: written in the caller's transaction, sent by a job once it commits.

``mail_send_later`` writes an ``OutboundEmail`` row in the current schema (the
partnership's, or public for operators) and defers the ``send_email`` job, both
in the current transaction: if the business change rolls back, no e-mail exists
and none is sent. How the job sends it, and what is guaranteed: ``outbox.mail``.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django_tenants.utils import schema_context

from concord.jobs import defer_for_schema
from tenant_apps.outbox.jobs import send_email
from tenant_apps.outbox.models import OutboundEmail


def mail_send_later(*, to: list[str], subject: str, body: str, html_body: str | None = None) -> None:
    """Queue an e-mail in the current transaction; a worker sends it once that commits.

    The e-mail belongs to the schema the connection is on: a partnership's inside its
    requests (or ``schema_context``), public for operators.
    """
    if isinstance(to, str) or not to:
        raise ValueError("to must be a non-empty list of addresses")
    for address in to:
        try:
            validate_email(address)
        except ValidationError:
            raise ValueError("to holds an address that is not valid") from None
    if not subject or "\n" in subject or "\r" in subject:
        raise ValueError("subject must be one non-empty line")
    email_id = uuid.uuid4()
    with transaction.atomic():
        OutboundEmail.objects.create(
            id=email_id,
            message_id=f"<{email_id.hex}@{settings.PLATFORM_DOMAIN}>",
            to=list(to),
            subject=subject,
            body=body,
            html_body=html_body or "",
        )
        defer_for_schema(send_email, schema_name=connection.schema_name, email_id=str(email_id))


def release_held_email(schema_name: str) -> int:
    """Queue a send for every e-mail still queued in the schema (after a suspension ends); one
    whose job is also still pending is sent once all the same (``send_email`` locks the row)."""
    with schema_context(schema_name):
        held = [
            str(pk)
            for pk in OutboundEmail.objects.filter(status=OutboundEmail.Status.QUEUED).values_list("id", flat=True)
        ]
        for email_id in held:
            defer_for_schema(send_email, schema_name=schema_name, email_id=email_id)
    return len(held)


__all__ = ["mail_send_later", "release_held_email"]
