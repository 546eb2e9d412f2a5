"""Every 500 carries a short reference a user can quote to support (issue 18, point 6): on the
page, in the API's JSON, at the end of the error's log line and as the Sentry event's
``reference`` tag, the same in all four, random, and nothing personal in any of them.

Sentry events reach a real HTTP endpoint on loopback (tests/test_sentry.py's receiver). Alice
is in Suffolk; Nina, in Norfolk, gets her own reference and her events are tagged Norfolk.
"""

# ruff: noqa: F811 - the sentry_receiver fixture is imported from test_sentry

from __future__ import annotations

import logging
import re

import sentry_sdk
from django.test import Client, override_settings
from django.urls import include, path

from concord.api import BaseApi
from tests.conftest import PASSWORD, sign_in
from tests.test_sentry import SentryReceiver, sentry_receiver  # noqa: F401 - fixture

REFERENCE = re.compile(r"^[A-Z2-7]{4}-[A-Z2-7]{4}$")
PERSONAL = ["alice@suffolk.test", "Alice Adams", "nina@norfolk.test", "Nina North", PASSWORD, "4 Privet Drive"]


def boom(request):
    raise RuntimeError("deliberate failure for the reference test")


class BoomApi(BaseApi):
    api_area = None

    def get(self, request):
        raise RuntimeError("deliberate API failure for the reference test")


urlpatterns = [
    path("boom/", boom),
    path("api/v1/boom/", BoomApi.as_view()),
    path("", include("concord.urls_partnership")),
]
handler500 = "concord.views.server_error"  # as concord.urls_partnership's


def signed_in(slug: str, email: str) -> Client:
    client = Client(HTTP_HOST=f"{slug}.localhost", raise_request_exception=False)
    sign_in(client, email)
    return client


def error_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "django.request" and r.levelno >= logging.ERROR]


def sentry_events() -> list[str]:
    sentry_sdk.flush(timeout=10)
    assert SentryReceiver.envelopes, "no envelope reached the receiver"
    events = [envelope.decode("utf-8", "replace").replace(" ", "") for envelope in SentryReceiver.envelopes]
    SentryReceiver.envelopes.clear()
    return events


def test_a_500_page_carries_a_reference_found_in_the_log_and_the_sentry_event(db, sentry_receiver, caplog):
    alice = signed_in("suffolk", "alice@suffolk.test")
    caplog.set_level(logging.ERROR, logger="django.request")
    with override_settings(SENTRY_DSN=sentry_receiver, ROOT_URLCONF=__name__):
        page = alice.post("/boom/", {"email": "alice@suffolk.test", "notes": "lives at 4 Privet Drive"})
        assert page.status_code == 500
        content = page.content.decode()
        reference = re.search(r'id="error-reference">([^<]+)<', content).group(1)
        assert REFERENCE.match(reference), reference
        assert "quote reference <strong" in content and "Sorry, there is a problem with the service" in content

        # The log line of the error ends with it, and only that line names it.
        assert error_lines(caplog) == [f"Internal Server Error: /boom/ (reference {reference})"]
        # The Sentry event is tagged with it, and with the partnership.
        [event] = [e for e in sentry_events() if "deliberatefailureforthereferencetest" in e]
        assert f'"reference":"{reference}"' in event and '"partnership":"suffolk"' in event

        # Nina's error in Norfolk: another reference, tagged Norfolk, Suffolk's nowhere.
        caplog.clear()
        nina = signed_in("norfolk", "nina@norfolk.test")
        other = nina.get("/boom/")
        other_reference = re.search(r'id="error-reference">([^<]+)<', other.content.decode()).group(1)
        assert REFERENCE.match(other_reference) and other_reference != reference
        assert error_lines(caplog) == [f"Internal Server Error: /boom/ (reference {other_reference})"]
        [norfolk_event] = [e for e in sentry_events() if "deliberatefailureforthereferencetest" in e]
        assert f'"reference":"{other_reference}"' in norfolk_event and '"partnership":"norfolk"' in norfolk_event
        assert reference not in norfolk_event

    # Nothing personal on the page, in the log line or in the events.
    for text in [content, *error_lines(caplog), event, norfolk_event]:
        for secret in PERSONAL:
            assert secret not in text, secret


def test_a_json_500_carries_the_reference(db, sentry_receiver, caplog):
    alice = signed_in("suffolk", "alice@suffolk.test")
    caplog.set_level(logging.ERROR, logger="django.request")
    with override_settings(SENTRY_DSN=sentry_receiver, ROOT_URLCONF=__name__):
        response = alice.get("/api/v1/boom/")
        assert response.status_code == 500 and response["Content-Type"] == "application/json"
        error = response.json()["error"]
        reference = error["reference"]
        assert REFERENCE.match(reference), reference
        assert error == {
            "status": 500,
            "code": "server_error",
            "message": f"Something went wrong. It has been reported: quote reference {reference} to support.",
            "reference": reference,
        }
        assert error_lines(caplog) == [f"Internal Server Error: /api/v1/boom/ (reference {reference})"]
        [event] = [e for e in sentry_events() if "deliberateAPIfailureforthereferencetest" in e]
        assert f'"reference":"{reference}"' in event and '"partnership":"suffolk"' in event

        # Each error its own reference: the same request again, another one.
        again = alice.get("/api/v1/boom/").json()["error"]["reference"]
        assert REFERENCE.match(again) and again != reference
        sentry_events()

    for text in [response.content.decode(), *error_lines(caplog), event]:
        for secret in PERSONAL:
            assert secret not in text, secret
