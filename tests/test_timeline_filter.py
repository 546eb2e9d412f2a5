"""A case's timeline filtered by kind of entry, on the case page (``?kind=``) and in the API.

Bob (ASB Team) owns the case; Carl (same council, other team) sees it but not the entry
restricted to the ASB Team; Dan (police) and Nina (Norfolk) see nothing of it.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from tenant_apps.casework import services
from tenant_apps.casework.models import CaseType
from tests.conftest import sign_in
from tests.test_casework_pages import client_as


def _case(cast):
    with schema_context("suffolk"):
        bob = cast["bob"]
        profile = services.profile_create(user=bob, owning_team=cast["asb"], first_name="Kyle", last_name="Brennan")
        case = services.case_create(user=bob, case_type=CaseType.objects.get(code="ASB"), title="Mill Lane",
                                    owning_team=cast["asb"], subjects=[(profile, "perpetrator")])  # fmt: skip
        when = timezone.now() - dt.timedelta(days=1)
        for kind, summary, extra in [
            ("visit", "Doorstep visit", {}),
            ("note", "Note after the meeting", {}),
            ("visit", "Visit with the school nurse", {"body": "NURSE-SAID-THIS", "is_sensitive": True,
                                                       "restricted_to_teams": [cast["asb"]]}),
            ("enforcement", "Warning letter sent", {"action": "warning_letter"}),
        ]:  # fmt: skip
            when += dt.timedelta(minutes=5)
            services.entry_create(user=bob, case=case, kind=kind, summary=summary, occurred_at=when, **extra)
    connection.set_schema_to_public()
    return case


def test_the_case_page_shows_one_kind_of_entry_and_keeps_restricted_ones_restricted(cast):
    case = _case(cast)
    url = f"/cases/{case.pk}/"
    bob = client_as(cast, "bob")
    visits = bob.get(url, {"kind": "visit"}).content.decode()
    assert "Doorstep visit" in visits and "NURSE-SAID-THIS" in visits
    assert "Note after the meeting" not in visits and "Warning letter sent" not in visits
    assert "2 entries of this kind." in visits and '<option value="visit" selected>' in visits
    assert "4 entries." in bob.get(url).content.decode()

    carl = client_as(cast, "carl").get(url, {"kind": "visit"}).content.decode()
    assert "Doorstep visit" in carl and "Restricted entry: visit" in carl
    assert "NURSE-SAID-THIS" not in carl and "Visit with the school nurse" not in carl

    letters = bob.get(url, {"kind": "letter"}).content.decode()
    assert "No entries of this kind." in letters and "0 entries of this kind." in letters


def test_a_kind_that_does_not_exist_is_named_and_every_entry_is_shown(cast):
    case = _case(cast)
    page = client_as(cast, "bob").get(f"/cases/{case.pk}/", {"kind": "<script>x</script>"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "<title>Error: " in html and "Choose a kind of entry from the list." in html
    assert 'href="#id_kind"' in html and "<script>x</script>" not in html
    assert "4 entries." in html and "Warning letter sent" in html


def test_the_pages_of_a_filtered_timeline_keep_the_filter_and_cost_the_same_queries(cast):
    case = _case(cast)
    with schema_context("suffolk"):
        for n in range(30):
            services.entry_create(user=cast["bob"], case=case, kind="note", summary=f"Note {n}",
                                  occurred_at=timezone.now() - dt.timedelta(days=2, minutes=n))  # fmt: skip
    connection.set_schema_to_public()
    bob = client_as(cast, "bob")
    url = f"/cases/{case.pk}/"
    bob.get(url)
    with CaptureQueriesContext(connection) as unfiltered:
        bob.get(url)
    with CaptureQueriesContext(connection) as filtered:
        notes = bob.get(url, {"kind": "note"}).content.decode()
    assert len(filtered) == len(unfiltered)
    assert "31 entries of this kind, showing 1 to 25." in notes
    assert 'href="?kind=note&amp;page=2"' in notes
    second = bob.get(url, {"kind": "note", "page": 2}).content.decode()
    assert second.count('id="entry-') == 6 and "Doorstep visit" not in second


def test_the_api_filters_by_kind_refuses_an_unknown_one_and_shows_nothing_to_outsiders(cast, norfolk_client):
    case = _case(cast)
    api = f"/api/v1/cases/{case.pk}/timeline/"
    bob = Client(HTTP_HOST="suffolk.localhost")
    sign_in(bob, "bob@suffolk.test")
    visits = bob.get(api, {"kind": "visit"}).json()
    assert visits["count"] == 2 and {entry["kind"] for entry in visits["results"]} == {"visit"}
    assert bob.get(api, {"kind": "enforcement"}).json()["results"][0]["action"] == "warning_letter"

    bad = bob.get(api, {"kind": "burglary"})
    assert bad.status_code == 400 and "kind" in bad.json()["error"]["fields"]

    carl = client_as(cast, "carl")
    restricted = [e for e in carl.get(api, {"kind": "visit"}).json()["results"] if e["restricted"]]
    assert len(restricted) == 1 and set(restricted[0]) == {"id", "kind", "occurred_at", "restricted"}

    dan = client_as(cast, "dan")
    assert dan.get(api, {"kind": "visit"}).status_code == 404
    assert dan.get(api, {"kind": "burglary"}).status_code == 404  # not yours: no word about the input
    sign_in(norfolk_client, "nina@norfolk.test")
    assert norfolk_client.get(api, {"kind": "visit"}).status_code == 404


def test_a_profiles_timeline_filters_by_kind_too(cast):
    case = _case(cast)
    with schema_context("suffolk"):
        profile = case.subjects.get().profile
    connection.set_schema_to_public()
    bob = client_as(cast, "bob")
    page = bob.get(f"/profiles/{profile.pk}/", {"kind": "note"}).content.decode()
    assert "Note after the meeting" in page and "Doorstep visit" not in page
    assert "1 entry of this kind." in page
    bad = bob.get(f"/profiles/{profile.pk}/", {"kind": "nonsense"}).content.decode()
    assert "Choose a kind of entry from the list." in bad and "4 entries." in bad
    api = bob.get(f"/api/v1/profiles/{profile.pk}/timeline/", {"kind": "visit"}).json()
    assert api["count"] == 2 and {entry["kind"] for entry in api["results"]} == {"visit"}
    assert bob.get(f"/api/v1/profiles/{profile.pk}/timeline/", {"kind": "nonsense"}).status_code == 400
    assert client_as(cast, "dan").get(f"/api/v1/profiles/{profile.pk}/timeline/", {"kind": "visit"}).status_code == 404
