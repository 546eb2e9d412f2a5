"""Forms of the case-type pages (the admin area): adding or changing a type, retiring or bringing it back."""

from __future__ import annotations

from django import forms

from concord.fields import LabelChoiceField
from tenant_apps.casework.forms.fields import set_messages
from tenant_apps.casework.models import CaseSubject, TimelineEntry
from tenant_apps.casework.services.case_types import PREFIX, PREFIX_MESSAGE

__all__ = ["CaseTypeEditForm", "CaseTypeForm", "CaseTypeVersionForm"]


class CaseTypeForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100, help_text="For example, Anti-social behaviour.")
    code = forms.CharField(
        label="Reference prefix", max_length=8,
        help_text="2 to 8 capital letters or digits, starting with a letter: cases are numbered ASB-2026-0001. "
                  "A new prefix applies to new cases only; existing references never change.",
        widget=forms.TextInput(attrs={"class": "govuk-input--width-10", "autocapitalize": "characters",
                                      "spellcheck": "false"}),
    )  # fmt: skip
    subject_roles = forms.MultipleChoiceField(
        label="Subject roles", choices=CaseSubject.Role.choices, widget=forms.CheckboxSelectMultiple,
        help_text="The roles a subject of a new case of this type may have. Removing one keeps the subjects "
                  "who have it already.",
    )  # fmt: skip
    timeline_kinds = forms.MultipleChoiceField(
        label="Kinds of timeline entry", choices=TimelineEntry.Kind.choices, widget=forms.CheckboxSelectMultiple,
        help_text="What may be recorded on the timeline of a case of this type. Removing one keeps the entries "
                  "of that kind already recorded. Entries about a profile alone are not affected.",
    )  # fmt: skip
    default_team = LabelChoiceField(
        label="Default team (optional)", queryset=None, required=False, empty_label="No default team",
        help_text="Owns a new case of this type when its creator is in this team and chooses no other. "
                  "It never shares a case with a team by itself.",
    )  # fmt: skip

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["default_team"].queryset = teams
        set_messages(self.fields["name"], required="Enter the name of the case type.")
        set_messages(self.fields["code"], required="Enter the reference prefix, for example ASB.")
        set_messages(self.fields["subject_roles"], required="Choose at least one subject role.",
                     invalid_choice="Choose subject roles from the list.")  # fmt: skip
        set_messages(self.fields["timeline_kinds"], required="Choose at least one kind of timeline entry.",
                     invalid_choice="Choose kinds of timeline entry from the list.")  # fmt: skip
        set_messages(self.fields["default_team"], invalid_choice="Choose a team from the list.")

    def clean_code(self) -> str:
        """Said with the other fields' errors (the service checks again, and whether it is taken)."""
        code = "".join(self.cleaned_data["code"].split()).upper()
        if not PREFIX.match(code):
            raise forms.ValidationError(PREFIX_MESSAGE)
        return code

    def values(self) -> dict:
        data = self.cleaned_data
        return {key: data[key] for key in ("name", "code", "subject_roles", "timeline_kinds", "default_team")}

    @staticmethod
    def initial_for(case_type) -> dict:
        return {"name": case_type.name, "code": case_type.code, "subject_roles": list(case_type.subject_roles),
                "timeline_kinds": list(case_type.timeline_kinds), "default_team": case_type.default_team,
                "version": case_type.version}  # fmt: skip


class CaseTypeEditForm(CaseTypeForm):
    version = forms.IntegerField(widget=forms.HiddenInput)


class CaseTypeVersionForm(forms.Form):
    """Retire or bring back: the version the admin saw (a change since then is refused)."""

    version = forms.IntegerField(widget=forms.HiddenInput)
