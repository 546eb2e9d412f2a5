"""Bulk-read limits: how many records, searches and downloads a person, and a partnership, may
read in a minute; and the alert when someone opens a great many distinct profiles.

**What is counted** (the apps mark their views; nothing else is counted):

- ``READ``: the ``GET`` of every page that names a record in its URL (a profile, its details, a
  case, a family, a timeline entry, a task, and their forms: a test walks the URLconf), the lists
  of profiles, cases and families, the photo gallery; and every API read (``GET`` of any
  ``BaseApi`` class in one of ``concord.api.AREAS``: ``ReadLimitThrottle``);
- ``SEARCH``: a search run (the search page's POST, ``POST /api/v1/search/``);
- ``DOWNLOAD``: a document's download (page and API), an inline image and a thumbnail.

Pages use ``@read_limited(KIND)``; the API's ``ReadLimitThrottle`` (``REST_FRAMEWORK``'s
``DEFAULT_THROTTLE_CLASSES``) runs after authentication, so an API client's service account is
counted like a person. A read is counted before the view looks the record up: a walk of ids that
answers 404 is counted too.

**How**: per partnership (its schema's tables; one partnership never spends another's budget),
in fixed one-minute windows, by ONE SQL statement per counted read (``_COUNT_SQL``): it reads
the partnership's limits (``ReadLimits``, defaults until an admin saves them), moves on and counts
the person's window of that kind, then (only if the person is within their limit) the
partnership's window, then (only if both allow it, and the read names a profile) records the
profile as opened in the alert's window and counts it if new; it returns every count, limit and
the seconds to the minute's end. The shared counters live in PostgreSQL because the default
cache is in-process (several gunicorn workers do not share it). Counters are one row per person
and kind, moved on in place: nothing to prune; the opened-profiles rows of a person's earlier
windows are deleted by the same statement.

**Over a limit**: 429 with ``Retry-After`` (seconds to the window's end): a page saying what
happened (``accounts/read_limited.html``), or the API's error shape with code
``read_limited``. The first refused read of a person in a window is audited
(``access.read_limited``), as is the first the partnership's budget refuses
(``access.partnership_read_limited``); the refusals after it in the window are not.

**Volume alert**: the read that takes a person past ``alert_profiles`` distinct profiles in the
``alert_minutes`` window (counted atomically, so exactly one read does) writes
``access.read_volume_alert`` and e-mails the partnership's admins through the outbox: once per
person per window. The mail names the person and the numbers, never a profile.

A read-only database (a fail-over) lets reads through uncounted, as for API clients.

Count outside a transaction (pages and DRF reads open none): the statement commits at once, so
the partnership's row, which every read of the partnership updates, is locked for the statement
only, never for a whole request.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.shortcuts import render
from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import BaseThrottle

from concord.api.clients import AREAS
from concord.api.fields import ID_MAX
from concord.postgresql.faults import is_read_only
from tenant_apps.accounts.models import ProfileRead, ReadLimits, ReadWindow, User
from tenant_apps.audit.services import audit_record
from tenant_apps.outbox.services import mail_send_later

__all__ = [
    "DOWNLOAD",
    "READ",
    "SEARCH",
    "ReadCount",
    "ReadLimitThrottle",
    "ReadLimited",
    "read_count",
    "read_limited",
    "read_limits_current",
    "read_limits_update",
]

logger = logging.getLogger(__name__)

READ = "read"
SEARCH = "search"
DOWNLOAD = "download"
KINDS = (READ, SEARCH, DOWNLOAD)
WINDOW_SECONDS = 60
PARTNERSHIP = 0  # the holder of the partnership's window
KIND_WORDS = {READ: "record reads", SEARCH: "searches", DOWNLOAD: "downloads"}

READ_LIMITED = "access.read_limited"
PARTNERSHIP_READ_LIMITED = "access.partnership_read_limited"
READ_VOLUME_ALERT = "access.read_volume_alert"
READ_LIMITS_CHANGED = "settings.read_limits_changed"

# What the person sees, page and API alike.
REFUSED = (
    "You have read a lot of records in a short time, more than this partnership allows in a minute. "
    "Wait {seconds} seconds, then try again."
)
PARTNERSHIP_REFUSED = (
    "People in this partnership have read a lot of records in a short time, more than it allows in a "
    "minute. Wait {seconds} seconds, then try again."
)

# The fields an admin sets, with their names for people (the form's labels, the audit summary).
FIELDS = {
    "reads_per_minute": "Record reads a minute, per person",
    "searches_per_minute": "Searches a minute, per person",
    "downloads_per_minute": "Downloads a minute, per person",
    "partnership_per_minute": "Reads a minute, for the whole partnership",
    "alert_profiles": "Alert after this many distinct profiles",
    "alert_minutes": "Within this many minutes",
}

_COUNT_SQL = """
WITH cfg AS (
    SELECT CASE %(kind)s WHEN 'read' THEN coalesce(s.reads_per_minute, %(reads)s)
                         WHEN 'search' THEN coalesce(s.searches_per_minute, %(searches)s)
                         ELSE coalesce(s.downloads_per_minute, %(downloads)s) END AS mine,
           coalesce(s.partnership_per_minute, %(partnership)s) AS ours,
           coalesce(s.alert_profiles, %(alert_profiles)s) AS alert_profiles,
           coalesce(s.alert_minutes, %(alert_minutes)s) AS alert_minutes,
           to_timestamp(floor(extract(epoch FROM n.t) / 60) * 60) AS minute,
           to_timestamp(floor(extract(epoch FROM n.t) / (60 * coalesce(s.alert_minutes, %(alert_minutes)s)))
                        * (60 * coalesce(s.alert_minutes, %(alert_minutes)s))) AS span,
           n.t
      FROM (SELECT clock_timestamp() AS t) n
      LEFT JOIN (SELECT * FROM {limits} ORDER BY id LIMIT 1) s ON true
), mine AS (
    INSERT INTO {windows} AS w (holder, kind, started_at, count)
    SELECT %(user)s, %(kind)s, cfg.minute, 1 FROM cfg
    ON CONFLICT (holder, kind) DO UPDATE
       SET count = CASE WHEN w.started_at = EXCLUDED.started_at THEN w.count + 1 ELSE 1 END,
           started_at = EXCLUDED.started_at
    RETURNING w.count
), ours AS (
    INSERT INTO {windows} AS w (holder, kind, started_at, count)
    SELECT 0, 'partnership', cfg.minute, 1 FROM cfg, mine WHERE mine.count <= cfg.mine
    ON CONFLICT (holder, kind) DO UPDATE
       SET count = CASE WHEN w.started_at = EXCLUDED.started_at THEN w.count + 1 ELSE 1 END,
           started_at = EXCLUDED.started_at
    RETURNING w.count
), seen AS (
    INSERT INTO {profiles} (holder, started_at, profile_id)
    SELECT %(user)s, cfg.span, %(profile)s FROM cfg, ours
     WHERE %(profile)s::bigint IS NOT NULL AND ours.count <= cfg.ours
    ON CONFLICT DO NOTHING
    RETURNING 1
), opened AS (
    INSERT INTO {windows} AS w (holder, kind, started_at, count)
    SELECT %(user)s, 'profiles', cfg.span, 1 FROM cfg, seen
    ON CONFLICT (holder, kind) DO UPDATE
       SET count = CASE WHEN w.started_at = EXCLUDED.started_at THEN w.count + 1 ELSE 1 END,
           started_at = EXCLUDED.started_at
    RETURNING w.count
), pruned AS (
    DELETE FROM {profiles} p USING cfg
     WHERE %(profile)s::bigint IS NOT NULL AND p.holder = %(user)s AND p.started_at < cfg.span
)
SELECT mine.count, cfg.mine, ours.count, cfg.ours, opened.count, cfg.alert_profiles, cfg.alert_minutes,
       greatest(1, ceil(extract(epoch FROM cfg.minute + interval '60 seconds' - cfg.t)))::integer
  FROM cfg CROSS JOIN mine LEFT JOIN ours ON true LEFT JOIN opened ON true
