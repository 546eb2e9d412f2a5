"""Pages of a profile's details (addresses, identifiers, warning markers,
vulnerabilities, other names) and of its sharing.

``/profiles/<id>/details/`` lists the details, each with a Remove button, and
links to one small form per kind of detail. Every form carries the profile's
``version`` as opened: a save after someone else's is refused, nothing written.
The profile is resolved with ``access_profile(edit=True)`` (the same 404 for
"does not exist" and "not yours"); viewers get the 403 page before anything is
read, and the services check again.
"""

from __future__ import annotations

import functools

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import prefetch_related_objects
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from tenant_apps.casework import selectors, services
from tenant_apps.casework.forms import offer_sharing_terms, sharing_terms
from tenant_apps.casework.models import (
    Profile,
    ProfileAddress,
    ProfileAlias,
    ProfileIdentifier,
    Vulnerability,
    WarningMarker,
)
from tenant_apps.casework.views import SHARE_ERROR_FIELDS, shares_with_revoke_urls

GET_POST = require_http_methods(["GET", "POST"])


def forbidden(request):
    return render(request, "casework/403.html", status=403)


def writers_only(view):
    """Viewers get the 403 page before the view reads anything; so does a service's refusal."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.user.is_read_only:
            return forbidden(request)
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied:
            return forbidden(request)

    return wrapped


def apply_errors(form: forms.Form, error: ValidationError) -> None:
    """A service's errors on the field they name, else on the whole form."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _required(field: forms.Field, message: str) -> forms.Field:
    field.error_messages.update(required=message, invalid_choice=message)
    return field


# --- Forms -----------------------------------------------------------------------------------


class VersionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class AddressForm(VersionForm):
    line1 = forms.CharField(label="Address line 1", max_length=200)
    line2 = forms.CharField(label="Address line 2 (optional)", max_length=200, required=False)
    town = forms.CharField(label="Town or city (optional)", max_length=100, required=False,
                           widget=forms.TextInput(attrs={"class": "govuk-!-width-two-thirds"}))  # fmt: skip
    postcode = forms.CharField(label="Postcode", max_length=10,
                               widget=forms.TextInput(attrs={"class": "govuk-input--width-10",
                                                             "autocomplete": "off"}))  # fmt: skip
    is_current = forms.ChoiceField(label="Is this their current address?", widget=forms.RadioSelect,
                                   choices=[("yes", "Yes, this is their current address"),
                                            ("no", "No, a previous address")], initial="yes")  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _required(self.fields["line1"], "Enter the first line of the address.")
        _required(self.fields["postcode"], "Enter a postcode.")
        _required(self.fields["is_current"], "Choose whether this is their current address.")


class IdentifierForm(VersionForm):
    kind = forms.ChoiceField(label="Kind of identifier", choices=ProfileIdentifier.Kind.choices,
                             widget=forms.RadioSelect)  # fmt: skip
    value = forms.CharField(label="Identifier", max_length=60,
                            help_text="For example 01/123456A (PNC), 943 476 5919 (NHS), AB 12 34 56 C (NI)",
                            widget=forms.TextInput(attrs={"class": "govuk-input--width-20",
                                                          "autocomplete": "off", "spellcheck": "false"}))  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _required(self.fields["kind"], "Choose the kind of identifier.")
        _required(self.fields["value"], "Enter the identifier.")


