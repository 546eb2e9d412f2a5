"""Writes of profiles (and the duplicate check before one is made): keyword-only, validated, audited."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from tenant_apps.audit.services import audit_changes, audit_record
from tenant_apps.casework.models import Profile, ProfileAlias, normalise_name
from tenant_apps.casework.selectors import profiles_visible_to
from tenant_apps.casework.services.base import ChangedSinceOpened, owner_defaults, require_writer

__all__ = ["profile_create", "profile_likely_duplicates", "profile_update"]


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
    require_writer(user)
    if kind == Profile.Kind.PERSON:
        _validate_person(first_name=first_name, last_name=last_name, date_of_birth=date_of_birth)
    elif not (name or "").strip():
        raise ValidationError({"name": ["Enter the name of the organisation or premises."]})
    agency_id, team_id = owner_defaults(user, owning_agency, owning_team)
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
    require_writer(user)
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
    audit_record(action="profile.updated", request=request, actor=user, object_type="profile",
                 object_id=editable.pk, summary=f"profile {editable.pk} changed",
                 changes=audit_changes(before, after))  # fmt: skip
    return editable
