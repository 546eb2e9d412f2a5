"""Writes of the timeline: an entry recorded, edited (its previous version kept) or deleted (with a reason)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone

from tenant_apps.audit.services import audit_changes, audit_record
from tenant_apps.casework.models import Case, TimelineEntry, TimelineEntryVersion
from tenant_apps.casework.selectors import access_entry, cases_visible_to, profiles_visible_to
from tenant_apps.casework.services.base import ChangedSinceOpened, require_writer
from tenant_apps.casework.services.documents import attachments_store, objects_discarded_on_failure

__all__ = ["entry_create", "entry_delete", "entry_update"]


FUTURE_TOLERANCE = dt.timedelta(minutes=5)  # clocks differ a little between devices


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


_TYPE_KINDS = ("case_type__name", "case_type__timeline_kinds")


def _refuse_kind_not_offered(kind: str, type_name: str, offered: list[str]) -> None:
    """A new entry (or an entry changed to a new kind) on a case must be of a kind its case type
    offers now; entries already of a kind it no longer offers stay as they are."""
    if kind not in offered:
        labels = dict(TimelineEntry.Kind.choices)
        choose = ", ".join(labels.get(value, value).lower() for value in offered)
        raise ValidationError({"kind": [f"A case of type {type_name} does not take {labels[kind].lower()} entries: "
                                        f"choose {choose}."]})  # fmt: skip


def entry_create(*, user, request=None, case: Case | None = None, profiles=(), kind: str, action: str = "",
                 occurred_at, summary: str, body: str = "", attendees: str = "", is_sensitive: bool = False,
                 restricted_to_teams=(), attachments=()) -> TimelineEntry:  # fmt: skip
    """Record work on a case (which the user may edit) and/or about profiles, with ``attachments``
    (files) stored with it: all or nothing.

    One transaction holds the entry, its audit event and the documents' rows; if anything fails
    (a refused file: ``ValidationError`` on ``attachments``; storage down: ``StorageUnavailable``)
    it rolls back and the objects already uploaded are deleted.
    """
    with objects_discarded_on_failure() as stored, transaction.atomic():
        entry = _entry_record(user=user, request=request, case=case, profiles=profiles, kind=kind, action=action,
                              occurred_at=occurred_at, summary=summary, body=body, attendees=attendees,
                              is_sensitive=is_sensitive, restricted_to_teams=restricted_to_teams)  # fmt: skip
        attachments_store(user=user, request=request, entry=entry, files=attachments, stored=stored)
    return entry


def _entry_record(*, user, request, case, profiles, kind, action, occurred_at, summary, body, attendees,
                  is_sensitive, restricted_to_teams) -> TimelineEntry:  # fmt: skip
    require_writer(user)
    _validate_entry(kind=kind, action=action, occurred_at=occurred_at, summary=summary)
    profiles = list(profiles)
    if case is not None:
        case_type = cases_visible_to(user, edit=True).filter(pk=case.pk).values_list(*_TYPE_KINDS).first()
        if case_type is None:
            raise PermissionDenied("You may not add to this case.")
        _refuse_kind_not_offered(kind, *case_type)
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
    try:
        access_entry(user=user, entry_id=entry.pk, edit=True)
    except Http404:
        raise PermissionDenied(f"You may not {verb} this entry.") from None


def _snapshot(entry: TimelineEntry) -> dict:
    return {
        "kind": entry.kind, "action": entry.action, "occurred_at": entry.occurred_at.isoformat(),
        "summary": entry.summary, "body": entry.body, "attendees": entry.attendees,
        "is_sensitive": entry.is_sensitive,
    }  # fmt: skip


def entry_update(*, user, request=None, entry: TimelineEntry, version: int, attachments=(), **changes) -> TimelineEntry:
    """Edit an entry; the previous version is kept as history. ``attachments``: more files stored
    with the change, all or nothing (as ``entry_create``)."""
    with objects_discarded_on_failure() as stored, transaction.atomic():
        updated = _entry_change(user=user, request=request, entry=entry, version=version, **changes)
        attachments_store(user=user, request=request, entry=updated, files=attachments, stored=stored)
    return updated


def _entry_change(*, user, request, entry: TimelineEntry, version: int, **changes) -> TimelineEntry:
    require_writer(user)
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
    if current.case_id and merged["kind"] != current.kind:  # keeping a kind no longer offered is fine
        _refuse_kind_not_offered(merged["kind"], *Case.objects.values_list(*_TYPE_KINDS).get(pk=current.case_id))
    TimelineEntryVersion.objects.create(entry=current, version=current.version, data=_snapshot(current),
                                        replaced_by=user)  # fmt: skip
    updated = TimelineEntry.objects.filter(pk=current.pk, version=version).update(**changes, version=F("version") + 1)
    if updated != 1:
        raise ChangedSinceOpened()
    audit_record(action="timeline.entry_updated", request=request, actor=user, object_type="timeline_entry",
                 object_id=current.pk, summary=f"entry edited (version {version} kept)",
                 changes=audit_changes({k: getattr(current, k) for k in changes}, changes))  # fmt: skip
    return TimelineEntry.objects.get(pk=current.pk)


@transaction.atomic
def entry_delete(*, user, request=None, entry: TimelineEntry, version: int, reason: str) -> None:
    """Remove an entry from the timeline, with a reason; its content is kept as history."""
    require_writer(user)
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
