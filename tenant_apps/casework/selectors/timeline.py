"""Reads of the timeline: a case's or a profile's stream, one entry, and what the trail may show.

A sensitive entry is readable only by its named teams (``can_read``): everyone else who may
see its case sees that it exists, under its kind, not what it says.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import PermissionDenied
from django.db.models import Case as Choose  # "Case" is casework's model here
from django.db.models import CharField, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Concat
from django.http import Http404
from django.utils import dateformat, timezone

from concord.sql import related_values
from tenant_apps.casework.models import Case, Profile, TimelineEntry, TimelineEntryVersion
from tenant_apps.casework.selectors.scope import (
    NOT_VISIBLE,
    SENSITIVE_ENTRY,
    Scope,
    cases_visible_to,
    profiles_visible_to,
    user_scope,
    visible,
    whole_ids,
)

__all__ = [
    "EntryChange",
    "access_entry",
    "entries_hidden_from",
    "entry_changes",
    "entry_history",
    "live_entry_count",
    "set_listed_ids",
    "timeline_for_case",
    "timeline_for_profile",
]

PER_PAGE = 25  # entries on a page of a case's or a profile's timeline


def _with_readability(
    entries: QuerySet, scope: Scope, *, related: tuple[str, ...] = ("recorded_by", "case")
) -> QuerySet:
    """Annotate ``can_read``: sensitive entries are readable only by their named teams.

    ``count()`` leaves the annotation (and the joins) out, so a paginator's count is a plain
    count of the case's entries.
    """
    restricted = TimelineEntry.restricted_to_teams.through.objects.filter(
        timelineentry_id=OuterRef("pk"), team_id__in=scope.team_ids
    )
    return (
        entries.filter(deleted_at__isnull=True)
        .annotate(can_read=Q(is_sensitive=False) | Q(Exists(restricted)))
        .select_related(*related)
        .order_by("-occurred_at", "-pk")
    )


def _held_by():
    """The labels of the teams an entry is restricted to ("ASB Team (District Council)"), by name, for
    an entry the user may not read (``can_read`` false); ``[]`` for the others, whose subquery is
    never run. So the page can say whom to ask, in the page's own query.

    Team names are directory facts of the whole partnership (every writer picks from all of them
    when restricting an entry, and sees them on every team picker), so naming the teams that hold
    an entry shows the reader nothing of what it says: only whom to ask, as its kind and day do.
    """
    teams = (
        TimelineEntry.restricted_to_teams.through.objects.filter(timelineentry_id=OuterRef("pk"))
        .order_by("team__name", "team__agency__name")
        .values(label=Concat("team__name", Value(" ("), "team__agency__name", Value(")"), output_field=CharField()))
    )
    labels = ArrayField(CharField())
    return Choose(When(can_read=False, then=ArraySubquery(teams)), default=Value([], output_field=labels),
                output_field=labels)  # fmt: skip


def _stream(entries: QuerySet, scope: Scope, *, related: tuple[str, ...] = ()) -> QuerySet:
    """A timeline to list: readability, the recorder's name and e-mail as two columns
    (``recorder_full_name``, ``recorder_email``) rather than a whole user for every row, and
    ``held_by`` (``_held_by``) on the entries the user may not read."""
    return _with_readability(entries, scope, related=related).annotate(
        recorder_full_name=F("recorded_by__full_name"), recorder_email=F("recorded_by__email"), held_by=_held_by()
    )


def live_entry_count(case: Case, *, kind: str = "") -> int:
    """How many entries the case's timeline lists (of ``kind``, if given): its paginator's count,
    from the partial index."""
    entries = TimelineEntry.objects.filter(case_id=case.pk, deleted_at__isnull=True)
    return (entries.filter(kind=kind) if kind else entries).count()


def timeline_for_case(*, user, case: Case, kind: str = "") -> QuerySet[TimelineEntry]:
    """The case's stream, newest first (the case was fetched with ``access_case``); only entries
    of ``kind``, if given. An entry the user may not read is listed under its kind, as it is shown.

    Read through ``case.entries``: every entry's ``case`` is this instance, so the case is
    neither joined nor built again for each row.
    """
    entries = case.entries.filter(kind=kind) if kind else case.entries.all()
    return _stream(entries, user_scope(user))


def timeline_for_profile(*, user, profile: Profile, kind: str = "") -> QuerySet[TimelineEntry]:
    """The profile's stream: entries about it (of ``kind``, if given), except those on cases the
    user may not see."""
    entries = TimelineEntry.objects.filter(profiles=profile).filter(
        Q(case__isnull=True) | Q(case__in=cases_visible_to(user))
    )
    if kind:
        entries = entries.filter(kind=kind)
    return _stream(entries, user_scope(user), related=("case",))


def _reachable(user, entry_id, *, edit: bool) -> QuerySet[TimelineEntry]:
    """The entry if it is on a case the user may see (edit: change), or on no case and about a
    profile they may see (edit: change)."""
    return TimelineEntry.objects.filter(pk=entry_id).filter(
        Q(case__in=cases_visible_to(user, edit=edit))
        | Q(case__isnull=True, profiles__in=profiles_visible_to(user, edit=edit))
    )


def access_entry(*, user, entry_id, readable: bool = False, edit: bool = False, forbid: bool = False) -> TimelineEntry:
    """An entry on a case (or about a profile) the user may see, with ``can_read``: the one answer
    to "may I read / may I change this entry?", for pages, the API, services and documents.

    - Not visible to the user: 404 (the same for "does not exist" and "not yours").
    - ``readable``: a sensitive entry outside the user's teams is not there for them either (404).
    - ``edit``: the user must also be able to change it, which takes reading it too (a sensitive
      entry is changed only by its named teams): otherwise 404, or ``PermissionDenied`` with
      ``forbid`` (the API's 403 for an entry the user can see but not change).
    """
    if not str(entry_id).isdigit():
        raise Http404("No such entry")
    reachable = _reachable(user, entry_id, edit=False)
    # One statement: an entry removed between a lookup and a second read would be a 500.
    entries = _with_readability(TimelineEntry.objects.filter(pk__in=reachable.values("pk")), user_scope(user))
    if edit:
        entries = entries.annotate(can_edit=Exists(_reachable(user, OuterRef("pk"), edit=True)))
    entry = entries.first()
    if entry is None or (readable and not entry.can_read):
        raise Http404("No such entry")
    if edit and not (entry.can_read and entry.can_edit):
        if forbid:
            raise PermissionDenied("You may not change an entry you may not read." if not entry.can_read
                                   else "You may not change this entry.")  # fmt: skip
        raise Http404("No such entry")
    return entry


def entry_history(*, entry: TimelineEntry) -> QuerySet[TimelineEntryVersion]:
    """The entry's previous versions (``TimelineEntryVersion.Meta.ordering``), with who replaced each."""
    return entry.history.select_related("replaced_by")


WHEN_FORMAT = "j M Y, H:i"  # every time the timeline shows: "3 Mar 2026, 14:30"

_FIELD_LABELS = {
    "kind": "Kind of entry", "action": "Action", "occurred_at": "When it happened", "summary": "Summary",
    "body": "Details", "attendees": "Who was there", "is_sensitive": "Sensitive",
}  # fmt: skip


@dataclass(frozen=True)
class FieldChange:
    label: str  # the field as the form names it
    old: str  # in words: a choice's label, a date in WHEN_FORMAT, "None" for nothing
    new: str


@dataclass(frozen=True)
class EntryChange:
    """One edit of an entry: who made it, when, and each field it changed, old and new in words."""

    version: int  # the version it made (2 for the first edit)
    changed_by: str
    changed_at: dt.datetime
    fields: tuple[FieldChange, ...]


def _when(value) -> str:
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return dateformat.format(timezone.localtime(moment), WHEN_FORMAT)


def _in_words(field: str, value) -> str:
    if value in ("", None):
        return "None"
    if field == "kind":
        return str(TimelineEntry.Kind(value).label) if value in TimelineEntry.Kind.values else str(value)
    if field == "action":
        return str(TimelineEntry.Action(value).label) if value in TimelineEntry.Action.values else str(value)
    if field == "occurred_at":
        return _when(value)
    if field == "is_sensitive":
        return "Yes" if value else "No"
    return str(value)


def _current(entry: TimelineEntry) -> dict:
    return {"kind": entry.kind, "action": entry.action, "occurred_at": entry.occurred_at, "summary": entry.summary,
            "body": entry.body, "attendees": entry.attendees, "is_sensitive": entry.is_sensitive}  # fmt: skip


def entry_changes(*, entry: TimelineEntry) -> list[EntryChange]:
    """The edits of an entry the caller read with ``access_entry(readable=True)``, newest first: each
    kept version (``entry_history``) against the one that replaced it (the last against the entry as
    it is). Only the fields that changed; an edit that changed nothing shows no fields. One query."""
    versions = sorted(entry_history(entry=entry), key=lambda version: version.version)
    states = [version.data for version in versions] + [_current(entry)]
    changes = []
    for version, before, after in zip(versions, states, states[1:], strict=False):
        fields = []
        for field, label in _FIELD_LABELS.items():
            old, new = _in_words(field, before.get(field)), _in_words(field, after.get(field))
            if old != new:
                fields.append(FieldChange(label=label, old=old, new=new))
        who = version.replaced_by.get_full_name() or version.replaced_by.email
        changes.append(EntryChange(version=version.version + 1, changed_by=who, changed_at=version.replaced_at,
                                   fields=tuple(fields)))  # fmt: skip
    return changes[::-1]


def set_listed_ids(page: list) -> None:
    """Set ``listed_team_ids`` and ``listed_profile_ids`` on a page of entries, in one query for the
    page (what ``prefetch_related`` did in two, without a model per pair). Not in the page's own
    query: PostgreSQL would build the arrays of every row an ``OFFSET`` skips."""
    teams, profiles = TimelineEntry.restricted_to_teams.through, TimelineEntry.profiles.through
    rows = TimelineEntry.objects.filter(pk__in=[entry.pk for entry in page]).annotate(
        team_ids=related_values(teams, column="team_id", key="timelineentry_id", outer=TimelineEntry),
        profile_ids=related_values(profiles, column="profile_id", key="timelineentry_id", outer=TimelineEntry),
    )
    listed = {pk: (teams, profiles) for pk, teams, profiles in rows.values_list("pk", "team_ids", "profile_ids")}
    for entry in page:
        entry.listed_team_ids, entry.listed_profile_ids = listed[entry.pk]


def entries_hidden_from(user, entry_ids) -> dict[str, str]:
    """Of these entry ids (deleted ones included), those whose content ``user`` may not read.

    - "sensitive entry": the entry is sensitive now, or was at any kept version (its older
      events hold what it said then), and the user is in none of its named teams. An entry
      that is no longer sensitive stays hidden from them in the trail: its history is not.
    - "record not visible to you": the user may not see its case (or, off any case, any of
      its profiles). An id that names no entry is hidden too (fail closed).
    """
    ids = whole_ids(entry_ids)
    if not ids:
        return {}
    scope = user_scope(user)
    visible_profiles = visible(Profile, scope, field="profile", edit=False)
    named = TimelineEntry.restricted_to_teams.through.objects.filter(
        timelineentry_id=OuterRef("pk"), team_id__in=scope.team_ids
    )
    was_sensitive = TimelineEntryVersion.objects.filter(entry_id=OuterRef("pk"), data__is_sensitive=True)
    on_profiles = TimelineEntry.profiles.through.objects.filter(
        timelineentry_id=OuterRef("pk"), profile_id__in=visible_profiles.values("pk")
    )
    rows = (
        TimelineEntry.objects.filter(pk__in=ids)
        .annotate(
            visible=Q(case__in=cases_visible_to(user)) | Q(case__isnull=True) & Q(Exists(on_profiles)),
            sensitive=Q(is_sensitive=True) | Q(Exists(was_sensitive)),
            named=Exists(named),
        )
        .values_list("pk", "visible", "sensitive", "named")
    )
    readable = {}
    for pk, is_visible, sensitive, in_named_team in rows:
        readable[pk] = NOT_VISIBLE if not is_visible else SENSITIVE_ENTRY if sensitive and not in_named_team else ""
    return {str(pk): readable.get(pk, NOT_VISIBLE) for pk in ids if readable.get(pk, NOT_VISIBLE)}
