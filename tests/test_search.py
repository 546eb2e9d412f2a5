"""One search box (tenant_apps.search): profiles by name, alias, date of birth,
identifier and postcode; cases by reference; only what the user may see.

The cast is the one of tests/test_casework.py (copied): Bob owns the records
(District Council, ASB Team); Carl (same agency) sees them; Dan (Constabulary)
sees nothing until a share grants it; Nina, in Norfolk, never reaches any of it.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from tenant_apps.audit.models import AuditEvent
from tenant_apps.casework import services
from tenant_apps.casework.models import (
    CaseType,
    ProfileAddress,
    ProfileIdentifier,
    WarningMarker,
    normalise_identifier,
    normalise_postcode,
)
from tenant_apps.search.selectors import parse_query
from tenant_apps.search.services import search_run
from tests.conftest import sign_in


def fresh(user):
    user.__dict__.pop("_casework_scope", None)
    return user


def make_profile(cast, **fields):
    defaults = {"first_name": "Kyle", "last_name": "Brennan", "date_of_birth": dt.date(2001, 5, 17)}
    return services.profile_create(user=cast["bob"], owning_team=cast["asb"], **{**defaults, **fields})


@pytest.fixture
def records(cast):
    """Bob's records: Kyle Brennan (alias, PNC, NHS, address, marker), John Smith, a case."""
    kyle = make_profile(cast, aliases=["Kai Brannigan"])
    ProfileIdentifier.objects.create(profile=kyle, kind="pnc", value=normalise_identifier("01/123456A"))
    ProfileIdentifier.objects.create(profile=kyle, kind="nhs", value=normalise_identifier("943 476 5919"))
    ProfileAddress.objects.create(
        profile=kyle, line1="4 Mill Lane", town="Ipswich", postcode=normalise_postcode("ip4 1aa")
    )
    WarningMarker.objects.create(profile=kyle, kind="dogs")
    john = make_profile(cast, first_name="John", last_name="Smith", date_of_birth=dt.date(1990, 3, 1))
    make_profile(cast, first_name="Joan", last_name="Smithers", date_of_birth=dt.date(1972, 8, 9))
    make_profile(cast, first_name="Mary", last_name="Jones", date_of_birth=dt.date(1990, 3, 1))
    case = services.case_create(
        user=cast["bob"], case_type=CaseType.objects.get(code="ASB"), title="Noise and intimidation, Mill Lane",
        owning_team=cast["asb"], subjects=[(kyle, "perpetrator")],
    )  # fmt: skip
    return {"kyle": kyle, "john": john, "case": case}


def names(results):
    return [p.display_name for p in results.profiles]


def search(cast, who, query, **kwargs):
    return search_run(user=fresh(cast[who]), query=query, **kwargs)


# --- Reading the query -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kyle Brennan 17/05/2001", {"name": "kyle brennan", "date_of_birth": dt.date(2001, 5, 17)}),
        ("17-5-2001", {"date_of_birth": dt.date(2001, 5, 17)}),
        ("brennan 17 May 2001", {"name": "brennan", "date_of_birth": dt.date(2001, 5, 17)}),
        ("01/123456A", {"identifiers": ("01/123456A",)}),
        ("2001/0123456a", {"identifiers": ("2001/0123456A",)}),
        ("943 476 5919", {"identifiers": ("9434765919",)}),
        ("  ip4   1aa ", {"postcode": "IP4 1AA"}),
        ("asb-2026-0001", {"references": ("ASB-2026-0001",)}),
        ("31/02/2001 Smith", {"name": "smith"}),  # not a date: dropped, never a name or identifier
    ],
)
def test_the_query_is_split_into_its_parts(text, expected):
    parsed = parse_query(text)
    for attribute in ("name", "date_of_birth", "postcode", "identifiers", "references"):
        default = () if attribute in ("identifiers", "references") else ("" if attribute != "date_of_birth" else None)
        assert getattr(parsed, attribute) == expected.get(attribute, default), (text, attribute)


# --- Finding ---------------------------------------------------------------------------------


def test_names_are_found_despite_typos(records, cast):
    assert names(search(cast, "bob", "Jon Smyth"))[:1] == ["John Smith"]
    assert names(search(cast, "bob", "Brenan")) == ["Kyle Brennan"]
    assert names(search(cast, "bob", "smith john"))[:1] == ["John Smith"]  # any order
    assert names(search(cast, "bob", "Zebedee")) == []


