"""Forms of a profile's details: one small form per kind, each carrying the profile's ``version``."""

from __future__ import annotations

from django import forms

from tenant_apps.casework.forms.fields import VersionForm, required_message
from tenant_apps.casework.models import ProfileIdentifier

__all__ = ["AddressForm", "AliasForm", "IdentifierForm", "MarkerForm"]


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
        required_message(self.fields["line1"], "Enter the first line of the address.")
        required_message(self.fields["postcode"], "Enter a postcode.")
        required_message(self.fields["is_current"], "Choose whether this is their current address.")

    def values(self) -> dict:
        return {**super().values(), "is_current": self.cleaned_data["is_current"] == "yes"}


class IdentifierForm(VersionForm):
    kind = forms.ChoiceField(label="Kind of identifier", choices=ProfileIdentifier.Kind.choices,
                             widget=forms.RadioSelect)  # fmt: skip
    value = forms.CharField(label="Identifier", max_length=60,
                            help_text="For example 01/123456A (PNC), 943 476 5919 (NHS), AB 12 34 56 C (NI)",
                            widget=forms.TextInput(attrs={"class": "govuk-input--width-20",
                                                          "autocomplete": "off", "spellcheck": "false"}))  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        required_message(self.fields["kind"], "Choose the kind of identifier.")
        required_message(self.fields["value"], "Enter the identifier.")


class MarkerForm(VersionForm):
    kind = forms.ChoiceField(widget=forms.RadioSelect)
    note = forms.CharField(label="Note (optional)", max_length=300, required=False,
                           widget=forms.Textarea(attrs={"rows": 3}))  # fmt: skip

    def __init__(self, *args, choices, label, message, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = choices
        self.fields["kind"].label = label
        required_message(self.fields["kind"], message)
        self.fields["note"].error_messages["max_length"] = "The note must be 300 characters or fewer."


class AliasForm(VersionForm):
    name = forms.CharField(label="Other name", max_length=200, help_text="A name they are also known by.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        required_message(self.fields["name"], "Enter the other name.")