class MarkerForm(VersionForm):
    kind = forms.ChoiceField(widget=forms.RadioSelect)
    note = forms.CharField(label="Note (optional)", max_length=300, required=False,
                           widget=forms.Textarea(attrs={"rows": 3}))  # fmt: skip

    def __init__(self, *args, choices, label, message, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = choices
        self.fields["kind"].label = label
        _required(self.fields["kind"], message)
        self.fields["note"].error_messages["max_length"] = "The note must be 300 characters or fewer."


class AliasForm(VersionForm):
    name = forms.CharField(label="Other name", max_length=200, help_text="A name they are also known by.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _required(self.fields["name"], "Enter the other name.")


class ShareForm(forms.Form):
    team = forms.ModelChoiceField(label="A team", required=False, queryset=None, empty_label="No team")
    agency = forms.ModelChoiceField(label="Or an agency", required=False, queryset=None, empty_label="No agency")
    grantee = forms.ModelChoiceField(label="Or one person", required=False, queryset=None, empty_label="No person")
    access = forms.ChoiceField(label="They may", choices=[("view", "View"), ("edit", "View and edit")],
                               widget=forms.RadioSelect, initial="view")  # fmt: skip

    def __init__(self, *args, rights, **kwargs):
        from tenant_apps.directory.models import Agency, Team

        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.select_related("agency").order_by("agency__name", "name")
        self.fields["team"].label_from_instance = lambda team: f"{team.name} ({team.agency.name})"
        self.fields["agency"].queryset = Agency.objects.order_by("name")
        self.fields["grantee"].queryset = get_user_model().objects.filter(is_active=True).order_by("full_name", "email")
        self.fields["grantee"].label_from_instance = lambda person: f"{person.get_full_name()} ({person.email})"
        for name in ("team", "agency", "grantee"):
            self.fields[name].error_messages["invalid_choice"] = "Choose from the list."
        _required(self.fields["access"], "Choose what they may do.")
        offer_sharing_terms(self, rights)


# --- The kinds of detail ---------------------------------------------------------------------

WARNING_FORM = {"choices": WarningMarker.Kind.choices, "label": "Kind of warning",
                "message": "Choose the kind of warning."}  # fmt: skip
VULNERABILITY_FORM = {"choices": Vulnerability.Kind.choices, "label": "Kind of vulnerability",
                      "message": "Choose the kind of vulnerability."}  # fmt: skip

# kind in the URL -> (model, form class, form options, add service, remove service, id keyword, title, noun)
DETAILS = {
    "addresses": (ProfileAddress, AddressForm, {}, services.address_add, services.address_remove,
                  "address_id", "Add an address", "The address"),
    "identifiers": (ProfileIdentifier, IdentifierForm, {}, services.identifier_add,
                    services.identifier_remove, "identifier_id", "Add an identifier", "The identifier"),
    "warnings": (WarningMarker, MarkerForm, WARNING_FORM, services.warning_add,
                 services.warning_remove, "warning_id", "Add a warning marker", "The warning marker"),
    "vulnerabilities": (Vulnerability, MarkerForm, VULNERABILITY_FORM, services.vulnerability_add,
                        services.vulnerability_remove, "vulnerability_id", "Add a vulnerability",
                        "The vulnerability"),
    "aliases": (ProfileAlias, AliasForm, {}, services.alias_add, services.alias_remove,
                "alias_id", "Add another name", "The other name"),
}  # fmt: skip


def _kind(kind: str):
    if kind not in DETAILS:
        raise Http404("No such detail")
    return DETAILS[kind]


def _service_arguments(kind: str, data: dict) -> dict:
    values = {name: value for name, value in data.items() if name != "version"}
    if kind == "addresses":
        values["is_current"] = values["is_current"] == "yes"
    return values


# --- Views -----------------------------------------------------------------------------------


@writers_only
@require_http_methods(["GET"])
def details(request, profile_id: int):
    profile = selectors.access_profile(user=request.user, profile_id=profile_id, edit=True)
    prefetch_related_objects([profile], "aliases", "addresses", "identifiers", "warnings", "vulnerabilities")
    context = {"profile": profile, "kinds": list(DETAILS), "section": "profiles",
               "may_share": selectors.sharing_rights(request.user, profile).may_share}  # fmt: skip
    services.record_viewed(user=request.user, request=request, record=profile, what="details")
    return render(request, "casework_more/details.html", context)


@writers_only
@GET_POST
def detail_add(request, profile_id: int, kind: str):
    _, form_class, options, add, _, _, title, noun = _kind(kind)
    profile = selectors.access_profile(user=request.user, profile_id=profile_id, edit=True)
    form = form_class(request.POST if request.method == "POST" else None, initial={"version": profile.version},
                      **options)  # fmt: skip
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            add(user=request.user, request=request, profile=profile, version=data["version"],
                **_service_arguments(kind, data))  # fmt: skip
        except services.ChangedSinceOpened as error:
            form.add_error(None, error.message)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"{noun} has been added.")
            return redirect("casework_more:profile-details", profile_id=profile.pk)
    context = {"profile": profile, "form": form, "kind": kind, "title": title, "section": "profiles"}
    services.record_viewed(user=request.user, request=request, record=profile, what=f"new {kind} form")
    return render(request, "casework_more/detail_add.html", context)


@writers_only
@require_POST
def detail_remove(request, profile_id: int, kind: str, item_id: int):
    model, _, _, _, remove, id_keyword, _, noun = _kind(kind)
    profile: Profile = selectors.access_profile(user=request.user, profile_id=profile_id, edit=True)
    if not model.objects.filter(pk=item_id, profile=profile).exists():
        raise Http404("No such detail")
    form = VersionForm(request.POST)
    if not form.is_valid():
        messages.error(request, services.ChangedSinceOpened.message)
        return redirect("casework_more:profile-details", profile_id=profile.pk)
    try:
        remove(user=request.user, request=request, profile=profile, version=form.cleaned_data["version"],
               **{id_keyword: item_id})  # fmt: skip
    except services.ChangedSinceOpened as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{noun} has been removed.")
    return redirect("casework_more:profile-details", profile_id=profile.pk)


@writers_only
@GET_POST
def sharing(request, profile_id: int):
    """Who else may see the profile: the owners, admins and re-sharers (``sharing_rights``);
    anyone else who may see it gets the 403 page (a profile they cannot see is a 404)."""
    profile = selectors.access_profile(user=request.user, profile_id=profile_id)
    rights = selectors.sharing_rights(request.user, profile)
    if not rights.may_share:
        raise PermissionDenied("You may not share this profile.")
    form = ShareForm(request.POST if request.method == "POST" else None, rights=rights)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.share_grant(user=request.user, request=request, profile=profile, team=data["team"],
                                 agency=data["agency"], grantee=data["grantee"], **sharing_terms(form))  # fmt: skip
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                error = ValidationError({SHARE_ERROR_FIELDS.get(k, k): v for k, v in error.error_dict.items()})
            apply_errors(form, error)
        else:
            messages.success(request, f"{profile.display_name} has been shared.")
            return redirect("casework_more:profile-sharing", profile_id=profile.pk)
    shares = shares_with_revoke_urls(profile, "casework_more:profile-sharing-revoke", request.user, rights,
                                     profile_id=profile.pk)  # fmt: skip
    context = {"form": form, "profile": profile, "shares": shares, "section": "profiles"}
    services.record_viewed(user=request.user, request=request, record=profile, what="sharing")
    return render(request, "casework_more/sharing.html", context)


@writers_only
@require_POST
def sharing_revoke(request, profile_id: int, share_id: int):
    profile = selectors.access_profile(user=request.user, profile_id=profile_id)
    share = profile.shares.filter(pk=share_id).first()
    if share is None:
        raise Http404("No such share")
    services.share_revoke(user=request.user, request=request, share=share)
    messages.success(request, "That access has been removed.")
    return redirect("casework_more:profile-sharing", profile_id=profile.pk)