def test_alias_date_of_birth_identifiers_postcode_and_case_reference(records, cast):
    assert names(search(cast, "bob", "Kai Branigan")) == ["Kyle Brennan"]  # alias, misspelt
    assert sorted(names(search(cast, "bob", "01/03/1990"))) == ["John Smith", "Mary Jones"]  # DOB alone
    assert names(search(cast, "bob", "Smith 01/03/1990")) == ["John Smith"]  # name + DOB
    assert names(search(cast, "bob", "Jones", date_of_birth=dt.date(1990, 3, 1))) == ["Mary Jones"]  # separate field
    assert names(search(cast, "bob", "Smith 02/03/1990")) == []  # the date narrows
    assert names(search(cast, "bob", "01/123456a")) == ["Kyle Brennan"]  # PNC
    assert names(search(cast, "bob", "943 476 5919")) == ["Kyle Brennan"]  # NHS, spaced
    assert names(search(cast, "bob", "9434765919")) == ["Kyle Brennan"]
    assert names(search(cast, "bob", "ip41aa")) == ["Kyle Brennan"]  # postcode, no space, lower case
    assert names(search(cast, "bob", " IP4    1AA ")) == ["Kyle Brennan"]
    year = records["case"].reference.split("-")[1]
    found = search(cast, "bob", f"asb-{year}-0001")
    assert [c.pk for c in found.cases] == [records["case"].pk] and found.case_total == 1
    assert found.profiles == [] and found.profile_total == 0


def test_results_are_capped_but_the_total_counts_every_match(cast, monkeypatch):
    from tenant_apps.search import selectors

    for first in ("Ann", "Anne", "Anna", "Annie"):
        make_profile(cast, first_name=first, last_name="Brennan")
    results = selectors.find(user=fresh(cast["bob"]), query="Brennan", limit=2)
    assert len(results.profiles) == 2 and results.profile_total == 4 and results.truncated


def test_past_the_cap_the_total_says_more_than(cast, monkeypatch):
    from tenant_apps.search import selectors

    monkeypatch.setattr(selectors, "MATCHES_MAX", 2)
    for first in ("Ann", "Anne", "Anna", "Annie"):
        make_profile(cast, first_name=first, last_name="Brennan")
    results = selectors.find(user=fresh(cast["bob"]), query="Brenan")
    assert results.profile_total == 2 and results.profile_total_capped and results.truncated
    assert all(p.display_name.endswith("Brennan") for p in results.profiles)


def test_a_search_is_one_round_trip_or_three_without_a_date(records, cast, django_assert_num_queries):
    from tenant_apps.search import selectors

    bob = fresh(cast["bob"])
    selectors.find(user=bob, query="Kyle")  # reads Bob's teams and agency once (kept on the user)
    with django_assert_num_queries(1):  # no transaction, no SET, no prefetch
        results = selectors.find(user=bob, query="Brenan 17/05/2001")
    (kyle,) = results.profiles
    assert (kyle.display_name, kyle.markers, selectors.current_postcode(kyle)) == (
        "Kyle Brennan",
        ["Dangerous dogs"],
        "IP4 1AA",
    )
    with django_assert_num_queries(3):  # the lexicon, aliases through their own index, then the profiles
        assert names(selectors.find(user=bob, query="Jon Smyth"))[:1] == ["John Smith"]


def test_dan_finds_nothing_of_bobs_until_a_share_grants_it(records, cast):
    for query in ("Kyle Brennan", "Brenan", "Kai Brannigan", "01/123456A", "IP4 1AA", "17/05/2001",
                  records["case"].reference):  # fmt: skip
        results = search(cast, "dan", query)
        assert (results.profiles, results.profile_total, results.cases, results.case_total) == ([], 0, [], 0), query
    services.share_grant(user=cast["bob"], profile=records["kyle"], team=cast["snt"])
    results = search(cast, "dan", "Brenan")
    assert names(results) == ["Kyle Brennan"] and results.profile_total == 1
    assert search(cast, "dan", records["case"].reference).case_total == 0  # the profile, not the case
    assert search(cast, "carl", "Brenan").profile_total == 1  # same agency