"""


@dataclass(frozen=True)
class ReadCount:
    """One counted read: the person's count in this minute and their limit for its kind, the
    partnership's (None when the person's refusal kept it from being counted), the distinct
    profiles opened in the alert's window (None when this read opened none anew)."""

    kind: str
    count: int
    limit: int
    partnership_count: int | None
    partnership_limit: int
    profiles: int | None
    alert_profiles: int
    alert_minutes: int
    retry_after: int

    @property
    def over_own_limit(self) -> bool:
        return self.count > self.limit

    @property
    def allowed(self) -> bool:
        return not self.over_own_limit and (self.partnership_count or 0) <= self.partnership_limit

    @property
    def message(self) -> str:
        text = REFUSED if self.over_own_limit else PARTNERSHIP_REFUSED
        return text.format(seconds=self.retry_after)


def read_limits_current() -> ReadLimits:
    """The partnership's limits (its saved row, or the defaults)."""
    return ReadLimits.current()


def _statement() -> str:
    quote = connection.ops.quote_name
    return _COUNT_SQL.format(
        limits=quote(ReadLimits._meta.db_table),
        windows=quote(ReadWindow._meta.db_table),
        profiles=quote(ProfileRead._meta.db_table),
    )


def _defaults() -> dict:
    return {name: ReadLimits._meta.get_field(name).default for name in FIELDS}


