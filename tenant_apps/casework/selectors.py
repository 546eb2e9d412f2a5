"""Reads of casework, always through the user: what they may see is decided in the query.

``access_*`` give the same 404 for "does not exist" and "not yours", so ids are
no oracle. Counts, searches, lists, exports and the API all start from
``profiles_visible_to`` / ``cases_visible_to``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.http import Http404

from tenant_apps.casework.models import Case, CaseworkSettings, Profile, Share, TimelineEntry


@dataclass(frozen=True)
class Scope:
    user_id: int
    team_ids: tuple[int, ...]
    agency_id: int | None
    sees_everything: bool
    read_only: bool


def user_scope(user) -> Scope:
    """The user's teams and agency, read once per request (kept on the user object); with the
    user itself when the request signed them in."""
    cached = getattr(user, "_casework_scope", None)
    if cached is not None:
        return cached
    from tenant_apps.directory.models import Membership, TeamMembership

    loaded = getattr(user, "member_team_ids", None)  # read with the user (directory.backends.MemberBackend)
    if loaded is not None:
        team_ids, agency_id = tuple(loaded), user.member_agency_id
    else:
        team_ids = tuple(TeamMembership.objects.filter(user=user).values_list("team_id", flat=True))
        agency_id = Membership.objects.filter(user=user).values_list("agency_id", flat=True).first()
    sees_everything = user.is_partnership_admin and CaseworkSettings.current().admins_see_everything
    scope = Scope(user.pk, team_ids, agency_id, sees_everything, user.is_read_only)
    user._casework_scope = scope
    return scope


def _grantee_q(scope: Scope) -> Q:
    q = Q(user_id=scope.user_id) | Q(team_id__in=scope.team_ids)
    if scope.agency_id is not None:
        q |= Q(agency_id=scope.agency_id)
    return q


def _owner_q(scope: Scope) -> Q:
    q = Q(owning_team_id__in=scope.team_ids)
    if scope.agency_id is not None:
        q |= Q(owning_agency_id=scope.agency_id)
    return q


def _edit_q(scope: Scope, *, field: str) -> Q:
    """Where a (non read-only) user may change the row: their team or agency owns it, or an edit share."""
    grants = Share.objects.filter(**{field: OuterRef("pk")}, can_edit=True).filter(_grantee_q(scope))
    return _owner_q(scope) | Q(Exists(grants))


def _visible(model, scope: Scope, *, field: str, edit: bool) -> QuerySet:
    if edit and scope.read_only:
        return model.objects.none()
    if edit:
        return model.objects.filter(_edit_q(scope, field=field))
    if scope.sees_everything:
        return model.objects.all()
    grants = Share.objects.filter(**{field: OuterRef("pk")}).filter(_grantee_q(scope))
    return model.objects.filter(_owner_q(scope) | Q(Exists(grants)))


def profiles_visible_to(user, *, edit: bool = False) -> QuerySet[Profile]:
    """Profiles the user may see (or edit), merged ones excluded."""
    return _visible(Profile, user_scope(user), field="profile", edit=edit).filter(merged_into__isnull=True)


def cases_visible_to(user, *, edit: bool = False) -> QuerySet[Case]:
    return _visible(Case, user_scope(user), field="case", edit=edit)


def access_profile(*, user, profile_id, edit: bool = False) -> Profile:
    profile = profiles_visible_to(user, edit=edit).filter(pk=profile_id).first() if str(profile_id).isdigit() else None
    if profile is None:
        raise Http404("No such profile")
    return profile


def access_case(*, user, case_id, edit: bool = False, related: tuple[str, ...] = ()) -> Case:
    """The case, if the user may see (edit: change) it, with ``related`` joined in the same query."""
    if not str(case_id).isdigit():
        raise Http404("No such case")
    case = cases_visible_to(user, edit=edit).select_related(*related).filter(pk=case_id).first()
    if case is None:
        raise Http404("No such case")
    return case


# --- The same rules for rows already read ---------------------------------------------------
# A page that has read a case, a profile or subjects asks "may this user also edit it / open them?"
# to decide what it offers; a change is still allowed or refused by the querysets above.
# The owner rule is applied to the row in Python (``_owned`` is ``_owner_q`` for one row) and only
# the shares are asked of the database, when they can change the answer. A test compares these
# with the querysets above for every member of the test cast.


def _owned(scope: Scope, record) -> bool:
    return record.owning_team_id in scope.team_ids or (
        scope.agency_id is not None and record.owning_agency_id == scope.agency_id
    )


def _may_edit(user, record, *, field: str) -> bool:
    scope = user_scope(user)
    if scope.read_only:
        return False
    if _owned(scope, record):
        return True
    return Share.objects.filter(_grantee_q(scope), **{field: record.pk}, can_edit=True).exists()


@dataclass(frozen=True)
class SharingRights:
    """What a user may do with the shares of one record (``sharing_rights``)."""

    may_share: bool = False  # grant shares at all
    may_grant_edit: bool = False  # ... with edit rights
    may_grant_share_on: bool = False  # ... with "may share on"
    may_revoke_any: bool = False  # revoke any share (else only those they granted, if may_share)

    def may_revoke(self, user, share: Share) -> bool:
        return self.may_revoke_any or (self.may_share and share.granted_by_id == user.pk)


def sharing_rights(user, record: Profile | Case) -> SharingRights:
    """Who may share a (visible) profile or case, and how far: the rule of every route.

    - The owning team or agency, and partnership admins, may share it (view, edit, and "may
      share on"), and revoke any of its shares.
    - Someone holding a share with ``can_share`` ("may share on") may share it further, never
      with more than they hold: edit only if a share gives them edit, and never "may share on"
      itself (one hop: the owner decides who re-shares). They may revoke the shares they
      granted, and only those.
    - Anyone else, an edit share included, may not share it; viewers never.
    """
    scope = user_scope(user)
    if scope.read_only:
        return SharingRights()
    if _owned(scope, record) or user.is_partnership_admin:
        return SharingRights(may_share=True, may_grant_edit=True, may_grant_share_on=True, may_revoke_any=True)
    field = "profile_id" if isinstance(record, Profile) else "case_id"
    held = list(Share.objects.filter(_grantee_q(scope), **{field: record.pk}).values_list("can_edit", "can_share"))
    if not any(can_share for _, can_share in held):
        return SharingRights()
    return SharingRights(may_share=True, may_grant_edit=any(can_edit for can_edit, _ in held))


def may_edit_case(user, case: Case) -> bool:
    """Whether ``cases_visible_to(user, edit=True)`` holds this (visible) case."""
    return _may_edit(user, case, field="case_id")


def may_edit_profile(user, profile: Profile) -> bool:
    """Whether ``profiles_visible_to(user, edit=True)`` holds this (visible) profile."""
    return profile.merged_into_id is None and _may_edit(user, profile, field="profile_id")


def openable_profile_ids(user, profiles) -> set[int]:
    """Which of these profiles (already read) ``profiles_visible_to(user)`` holds: one query at
    most, for the shares of those the user's team or agency does not own."""
    scope = user_scope(user)
    live = [profile for profile in profiles if profile.merged_into_id is None]
    if scope.sees_everything:
        return {profile.pk for profile in live}
    openable = {profile.pk for profile in live if _owned(scope, profile)}
    others = [profile.pk for profile in live if profile.pk not in openable]
    if others:
        shared = Share.objects.filter(_grantee_q(scope), profile_id__in=others).values_list("profile_id", flat=True)
        openable.update(shared)
    return openable


def _with_readability(
    entries: QuerySet, scope: Scope, *, related: tuple[str, ...] = ("recorded_by", "case")
) -> QuerySet:
    """Annotate ``can_read``: sensitive entries are readable only by their named teams.

    ``count()`` leaves the annotation (and the joins) out, so a paginator's count is a plain
    count of the case's entries.
    """
    from tenant_apps.casework.models import TimelineEntry as Entry

    restricted = Entry.restricted_to_teams.through.objects.filter(
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
    visible = TimelineEntry.objects.filter(pk=entry_id).filter(
        Q(case__in=cases_visible_to(user, edit=edit))
        | Q(case__isnull=True, profiles__in=profiles_visible_to(user, edit=edit))
    )
    # One statement: an entry removed between a lookup and a second read would be a 500.
    entry = _with_readability(TimelineEntry.objects.filter(pk__in=visible.values("pk")), user_scope(user)).first()
    if entry is None:
        raise Http404("No such entry")
    return entry


# --- What the audit trail may show a reader (registered in ``audit_rules``) ------------------
# Deleted entries and merged profiles count too: their events stay in the trail.

SENSITIVE_ENTRY = "sensitive entry"
NOT_VISIBLE = "record not visible to you"


def _ids(object_ids) -> list[int]:
    return [int(value) for value in object_ids if str(value).isdigit()]


def profiles_hidden_from(user, profile_ids) -> dict[str, str]:
    """Of these profile ids, those ``user`` may not see (merged ones judged as they were), with why."""
    ids = _ids(profile_ids)
    seen = set(
        _visible(Profile, user_scope(user), field="profile", edit=False).filter(pk__in=ids).values_list("pk", flat=True)
    )
    return {str(pk): NOT_VISIBLE for pk in ids if pk not in seen}


def cases_hidden_from(user, case_ids) -> dict[str, str]:
    """Of these case ids, those ``user`` may not see, with why."""
    ids = _ids(case_ids)
    seen = set(cases_visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))
    return {str(pk): NOT_VISIBLE for pk in ids if pk not in seen}


def entries_hidden_from(user, entry_ids) -> dict[str, str]:
    """Of these entry ids (deleted ones included), those whose content ``user`` may not read.

    - "sensitive entry": the entry is sensitive now, or was at any kept version (its older
      events hold what it said then), and the user is in none of its named teams. An entry
      that is no longer sensitive stays hidden from them in the trail: its history is not.
    - "record not visible to you": the user may not see its case (or, off any case, any of
      its profiles). An id that names no entry is hidden too (fail closed).
    """
    ids = _ids(entry_ids)
    if not ids:
        return {}
    scope = user_scope(user)
    visible_profiles = _visible(Profile, scope, field="profile", edit=False)
    named = TimelineEntry.restricted_to_teams.through.objects.filter(
        timelineentry_id=OuterRef("pk"), team_id__in=scope.team_ids
    )
    from tenant_apps.casework.models import TimelineEntryVersion

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
    for pk, visible, sensitive, in_named_team in rows:
        readable[pk] = NOT_VISIBLE if not visible else SENSITIVE_ENTRY if sensitive and not in_named_team else ""
    return {str(pk): readable.get(pk, NOT_VISIBLE) for pk in ids if readable.get(pk, NOT_VISIBLE)}
