"""Forms of the case pages: the list's filter, opening a case, its status."""

from __future__ import annotations

from django import forms

from concord.fields import LabelChoiceField
from tenant_apps.casework.forms.fields import GovukDateField, ProfileChoiceField, set_messages
from tenant_apps.casework.models import Case, CaseSubject, Profile

__all__ = ["CaseCreateForm", "CaseFilterForm", "CaseStatusForm"]


SUBJECT_ROWS = 3


class CaseFilterForm(forms.Form):
    status = forms.ChoiceField(label="Status", required=False, choices=[("", "Any status"), *Case.Status.choices])
    case_type = forms.ModelChoiceField(label="Case type", required=False, queryset=None, empty_label="Any type")

    def __init__(self, *args, case_types, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case_type"].queryset = case_types
        set_messages(self.fields["case_type"], invalid_choice="Choose a case type from the list.")
        set_messages(self.fields["status"], invalid_choice="Choose a status from the list.")


class CaseCreateForm(forms.Form):
    case_type = forms.ModelChoiceField(label="Case type", queryset=None, empty_label="Choose a case type")
    title = forms.CharField(label="Title", max_length=200, help_text="For example, Noise and intimidation, Mill Lane.")
    summary = forms.CharField(label="Summary (optional)", required=False, max_length=5000,
                              widget=forms.Textarea(attrs={"rows": 4}))  # fmt: skip
    opened_on = GovukDateField(label="Date opened", required=False,
                               help_text="Leave empty for today. For example, 27 3 2025")  # fmt: skip
    owning_team = LabelChoiceField(
        label="Owning team", queryset=None, required=False, empty_label="Choose a team",
        help_text="If you choose none, the case type's default team owns it if you are in that team, "
                  "or else your only team.",
    )  # fmt: skip

    def __init__(self, *args, case_types, teams, profiles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case_type"].queryset = case_types
        self.fields["owning_team"].queryset = teams
        set_messages(self.fields["case_type"], required="Choose a case type.", invalid_choice="Choose a case type.")
        set_messages(self.fields["title"], required="Enter a title for the case.")
        set_messages(self.fields["owning_team"], required="Choose the team that owns this case.",
                  invalid_choice="Choose one of your teams.")  # fmt: skip
        for row in range(1, SUBJECT_ROWS + 1):
            first = row == 1
            subject = ProfileChoiceField(label=f"Subject {row}" + ("" if first else " (optional)"), queryset=profiles,
                                         required=first, empty_label="Choose a profile")  # fmt: skip
            set_messages(
                subject, required="Choose at least one subject.", invalid_choice="Choose a profile from the list."
            )
            role = forms.ChoiceField(label=f"Role of subject {row}", required=False,
                                     choices=[("", "Choose a role"), *CaseSubject.Role.choices])  # fmt: skip
            set_messages(role, invalid_choice="Choose a role from the list.")
            self.fields[f"subject_{row}"] = subject
            self.fields[f"role_{row}"] = role

    def subject_rows(self):
        return [(self[f"subject_{row}"], self[f"role_{row}"]) for row in range(1, SUBJECT_ROWS + 1)]

    def clean(self):
        data = super().clean()
        case_type = data.get("case_type")
        labels = dict(CaseSubject.Role.choices)
        for row in range(1, SUBJECT_ROWS + 1):
            role = data.get(f"role_{row}")
            if data.get(f"subject_{row}") and not role:
                self.add_error(f"role_{row}", f"Choose the role of subject {row}.")
            elif role and case_type is not None and role not in case_type.subject_roles:
                offered = ", ".join(labels.get(value, value).lower() for value in case_type.subject_roles)
                self.add_error(f"role_{row}", f"A case of type {case_type.name} cannot have a subject as "
                                              f"{labels[role].lower()}: choose {offered}.")  # fmt: skip
        return data

    def subjects(self) -> list[tuple[Profile, str]]:
        data = self.cleaned_data
        return [(data[f"subject_{r}"], data[f"role_{r}"]) for r in range(1, SUBJECT_ROWS + 1) if data[f"subject_{r}"]]


class CaseStatusForm(forms.Form):
    status = forms.ChoiceField(label="Status", choices=Case.Status.choices, widget=forms.RadioSelect)
    outcome = forms.ChoiceField(label="Outcome (when closing)", required=False,
                                choices=[("", "Choose an outcome"), *Case.Outcome.choices])  # fmt: skip
    closed_on = GovukDateField(label="Date closed", required=False,
                               help_text="When closing. Leave empty for today.")  # fmt: skip
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        set_messages(self.fields["status"], required="Choose a status.", invalid_choice="Choose a status.")
        set_messages(self.fields["outcome"], invalid_choice="Choose the outcome of the case.")
