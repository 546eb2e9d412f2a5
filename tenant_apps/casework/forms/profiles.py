"""Forms of the profile pages. They parse input; the services decide and report errors by field."""

from __future__ import annotations

from django import forms

from concord.fields import LabelChoiceField
from tenant_apps.casework.forms.fields import GovukDateField, set_messages
from tenant_apps.casework.models import Profile

__all__ = ["DuplicateCheckForm", "ProfileCreateForm", "ProfileEditForm", "ProfileFieldsForm", "ProfileFilterForm"]


class ProfileFilterForm(forms.Form):
    kind = forms.ChoiceField(label="Kind", required=False, choices=[("", "Any kind"), *Profile.Kind.choices])


class ProfileFieldsForm(forms.Form):
    first_name = forms.CharField(label="First name", required=False, max_length=100)
    last_name = forms.CharField(label="Last name", required=False, max_length=100)
    name = forms.CharField(
        label="Name of the organisation or premises", required=False, max_length=200,
        help_text="Only for organisations and premises.",
    )  # fmt: skip
    date_of_birth = GovukDateField(label="Date of birth", required=False, help_text="For example, 27 3 2007")
    gender = forms.ChoiceField(label="Gender", choices=Profile.Gender.choices, widget=forms.RadioSelect,
                               initial=Profile.Gender.NOT_KNOWN)  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("first_name", "last_name", "name"):
            self.fields[name].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})
        set_messages(self.fields["gender"], required="Choose a gender, or Not known.",
                  invalid_choice="Choose a gender, or Not known.")  # fmt: skip


class ProfileCreateForm(ProfileFieldsForm):
    kind = forms.ChoiceField(label="What is this profile?", choices=Profile.Kind.choices, widget=forms.RadioSelect,
                             initial=Profile.Kind.PERSON)  # fmt: skip
    owning_team = LabelChoiceField(label="Owning team", queryset=None, empty_label="Choose a team",
                                   help_text="Your team that looks after this profile.")  # fmt: skip
    aliases = forms.CharField(
        label="Other names (optional)", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Aliases, nicknames or previous names: one on each line.",
    )  # fmt: skip
    not_duplicate = forms.CharField(required=False, widget=forms.HiddenInput)

    field_order = ["kind", "first_name", "last_name", "name", "date_of_birth", "gender", "aliases", "owning_team"]

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owning_team"].queryset = teams
        set_messages(self.fields["owning_team"], required="Choose the team that owns this profile.",
                  invalid_choice="Choose one of your teams.")  # fmt: skip
        set_messages(self.fields["kind"], required="Choose what this profile is.",
                  invalid_choice="Choose what this profile is.")  # fmt: skip

    def duplicate_key(self) -> str:
        """What the "not the same person" confirmation was given for: names and date of birth."""
        data = self.cleaned_data
        born = data.get("date_of_birth")
        return "|".join([data.get("first_name", "").strip().lower(), data.get("last_name", "").strip().lower(),
                         born.isoformat() if born else ""])  # fmt: skip

    def alias_list(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data.get("aliases", "").splitlines() if line.strip()]


class DuplicateCheckForm(forms.Form):
    """The names and date of birth of the profile being added: what the duplicate check reads.

    Posted by the create form as the user leaves a field (htmx); a date not yet complete or
    not valid is ignored rather than reported (the full form reports it on submit).
    """

    kind = forms.CharField(required=False)
    first_name = forms.CharField(required=False, max_length=100)
    last_name = forms.CharField(required=False, max_length=100)
    date_of_birth = GovukDateField(label="Date of birth", required=False)

    def wanted(self) -> dict | None:
        """``first_name``, ``last_name`` and ``date_of_birth`` to look for, or None if there is nothing to check."""
        self.is_valid()
        data = self.cleaned_data
        if self.data.get("kind", Profile.Kind.PERSON) != Profile.Kind.PERSON:
            return None
        first, last = data.get("first_name", ""), data.get("last_name", "")
        if "first_name" not in data or "last_name" not in data or not (first.strip() or last.strip()):
            return None
        return {"first_name": first, "last_name": last, "date_of_birth": data.get("date_of_birth")}


class ProfileEditForm(ProfileFieldsForm):
    phone = forms.CharField(label="Phone number (optional)", required=False, max_length=40,
                            widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}))  # fmt: skip
    notes = forms.CharField(label="Notes (optional)", required=False, max_length=5000,
                            widget=forms.Textarea(attrs={"rows": 5}))  # fmt: skip
    version = forms.IntegerField(widget=forms.HiddenInput)

    def changes(self, profile: Profile) -> dict:
        fields = ["gender", "phone", "notes"]
        fields += ["first_name", "last_name", "date_of_birth"] if profile.kind == Profile.Kind.PERSON else ["name"]
        return {name: self.cleaned_data[name] for name in fields}
