"""British English, Europe/London time, UK date formats."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.template import Context, Template
from django.utils import timezone


def test_settings_are_british():
    assert settings.LANGUAGE_CODE == "en-gb"
    assert settings.TIME_ZONE == "Europe/London"
    assert settings.USE_TZ


def test_dates_render_in_uk_formats_and_london_time():
    summer = dt.datetime(2026, 7, 1, 13, 5, tzinfo=dt.UTC)  # 14:05 in British Summer Time
    winter = dt.datetime(2026, 11, 25, 13, 5, tzinfo=dt.UTC)
    template = Template("{{ d|date }}|{{ d|date:'SHORT_DATE_FORMAT' }}|{{ d|time }}|{{ d|date:'DATETIME_FORMAT' }}")
    with timezone.override(ZoneInfo("Europe/London")):
        assert template.render(Context({"d": summer})) == "1 July 2026|01/07/2026|14:05|1 July 2026, 14:05"
        assert template.render(Context({"d": winter})) == "25 November 2026|25/11/2026|13:05|25 November 2026, 13:05"


def test_uk_dates_are_parsed_day_first():
    from django import forms

    field = forms.DateField()
    assert field.clean("03/04/2026") == dt.date(2026, 4, 3)
    assert field.clean("3 April 2026") == dt.date(2026, 4, 3)
