"""The one share form of profiles and cases, offering only what the user may grant."""

from __future__ import annotations

from django import forms

from concord.fields import LabelChoiceField
from tenant_apps.casework.forms.fields import set_messages

__all__ = ["ShareForm", "offer_sharing_terms", "sharing_terms"]


def offer_sharing_terms(form: forms.Form, rights) -> None:
    """Offer on a share form only what the user may grant (``selectors.SharingRights``): "View and
    edit" if they may grant edit, "They may also share it on" if they may grant that."""
    if not rights.may_grant_edit:
        form.fields["access"].choices = [("view", "View")]
        form.fields["access"].error_messages["invalid_choice"] = "You may share it to view only."
    if rights.may_grant_share_on:
        form.fields["share_on"] = forms.BooleanField(
            label="They may also share it on", required=False,
            help_text="They may share it further (never with more than they have) and remove what they shared.",
        )  # fmt: skip


def sharing_terms(form: forms.Form) -> dict:
    """``can_edit`` and ``can_share`` for ``services.share_grant``, from a valid share form."""
    return {"can_edit": form.cleaned_data["access"] == "edit", "can_share": form.cleaned_data.get("share_on", False)}


class ShareForm(forms.Form):
    team = LabelChoiceField(label="A team", required=False, queryset=None, empty_label="No team")
    agency = forms.ModelChoiceField(label="Or an agency", required=False, queryset=None, empty_label="No agency")
    grantee = forms.ModelChoiceField(label="Or one person", required=False, queryset=None, empty_label="No person")
    access = forms.ChoiceField(label="They may", choices=[("view", "View"), ("edit", "View and edit")],
                               widget=forms.RadioSelect, initial="view")  # fmt: skip

    def __init__(self, *args, teams, agencies, users, rights, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
        self.fields["agency"].queryset = agencies
        self.fields["grantee"].queryset = users
        self.fields["grantee"].label_from_instance = lambda person: f"{person.get_full_name()} ({person.email})"
        for name in ("team", "agency", "grantee"):
            set_messages(self.fields[name], invalid_choice="Choose from the list.")
        set_messages(
            self.fields["access"], required="Choose what they may do.", invalid_choice="Choose what they may do."
        )
        offer_sharing_terms(self, rights)
