"""Reads of the timeline: a case's or a profile's stream, one entry, and what the trail may show.

A sensitive entry is readable only by its named teams (``can_read``): everyone else who may
see its case sees that it exists, under its kind, not what it says.
"""

from __future__ import annotations

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.http import Http404

from tenant_apps.casework.models import Case, Profile, TimelineEntry, TimelineEntryVersion
from tenant_apps.casework.selectors.cases import cases_visible_to
from tenant_apps.casework.selectors.profiles import profiles_visible_to
from tenant_apps.casework.selectors.scope import NOT_VISIBLE, SENSITIVE_ENTRY, Scope, user_scope, visible, whole_ids

__all__ = ["access_entry", "entries_hidden_from", "live_entry_count", "timeline_for_case", "timeline_for_profile"]


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


def _stream(entries: QuerySet, scope: Scope, *, related: tuple[str, ...] = ()) -> QuerySet:
    """A timeline to list: readability, and the recorder's name and e-mail as two columns
    (``recorder_full_name``, ``recorder_email``) rather than a whole user for every row."""
    return _with_readability(entries, scope, related=related).annotate(
        recorder_full_name=F("recorded_by__full_name"), recorder_email=F("recorded_by__email")
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


def access_entry(*, user, entry_id, edit: bool = False) -> TimelineEntry:
    """An entry on a case (or about a profile) the user may see or edit."""
    if not str(entry_id).isdigit():
        raise Http404("No such entry")
    reachable = TimelineEntry.objects.filter(pk=entry_id).filter(
        Q(case__in=cases_visible_to(user, edit=edit))
        | Q(case__isnull=True, profiles__in=profiles_visible_to(user, edit=edit))
    )
    # One statement: an entry removed between a lookup and a second read would be a 500.
    entry = _with_readability(TimelineEntry.objects.filter(pk__in=reachable.values("pk")), user_scope(user)).first()
    if entry is None:
        raise Http404("No such entry")
    return entry


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
