"""Sending one queued e-mail over SMTP: ``email_send``, which the ``send_email`` job runs.

``services.mail_send_later`` writes the ``OutboundEmail`` row and defers the job
(``jobs.send_email``) in the caller's transaction; the job carries only the schema
name and the row's id, so no address, subject or body reaches the shared job queue
or the logs.

Delivery is at least once, every copy with the same Message-ID (which mail clients
use to drop duplicates), and the duplicate window is as small as the design allows.
The job commits each step: the row becomes "sending" (attempt counted, a lease of
``MAIL_SENDING_LEASE_SECONDS``) before any SMTP; SMTP runs with no transaction or
lock open, so a database that dies meanwhile cannot undo the record; then the
outcome is written, on a new connection if the old one died, retrying for
``MAIL_RECORD_SECONDS``. A job that finds the row "sending" within its lease retries
later (another attempt is under way); past the lease it counts that attempt as dead
and sends again, same Message-ID. So a duplicate needs the server's "250 accepted"
and then either the worker killed before the outcome's commit (milliseconds) or the
database unreachable for all of ``MAIL_RECORD_SECONDS``. At most once was rejected: a
"maybe sent" state loses the e-mail of every worker killed before the server had
the message (the common case), and a lost notice or sign-in link harms silently
where a duplicate is visible and deduplicated. README: "What is guaranteed".

SMTP down or refusing for now (4xx, connection errors): the row keeps
``last_error`` and the job is retried with exponential back-off (``MAIL_RETRY``).
A permanent refusal (5xx) or the last attempt marks the row failed.

A suspended partnership's e-mail is held: the job leaves the row queued, untried,
and resuming the partnership queues a send for every row still queued
(``services.release_held_email``). Operators' e-mail, in public, is never held.
"""

from __future__ import annotations

import logging
import smtplib
import time
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from concord.jobs import SettingsRetry
from tenant_apps.outbox.models import OutboundEmail
from tenants.models import Partnership

logger = logging.getLogger(__name__)

MAIL_QUEUE = "mail"
mail_retry = SettingsRetry("MAIL_RETRY")


class TemporaryMailError(Exception):
    """SMTP was unreachable or refused for now; the job is retried later."""


