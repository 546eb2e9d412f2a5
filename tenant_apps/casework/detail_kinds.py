"""The kinds of a profile's details, described once for the pages and the API.

Each ``DetailKind`` says what its pages need (the form, the add page's title, the banner's noun)
and what its API needs (the body's and the item's serializer fields, the schema's component
names), with the model and the two services that add and remove one. ``views/details.py`` and
``api/details.py`` are built from ``DETAIL_KINDS``; a new kind of detail is one more entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from rest_framework import serializers

from tenant_apps.casework import services
from tenant_apps.casework.forms import AddressForm, AliasForm, IdentifierForm, MarkerForm
from tenant_apps.casework.models import ProfileAddress, ProfileAlias, ProfileIdentifier, Vulnerability, WarningMarker


@dataclass(frozen=True)
class DetailKind:
    plural: str  # in the page's URL (/profiles/<id>/details/<plural>/new/) and the API's path and operationIds
    component: str  # the API's schema components: Profile<component>Item, Profile<component>AddInput ...
    model: type
    form_class: type
    title: str  # the add page's heading
    noun: str  # the banners: "<noun> has been added."
    add: Callable  # services.<x>_add(user=, request=, profile=, version=, **fields)
    remove: Callable  # services.<x>_remove(user=, request=, profile=, version=, <remove_key>=id)
    remove_key: str
    input_fields: Callable[[], dict]  # fresh serializer fields of the API's add body (version aside)
    output_fields: Callable[[], dict]  # fresh serializer fields of the API's item (id aside)
    form_options: dict = field(default_factory=dict)


def _kind(choices) -> serializers.Field:
    # The API's kind choice (documented as a pattern); imported when the API builds its classes,
    # since the api package reads this registry.
    from tenant_apps.casework.api.base import kind_field

    return kind_field(choices)


def _note() -> serializers.Field:
    return serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


def _marker(*, model, what: str, **kind) -> DetailKind:
    """A marker on a profile (a warning, a vulnerability): a kind of ``model.Kind`` and a note."""
    return DetailKind(
        model=model, form_class=MarkerForm,
        form_options={"choices": model.Kind.choices, "label": f"Kind of {what}",
                      "message": f"Choose the kind of {what}."},
        input_fields=lambda: {"kind": _kind(model.Kind.choices), "note": _note()},
        output_fields=lambda: {"kind": serializers.CharField(), "note": serializers.CharField()},
        **kind,
    )  # fmt: skip


DETAIL_KINDS: dict[str, DetailKind] = {
    kind.plural: kind
    for kind in [
        DetailKind(
            plural="addresses", component="Address", model=ProfileAddress, form_class=AddressForm,
            title="Add an address", noun="The address",
            add=services.address_add, remove=services.address_remove, remove_key="address_id",
            input_fields=lambda: {
                "line1": serializers.CharField(max_length=200),
                "line2": serializers.CharField(max_length=200, required=False, allow_blank=True, default=""),
                "town": serializers.CharField(max_length=100, required=False, allow_blank=True, default=""),
                "postcode": serializers.CharField(max_length=20),
                "is_current": serializers.BooleanField(required=False, default=True),
            },
            output_fields=lambda: {
                "line1": serializers.CharField(), "line2": serializers.CharField(), "town": serializers.CharField(),
                "postcode": serializers.CharField(), "is_current": serializers.BooleanField(),
            },
        ),
        DetailKind(
            plural="identifiers", component="Identifier", model=ProfileIdentifier, form_class=IdentifierForm,
            title="Add an identifier", noun="The identifier",
            add=services.identifier_add, remove=services.identifier_remove, remove_key="identifier_id",
            input_fields=lambda: {
                "kind": _kind(ProfileIdentifier.Kind.choices), "value": serializers.CharField(max_length=60),
            },
            output_fields=lambda: {"kind": serializers.CharField(), "value": serializers.CharField()},
        ),
        _marker(plural="warnings", component="Warning", model=WarningMarker, what="warning",
                title="Add a warning marker", noun="The warning marker", add=services.warning_add,
                remove=services.warning_remove, remove_key="warning_id"),
        _marker(plural="vulnerabilities", component="Vulnerability", model=Vulnerability, what="vulnerability",
                title="Add a vulnerability", noun="The vulnerability", add=services.vulnerability_add,
                remove=services.vulnerability_remove, remove_key="vulnerability_id"),
        DetailKind(
            plural="aliases", component="Alias", model=ProfileAlias, form_class=AliasForm,
            title="Add another name", noun="The other name",
            add=services.alias_add, remove=services.alias_remove, remove_key="alias_id",
            input_fields=lambda: {"name": serializers.CharField(max_length=200)},
            output_fields=lambda: {"name": serializers.CharField()},
        ),
    ]
}  # fmt: skip