def test_nina_in_norfolk_finds_nothing(records, cast):
    with schema_context("norfolk"):
        from tenant_apps.accounts.models import User

        nina = User.objects.get(email="nina@norfolk.test")
        for query in ("Kyle Brennan", "01/123456A", "IP4 1AA", records["case"].reference):
            results = search_run(user=nina, query=query)
            assert (results.profile_total, results.case_total) == (0, 0), query


# --- The page and the API --------------------------------------------------------------------


@pytest.fixture
def bob_client(cast):
    client = Client(HTTP_HOST="suffolk.localhost")
    sign_in(client, "bob@suffolk.test")
    connection.set_schema("suffolk")
    return client


def search_events():
    with schema_context("suffolk"):
        return list(AuditEvent.objects.filter(action="search.run").order_by("pk"))


def test_the_page_searches_on_post_only_and_shows_results(records, bob_client):
    page = bob_client.get("/search/?q=Brennan&query=Brennan")
    assert page.status_code == 200
    assert b"Kyle Brennan" not in page.content and b'value="Brennan"' not in page.content
    assert search_events() == []  # a GET never searches

    page = bob_client.post("/search/", {"query": "Brenan 17/05/2001", "date_of_birth": ""})
    body = page.content.decode()
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert "Kyle Brennan" in body and "17 May 2001" in body and "IP4 1AA" in body and "Dangerous dogs" in body
    assert "Brenan" not in "".join(re.findall(r'(?:href|action)="([^"]*)"', body))  # no term in any link
    year = records["case"].reference.split("-")[1]
    body = bob_client.post("/search/", {"query": f"asb-{year}-0001"}).content.decode()
    assert records["case"].reference in body and "Anti-social" in body and "Open" in body
    assert len(search_events()) == 2
    empty = bob_client.post("/search/", {"query": "  "})
    assert empty.status_code == 200 and b"There is a problem" in empty.content and len(search_events()) == 2


def test_html_in_a_query_is_escaped(records, bob_client):
    body = bob_client.post("/search/", {"query": "<script>alert(1)</script> Brennan"}).content.decode()
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "Kyle Brennan" in body


def test_the_audit_event_holds_no_term_in_plain_text(records, bob_client):
    bob_client.post("/search/", {"query": "Brenan 01/123456A IP4 1AA", "date_of_birth": "17/05/2001"})
    (event,) = search_events()
    stored = f"{event.summary} {event.changes} {event.object_id}".lower()
    assert event.actor_id == records["kyle"].created_by_id
    for term in ("brenan", "brennan", "123456", "ip4", "1aa", "2001", "17/05"):
        assert term not in stored, term
    assert "name, date_of_birth, postcode, identifier" in event.summary and "1 profiles" in event.summary
    # The same term gives the same keyed hash: an investigator with the key can find it.
    bob_client.post("/search/", {"query": "brenan"})
    first, second = (e.summary for e in search_events())
    assert re.search(r"name:[0-9a-f]{16}", first)[0] == re.search(r"name:[0-9a-f]{16}", second)[0]


def test_the_api_answers_post_only_and_audits(records, bob_client):
    assert bob_client.get("/api/v1/search/?query=Brennan").status_code == 405
    response = bob_client.post("/api/v1/search/", {"query": "Jon Smyth"}, content_type="application/json")
    assert response.status_code == 200
    data = response.json()
    assert data["profile_total"] >= 1 and data["profiles"][0]["display_name"] == "John Smith"
    response = bob_client.post("/api/v1/search/", {"query": "Kyle", "date_of_birth": "2001-05-17"},
                               content_type="application/json")  # fmt: skip
    (kyle,) = response.json()["profiles"]
    assert kyle["postcode"] == "IP4 1AA" and kyle["markers"] == ["Dangerous dogs"]
    bad = bob_client.post("/api/v1/search/", {"query": ""}, content_type="application/json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid"
    assert [e.summary.startswith("api search") for e in search_events()] == [True, True]


def test_nina_gets_nothing_through_the_api(records, cast):
    client = Client(HTTP_HOST="norfolk.localhost")
    sign_in(client, "nina@norfolk.test")
    data = client.post("/api/v1/search/", {"query": "Kyle Brennan"}, content_type="application/json").json()
    assert (data["profiles"], data["profile_total"], data["cases"], data["case_total"]) == ([], 0, [], 0)
