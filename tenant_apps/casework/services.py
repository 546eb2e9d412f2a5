"""Writes of casework: keyword-only, validated, audited, each in one transaction.

Edits use optimistic concurrency: the caller passes the ``version`` it opened;
if someone saved in between, ``ChangedSinceOpened`` is raised and nothing is
written (never a silent overwrite).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from tenant_apps.audit.services import audit_record
from tenant_apps.casework.models import (
    Case,
    CaseSubject,
    CaseType,
    Profile,
    ProfileAlias,
    Share,
    TimelineEntry,
    TimelineEntryVersion,
    normalise_name,
)
from tenant_apps.casework.selectors import cases_visible_to, profiles_visible_to, sharing_rights, user_scope

FUTURE_TOLERANCE = dt.timedelta(minutes=5)  # clocks differ a little between devices


class ChangedSinceOpened(Exception):
    """Someone saved this record after the user opened it."""

    code = "changed_since_opened"
    message = "This record changed since you opened it. Reload it, check the changes, then make yours again."


class AlreadyMerged(ChangedSinceOpened):
    """One of the two profiles was merged (by someone else, a moment ago): nothing was merged now."""

    code = "already_merged"
    message = "One of these profiles has just been merged into another. Reload the profile and check it again."


def _writer(user) -> None:
    if user.is_read_only:
        raise PermissionDenied("Viewers cannot change records.")


def _owner_defaults(user, owning_agency, owning_team):
    """Who owns a new profile, case or family: the rule of every route (pages and API).

    - The owning agency is the user's own agency (the default); no other may be named.
    - The owning team is one of the user's own teams: the create pages offer only those,
      and the API refuses any other (400 on ``owning_team``), even another team of the
      same agency. Left out, it is the user's only team if they have exactly one; a user
      of several teams must choose; a user of none makes a record owned by the agency alone.
    """
    scope = user_scope(user)
    if owning_agency is not None and owning_agency.pk != scope.agency_id:
        raise ValidationError({"owning_agency": ["Choose your own agency."]})
    agency_id = scope.agency_id
    if agency_id is None:
        raise ValidationError({"owning_agency": ["Choose the agency that owns this record."]})
    if owning_team is None:
        if len(scope.team_ids) > 1:
            raise ValidationError({"owning_team": ["Choose the team that owns this record."]})
        return agency_id, (scope.team_ids[0] if scope.team_ids else None)
    if owning_team.pk not in scope.team_ids or owning_team.agency_id != agency_id:
        raise ValidationError({"owning_team": ["Choose one of your teams."]})
    return agency_id, owning_team.pk


# --- Profiles ------------------------------------------------------------------------------


def profile_likely_duplicates(*, user, first_name: str, last_name: str, date_of_birth=None, limit: int = 5):
    """Visible profiles that may be this person: similar name (pg_trgm), same date of birth first."""
    from django.contrib.postgres.search import TrigramSimilarity

    wanted = normalise_name(f"{first_name} {last_name}")
    if not wanted:
        return Profile.objects.none()
    candidates = profiles_visible_to(user).filter(kind=Profile.Kind.PERSON, search_name__trigram_similar=wanted)
    if date_of_birth:
        candidates = candidates.filter(date_of_birth=date_of_birth) | profiles_visible_to(user).filter(
            kind=Profile.Kind.PERSON, date_of_birth=date_of_birth, search_name__trigram_word_similar=wanted
        )
    return candidates.annotate(similarity=TrigramSimilarity("search_name", wanted)).order_by("-similarity")[:limit]


def _validate_person(*, first_name, last_name, date_of_birth) -> None:
    errors = {}
    if not (first_name or "").strip() and not (last_name or "").strip():
        errors["last_name"] = ["Enter a first name or a last name."]
    if date_of_birth and date_of_birth > timezone.localdate():
        errors["date_of_birth"] = ["Date of birth must be today or in the past."]
    if date_of_birth and date_of_birth < dt.date(1900, 1, 1):
        errors["date_of_birth"] = ["Date of birth must be after 1 January 1900."]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def profile_create(*, user, request=None, kind: str = Profile.Kind.PERSON, first_name: str = "", last_name: str = "",
                   name: str = "", date_of_birth=None, gender: str = Profile.Gender.NOT_KNOWN, phone: str = "",
                   notes: str = "", owning_agency=None, owning_team=None, aliases=()) -> Profile:  # fmt: skip
    _writer(user)
    if kind == Profile.Kind.PERSON:
        _validate_person(first_name=first_name, last_name=last_name, date_of_birth=date_of_birth)
    elif not (name or "").strip():
        raise ValidationError({"name": ["Enter the name of the organisation or premises."]})
    agency_id, team_id = _owner_defaults(user, owning_agency, owning_team)
    profile = Profile(
        kind=kind, first_name=first_name.strip(), last_name=last_name.strip(), name=name.strip(),
        date_of_birth=date_of_birth, gender=gender, phone=phone.strip(), notes=notes,
        owning_agency_id=agency_id, owning_team_id=team_id, created_by=user,
    )  # fmt: skip
    profile.refresh_search_name()
    profile.full_clean(exclude=["owning_agency", "owning_team", "created_by", "search_name"])
    profile.save()
    for alias in aliases:
        if alias.strip():
            ProfileAlias.objects.create(profile=profile, name=alias.strip())
    audit_record(action="profile.created", request=request, actor=user, object_type="profile",
                 object_id=profile.pk, summary=f"profile {profile.pk} created")  # fmt: skip
    return profile


_PROFILE_FIELDS = ("first_name", "last_name", "name", "date_of_birth", "gender", "phone", "notes")


@transaction.atomic
def profile_update(*, user, request=None, profile: Profile, version: int, **changes) -> Profile:
    """Change a profile the user may edit, if nobody saved it since ``version``."""
    _writer(user)
    unknown = set(changes) - set(_PROFILE_FIELDS)
    if unknown:
        raise ValidationError({field: ["This field cannot be changed here."] for field in unknown})
    editable = profiles_visible_to(user, edit=True).select_for_update().filter(pk=profile.pk).first()
    if editable is None:
        raise PermissionDenied("You may not edit this profile.")
    if editable.version != version:
        raise ChangedSinceOpened()
    before = {field: getattr(editable, field) for field in changes}
    for field, value in changes.items():
        setattr(editable, field, value.strip() if isinstance(value, str) and field != "notes" else value)
    if editable.kind == Profile.Kind.PERSON:
        _validate_person(
            first_name=editable.first_name, last_name=editable.last_name, date_of_birth=editable.date_of_birth
        )
    editable.refresh_search_name()
    editable.full_clean(exclude=["owning_agency", "owning_team", "created_by", "search_name"])
    editable.version = F("version") + 1
    editable.updated_at = timezone.now()
    editable.save(update_fields=[*changes, "search_name", "version", "updated_at"])
    editable.refresh_from_db()
    after = {field: getattr(editable, field) for field in changes}
    from tenant_apps.audit.services import audit_changes

    audit_record(action="profile.updated", request=request, actor=user, object_type="profile",
                 object_id=editable.pk, summary=f"profile {editable.pk} changed",
                 changes=audit_changes({k: str(v) for k, v in before.items()},
                                       {k: str(v) for k, v in after.items()}))  # fmt: skip
    return editable


@transaction.atomic
def profile_merge(*, user, request=None, keep: Profile, merge: Profile) -> Profile:
    """Merge ``merge`` into ``keep``: roles, families, timeline, aliases, identifiers, addresses,
    markers and shares move over; ``merge`` stays, marked as merged, for the record."""
    _writer(user)
    if keep.pk == merge.pk:
        raise ValidationError({"merge": ["Choose two different profiles."]})
    # Lock both rows, always in the order of their ids, before deciding anything: two opposite
    # merges (X into Y, Y into X) then queue on the same first row, and the second one reads
    # the first one's result once it commits. (``select_for_update().count()`` locks nothing:
    # Django leaves FOR UPDATE out of a count.)
    locked = list(Profile.objects.select_for_update().filter(pk__in=[keep.pk, merge.pk]).order_by("pk"))
    if any(profile.merged_into_id is not None for profile in locked):
        raise AlreadyMerged()
    if profiles_visible_to(user, edit=True).filter(pk__in=[keep.pk, merge.pk]).count() != 2:
        raise PermissionDenied("You may not edit both profiles.")
    for relation in ("case_roles", "family_memberships", "addresses", "identifiers", "warnings",
                     "vulnerabilities", "aliases", "shares"):  # fmt: skip
        getattr(merge, relation).update(profile=keep)
    for entry in merge.entries.all():
        entry.profiles.add(keep)
    if merge.display_name != keep.display_name:
        ProfileAlias.objects.create(profile=keep, name=merge.display_name)
    Profile.objects.filter(pk=merge.pk).update(merged_into=keep, version=F("version") + 1, updated_at=timezone.now())
    audit_record(action="profile.merged", request=request, actor=user, object_type="profile", object_id=keep.pk,
                 summary=f"profile {merge.pk} merged into {keep.pk}")  # fmt: skip
    return keep


# --- Cases ---------------------------------------------------------------------------------


def _next_reference(case_type: CaseType, year: int) -> str:
    CaseType.objects.select_for_update().filter(pk=case_type.pk).first()  # serialise numbering per type
    prefix = f"{case_type.code}-{year}-"
    last = (
        Case.objects.filter(reference__startswith=prefix).order_by("-reference").values_list("reference", flat=True)
    ).first()
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{number:04d}"


@transaction.atomic
def case_create(*, user, request=None, case_type: CaseType, title: str, summary: str = "", opened_on=None,
                lead_practitioner=None, owning_agency=None, owning_team=None,
                subjects: list[tuple[Profile, str]] = ()) -> Case:  # fmt: skip
    _writer(user)
    errors = {}
    if not (title or "").strip():
        errors["title"] = ["Enter a title for the case."]
    opened_on = opened_on or timezone.localdate()
    if opened_on > timezone.localdate():
        errors["opened_on"] = ["The case cannot open in the future."]
    if not case_type.is_active:
        errors["case_type"] = ["This case type is no longer used."]
    if errors:
        raise ValidationError(errors)
    agency_id, team_id = _owner_defaults(user, owning_agency, owning_team)
    visible_profiles = set(
        profiles_visible_to(user).filter(pk__in=[p.pk for p, _ in subjects]).values_list("pk", flat=True)
    )
    for profile, role in subjects:
        if profile.pk not in visible_profiles:
            raise ValidationError({"subjects": ["Unknown profile."]})
        if role not in CaseSubject.Role.values:
            raise ValidationError({"subjects": ["Choose a role for each subject."]})
    case = Case.objects.create(
        reference=_next_reference(case_type, opened_on.year), case_type=case_type, title=title.strip(),
        summary=summary, opened_on=opened_on, lead_practitioner=lead_practitioner,
        owning_agency_id=agency_id, owning_team_id=team_id, created_by=user,
    )  # fmt: skip
    CaseSubject.objects.bulk_create(CaseSubject(case=case, profile=p, role=r) for p, r in subjects)
    audit_record(action="case.created", request=request, actor=user, object_type="case", object_id=case.pk,
                 summary=f"case {case.reference} opened")  # fmt: skip
    return case


@transaction.atomic
def case_set_status(*, user, request=None, case: Case, version: int, status: str, outcome: str = "",
                    closed_on=None) -> Case:  # fmt: skip
    _writer(user)
    editable = cases_visible_to(user, edit=True).select_for_update().filter(pk=case.pk).first()
    if editable is None:
        raise PermissionDenied("You may not edit this case.")
    if editable.version != version:
        raise ChangedSinceOpened()
    if status not in Case.Status.values:
        raise ValidationError({"status": ["Choose a status."]})
    errors = {}
    if status == Case.Status.CLOSED:
        if outcome not in Case.Outcome.values:
            errors["outcome"] = ["Choose the outcome of the case."]
        closed_on = closed_on or timezone.localdate()
        if closed_on < editable.opened_on:
            errors["closed_on"] = ["The case cannot close before it opened."]
        if closed_on > timezone.localdate():
            errors["closed_on"] = ["The case cannot close in the future."]
    else:
        outcome, closed_on = "", None
    if errors:
        raise ValidationError(errors)
    before = {"status": editable.status, "outcome": editable.outcome}
    Case.objects.filter(pk=case.pk).update(status=status, outcome=outcome, closed_on=closed_on,
                                           version=F("version") + 1, updated_at=timezone.now())  # fmt: skip
    audit_record(action="case.status_changed", request=request, actor=user, object_type="case", object_id=case.pk,
                 summary=f"case {editable.reference}: {before['status']} -> {status}",
                 changes={"status": [before["status"], status], "outcome": [before["outcome"], outcome]})  # fmt: skip
    editable.refresh_from_db()
    return editable


# --- Sharing -------------------------------------------------------------------------------


def _shared_record(user, *, record_type: str, record_id: int):
    """The record, locked, if the user may see it; PermissionDenied otherwise (the views have
    already answered 404 for a record the user may not see)."""
    visible = (profiles_visible_to if record_type == "profile" else cases_visible_to)(user)
    record = visible.filter(pk=record_id).select_for_update(of=("self",)).first()
    if record is None:
        raise PermissionDenied("You may not change the sharing of this record.")
    return record


def _share_terms(share: Share) -> str:
    who = f"team {share.team_id}" if share.team_id else f"agency {share.agency_id}" if share.agency_id else (
        f"user {share.user_id}")  # fmt: skip
    access = "edit" if share.can_edit else "view"
    return f"{access} with {who}, may share on: {'yes' if share.can_share else 'no'}"


@transaction.atomic
def share_grant(*, user, request=None, profile: Profile | None = None, case: Case | None = None, team=None,
                agency=None, grantee=None, can_edit: bool = False, can_share: bool = False) -> Share:  # fmt: skip
    """Share a record with a team, an agency or one user: view or edit, and perhaps "may share on"
    (``can_share``). Who may, and how far: ``selectors.sharing_rights`` (PermissionDenied if the
    user may not share it at all; a ValidationError on ``can_edit`` / ``can_share`` if they ask
    for more than they may grant)."""
    _writer(user)
    record_type, record = ("profile", profile) if profile is not None else ("case", case)
    if record is None or sum(x is not None for x in (team, agency, grantee)) != 1:
        raise ValidationError({"grantee": ["Choose one team, agency or person to share with."]})
    current = _shared_record(user, record_type=record_type, record_id=record.pk)
    rights = sharing_rights(user, current)
    if not rights.may_share:
        raise PermissionDenied("You may not share this record.")
    errors = {}
    if can_edit and not rights.may_grant_edit:
        errors["can_edit"] = ["You may share it to view only: you may not edit it yourself."]
    if can_share and not rights.may_grant_share_on:
        errors["can_share"] = ["Only the owning team or an admin may let others share it on."]
    if errors:
        raise ValidationError(errors)
    share = Share.objects.create(**{record_type: current}, team=team, agency=agency, user=grantee,
                                 can_edit=can_edit, can_share=can_share, granted_by=user)  # fmt: skip
    audit_record(action="share.granted", request=request, actor=user, object_type=record_type, object_id=record.pk,
                 summary=f"share {share.pk} granted: {_share_terms(share)}",
                 changes={"can_edit": [None, can_edit], "can_share": [None, can_share]})  # fmt: skip
    return share


@transaction.atomic
def share_revoke(*, user, request=None, share: Share) -> None:
    """Revoke a share: the owning team or agency and admins revoke any; someone who may share on
    revokes only the shares they granted (``selectors.sharing_rights``); PermissionDenied otherwise."""
    _writer(user)
    record_type, record_id = ("profile", share.profile_id) if share.profile_id else ("case", share.case_id)
    current = _shared_record(user, record_type=record_type, record_id=record_id)
    if not sharing_rights(user, current).may_revoke(user, share):
        raise PermissionDenied("You may not change the sharing of this record.")
    share_id, terms = share.pk, _share_terms(share)
    share.delete()
    audit_record(action="share.revoked", request=request, actor=user, object_type=record_type, object_id=record_id,
                 summary=f"share {share_id} revoked: {terms}",
                 changes={"can_edit": [share.can_edit, None], "can_share": [share.can_share, None]})  # fmt: skip


# --- Timeline ------------------------------------------------------------------------------

_ACTIONS_OF_KIND = {
    TimelineEntry.Kind.MEETING: {"", TimelineEntry.Action.CASE_MANAGEMENT_MEETING, TimelineEntry.Action.RJ_CONFERENCE},
    TimelineEntry.Kind.ENFORCEMENT: {
        TimelineEntry.Action.WARNING_LETTER, TimelineEntry.Action.ABC_OFFERED, TimelineEntry.Action.ABC_SIGNED,
        TimelineEntry.Action.ABC_REFUSED, TimelineEntry.Action.NOISE_ABATEMENT,
        TimelineEntry.Action.CLOSURE_CONSIDERED, TimelineEntry.Action.CLOSURE_APPLIED,
    },
}  # fmt: skip


def _validate_entry(*, kind, action, occurred_at, summary) -> None:
    errors = {}
    if kind not in TimelineEntry.Kind.values:
        errors["kind"] = ["Choose what kind of entry this is."]
    elif action not in _ACTIONS_OF_KIND.get(kind, {""}):
        errors["action"] = ["Choose an action that fits this kind of entry."]
    if occurred_at is None:
        errors["occurred_at"] = ["Enter when it happened."]
    elif occurred_at > timezone.now() + FUTURE_TOLERANCE:
        errors["occurred_at"] = ["It cannot have happened in the future."]
    if not (summary or "").strip():
        errors["summary"] = ["Enter a short summary."]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def entry_create(*, user, request=None, case: Case | None = None, profiles=(), kind: str, action: str = "",
                 occurred_at, summary: str, body: str = "", attendees: str = "", is_sensitive: bool = False,
                 restricted_to_teams=()) -> TimelineEntry:  # fmt: skip
    """Record work on a case (which the user may edit) and/or about profiles."""
    _writer(user)
    _validate_entry(kind=kind, action=action, occurred_at=occurred_at, summary=summary)
    profiles = list(profiles)
    if case is not None and not cases_visible_to(user, edit=True).filter(pk=case.pk).exists():
        raise PermissionDenied("You may not add to this case.")
    if case is None and not profiles:
        raise ValidationError({"profiles": ["Choose who this entry is about."]})
    if profiles:
        allowed = profiles_visible_to(user, edit=case is None).filter(pk__in=[p.pk for p in profiles]).count()
        if allowed != len({p.pk for p in profiles}):
            raise ValidationError({"profiles": ["Unknown profile."]})
    if is_sensitive and not restricted_to_teams:
        raise ValidationError({"restricted_to_teams": ["Choose the teams that may read a sensitive entry."]})
    entry = TimelineEntry.objects.create(
        case=case, kind=kind, action=action, occurred_at=occurred_at, summary=summary.strip(), body=body,
        attendees=attendees, is_sensitive=is_sensitive, recorded_by=user,
    )  # fmt: skip
    if case is not None and not profiles:
        profiles = [subject.profile for subject in case.subjects.select_related("profile")]
    entry.profiles.set({p.pk for p in profiles})
    if is_sensitive:
        entry.restricted_to_teams.set(restricted_to_teams)
    where = f" on case {case.reference}" if case else ""
    audit_record(action="timeline.entry_created", request=request, actor=user, object_type="timeline_entry",
                 object_id=entry.pk, summary=f"{kind} recorded{where}")  # fmt: skip
    return entry


def _may_change_entry(user, entry: TimelineEntry, verb: str) -> None:
    """Editable (its case, or its profiles when it is on no case) and readable: a sensitive
    entry is changed only by its named teams, who alone can read it."""
    from django.http import Http404

    from tenant_apps.casework.selectors import access_entry

    try:
        editable = access_entry(user=user, entry_id=entry.pk, edit=True)
    except Http404:
        raise PermissionDenied(f"You may not {verb} this entry.") from None
    if not editable.can_read:
        raise PermissionDenied(f"You may not {verb} this entry.")


def _snapshot(entry: TimelineEntry) -> dict:
    return {
        "kind": entry.kind, "action": entry.action, "occurred_at": entry.occurred_at.isoformat(),
        "summary": entry.summary, "body": entry.body, "attendees": entry.attendees,
        "is_sensitive": entry.is_sensitive,
    }  # fmt: skip


@transaction.atomic
def entry_update(*, user, request=None, entry: TimelineEntry, version: int, **changes) -> TimelineEntry:
    """Edit an entry; the previous version is kept as history."""
    _writer(user)
    allowed = {"kind", "action", "occurred_at", "summary", "body", "attendees"}
    if set(changes) - allowed:
        raise ValidationError({field: ["This field cannot be changed here."] for field in set(changes) - allowed})
    _may_change_entry(user, entry, "edit")
    current = TimelineEntry.objects.select_for_update().get(pk=entry.pk)
    if current.version != version:
        raise ChangedSinceOpened()
    merged = {**_snapshot(current), **changes}
    occurred = changes.get("occurred_at", current.occurred_at)
    _validate_entry(kind=merged["kind"], action=merged["action"], occurred_at=occurred, summary=merged["summary"])
    TimelineEntryVersion.objects.create(entry=current, version=current.version, data=_snapshot(current),
                                        replaced_by=user)  # fmt: skip
    updated = TimelineEntry.objects.filter(pk=current.pk, version=version).update(**changes, version=F("version") + 1)
    if updated != 1:
        raise ChangedSinceOpened()
    audit_record(action="timeline.entry_updated", request=request, actor=user, object_type="timeline_entry",
                 object_id=current.pk, summary=f"entry edited (version {version} kept)",
                 changes={k: [str(_snapshot(current).get(k)), str(v)] for k, v in changes.items()})  # fmt: skip
    return TimelineEntry.objects.get(pk=current.pk)


@transaction.atomic
def entry_delete(*, user, request=None, entry: TimelineEntry, version: int, reason: str) -> None:
    """Remove an entry from the timeline, with a reason; its content is kept as history."""
    _writer(user)
    if not (reason or "").strip():
        raise ValidationError({"reason": ["Give the reason for deleting this entry."]})
    _may_change_entry(user, entry, "delete")
    current = TimelineEntry.objects.select_for_update().get(pk=entry.pk)
    if current.version != version:
        raise ChangedSinceOpened()
    TimelineEntryVersion.objects.create(entry=current, version=current.version, data=_snapshot(current),
                                        replaced_by=user)  # fmt: skip
    TimelineEntry.objects.filter(pk=current.pk).update(
        deleted_at=timezone.now(), deleted_by=user, deleted_reason=reason.strip()[:300], version=F("version") + 1
    )
    audit_record(action="timeline.entry_deleted", request=request, actor=user, object_type="timeline_entry",
                 object_id=current.pk, summary=f"entry deleted: {reason.strip()[:200]}")  # fmt: skip


_VIEWED = {
    "Profile": ("profile", "profile.viewed"),
    "Case": ("case", "case.viewed"),
    "TimelineEntry": ("timeline_entry", "timeline.entry_viewed"),
    "Family": ("family", "family.viewed"),
}


def record_viewed(*, user, request=None, record, what: str = "") -> None:
    """Who looked at whom: every read that shows a record's content is audited, page or API alike.

    ``record`` is a profile or a case (its page, details, timeline, sharing, forms), a timeline
    entry (the API's entry, its attachments, its edit and delete pages) or a family; ``what`` says
    which view of it (``"sharing"``, ``"attachments"``...), never what it holds. A test walks
    every GET route that names a record by id and checks that it records one of these.
    """
    kind, action = _VIEWED[type(record).__name__]
    audit_record(action=action, request=request, actor=user, object_type=kind, object_id=record.pk,
                 summary=what)  # fmt: skip


def gallery_viewed(*, user, request=None, page) -> None:
    """The gallery shows faces: one event per page shown, naming the profiles on its cards
    (ids only, as many as fit in the summary)."""
    ids = list(dict.fromkeys(card.profile_id for card in page.object_list))
    listed = ", ".join(str(pk) for pk in ids)
    summary = f"page {page.number}: {len(page.object_list)} cards; profiles {listed or '-'}"
    if len(summary) > 300:
        summary = summary[:290].rsplit(",", 1)[0] + ", ..."
    audit_record(action="gallery.viewed", request=request, actor=user, object_type="gallery", summary=summary)
