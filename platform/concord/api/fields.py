"""The values: input fields every API module uses instead of DRF's.

``IdField``, ``ChoiceField``, ``TextField``, ``SlugRelatedField``, ``DateField`` and ``DateTimeField``
refuse non-integers, NUL, and dates outside ``DATE_MIN``..``DATE_MAX`` (``concord.fields``),
and their errors never echo what was sent.
"""

from __future__ import annotations

import datetime as dt

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from concord.api.text import text_problem
from concord.fields import DATE_MAX, DATE_MIN, DATE_RANGE

ID_MAX = 2**63 - 1  # ids are PostgreSQL bigints (DEFAULT_AUTO_FIELD)


class IdField(serializers.IntegerField):
    """A record's id: a whole number from 1 to ``ID_MAX``, as a JSON integer (or its digits as
    text, from a form or a query). ``1.5``, ``1.0``, ``true`` and ``"1e3"`` are refused: an id is
    never rounded into another record's."""

    default_error_messages = {"invalid": "Enter an id (a whole number)."}

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str) and data.isascii() and data.isdigit() and len(data) <= 20:
            data = int(data)
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class ChoiceField(serializers.ChoiceField):
    """A choice whose error lists the choices and never echoes what was sent."""

    default_error_messages = {"invalid_choice": "Choose one of: {choices}."}

    def to_internal_value(self, data):
        if data == "" and self.allow_blank:
            return ""
        if isinstance(data, str | int) and not isinstance(data, bool) and str(data) in self.choice_strings_to_values:
            return self.choice_strings_to_values[str(data)]
        self.fail("invalid_choice", choices=", ".join(self.choice_strings_to_values))


class TextField(serializers.CharField):
    """Text any of our columns can hold (a query's words, a name): NUL and lone surrogates are
    refused, and so is U+FFFD, which is what Django makes of a query's bytes that are not UTF-8;
    the error never echoes what was sent."""

    def to_internal_value(self, data):
        if isinstance(data, str) and "\ufffd" in data:
            raise serializers.ValidationError("Text must be valid UTF-8.")
        if isinstance(data, str) and (problem := text_problem(data)):
            raise serializers.ValidationError(problem)
        return super().to_internal_value(data)


class VisibleIdField(serializers.PrimaryKeyRelatedField):
    """A record named by id, looked up in ``visible_to(request.user)``: an id the user may not see
    gets the same answer as an id that does not exist. Optional (``null`` names nothing) unless
    ``required=True``."""

    def __init__(self, visible_to, **kwargs):
        self.visible_to = visible_to
        if not kwargs.get("required", False):
            kwargs.setdefault("allow_null", True)
            kwargs.setdefault("default", None)
        kwargs.setdefault("required", False)
        super().__init__(pk_field=IdField(), **kwargs)

    def get_queryset(self):
        return self.visible_to(self.context["request"].user)


class SlugRelatedField(serializers.SlugRelatedField):
    """A record named by a code (``case_type``): text only, never NUL, never echoed back."""

    default_error_messages = {"does_not_exist": "Unknown {slug_name}.", "invalid": "Enter a code (text)."}

    def to_internal_value(self, data):
        if not isinstance(data, str) or text_problem(data) or len(data) > 100:
            self.fail("invalid")
        return super().to_internal_value(data)


def _date_in_range(value: dt.date) -> None:
    if not DATE_MIN <= value <= DATE_MAX:
        raise serializers.ValidationError(DATE_RANGE, code="out_of_range")


@extend_schema_field({"type": "string", "format": "date", "description": DATE_RANGE})
class DateField(serializers.DateField):
    """A date from ``DATE_MIN`` to ``DATE_MAX`` (a task due 9999-12-31 is a mistake, not a plan)."""

    def to_internal_value(self, value):
        parsed = super().to_internal_value(value)
        _date_in_range(parsed)
        return parsed


@extend_schema_field({"type": "string", "format": "date-time", "description": f"RFC 3339. {DATE_RANGE[:-1]} (UTC)."})
class DateTimeField(serializers.DateTimeField):
    """A date-time whose UTC date falls from ``DATE_MIN`` to ``DATE_MAX``, answered in RFC 3339
    (the partnership's local time, or UTC for a stored value whose offset has seconds)."""

    def to_internal_value(self, value):
        parsed = super().to_internal_value(value)
        try:
            day = parsed.astimezone(dt.UTC).date()
        except (OverflowError, ValueError):
            self.fail("overflow")
        _date_in_range(day)
        return parsed

    def to_representation(self, value):
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            offset = self.enforce_timezone(value).utcoffset()
            if offset is not None and offset.seconds % 60:
                value = value.astimezone(dt.UTC)
                return value.isoformat().replace("+00:00", "Z")
        return super().to_representation(value)