def read_count(*, request, user, kind: str, profile_id: int | None = None) -> ReadCount | None:
    """Count one read of ``kind`` by ``user`` in the current partnership (one statement,
    committed at once outside a transaction), audit the first refusal of the window and raise the
    volume alert once; None when nothing was counted (a read-only database)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of read: {kind}")
    if not isinstance(profile_id, int) or not 0 < profile_id <= ID_MAX:
        profile_id = None  # no such profile can exist: counted as a read, not as a profile opened
    defaults = _defaults()
    params = {
        "kind": kind,
        "user": user.pk,
        "profile": profile_id,
        "reads": defaults["reads_per_minute"],
        "searches": defaults["searches_per_minute"],
        "downloads": defaults["downloads_per_minute"],
        "partnership": defaults["partnership_per_minute"],
        "alert_profiles": defaults["alert_profiles"],
        "alert_minutes": defaults["alert_minutes"],
    }
    try:
        with connection.cursor() as cursor:
            cursor.execute(_statement(), params)
            row = cursor.fetchone()
    except DatabaseError as exc:
        if not is_read_only(exc) or connection.in_atomic_block:
            raise
        logger.warning("reads not counted in %s: the database is read-only", connection.schema_name)
        return None
    count = ReadCount(kind, *row)
    if count.count == count.limit + 1:
        summary = f"more than {count.limit} {KIND_WORDS[kind]} in a minute; refused for {count.retry_after} s"
        audit_record(action=READ_LIMITED, request=request, actor=user, object_type="user", object_id=user.pk,
                     summary=summary)  # fmt: skip
    elif count.partnership_count == count.partnership_limit + 1:
        audit_record(action=PARTNERSHIP_READ_LIMITED, request=request, actor=user, object_type="user",
                     object_id=user.pk, summary=f"the partnership passed {count.partnership_limit} reads in a "
                     f"minute; reads refused for {count.retry_after} s")  # fmt: skip
    if count.profiles is not None and count.profiles == count.alert_profiles + 1:
        _volume_alert(request=request, user=user, count=count)
    return count


def _volume_alert(*, request, user, count: ReadCount) -> None:
    """Audit and tell the partnership's admins that ``user`` opened more than the alert's number of
    distinct profiles in its window (the caller's read is the one that passed it: once a window)."""
    who = " ".join(user.get_full_name().split())  # one line (the mail's subject)
    summary = f"{who} opened more than {count.alert_profiles} distinct profiles in {count.alert_minutes} minutes"
    admins = list(
        User.objects.filter(role=User.Role.ADMIN, is_active=True, is_integration=False)
        .order_by("pk")
        .values_list("email", flat=True)
    )
    trail = request.build_absolute_uri(f"/admin/audit/?user={user.pk}") if request is not None else ""
    body = (
        f"{summary}.\n\n"
        f"Person: {who} ({user.email})\n"
        f"Partnership: {getattr(connection, 'tenant', None) or connection.schema_name}\n\n"
        "This may be someone reading through records in bulk, or a signed-in session in the wrong hands. "
        "Check their recent activity in the audit log"
        + (f" ({trail})" if trail else "")
        + ", and if it was not expected, deactivate the account or reset their second factor.\n\n"
        "Concord sends this once for each person in each window.\n"
    )
    with transaction.atomic():
        audit_record(action=READ_VOLUME_ALERT, request=request, actor=user, object_type="user", object_id=user.pk,
                     summary=summary)  # fmt: skip
        if admins:
            mail_send_later(to=admins, subject=f"Concord: {who} opened many profiles in a short time", body=body)


# --- Pages -------------------------------------------------------------------------------------


def refused_page(request, count: ReadCount):
    response = render(request, "accounts/read_limited.html", {"count": count, "message": count.message}, status=429)
    response["Retry-After"] = str(count.retry_after)
    return response


def read_limited(kind: str, *, methods: tuple[str, ...] = ("GET", "HEAD")):
    """A page view's decorator: count each request of ``methods`` as a read of ``kind`` (the
    ``profile_id`` of the URL, if any, for the volume alert); over a limit, the 429 page
    before the view reads anything."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of read: {kind}")

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            if request.method in methods and user.is_authenticated:
                count = read_count(request=request, user=user, kind=kind, profile_id=kwargs.get("profile_id"))
                if count is not None and not count.allowed:
                    return refused_page(request, count)
            return view(request, *args, **kwargs)

        wrapped.read_limited = kind
        return wrapped

    return decorator


# --- The API -----------------------------------------------------------------------------------


class ReadLimited(exceptions.Throttled):
    default_code = "read_limited"

    def __init__(self, count: ReadCount):
        super().__init__(wait=count.retry_after, detail=count.message, code=self.default_code)

    def __str__(self) -> str:
        return str(self.detail)


def api_read_kind(request, view) -> str | None:
    """What an API request reads: ``view.read_limit`` if the class says (a download), else a read
    of its area (``SEARCH`` for search) for reads (GET, HEAD; a POSTed search), else None."""
    area = getattr(view, "api_area", None)
    if area not in AREAS:
        return None
    if request.method not in SAFE_METHODS and not getattr(view, "api_reads_only", False):
        return None
    if request.method == "OPTIONS":
        return None
    return getattr(view, "read_limit", None) or (SEARCH if area == "search" else READ)


class ReadLimitThrottle(BaseThrottle):
    """Every API read counted (``api_read_kind``); over a limit, 429 ``read_limited`` with
    ``Retry-After``. DRF calls it after authentication and the permission checks."""

    def allow_request(self, request, view) -> bool:
        kind = api_read_kind(request, view)
        user = request.user
        if kind is None or not user.is_authenticated:
            return True
        profile_id = getattr(view, "kwargs", {}).get("profile_id")
        count = read_count(request=request._request, user=user, kind=kind, profile_id=profile_id)
        if count is not None and not count.allowed:
            raise ReadLimited(count)
        return True


# --- Settings ----------------------------------------------------------------------------------


def read_limits_update(
    *,
    request,
    reads_per_minute: int,
    searches_per_minute: int,
    downloads_per_minute: int,
    partnership_per_minute: int,
    alert_profiles: int,
    alert_minutes: int,
) -> ReadLimits:
    """A partnership admin sets the limits: validated as a whole (a ``ValidationError`` naming the
    field, nothing saved), saved, audited with what changed (the caller checks the role)."""
    values = {
        "reads_per_minute": reads_per_minute,
        "searches_per_minute": searches_per_minute,
        "downloads_per_minute": downloads_per_minute,
        "partnership_per_minute": partnership_per_minute,
        "alert_profiles": alert_profiles,
        "alert_minutes": alert_minutes,
    }
    with transaction.atomic():
        return _read_limits_save(request=request, values=values)


def _read_limits_save(*, request, values: dict) -> ReadLimits:
    current = ReadLimits.objects.select_for_update().order_by("pk").first() or ReadLimits()
    before = {name: getattr(current, name) for name in FIELDS}
    for name, value in values.items():
        setattr(current, name, value)
    current.full_clean()
    biggest = max(current.reads_per_minute, current.searches_per_minute, current.downloads_per_minute)
    if current.partnership_per_minute < biggest:
        raise ValidationError(
            {"partnership_per_minute": f"The partnership's limit must be at least each person's ({biggest})."}
        )
    current.save()
    changes = {name: [before[name], values[name]] for name in FIELDS if before[name] != values[name]}
    summary = "; ".join(f"{FIELDS[name]}: {old} -> {new}" for name, (old, new) in changes.items()) or "unchanged"
    audit_record(action=READ_LIMITS_CHANGED, request=request, object_type="read_limits", object_id=current.pk,
                 summary=summary[:300], changes=changes or None)  # fmt: skip
    return current
