"""The form of "this is the same person as...": which profile to merge into this one."""

from __future__ import annotations

from django import forms

from tenant_apps.casework.forms.fields import ProfileChoiceField, set_messages

__all__ = ["ProfileMergeForm"]


class ProfileMergeForm(forms.Form):
    """Which profile is the same person as this one: a likely duplicate, or any other the user may edit."""

    duplicate = ProfileChoiceField(label="Likely matches", queryset=None, required=False, widget=forms.RadioSelect,
                                   empty_label=None)  # fmt: skip
    other = ProfileChoiceField(label="Or choose another profile", queryset=None, required=False,
                               empty_label="Choose a profile")  # fmt: skip
    confirm = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, duplicates, others, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["duplicate"].queryset = duplicates
        self.fields["other"].queryset = others
        set_messages(self.fields["duplicate"], invalid_choice="Choose one of the profiles listed.")
        set_messages(self.fields["other"], invalid_choice="Choose one of the profiles listed.")

    def clean(self):
        data = super().clean()
        duplicate, other = data.get("duplicate"), data.get("other")
        if self.errors:
            return data
        if duplicate and other and duplicate.pk != other.pk:
            raise forms.ValidationError("Choose one profile: a likely match or another profile, not both.")
        if not (duplicate or other):
            self.add_error("duplicate" if self.fields["duplicate"].queryset else "other",
                           "Choose the profile that is the same person.")  # fmt: skip
        data["merge"] = duplicate or other
        return data
