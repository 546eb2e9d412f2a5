"""API clients: issue, rotate and revoke a partner system's access; count its calls.

Admins only (``require_admin``), one transaction each, bad input refused by field, audited in the
same transaction (never the token: the event says a token was issued, not what it was).

**Tokens** (``tenant_apps.directory.tokens``) look like ``concord_<partnership>_<lookup>_<secret>``;
only a keyed hash is stored (HMAC-SHA256, keyed by the environment), compared in constant time.
A slow password hash (argon2) would add no safety to a 238-bit random
secret, which cannot be guessed however fast the hash, and would cost tens of milliseconds of CPU
and memory on every call (600 a minute per client); the key kept outside the database means a
copy of the table alone cannot even check a guess.

**Rotation** issues a new token; the old one keeps working for the overlap the admin chooses
(none, one hour or a day: the partner's system is switched without an outage, and a leaked token
is stopped at once). **Revoking** stops every token at once (401) and deactivates the service
account; it is final.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from concord.api import SCOPES, WRITE_SCOPES
from concord.postgresql.faults import is_read_only
from tenant_apps.audit.services import audit_record
from tenant_apps.directory.models import ApiClient, ApiClientWindow, ApiToken, Membership, Team, TeamMembership
from tenant_apps.directory.selectors import require_admin
from tenant_apps.directory.tokens import token_digest, token_new

__all__ = [
    "ROTATION_OVERLAPS",
    "IssuedToken",
    "CallCount",
    "api_client_issue",
    "api_client_rotate",
    "api_client_revoke",
    "api_client_call_count",
]

logger = logging.getLogger(__name__)

API_CLIENT_ISSUED = "api_client.issued"
API_CLIENT_ROTATED = "api_client.rotated"
API_CLIENT_REVOKED = "api_client.revoked"
API_RATE_LIMITED = "api.rate_limited"

SERVICE_ACCOUNT_DOMAIN = "api-clients.invalid"  # RFC 2606: never a mailbox

# How long the old token keeps working after a rotation: (value, label, seconds).
ROTATION_OVERLAPS = (
    ("none", "Stop it now (for example, if it may have leaked)", 0),
    ("hour", "Keep it working for 1 hour", 3600),
    ("day", "Keep it working for 24 hours", 86400),
)


@dataclass(frozen=True)
class IssuedToken:
    """A client and its new token, in clear: shown once, never stored."""

    client: ApiClient
    token: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class CallCount:
    calls: int
    limit: int
    retry_after: int  # seconds until the window moves on

    @property
    def allowed(self) -> bool:
        return self.calls <= self.limit


def _new_token(*, client: ApiClient, expires_at: dt.datetime, user) -> str:
    lookup, token = token_new()
    ApiToken.objects.create(
        client=client, lookup=lookup, digest=token_digest(token), expires_at=expires_at, created_by=user
    )
    return token


def _expiry(expires_on, *, field: str = "expires_on") -> dt.datetime:
    """The end of ``expires_on`` (the token works through that day), between tomorrow and the maximum."""
    today = timezone.localdate()
    most = int(settings.API_CLIENT_MAX_DAYS)
    if not isinstance(expires_on, dt.date):
        raise ValidationError({field: "Enter the date the token stops working."})
    if expires_on <= today:
        raise ValidationError({field: "The expiry date must be in the future."})
    if expires_on > today + dt.timedelta(days=most):
        raise ValidationError({field: f"The expiry date must be within {most} days of today."})
    midnight = dt.datetime.combine(expires_on + dt.timedelta(days=1), dt.time.min)
    return timezone.make_aware(midnight)


def _clean_scopes(scopes: Iterable[str]) -> list[str]:
    chosen = set(scopes)
    if not chosen or not chosen <= set(SCOPES):
        raise ValidationError({"scopes": "Choose at least one area the client may read or write."})
    chosen |= {scope.replace(":write", ":read") for scope in chosen & WRITE_SCOPES}  # write includes read
    return [scope for scope in SCOPES if scope in chosen]


def _clean_client_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": "Enter the name of the system, for example Police RMS."})
    if len(name) > 100:
        raise ValidationError({"name": "The name must be 100 characters or fewer."})
    if ApiClient.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": "There is already an API client with this name."})
    return name


@transaction.atomic
def api_client_issue(*, request, name: str, team: Team | None, scopes: Iterable[str], expires_on) -> IssuedToken:
    """A new API client acting for ``team`` with ``scopes``, its service account, and its first token."""
    require_admin(request.user)
    errors: dict[str, list[str]] = {}
    checked = {}
    for field, check in (
        ("name", lambda: _clean_client_name(name)),
        ("team", lambda: _check_team(team)),
        ("scopes", lambda: _clean_scopes(scopes)),
        ("expires_on", lambda: _expiry(expires_on)),
    ):
        try:
            checked[field] = check()
        except ValidationError as error:
            for key, messages in error.message_dict.items():
                errors.setdefault(key, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    name, team, scopes, expires_at = checked["name"], checked["team"], checked["scopes"], checked["expires_on"]
    User = get_user_model()  # noqa: N806
    account = User.objects.create_user(
        f"api-client-{uuid.uuid4().hex[:16]}@{SERVICE_ACCOUNT_DOMAIN}",
        full_name=f"API client: {name}",
        role=User.Role.PRACTITIONER if set(scopes) & WRITE_SCOPES else User.Role.VIEWER,
        is_integration=True,
    )  # no password: set_unusable_password
    Membership.objects.create(user=account, agency=team.agency)
    TeamMembership.objects.create(user=account, team=team)
    client = ApiClient.objects.create(
        name=name, team=team, scopes=scopes, service_account=account, created_by=request.user
    )
    token = _new_token(client=client, expires_at=expires_at, user=request.user)
    audit_record(action=API_CLIENT_ISSUED, request=request, object_type="api_client", object_id=client.pk,
                 summary=f"{client.label} issued, acting for {team.label}",
                 changes={"name": [None, name], "team": [None, team.label], "scopes": [None, scopes],
                          "expires": [None, expires_at.isoformat()]})  # fmt: skip
    return IssuedToken(client=client, token=token, expires_at=expires_at)


def _check_team(team) -> Team:
    if team is None or not Team.objects.filter(pk=team.pk).exists():
        raise ValidationError({"team": "Choose the team the client acts for."})
    return Team.objects.select_related("agency").get(pk=team.pk)


def _lock_live(client: ApiClient) -> ApiClient:
    client = ApiClient.objects.select_for_update().get(pk=client.pk)
    if client.revoked_at is not None:
        raise ValidationError("This API client has been revoked. Issue a new one instead.")
    return client


@transaction.atomic
def api_client_rotate(*, request, client: ApiClient, expires_on, old_token_ends: str) -> IssuedToken:
    """A new token for ``client``; its earlier tokens stop now or after the chosen overlap."""
    require_admin(request.user)
    overlaps = {value: seconds for value, _, seconds in ROTATION_OVERLAPS}
    errors = {}
    if old_token_ends not in overlaps:
        errors["old_token_ends"] = ["Choose when the old token stops working."]
    try:
        expires_at = _expiry(expires_on)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    client = _lock_live(client)
    now = timezone.now()
    ends = now + dt.timedelta(seconds=overlaps[old_token_ends])
    live = ApiToken.objects.filter(client=client, expires_at__gt=now).exclude(ends_at__lte=ends)
    ended = live.update(ends_at=ends)
    token = _new_token(client=client, expires_at=expires_at, user=request.user)
    summary = f"{client.label}: new token; {ended} earlier token(s) stop {ends.isoformat(timespec='seconds')}"
    audit_record(action=API_CLIENT_ROTATED, request=request, object_type="api_client", object_id=client.pk,
                 summary=summary, changes={"expires": [None, expires_at.isoformat()],
                                           "overlap": [None, old_token_ends]})  # fmt: skip
    return IssuedToken(client=client, token=token, expires_at=expires_at)


@transaction.atomic
def api_client_revoke(*, request, client: ApiClient) -> ApiClient:
    """Stop every token of ``client`` at once and deactivate its service account (final)."""
    require_admin(request.user)
    client = _lock_live(client)
    now = timezone.now()
    client.revoked_at = now
    client.save(update_fields=["revoked_at"])
    ApiToken.objects.filter(client=client).exclude(ends_at__lte=now).update(ends_at=now)
    get_user_model().objects.filter(pk=client.service_account_id).update(is_active=False, sessions_valid_after=now)
    audit_record(action=API_CLIENT_REVOKED, request=request, object_type="api_client", object_id=client.pk,
                 summary=f"{client.label} revoked; its tokens stopped", changes={"revoked": [False, True]})  # fmt: skip
    return client


_COUNT_SQL = """
INSERT INTO {table} AS w (client_id, started_at, calls)
VALUES (%(client)s, to_timestamp(floor(extract(epoch FROM clock_timestamp()) / %(seconds)s) * %(seconds)s), 1)
ON CONFLICT (client_id) DO UPDATE
   SET calls = CASE WHEN w.started_at = EXCLUDED.started_at THEN w.calls + 1 ELSE 1 END,
       started_at = EXCLUDED.started_at
