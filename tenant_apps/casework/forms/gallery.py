"""The gallery's filter and order."""

from __future__ import annotations

from django import forms

from concord.fields import LabelChoiceField
from tenant_apps.casework.forms.fields import set_messages
from tenant_apps.casework.selectors.gallery import GALLERY_SORTS

__all__ = ["GalleryFilterForm"]


class GalleryFilterForm(forms.Form):
    team = LabelChoiceField(label="Team", required=False, queryset=None, empty_label="Any team")
    case_type = forms.ModelChoiceField(label="Case type", required=False, queryset=None, empty_label="Any type")
    sort = forms.ChoiceField(
        label="Sort by", required=False, choices=[(key, label) for key, (label, _) in GALLERY_SORTS.items()]
    )

    def __init__(self, *args, teams, case_types, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
        self.fields["case_type"].queryset = case_types
        set_messages(self.fields["team"], invalid_choice="Choose a team from the list.")
        set_messages(self.fields["case_type"], invalid_choice="Choose a case type from the list.")
        set_messages(self.fields["sort"], invalid_choice="Choose an order from the list.")

    def clean_sort(self) -> str:
        return self.cleaned_data["sort"] or next(iter(GALLERY_SORTS))