class EmailBeingSent(TemporaryMailError):
    """Another attempt is sending this e-mail now (its lease has not run out); retried later."""


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
    ``services.release_held_email`` runs when it is resumed (operators' e-mail, in public, is never held)."""
    if schema_name == get_public_schema_name():
        return False
    return Partnership.objects.filter(schema_name=schema_name, status=Partnership.Status.SUSPENDED).exists()


def _start_attempt(schema_name: str, email_id: str):
    """Lock the row and, if it is to be sent now, commit it as "sending" (attempt counted,
    lease set) before any SMTP; the e-mail to send, or None when there is nothing to do."""
    with transaction.atomic():
        email = OutboundEmail.objects.select_for_update().filter(id=email_id).first()
        if email is None:
            logger.warning("e-mail %s in %s no longer exists; nothing to send", email_id, schema_name)
            return None
        if email.sent_at is not None or email.status in (OutboundEmail.Status.SENT, OutboundEmail.Status.FAILED):
            logger.info("e-mail %s in %s is already %s; not sending again", email_id, schema_name, email.status)
            return None
        now = timezone.now()
        sending = email.status == OutboundEmail.Status.SENDING
        if sending and email.sending_until is not None and email.sending_until > now:
            logger.info(
                "e-mail %s in %s is being sent by attempt %d; retrying later", email_id, schema_name, email.attempts
            )
            raise EmailBeingSent(f"attempt {email.attempts} is under way")
        if _suspended(schema_name):
            if sending:  # a dead attempt's: queued again, sent when the partnership is resumed
                email.status, email.sending_until = OutboundEmail.Status.QUEUED, None
                email.save(update_fields=["status", "sending_until"])
            logger.info("e-mail %s in %s held: the partnership is suspended (sent when resumed)", email_id, schema_name)
            return None
        if sending:
            logger.warning(
                "e-mail %s in %s: attempt %d did not finish (its worker or database was lost); "
                "sending again with the same Message-ID",
                email_id, schema_name, email.attempts,
            )  # fmt: skip
        email.attempts += 1
        email.status = OutboundEmail.Status.SENDING
        email.sending_until = now + timedelta(seconds=settings.MAIL_SENDING_LEASE_SECONDS)
        email.save(update_fields=["attempts", "status", "sending_until"])
    return email


def _record_outcome(email, fields: dict, *, schema_name: str) -> bool:
    """Write this attempt's outcome, on a new connection if the one used before SMTP died
    meanwhile, trying for ``MAIL_RECORD_SECONDS``; False if another attempt took the row over."""
    deadline = time.monotonic() + settings.MAIL_RECORD_SECONDS
    wait = 0.2
    while True:
        try:
            with transaction.atomic():
                mine = OutboundEmail.objects.filter(
                    id=email.id, status=OutboundEmail.Status.SENDING, attempts=email.attempts
                )
                return mine.update(**fields, sending_until=None) == 1
        except DatabaseError as exc:
            if time.monotonic() + wait > deadline:
                logger.error(
                    "e-mail %s in %s: the outcome of attempt %d (%s) could not be recorded (%s); "
                    "the row stays sending and is sent again, same Message-ID, once its lease runs out",
                    email.id, schema_name, email.attempts, fields["status"], type(exc).__name__,
                )  # fmt: skip
                raise
            if wait == 0.2:
                logger.warning(
                    "e-mail %s in %s: recording attempt %d (%s) failed (%s); retrying on a new connection",
                    email.id, schema_name, email.attempts, fields["status"], type(exc).__name__,
                )  # fmt: skip
            connection.close()  # the next query connects afresh, on the same schema
            time.sleep(wait)
            wait = min(wait * 2, 5.0)


def email_send(*, schema_name: str, email_id: str) -> None:
    """Send one queued e-mail of the current schema (what the job ``send_email`` does). Safe to run again.

    Three steps, each committed: (1) the row becomes "sending" (attempt counted, lease
    ``MAIL_SENDING_LEASE_SECONDS``); (2) SMTP, no transaction open; (3) the outcome:
    "sent", "queued" again with ``last_error`` (retried), or "failed". A run that finds
    "sending" within the lease retries later; past it, the attempt counts as dead and
    the e-mail is sent again with the same Message-ID (at least once: module docstring).
    The guarantee needs each step committed, so it holds when this runs as a job (as the
    worker runs it, outside any transaction); inside a caller's transaction (tests that
    deliver in their own transaction) the steps are savepoints, committed with it.
    """
    email = _start_attempt(schema_name, email_id)
    if email is None:
        return
    error: Exception | None = None
    try:
        with get_connection(fail_silently=False) as smtp:
            smtp.send_messages([_message(email)])
    except (smtplib.SMTPException, OSError) as exc:
        error = exc
    if error is None:
        fields = {"status": OutboundEmail.Status.SENT, "sent_at": timezone.now(), "last_error": ""}
    else:
        gives_up = _is_permanent(error) or mail_retry.wait_seconds(failed_attempts=email.attempts) is None
        fields = {
            "status": OutboundEmail.Status.FAILED if gives_up else OutboundEmail.Status.QUEUED,
            "last_error": f"{type(error).__name__}: {error}"[:1000],
        }
    if not _record_outcome(email, fields, schema_name=schema_name):
        logger.warning("e-mail %s in %s: attempt %d was taken over by another; its outcome is not recorded",
                       email_id, schema_name, email.attempts)  # fmt: skip
        return
    # Committed: the outcome is recorded whatever happens to this worker now.
    if error is None:
        logger.info("e-mail %s in %s sent (attempt %d)", email_id, schema_name, email.attempts)
        return
    if fields["status"] == OutboundEmail.Status.FAILED:
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


__all__ = ["MAIL_QUEUE", "EmailBeingSent", "TemporaryMailError", "email_send", "mail_retry"]
