"""Fields and widgets the casework forms share: the profile picker, the GOV.UK date input.

A team is picked with the floor's ``concord.fields.LabelChoiceField`` (shown by its ``label``).
"""

from __future__ import annotations

import datetime as dt

from django import forms

__all__ = ["GovukDateField", "ProfileChoiceField", "VersionForm"]


class ProfileChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        born = f", born {obj.date_of_birth:%-d %b %Y}" if obj.date_of_birth else ""
        return f"{obj.display_name}{born}"


class DateInputWidget(forms.MultiWidget):
    """Day, month and year inputs named ``<name>_day``, ``_month``, ``_year``.

    The day input takes the field's own id, so the error summary's link lands on it.
    """

    template_name = "casework/widgets/date_input.html"

    def __init__(self, attrs=None):
        parts = {
            "day": forms.TextInput(attrs={"inputmode": "numeric", "maxlength": 2}),
            "month": forms.TextInput(attrs={"inputmode": "numeric", "maxlength": 2}),
            "year": forms.TextInput(attrs={"inputmode": "numeric", "maxlength": 4}),
        }
        super().__init__(parts, attrs)

    def decompress(self, value):
        if isinstance(value, dt.date):
            return [value.day, value.month, value.year]
        return [None, None, None]

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        base_id = (attrs or {}).get("id") or self.attrs.get("id")
        labels = ("Day", "Month", "Year")
        for index, (subwidget, label) in enumerate(zip(context["widget"]["subwidgets"], labels, strict=True)):
            subwidget["label"] = label
            subwidget["width"] = 4 if index == 2 else 2
            if base_id:
                subwidget["attrs"]["id"] = base_id if index == 0 else f"{base_id}_{label.lower()}"
            subwidget["attrs"].pop("aria-describedby", None)
        return context

    def id_for_label(self, id_):
        return id_


class GovukDateField(forms.MultiValueField):
    widget = DateInputWidget

    def __init__(self, *, label: str, required: bool = True, **kwargs):
        part = {"required": False}
        fields = (forms.CharField(**part), forms.CharField(**part), forms.CharField(**part))
        super().__init__(fields, label=label, required=required, require_all_fields=False, **kwargs)
        self.noun = label[0].lower() + label[1:]

    def clean(self, value):
        parts = [str(p or "").strip() for p in (value or [])] + ["", "", ""]
        day, month, year = parts[:3]
        if not (day or month or year):
            if self.required:
                raise forms.ValidationError(f"Enter the {self.noun}.", code="required")
            return None
        missing = [name for name, part in (("day", day), ("month", month), ("year", year)) if not part]
        if missing:
            raise forms.ValidationError(f"The {self.noun} must include a {' and a '.join(missing)}.")
        if not (day.isdigit() and month.isdigit() and year.isdigit()) or len(year) != 4:
            raise forms.ValidationError(f"The {self.noun} must be a real date, like 27 3 2007.")
        try:
            return dt.date(int(year), int(month), int(day))
        except ValueError:
            raise forms.ValidationError(f"The {self.noun} must be a real date, like 27 3 2007.") from None

    def compress(self, data_list):  # pragma: no cover - clean() above does the work
        return data_list


def set_messages(field: forms.Field, **messages: str) -> None:
    field.error_messages.update(messages)


def required_message(field: forms.Field, message: str) -> forms.Field:
    field.error_messages.update(required=message, invalid_choice=message)
    return field


class VersionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def values(self) -> dict:
        """The cleaned data for the service, ``version`` aside."""
        return {name: value for name, value in self.cleaned_data.items() if name != "version"}
