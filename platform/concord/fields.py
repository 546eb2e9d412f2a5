"""Field pieces shared by forms and the API (floor: imports only Django).

- ``DATE_MIN`` .. ``DATE_MAX``: the dates any date input of ours accepts (the API's
  ``DateField`` and ``DateTimeField`` refuse others, ``concord.api.fields``).
- ``LabelChoiceField`` / ``LabelMultipleChoiceField``: a form's choice of records shown by
  their ``label`` (a team is "Agency: Team", wherever it is picked).
"""

from __future__ import annotations

import datetime as dt

from django import forms

# Wide enough for any birth, case or due date a partnership records, narrow enough that every
# one has a valid RFC 3339 form (before 1900 Europe/London's offset was -00:01:15, which RFC
# 3339 cannot write).
DATE_MIN, DATE_MAX = dt.date(1900, 1, 1), dt.date(2100, 12, 31)
DATE_RANGE = f"Enter a date from {DATE_MIN.isoformat()} to {DATE_MAX.isoformat()}."


class LabelChoiceField(forms.ModelChoiceField):
    """One record, each choice shown by the record's ``label``."""

    def label_from_instance(self, obj) -> str:
        return obj.label


class LabelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Several records, each choice shown by the record's ``label``."""

    def label_from_instance(self, obj) -> str:
        return obj.label


__all__ = ["DATE_MAX", "DATE_MIN", "DATE_RANGE", "LabelChoiceField", "LabelMultipleChoiceField"]
