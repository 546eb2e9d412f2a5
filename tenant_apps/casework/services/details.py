"""Writes of a profile's details: addresses, identifiers, warning markers,
vulnerabilities and aliases.

Each change is to a profile the user may edit, in one transaction: the profile is
locked, the ``version`` the user opened is checked (someone saved in between:
``ChangedSinceOpened``, nothing written), the input is validated before anything
is written (errors name the field), the detail is written, the profile's
``version`` is bumped and the change is audited.

- Postcodes are normalised (``normalise_postcode``) and must have the shape of a
  UK postcode. A profile has at most one current address: adding a current one
  makes the others previous.
- Identifiers are normalised (``normalise_identifier``) and checked by kind: PNC
  ``YY/NNNNNNNA`` or ``YYYY/NNNNNNNA``; NHS number 10 digits with its modulus-11
  check digit; National Insurance number ``AB123456C`` (the prefixes HMRC never
  issues refused). The same identifier twice on one profile is refused. Whether
  another profile holds it is deliberately not said (it may be one the user
  cannot see).
"""

from __future__ import annotations

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from tenant_apps.audit.services import audit_record
from tenant_apps.casework.models import (
    Profile,
    ProfileAddress,
    ProfileAlias,
    ProfileIdentifier,
    Vulnerability,
    WarningMarker,
    normalise_identifier,
    normalise_name,
    normalise_postcode,
)
from tenant_apps.casework.selectors import profiles_visible_to
from tenant_apps.casework.services.base import ChangedSinceOpened, require_writer

__all__ = [
    "address_add",
    "address_remove",
    "alias_add",
    "alias_remove",
    "identifier_add",
    "identifier_remove",
    "nhs_number_is_valid",
    "valid_identifier",
    "valid_postcode",
    "vulnerability_add",
    "vulnerability_remove",
    "warning_add",
    "warning_remove",
]

POSTCODE = re.compile(r"^(GIR 0AA|[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2})$")
PNC = re.compile(r"^(\d{2}|\d{4})/\d{1,7}[A-Z]$")
NI_NUMBER = re.compile(r"^[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]$")
NI_NEVER_ISSUED = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}
NOTE_MAX = 300


# --- Validation ----------------------------------------------------------------------------


def valid_postcode(text: str) -> str:
    """The normalised postcode, or ValidationError on ``postcode``."""
    postcode = normalise_postcode(text)
    if not postcode:
        raise ValidationError({"postcode": ["Enter a postcode."]})
    if not POSTCODE.match(postcode):
        raise ValidationError({"postcode": ["Enter a real postcode, like SW1A 1AA."]})
    return postcode


