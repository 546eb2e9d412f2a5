"""Forms of the family pages: creating a family, adding a member."""

from __future__ import annotations

from django import forms

from tenant_apps.casework.forms.fields import VersionForm, required_message
from tenant_apps.casework.models import FamilyMember

__all__ = ["AddMemberForm", "FamilyCreateForm"]


class FamilyCreateForm(forms.Form):
    name = forms.CharField(label="Name of the family or household", max_length=200,
                           help_text="For example, the Brennan family, 14 Mill Lane")  # fmt: skip
    owning_team = forms.ModelChoiceField(label="Owning team", queryset=None, empty_label=None)

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owning_team"].queryset = teams
        self.fields["owning_team"].label_from_instance = lambda team: f"{team.name} ({team.agency.name})"
        required_message(self.fields["name"], "Enter a name for the family or household.")
        required_message(self.fields["owning_team"], "Choose the team that owns this family.")


class AddMemberForm(VersionForm):
    q = forms.CharField(required=False, widget=forms.HiddenInput)
    profile = forms.ModelChoiceField(label="Person", queryset=None, widget=forms.RadioSelect)
    relationship = forms.ChoiceField(label="Relationship to the family", choices=FamilyMember.Relationship.choices,
                                     widget=forms.RadioSelect)  # fmt: skip

    def __init__(self, *args, profiles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["profile"].queryset = profiles
        required_message(self.fields["profile"], "Choose a person you may edit.")
        required_message(self.fields["relationship"], "Choose their relationship to the family.")
