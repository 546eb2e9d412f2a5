"""E-mail, sent by a background job after the transaction that asked for it commits.

``mail_send_later`` writes an ``OutboundEmail`` row in the current schema (the
partnership's, or public for operators) and defers the ``send_email`` job, both
in the current transaction: if the business change rolls back, no e-mail exists
and none is sent. The job carries only the schema name and the row's id, so no
address, subject or body reaches the shared job queue or the logs.

Delivery is at least once, with the duplicate window made as small as it can be:
the job locks the row (``SELECT ... FOR UPDATE``), returns at once if it is
already sent, talks SMTP, and marks it sent in the same transaction. A worker
killed before the server accepted the message leaves the row queued and the job
is re-queued (``concord.jobs.retry_stalled_jobs``); a second job for the same row
waits on the lock and then finds it sent. Only a crash in the milliseconds
between the server's "250 accepted" and the commit can send twice, and then with
the same Message-ID, which mail clients use to drop duplicates.

SMTP down or refusing for now (4xx, connection errors): the row keeps
``last_error`` and the job is retried with exponential back-off (``MAIL_RETRY``).
A permanent refusal (5xx) or the last attempt marks the row failed.

A suspended partnership's e-mail is held: the job leaves the row queued, untried,
and resuming the partnership queues a send for every row still queued
(``release_held_email``). Operators' e-mail, in public, is never held.
"""

from __future__ import annotations

import logging
import smtplib
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from concord.jobs import SettingsRetry, defer_for_schema, partnership_task

logger = logging.getLogger(__name__)

MAIL_QUEUE = "mail"
mail_retry = SettingsRetry("MAIL_RETRY")


class TemporaryMailError(Exception):
    """SMTP was unreachable or refused for now; the job is retried later."""


def mail_send_later(*, to: list[str], subject: str, body: str, html_body: str | None = None) -> None:
    """Queue an e-mail in the current transaction; a worker sends it once that commits.

    The e-mail belongs to the schema the connection is on: a partnership's inside its
    requests (or ``schema_context``), public for operators.
    """
    from tenant_apps.outbox.models import OutboundEmail

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


def _message(email) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=list(email.to),
        headers={"Message-ID": email.message_id},
    )
    if email.html_body:
        message.attach_alternative(email.html_body, "text/html")
    return message


def _is_permanent(exc: Exception) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(500 <= code < 600 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and 500 <= exc.smtp_code < 600


def _suspended(schema_name: str) -> bool:
    """Whether the schema is a suspended partnership's: its e-mail stays queued, unsent, until
    ``release_held_email`` runs when it is resumed (operators' e-mail, in public, is never held)."""
    from tenants.models import Partnership

    if schema_name == get_public_schema_name():
        return False
    return Partnership.objects.filter(schema_name=schema_name, status=Partnership.Status.SUSPENDED).exists()


def release_held_email(schema_name: str) -> int:
    """Queue a send for every e-mail still queued in the schema (after a suspension ends); one
    whose job is also still pending is sent once all the same (``send_email`` locks the row)."""
    from tenant_apps.outbox.models import OutboundEmail

    with schema_context(schema_name):
        held = [
            str(pk)
            for pk in OutboundEmail.objects.filter(status=OutboundEmail.Status.QUEUED).values_list("id", flat=True)
        ]
        for email_id in held:
            defer_for_schema(send_email, schema_name=schema_name, email_id=email_id)
    return len(held)


@partnership_task(queue=MAIL_QUEUE, retry=mail_retry)
def send_email(*, schema_name: str, email_id: str) -> None:
    """Send one queued e-mail (the job ``mail_send_later`` defers). Safe to run again."""
    from tenant_apps.outbox.models import OutboundEmail

    error: Exception | None = None
    with transaction.atomic():
        email = OutboundEmail.objects.select_for_update().filter(id=email_id).first()
        if email is None:
            logger.warning("e-mail %s in %s no longer exists; nothing to send", email_id, schema_name)
            return
        if email.sent_at is not None or email.status != OutboundEmail.Status.QUEUED:
            logger.info("e-mail %s in %s is already %s; not sending again", email_id, schema_name, email.status)
            return
        if _suspended(schema_name):
            logger.info("e-mail %s in %s held: the partnership is suspended (sent when resumed)", email_id, schema_name)
            return
        email.attempts += 1
        try:
            with get_connection(fail_silently=False) as smtp:
                smtp.send_messages([_message(email)])
        except (smtplib.SMTPException, OSError) as exc:
            error = exc
            email.last_error = f"{type(exc).__name__}: {exc}"[:1000]
            if _is_permanent(exc) or mail_retry.wait_seconds(failed_attempts=email.attempts) is None:
                email.status = OutboundEmail.Status.FAILED
            email.save(update_fields=["attempts", "last_error", "status"])
        else:
            email.status = OutboundEmail.Status.SENT
            email.sent_at = timezone.now()
            email.last_error = ""
            email.save(update_fields=["attempts", "last_error", "status", "sent_at"])
    # Committed: the outcome is recorded whatever happens to this worker now.
    if error is None:
        logger.info("e-mail %s in %s sent (attempt %d)", email_id, schema_name, email.attempts)
        return
    if email.status == OutboundEmail.Status.FAILED:
        logger.error(
            "e-mail %s in %s failed for good after %d attempts (%s)",
            email_id, schema_name, email.attempts, type(error).__name__,
        )  # fmt: skip
        return
    logger.warning(
        "e-mail %s in %s not sent, attempt %d (%s); will retry",
        email_id, schema_name, email.attempts, type(error).__name__,
    )  # fmt: skip
    raise TemporaryMailError(f"attempt {email.attempts}: {type(error).__name__}")


__all__ = ["MAIL_QUEUE", "TemporaryMailError", "mail_send_later", "send_email"]