def nhs_number_is_valid(digits: str) -> bool:
    """Ten digits whose last is the modulus-11 check digit of the first nine."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(digit) * weight for digit, weight in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def valid_identifier(kind: str, text: str) -> str:
    """The normalised identifier, or ValidationError on ``kind`` or ``value``."""
    if kind not in ProfileIdentifier.Kind.values:
        raise ValidationError({"kind": ["Choose the kind of identifier."]})
    value = normalise_identifier(text)
    if not value:
        raise ValidationError({"value": ["Enter the identifier."]})
    if kind == ProfileIdentifier.Kind.PNC and not PNC.match(value):
        raise ValidationError({"value": ["Enter a PNC number like 01/123456A or 2001/123456A."]})
    if kind == ProfileIdentifier.Kind.NHS:
        value = value.replace("/", "")
        if len(value) != 10 or not value.isdigit():
            raise ValidationError({"value": ["Enter an NHS number of 10 digits, like 943 476 5919."]})
        if not nhs_number_is_valid(value):
            raise ValidationError({"value": ["This is not a valid NHS number: check the digits."]})
    if kind == ProfileIdentifier.Kind.NI and (not NI_NUMBER.match(value) or value[:2] in NI_NEVER_ISSUED):
        raise ValidationError({"value": ["Enter a National Insurance number like AB 12 34 56 C."]})
    if len(value) > 40:
        raise ValidationError({"value": ["The identifier must be 40 characters or fewer."]})
    return value


def _valid_note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": [f"The note must be {NOTE_MAX} characters or fewer."]})
    return note


# --- The profile, locked -------------------------------------------------------------------


def _locked_profile(user, profile: Profile, version: int) -> Profile:
    require_writer(user)
    editable = profiles_visible_to(user, edit=True).select_for_update().filter(pk=profile.pk).first()
    if editable is None:
        raise PermissionDenied("You may not edit this profile.")
    if editable.version != version:
        raise ChangedSinceOpened()
    return editable


def _done(*, user, request, profile: Profile, action: str, summary: str) -> Profile:
    Profile.objects.filter(pk=profile.pk).update(version=F("version") + 1, updated_at=timezone.now())
    audit_record(action=action, request=request, actor=user, object_type="profile", object_id=profile.pk,
                 summary=summary)  # fmt: skip
    profile.refresh_from_db()
    return profile


def _own(model, profile: Profile, item_id) -> object:
    item = model.objects.filter(pk=item_id, profile=profile).first() if str(item_id).isdigit() else None
    if item is None:
        raise ChangedSinceOpened()  # removed by someone else since the page was opened
    return item


# --- Addresses -----------------------------------------------------------------------------


@transaction.atomic
def address_add(*, user, request=None, profile: Profile, version: int, line1: str, line2: str = "",
                town: str = "", postcode: str, is_current: bool = True) -> ProfileAddress:  # fmt: skip
    editable = _locked_profile(user, profile, version)
    errors = {}
    line1, line2, town = (line1 or "").strip(), (line2 or "").strip(), (town or "").strip()
    if not line1:
        errors["line1"] = ["Enter the first line of the address."]
    for field, value, limit in (("line1", line1, 200), ("line2", line2, 200), ("town", town, 100)):
        if len(value) > limit:
            errors[field] = [f"This must be {limit} characters or fewer."]
    try:
        postcode = valid_postcode(postcode)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    if is_current:
        ProfileAddress.objects.filter(profile=editable, is_current=True).update(is_current=False)
    address = ProfileAddress.objects.create(profile=editable, line1=line1, line2=line2, town=town,
                                            postcode=postcode, is_current=is_current)  # fmt: skip
    _done(user=user, request=request, profile=editable, action="profile.address_added",
          summary=f"address {address.pk} added{' (current)' if is_current else ''}")  # fmt: skip
    return address


@transaction.atomic
def address_remove(*, user, request=None, profile: Profile, version: int, address_id) -> Profile:
    editable = _locked_profile(user, profile, version)
    _own(ProfileAddress, editable, address_id).delete()
    return _done(user=user, request=request, profile=editable, action="profile.address_removed",
                 summary=f"address {address_id} removed")  # fmt: skip


# --- Identifiers ---------------------------------------------------------------------------


@transaction.atomic
def identifier_add(*, user, request=None, profile: Profile, version: int, kind: str,
                   value: str) -> ProfileIdentifier:  # fmt: skip
    editable = _locked_profile(user, profile, version)
    value = valid_identifier(kind, value)
    if ProfileIdentifier.objects.filter(profile=editable, kind=kind, value=value).exists():
        raise ValidationError({"value": ["This profile already has this identifier."]})
    identifier = ProfileIdentifier.objects.create(profile=editable, kind=kind, value=value)
    _done(user=user, request=request, profile=editable, action="profile.identifier_added",
          summary=f"{kind} identifier added")  # fmt: skip
    return identifier


@transaction.atomic
def identifier_remove(*, user, request=None, profile: Profile, version: int, identifier_id) -> Profile:
    editable = _locked_profile(user, profile, version)
    identifier = _own(ProfileIdentifier, editable, identifier_id)
    identifier.delete()
    return _done(user=user, request=request, profile=editable, action="profile.identifier_removed",
                 summary=f"{identifier.kind} identifier removed")  # fmt: skip


# --- Warning markers and vulnerabilities ---------------------------------------------------


@transaction.atomic
def warning_add(*, user, request=None, profile: Profile, version: int, kind: str, note: str = "") -> WarningMarker:
    editable = _locked_profile(user, profile, version)
    if kind not in WarningMarker.Kind.values:
        raise ValidationError({"kind": ["Choose the kind of warning."]})
    marker = WarningMarker.objects.create(profile=editable, kind=kind, note=_valid_note(note))
    _done(user=user, request=request, profile=editable, action="profile.warning_added",
          summary=f"warning marker {kind} added")  # fmt: skip
    return marker


@transaction.atomic
def warning_remove(*, user, request=None, profile: Profile, version: int, warning_id) -> Profile:
    editable = _locked_profile(user, profile, version)
    marker = _own(WarningMarker, editable, warning_id)
    marker.delete()
    return _done(user=user, request=request, profile=editable, action="profile.warning_removed",
                 summary=f"warning marker {marker.kind} removed")  # fmt: skip


@transaction.atomic
def vulnerability_add(*, user, request=None, profile: Profile, version: int, kind: str,
                      note: str = "") -> Vulnerability:  # fmt: skip
    editable = _locked_profile(user, profile, version)
    if kind not in Vulnerability.Kind.values:
        raise ValidationError({"kind": ["Choose the kind of vulnerability."]})
    vulnerability = Vulnerability.objects.create(profile=editable, kind=kind, note=_valid_note(note))
    _done(user=user, request=request, profile=editable, action="profile.vulnerability_added",
          summary=f"vulnerability {kind} added")  # fmt: skip
    return vulnerability


@transaction.atomic
def vulnerability_remove(*, user, request=None, profile: Profile, version: int, vulnerability_id) -> Profile:
    editable = _locked_profile(user, profile, version)
    vulnerability = _own(Vulnerability, editable, vulnerability_id)
    vulnerability.delete()
    return _done(user=user, request=request, profile=editable, action="profile.vulnerability_removed",
                 summary=f"vulnerability {vulnerability.kind} removed")  # fmt: skip


# --- Aliases -------------------------------------------------------------------------------


@transaction.atomic
def alias_add(*, user, request=None, profile: Profile, version: int, name: str) -> ProfileAlias:
    editable = _locked_profile(user, profile, version)
    name = (name or "").strip()
    if not normalise_name(name):
        raise ValidationError({"name": ["Enter the other name."]})
    if len(name) > 200:
        raise ValidationError({"name": ["The name must be 200 characters or fewer."]})
    if ProfileAlias.objects.filter(profile=editable, search_name=normalise_name(name)).exists():
        raise ValidationError({"name": ["This profile already has this other name."]})
    alias = ProfileAlias.objects.create(profile=editable, name=name)
    _done(user=user, request=request, profile=editable, action="profile.alias_added",
          summary=f"alias {alias.pk} added")  # fmt: skip
    return alias


@transaction.atomic
def alias_remove(*, user, request=None, profile: Profile, version: int, alias_id) -> Profile:
    editable = _locked_profile(user, profile, version)
    _own(ProfileAlias, editable, alias_id).delete()
    return _done(user=user, request=request, profile=editable, action="profile.alias_removed",
                 summary=f"alias {alias_id} removed")  # fmt: skip
