from __future__ import annotations

from django import forms

from tenant_apps.audit.models import AuditAction

DATE_HINT = "For example, 27/3/2026"


class AuditFilterForm(forms.Form):
    """The audit page's filters (GET). Bound to ``request.GET``; every field is optional."""

    user = forms.TypedChoiceField(label="User", required=False, coerce=int, empty_value=None)
    action = forms.ChoiceField(label="Action", required=False, choices=[("", "Any action"), *AuditAction.choices])
    date_from = forms.DateField(
        label="From", required=False, help_text=DATE_HINT, widget=forms.DateInput(attrs={"autocomplete": "off"})
    )
    date_to = forms.DateField(
        label="To", required=False, help_text=DATE_HINT, widget=forms.DateInput(attrs={"autocomplete": "off"})
    )

    def __init__(self, *args, actor_choices: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [("", "Anyone"), *actor_choices]
        self.fields["date_from"].error_messages["invalid"] = "Enter the from date as a date, like 27/3/2026"
        self.fields["date_to"].error_messages["invalid"] = "Enter the to date as a date, like 27/3/2026"

    def clean(self):
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", "The to date must be the same as or after the from date")
        return cleaned

    def filters(self) -> dict:
        """Keyword arguments for ``audit_event_list``; call after ``is_valid()``."""
        data = self.cleaned_data
        return {
            "actor_id": data.get("user"),
            "action": data.get("action") or None,
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
        }
