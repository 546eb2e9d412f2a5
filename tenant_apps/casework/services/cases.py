"""Writes of cases: opening one (numbered per type and year) and changing its status."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from tenant_apps.audit.services import audit_changes, audit_record
from tenant_apps.casework.models import Case, CaseSubject, CaseType, Profile
from tenant_apps.casework.selectors import cases_visible_to, profiles_visible_to
from tenant_apps.casework.services.base import ChangedSinceOpened, owner_defaults, require_writer

__all__ = ["case_create", "case_set_status"]


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
    require_writer(user)
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
    agency_id, team_id = owner_defaults(user, owning_agency, owning_team)
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
