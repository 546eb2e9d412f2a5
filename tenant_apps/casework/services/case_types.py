"""Writes of case types, by partnership admins: add, change, retire and bring back.

Each refuses anyone but an active partnership admin (``PermissionDenied``, fail closed), refuses
bad input with a ``ValidationError`` naming the field (nothing saved), and audits only the
fields that changed (``{"field": [before, after]}``), in the same transaction. Changes use
optimistic concurrency: the caller passes the ``version`` it opened; a save in between raises
``ChangedSinceOpened`` and nothing is written.

A change never rewrites what cases already hold: references keep their prefix, and subjects
and entries of a role or kind the type no longer offers stay (only new ones are refused).
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from tenant_apps.audit.models import AuditAction
from tenant_apps.audit.services import audit_changes, audit_record
from tenant_apps.casework.models import CaseSubject, CaseType, TimelineEntry
from tenant_apps.casework.services.base import ChangedSinceOpened
from tenant_apps.directory.selectors import require_admin

__all__ = ["case_type_create", "case_type_restore", "case_type_retire", "case_type_update"]

PREFIX = re.compile(r"^[A-Z][A-Z0-9]{1,7}$")  # no dash: a reference is PREFIX-YEAR-NUMBER, read unambiguously
PREFIX_MESSAGE = "The reference prefix must be 2 to 8 letters or digits, starting with a letter."


def _in_order(chosen, choices) -> list[str]:
    wanted = set(chosen or ())
    return [value for value in choices.values if value in wanted]


def _checked(*, name, code, subject_roles, timeline_kinds, exclude_pk=None) -> dict:
    """The cleaned values, or a ``ValidationError`` naming every field that is wrong."""
    errors: dict[str, list[str]] = {}
    name = " ".join((name or "").split())
    code = "".join((code or "").split()).upper()
    if not name:
        errors["name"] = ["Enter the name of the case type."]
    elif len(name) > 100:
        errors["name"] = ["The name must be 100 characters or fewer."]
    elif CaseType.objects.filter(name__iexact=name).exclude(pk=exclude_pk).exists():
        errors["name"] = ["There is already a case type with this name."]
    if not code:
        errors["code"] = ["Enter the reference prefix, for example ASB."]
    elif not PREFIX.match(code):
        errors["code"] = [PREFIX_MESSAGE]
    else:
        holder = CaseType.objects.filter(code=code).exclude(pk=exclude_pk).first()
        if holder is not None:
            errors["code"] = [f"The case type {holder.name} already uses this prefix."]
    roles = _in_order(subject_roles, CaseSubject.Role)
    if not roles or len(roles) != len(set(subject_roles)):
        errors["subject_roles"] = ["Choose at least one subject role from the list."]
    kinds = _in_order(timeline_kinds, TimelineEntry.Kind)
    if not kinds or len(kinds) != len(set(timeline_kinds)):
        errors["timeline_kinds"] = ["Choose at least one kind of timeline entry from the list."]
    if errors:
        raise ValidationError(errors)
    return {"name": name, "code": code, "subject_roles": roles, "timeline_kinds": kinds}


def _audited(case_type: CaseType) -> dict:
    """What the audit trail says of a type: names, not ids (the team by its label)."""
    team = case_type.default_team
    return {
        "name": case_type.name,
        "prefix": case_type.code,  # not "code": the audit hides fields named like secrets
        "subject_roles": list(case_type.subject_roles),
        "timeline_kinds": list(case_type.timeline_kinds),
        "default_team": team.label if team is not None else None,
    }


@transaction.atomic
def case_type_create(*, user, request=None, name: str, code: str, subject_roles, timeline_kinds,
                     default_team=None) -> CaseType:  # fmt: skip
    """Add a case type (in use at once)."""
    require_admin(user)
    values = _checked(name=name, code=code, subject_roles=subject_roles, timeline_kinds=timeline_kinds)
    case_type = CaseType.objects.create(**values, default_team=default_team)
    audit_record(action=AuditAction.CASE_TYPE_CREATED, request=request, actor=user, object_type="case_type",
                 object_id=case_type.pk, summary=f"case type {case_type.name} ({case_type.code}) added",
                 changes=audit_changes({}, _audited(case_type)))  # fmt: skip
    return case_type


def _locked(case_type: CaseType, version: int) -> CaseType:
    locked = CaseType.objects.select_for_update(of=("self",)).select_related("default_team__agency")
    current = locked.get(pk=case_type.pk)
    if current.version != version:
        raise ChangedSinceOpened()
    return current


@transaction.atomic
def case_type_update(*, user, request=None, case_type: CaseType, version: int, name: str, code: str, subject_roles,
                     timeline_kinds, default_team=None) -> CaseType:  # fmt: skip
    """Change a case type. Existing cases keep their references, subjects and entries."""
    require_admin(user)
    current = _locked(case_type, version)
    values = _checked(name=name, code=code, subject_roles=subject_roles, timeline_kinds=timeline_kinds,
                      exclude_pk=current.pk)  # fmt: skip
    before = _audited(current)
    for field, value in values.items():
        setattr(current, field, value)
    current.default_team = default_team
    changes = audit_changes(before, _audited(current))
    if not changes:
        return current
    CaseType.objects.filter(pk=current.pk).update(**values, default_team=default_team, version=F("version") + 1)
    audit_record(action=AuditAction.CASE_TYPE_UPDATED, request=request, actor=user, object_type="case_type",
                 object_id=current.pk, summary=f"case type {before['name']} ({before['prefix']}) changed",
                 changes=changes)  # fmt: skip
    current.refresh_from_db()
    return current


def _set_active(*, user, request, case_type: CaseType, version: int, active: bool) -> CaseType:
    require_admin(user)
    current = _locked(case_type, version)
    if current.is_active == active:
        return current  # already so (a second click): nothing to record
    CaseType.objects.filter(pk=current.pk).update(is_active=active, version=F("version") + 1)
    action, verb = (AuditAction.CASE_TYPE_RESTORED, "brought back") if active else (
        AuditAction.CASE_TYPE_RETIRED, "retired")  # fmt: skip
    audit_record(action=action, request=request, actor=user, object_type="case_type", object_id=current.pk,
                 summary=f"case type {current.name} ({current.code}) {verb}",
                 changes={"is_active": [not active, active]})  # fmt: skip
    current.refresh_from_db()
    return current


@transaction.atomic
def case_type_retire(*, user, request=None, case_type: CaseType, version: int) -> CaseType:
    """No new cases of this type; its cases keep it (and may still be worked and closed)."""
    return _set_active(user=user, request=request, case_type=case_type, version=version, active=False)


@transaction.atomic
def case_type_restore(*, user, request=None, case_type: CaseType, version: int) -> CaseType:
    """Bring a retired type back: new cases may be opened of it again."""
    return _set_active(user=user, request=request, case_type=case_type, version=version, active=True)
