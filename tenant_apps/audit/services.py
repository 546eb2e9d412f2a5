"""Recording audit events: the only way events are written.

Rules for callers:

- **Never a secret.** A summary, an object id or a value in ``changes`` must
  never hold a password, a one-time or backup code, a token, a reset link or a
  key. Say what happened ("password set", "backup codes issued"), not what the
  secret was. As a safety net, ``changes`` values of fields whose names look
  secret (password, secret, token, key, code) are replaced by ``"[redacted]"``;
  summaries cannot be checked, so that rule is yours.
- **The current schema.** The event is written where the connection points:
  the partnership's schema in a partnership request, public for operators.
  When a request is given it must belong to the current schema (else the actor
  id would name another schema's user): a mismatch raises ``RuntimeError``.
- **The caller's transaction.** The event commits or rolls back with the work
  it describes; record refusals (failed sign-ins) outside any transaction that
  is about to roll back.
- **A read-only database.** Outside a transaction, an event the database refuses
  because it is read-only is spooled to disk and replayed later
  (``tenant_apps.audit.spool``); the returned event then has no id.

Client address: ``concord.http.client_ip`` (``REMOTE_ADDR``, or ``X-Forwarded-For`` read
from the right behind the proxies named in ``TRUSTED_PROXIES``; a client-written header is
never believed). An address that does not parse is stored as null.
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction
from django.db.models import F
from django.utils import timezone

from concord.http import client_ip
from tenant_apps.audit import chain, spool
from tenant_apps.audit.models import AuditAction, AuditEvent, RefusalTally

logger = logging.getLogger(__name__)

USER_AGENT_MAX = 300
REDACTED = "[redacted]"
_SECRET_FIELD = re.compile(r"password|secret|token|(^|_)key$|^codes?$|code_hash|otp_code", re.IGNORECASE)


def audit_record(
    *,
    action: str,
    request=None,
    actor=None,
    object_type: str = "",
    object_id: str | int = "",
    summary: str = "",
    changes: dict | None = None,
) -> AuditEvent:
    """Record that ``action`` happened, in the current schema, and return the event.

    ``actor`` defaults to the request's signed-in user. The address and user
    agent come from ``request`` (see the module docstring for proxies).
    ``changes`` is ``{"field": [before, after]}`` (see ``audit_changes``).
    """
    event = _new_event(action=action, request=request, actor=actor, object_type=object_type, object_id=object_id,
                       summary=summary, changes=changes)  # fmt: skip
    try:
        chain.chain_append(event)  # at the end of the schema's hash chain, in the caller's transaction
    except DatabaseError as exc:
        if not spool.spoolable(exc):
            raise
        event.id = event.seq = None
        spool.spool_event(event)  # the database is read-only: kept on disk, replayed later
        return event
    spool.replay_soon()
    return event


APART_LOCK_TIMEOUT = "5s"


def audit_record_apart(**event) -> AuditEvent | None:
    """``audit_record(**event)`` committed at once on a connection of its own, whatever happens
    to the caller's transaction: for a refusal recorded deep inside a transaction that is about
    to roll back (an upload refused for malware, inside the create it was part of). Outside a
    transaction it is ``audit_record``. The actor must already be committed (a signed-in user
    is). In the current schema, as ``audit_record``.

    The write waits at most ``APART_LOCK_TIMEOUT`` for a lock (the caller's own transaction
    could hold one it needs: never a hang). If it fails, the failure is logged (the action and
    the schema, nothing of the event) and None returned: the caller's refusal still stands.

    When the caller's transaction itself holds the schema's chain head (it recorded an event
    already), the event cannot be chained apart until that transaction ends: it is committed
    apart into ``audit_heldevent`` instead and chained by the next audit write of this process,
    at the end of the request (``middleware``) or by the periodic job, whichever comes first.
    """
    if not connection.in_atomic_block:
        return audit_record(**event)
    own = connections[DEFAULT_DB_ALIAS]
    held = chain.holds_head(own)
    apart = connections.create_connection(DEFAULT_DB_ALIAS)
    if own.tenant is not None:
        apart.set_tenant(own.tenant)
    else:
        apart.set_schema_to_public()
    connections[DEFAULT_DB_ALIAS] = apart  # this thread only, for this one write
    try:
        with apart.cursor() as cursor:
            cursor.execute("SELECT set_config('lock_timeout', %s, false)", [APART_LOCK_TIMEOUT])
        if held:
            return _audit_hold(**event)
        return audit_record(**event)
    except DatabaseError as exc:
        logger.error("audit: %s could not be recorded apart (%s); schema %s", event.get("action"),
                     type(exc).__name__, own.schema_name)  # fmt: skip
        return None
    finally:
        connections[DEFAULT_DB_ALIAS] = own
        apart.close()


def _new_event(*, action: str, request=None, actor=None, object_type="", object_id="", summary="",
               changes=None) -> AuditEvent:  # fmt: skip
    """The unsaved event ``audit_record`` describes (the request's schema checked)."""
    ip_address = user_agent = None
    if request is not None:
        _check_schema(request)
        ip_address = client_ip(request)
        user_agent = request.META.get("HTTP_USER_AGENT", "")
        if actor is None:
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                actor = user
    return AuditEvent(
        action=_text(action, 64),
        actor=actor,
        actor_label=_text(getattr(actor, "email", "") if actor is not None else "", 254),
        ip_address=ip_address,
        user_agent=_text(user_agent or "", USER_AGENT_MAX),
        object_type=_text(object_type, 64),
        object_id=_text(object_id, 64),
        summary=_text(summary, 300),
        changes=_redact(changes) if changes else None,
    )


def _audit_hold(**event) -> AuditEvent:
    """``audit_record``'s event, kept in ``audit_heldevent`` (committed at once) for the chain."""
    held = _new_event(**event)
    chain.held_record(held)
    return held


REFUSAL_ACTIONS = (AuditAction.ACCESS_REFUSED, AuditAction.ACCESS_FORBIDDEN)


def audit_access_refused(
    *, request, action: str, object_type: str = "", object_id: str | int = "", how: str = ""
) -> AuditEvent | None:
    """Record that the signed-in user was refused: ``access.refused`` (answered "not found": it
    is missing, or not theirs, and the response is the same, so the event is the only place an
    admin can see probing) or ``access.forbidden`` (answered 403). ``how`` is the method and
    route; the event names what was asked for (``object_id`` when the route names one), never
    any content nor the request's body.

    Rate-limited so that probing cannot flood the trail: at most one event per user per action,
    object and ``how`` per ``AUDIT_REFUSED_WINDOW_MINUTES`` (default 10), and at most
    ``AUDIT_REFUSED_MAX_PER_WINDOW`` (default 50) refusal events per user in that window. What
    is held back is not dropped: it is counted in the user's ``RefusalTally`` for the window and
    summarised in ONE ``access.refusals_suppressed`` event when the window closes (the job
    ``jobs.refusals_summarise``, deferred with the tally). Returns the event, or ``None`` when
    the limit held it back. Concurrent requests of one user are serialised by a
    transaction-scoped advisory lock, so the limits and the tally hold across processes.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    window = timedelta(minutes=int(getattr(settings, "AUDIT_REFUSED_WINDOW_MINUTES", 10)))
    most = int(getattr(settings, "AUDIT_REFUSED_MAX_PER_WINDOW", 50))
    object_id = _text(object_id, 64)
    verdict = "answered forbidden" if action == AuditAction.ACCESS_FORBIDDEN else "answered not found"
    summary = _text(f"{verdict}: {how}", 300)
    key = hashlib.blake2b(f"audit.refused:{connection.schema_name}:{user.pk}".encode(), digest_size=8).digest()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(key, "big", signed=True)])
        now = timezone.now()
        recent = AuditEvent.objects.filter(actor=user, action__in=REFUSAL_ACTIONS, occurred_at__gte=now - window)
        seen = list(recent.values_list("action", "object_type", "object_id", "summary")[: most + 1])
        if (action, object_type, object_id, summary) in seen or len(seen) >= most:
            _refusal_count(user=user, now=now, window=window)
            return None
        return audit_record(action=action, request=request, object_type=object_type, object_id=object_id,
                            summary=summary)  # fmt: skip


def audit_read_refused(*, request, object_type: str, object_id: str | int, how: str = "") -> AuditEvent | None:
    """``audit_access_refused`` for a read answered "not found" (``access.refused``)."""
    return audit_access_refused(
        request=request, action=AuditAction.ACCESS_REFUSED, object_type=object_type, object_id=object_id, how=how
    )


def _refusal_count(*, user, now, window: timedelta) -> None:
    """Count one refusal held back, in the user's open tally (under the caller's lock); the
    first of a window opens a tally and defers its summary for when the window closes."""
    from concord.jobs import defer_for_current_partnership
    from tenant_apps.audit.jobs import refusals_summarise

    counted = RefusalTally.objects.filter(actor=user, window_ends_at__gt=now, summarised=False).update(
        count=F("count") + 1
    )
    if counted:
        return
    tally = RefusalTally.objects.create(actor=user, window_started_at=now, window_ends_at=now + window, count=1)
    defer_for_current_partnership(refusals_summarise.configure(schedule_at=tally.window_ends_at), tally_id=tally.pk)


def audit_refusals_summarise(*, tally_id: int) -> AuditEvent | None:
    """Write the ONE ``access.refusals_suppressed`` event of a tally (the job's work, once its
    window has closed); None if it was summarised already or is gone."""
    with transaction.atomic():
        tally = RefusalTally.objects.select_for_update().filter(pk=tally_id, summarised=False).first()
        if tally is None:
            return None
        tally.summarised = True
        tally.save(update_fields=["summarised"])
        most = int(getattr(settings, "AUDIT_REFUSED_MAX_PER_WINDOW", 50))
        refusals = "1 refusal" if tally.count == 1 else f"{tally.count} refusals"
        london = ZoneInfo("Europe/London")
        span = (
            f"{tally.window_started_at.astimezone(london):%d %b %Y %H:%M} to "
            f"{tally.window_ends_at.astimezone(london):%H:%M} (London time)"
        )
        return audit_record(
            action=AuditAction.ACCESS_REFUSALS_SUPPRESSED, actor=tally.actor,
            summary=f"{refusals} not recorded one by one, {span}: repeats of a refusal recorded, "
            f"or past the cap of {most} refusals recorded per user in the window",
        )  # fmt: skip


def audit_changes(before: dict, after: dict) -> dict:
    """``{"field": [before, after]}`` for the fields whose values differ.

    A field present on one side only counts as None on the other. Sets and
    tuples become lists (sets sorted) so that the result is JSON.
    """
    changed = {}
    for field in [*before, *(key for key in after if key not in before)]:
        old, new = before.get(field), after.get(field)
        if old != new:
            changed[field] = [_jsonable(old), _jsonable(new)]
    return changed


def _check_schema(request) -> None:
    tenant = getattr(request, "tenant", None)
    schema = getattr(tenant, "schema_name", None)
    if schema is not None and schema != connection.schema_name:
        raise RuntimeError(
            f"audit_record: the request belongs to schema {schema!r} but the connection is on "
            f"{connection.schema_name!r}; refusing to record the event in the wrong schema"
        )


def _text(value: Any, limit: int) -> str:
    # PostgreSQL text refuses NUL: a crafted header must not stop the event being recorded.
    return str(value).replace("\x00", "")[:limit]


def _redact(changes: dict) -> dict:
    return {
        field: [REDACTED, REDACTED] if _SECRET_FIELD.search(str(field)) else values for field, values in changes.items()
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, set | frozenset):
        try:
            return sorted(value)
        except TypeError:
            return list(value)
    if isinstance(value, tuple):
        return list(value)
    return value