RETURNING calls, greatest(1, ceil(extract(epoch FROM w.started_at + make_interval(secs => %(seconds)s)
                                                     - clock_timestamp())))::int
"""


def api_client_call_count(*, request, client_id: int, actor) -> CallCount:
    """Count one call of the client in the current window (``API_CLIENT_RATE_WINDOW_SECONDS``),
    atomically across processes: one upsert of the client's row, committed at once. The first
    call over ``API_CLIENT_RATE_LIMIT`` in a window is audited (``api.rate_limited``); the calls
    refused after it in the same window are not, so a runaway client cannot flood the trail."""
    limit = int(settings.API_CLIENT_RATE_LIMIT)
    seconds = int(settings.API_CLIENT_RATE_WINDOW_SECONDS)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                _COUNT_SQL.format(table=connection.ops.quote_name(ApiClientWindow._meta.db_table)),
                {"client": client_id, "seconds": seconds},
            )
            calls, retry_after = cursor.fetchone()
    except DatabaseError as exc:
        # A read-only database (a fail-over, maintenance) keeps reads working for people: so for
        # clients, uncounted (their writes are refused with 503 like anyone's). Outside a
        # transaction only, as the audit spool: DRF authenticates before a view opens one.
        if not is_read_only(exc) or connection.in_atomic_block:
            raise
        logger.warning("API client calls not counted in %s: the database is read-only", connection.schema_name)
        return CallCount(calls=0, limit=limit, retry_after=seconds)
    count = CallCount(calls=calls, limit=limit, retry_after=retry_after)
    if calls == limit + 1:
        audit_record(action=API_RATE_LIMITED, request=request, actor=actor, object_type="api_client",
                     object_id=client_id, summary=f"{actor.get_full_name()}: more than {limit} calls in "
                     f"{seconds} seconds; refused for {retry_after} s")  # fmt: skip
    return count
