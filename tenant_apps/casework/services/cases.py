"""Writes of cases: opening one (numbered per type and year) and changing its status."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Length
from django.utils import timezone

from tenant_apps.audit.services import audit_changes, audit_record
from tenant_apps.casework.models import Case, CaseSubject, CaseType, Profile
from tenant_apps.casework.selectors import cases_visible_to, profiles_visible_to, user_scope
from tenant_apps.casework.services.base import ChangedSinceOpened, owner_defaults, require_writer

__all__ = ["case_create", "case_set_status"]


def _next_reference(case_type: CaseType, year: int) -> str:
    """The next reference of this type's prefix and year (the type's row locked by the caller:
    numbering is serialised per type). Numbers count per prefix and year over every case,
    whatever its type now, so a prefix used before (by a type since renamed, or by another type)
    carries on after its highest number: a reference is never given twice."""
    prefix = f"{case_type.code}-{year}-"
    last = (
        Case.objects.filter(reference__startswith=prefix)
        .order_by(Length("reference").desc(), "-reference")  # 10000 after 9999, not before it
        .values_list("reference", flat=True)
    ).first()
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{number:04d}"


def _role_errors(case_type: CaseType, subjects) -> list[str]:
    """New subjects of a role the type does not offer (existing subjects are never checked)."""
    labels = dict(CaseSubject.Role.choices)
    refused = [role for role in dict.fromkeys(role for _, role in subjects) if role not in case_type.subject_roles]
    if not refused:
        return []
    offered = ", ".join(labels.get(role, role).lower() for role in case_type.subject_roles)
    return [
        f"A case of type {case_type.name} cannot have a subject as {labels.get(role, role).lower()}: choose {offered}."
        for role in refused
    ]


@transaction.atomic
def case_create(*, user, request=None, case_type: CaseType, title: str, summary: str = "", opened_on=None,
                lead_practitioner=None, owning_agency=None, owning_team=None,
                subjects: list[tuple[Profile, str]] = ()) -> Case:  # fmt: skip
    """Open a case of ``case_type`` (in use, not retired) with ``subjects`` of the roles the type
    offers. No ``owning_team``: the type's default team if the user is one of its members, else
    the rule of ``owner_defaults`` (the user's only team). The default team never gives a team
    the user is not in a case, nor access to one."""
    require_writer(user)
    # The type as it is now, locked until the case is made: a retirement, a new prefix or new
    # roles saved a moment ago apply (and wait for this case, if they came second).
    case_type = CaseType.objects.select_for_update().get(pk=case_type.pk)
    errors = {}
    if not (title or "").strip():
        errors["title"] = ["Enter a title for the case."]
    opened_on = opened_on or timezone.localdate()
    if opened_on > timezone.localdate():
        errors["opened_on"] = ["The case cannot open in the future."]
    if not case_type.is_active:
        errors["case_type"] = ["This case type has been retired: choose another."]
    if errors:
        raise ValidationError(errors)
    if owning_team is None and case_type.default_team_id in user_scope(user).team_ids:
        owning_team = case_type.default_team
    agency_id, team_id = owner_defaults(user, owning_agency, owning_team)
    visible_profiles = set(
        profiles_visible_to(user).filter(pk__in=[p.pk for p, _ in subjects]).values_list("pk", flat=True)
    )
    for profile, role in subjects:
        if profile.pk not in visible_profiles:
            raise ValidationError({"subjects": ["Unknown profile."]})
        if role not in CaseSubject.Role.values:
            raise ValidationError({"subjects": ["Choose a role for each subject."]})
    if refused := _role_errors(case_type, subjects):
        raise ValidationError({"subjects": refused})
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
    require_writer(user)
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
                 changes=audit_changes(before, {"status": status, "outcome": outcome}))  # fmt: skip
    editable.refresh_from_db()
    return editable
