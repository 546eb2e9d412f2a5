from django import forms

from tenant_apps.search.selectors import QUERY_MAX_LENGTH

UK_DATE_FORMATS = ["%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d %m %Y", "%Y-%m-%d"]


class SearchForm(forms.Form):
    query = forms.CharField(
        label="Search",
        max_length=QUERY_MAX_LENGTH,
        required=False,
        help_text="A name, date of birth, PNC or NHS number, postcode or case reference",
        widget=forms.TextInput(attrs={"class": "govuk-input", "autocomplete": "off", "spellcheck": "false"}),
    )
    date_of_birth = forms.DateField(
        label="Date of birth (optional)",
        required=False,
        input_formats=UK_DATE_FORMATS,
        help_text="For example, 17/05/2001",
        widget=forms.TextInput(attrs={"class": "govuk-input govuk-input--width-10", "autocomplete": "off"}),
    )

    def clean(self):
        data = super().clean()
        if not (data.get("query") or "").strip() and not data.get("date_of_birth") and not self.errors:
            raise forms.ValidationError("Enter a name, date of birth, identifier, postcode or case reference.")
        return data
