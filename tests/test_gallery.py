"""The gallery: one card per person on the caseload, their cases, photo and warnings on it, latest
contact first; what another team, another agency and another partnership see of it.

The cast is test_casework_pages.py's: Bob (ASB Team, District Council) owns the records; Dan
(Safer Neighbourhood Team, Constabulary) sees only what is shared with him; Nina, in Norfolk,
must never see any of it.
"""

from __future__ import annotations

import datetime as dt
import io
import re

from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from tenant_apps.audit.models import AuditEvent
from tenant_apps.casework import services
from tenant_apps.casework.models import Case, CaseType, WarningMarker
from tests.conftest import sign_in
from tests.test_attachments import IMAGE, store_photo
from tests.test_casework_pages import _fresh, client_as, make_entry, make_profile

CARD = re.compile(r'id="person-(\d+)"')


def _ago(**delta) -> dt.datetime:
    return timezone.now() - dt.timedelta(**delta)


def _card(page: str, profile) -> str:
    """The HTML of one person's card."""
    start = page.index(f'id="person-{profile.pk}"')
    end = page.find('id="person-', start + 1)
    return page[start : end if end != -1 else len(page)]


def _case(cast, profile, title):
    with schema_context("suffolk"):
        return services.case_create(user=_fresh(cast["bob"]), case_type=CaseType.objects.get(code="ASB"), title=title,
                                    owning_team=cast["asb"], subjects=[(profile, "perpetrator")])  # fmt: skip


def _caseload(cast):
    """Kyle on two open cases and a closed one (a warning marker and a photo); Jade on one case;
    Mo on one case with no contact yet."""
    kyle = make_profile(cast)
    jade = make_profile(cast, first_name="Jade", last_name="Kowalski", date_of_birth=dt.date(1990, 3, 2))
    mo = make_profile(cast, first_name="Mo", last_name="Adeyemi", date_of_birth=None)
    first = _case(cast, kyle, "Noise at Granary Yard")
    second = _case(cast, kyle, "Graffiti on Mill Lane")
    closed = _case(cast, kyle, "An old case")
    jades = _case(cast, jade, "Harassment of neighbours")
    mos = _case(cast, mo, "Fly-tipping")
    make_entry(cast, first, summary="Doorstep visit", occurred_at=_ago(hours=1))
    make_entry(cast, second, summary="Phone call", kind="phone_call", occurred_at=_ago(days=5))
    make_entry(cast, second, summary="A note is not a contact", kind="note", occurred_at=_ago(minutes=5))
    make_entry(cast, jades, summary="Visit", occurred_at=_ago(days=1))
    make_entry(cast, mos, summary="Just a note", kind="note", occurred_at=_ago(days=2))
    with schema_context("suffolk"):
        services.case_set_status(user=_fresh(cast["bob"]), case=closed, version=closed.version,
                                 status=Case.Status.CLOSED, outcome=Case.Outcome.values[0])  # fmt: skip
        WarningMarker.objects.create(profile=kyle, kind="violent", note="Threatened a visitor")
        WarningMarker.objects.create(profile=kyle, kind="dogs")
    return {"kyle": kyle, "jade": jade, "mo": mo, "first": first, "second": second, "closed": closed,
            "jades": jades, "mos": mos}  # fmt: skip


def test_one_card_per_person_with_their_cases_warnings_and_photo_latest_contact_first(cast, s3):
    people = _caseload(cast)
    photo = store_photo(cast, people["kyle"])
    bob = client_as(cast, "bob")
    page = bob.get("/gallery/").content.decode()
    kyle, jade, mo = people["kyle"], people["jade"], people["mo"]
    # Once each, latest contact first (a note is not a contact; no contact yet goes last).
    assert CARD.findall(page) == [str(kyle.pk), str(jade.pk), str(mo.pk)]
    assert "3 people on open and on-hold cases." in page
    card = _card(page, kyle)
    for case in (people["first"], people["second"]):
        assert (
            f'href="/cases/{case.pk}/">{case.reference}<span class="govuk-visually-hidden">:</span> {case.title}</a>'
            in card
        )
    assert people["closed"].reference not in card and people["jades"].reference not in card
    assert '<span class="govuk-visually-hidden">Warning: </span>Violent</strong>' in card
    assert "Dangerous dogs" in card and "govuk-tag--red" in card
    assert IMAGE.findall(card) == [(f"/documents/{photo.pk}/image/", str(photo.pk), "Kyle Brennan")]
    assert timezone.localtime(_ago(hours=1)).strftime("%-d %b %Y") in card
    assert "none yet" in _card(page, mo) and "Warning" not in _card(page, jade)
    assert 'alt="No photo"' in _card(page, jade)

    by_name = bob.get("/gallery/?sort=name").content.decode()
    assert CARD.findall(by_name) == [str(mo.pk), str(kyle.pk), str(jade.pk)]
    assert 'href="#id_sort"' in bob.get("/gallery/?sort=age").content.decode()
    # The filters are kept alongside the order.
    assert CARD.findall(bob.get(f"/gallery/?team={cast['snt'].pk}&sort=name").content.decode()) == []


def test_a_case_another_team_may_not_see_is_not_on_the_card(cast, s3):
    people = _caseload(cast)
    store_photo(cast, people["kyle"])
    dan = client_as(cast, "dan")
    assert CARD.findall(dan.get("/gallery/").content.decode()) == []  # another agency: nothing shared
    with schema_context("suffolk"):
        services.share_grant(user=_fresh(cast["bob"]), case=people["second"], team=cast["snt"])
    page = dan.get("/gallery/").content.decode()
    assert CARD.findall(page) == [str(people["kyle"].pk)]
    card = _card(page, people["kyle"])
    assert people["second"].reference in card and people["first"].reference not in card
    assert people["first"].title not in page
    # Not his profile to see: no link to it, no photo, no warnings; the last contact he sees is
    # on the case shared with him (five days ago), not the visit on the case he may not see.
    assert f'href="/profiles/{people["kyle"].pk}/"' not in card and IMAGE.findall(card) == []
    assert "Violent" not in card and "Warning" not in card
    assert timezone.localtime(_ago(days=5)).strftime("%-d %b %Y") in card

    # Shown the profile too: the photo and the warnings, still not the other case.
    with schema_context("suffolk"):
        services.share_grant(user=_fresh(cast["bob"]), profile=people["kyle"], team=cast["snt"])
    card = _card(dan.get("/gallery/").content.decode(), people["kyle"])
    assert len(IMAGE.findall(card)) == 1 and "Violent" in card
    assert f'href="/profiles/{people["kyle"].pk}/"' in card and people["first"].reference not in card


def test_norfolk_never_sees_suffolks_people(cast):
    people = _caseload(cast)
    nina = Client(HTTP_HOST="norfolk.localhost")
    sign_in(nina, "nina@norfolk.test")
    page = nina.get("/gallery/").content.decode()
    assert CARD.findall(page) == [] and "Kyle" not in page and people["first"].reference not in page
    assert "0 people" in page
    assert nina.get("/gallery/", HTTP_HOST="suffolk.localhost").status_code in (302, 403)


def test_each_page_of_the_gallery_is_audited_once_naming_its_people(cast):
    people = _caseload(cast)
    bob = client_as(cast, "bob")
    with schema_context("suffolk"):
        before = AuditEvent.objects.filter(action="gallery.viewed").count()
    bob.get("/gallery/")
    with schema_context("suffolk"):
        events = list(AuditEvent.objects.filter(action="gallery.viewed").order_by("pk"))[before:]
    ids = ", ".join(str(people[name].pk) for name in ("kyle", "jade", "mo"))
    assert [event.summary for event in events] == [f"page 1: 3 cards; profiles {ids}"]


def test_the_demo_draws_a_photo_for_everyone_on_an_open_case_once(cast, s3):
    from PIL import Image

    from tenant_apps.casework.demo import casework_seed_demo_photos
    from tenant_apps.documents.models import Document

    people = _caseload(cast)
    nobodys = make_profile(cast, first_name="Nora", last_name="Caseless", date_of_birth=None)
    closed_only = make_profile(cast, first_name="Cliff", last_name="Closed", date_of_birth=None)
    case = _case(cast, closed_only, "Long finished")
    with schema_context("suffolk"):
        services.case_set_status(user=_fresh(cast["bob"]), case=case, version=case.version,
                                 status=Case.Status.CLOSED, outcome=Case.Outcome.RESOLVED)  # fmt: skip
        assert casework_seed_demo_photos() == 3
        assert casework_seed_demo_photos() == 0  # kept while their bytes are in storage
        photos = {int(d.attached_to_id): d for d in Document.objects.filter(attached_to_type="profile_photo")}
    assert set(photos) == {people["kyle"].pk, people["jade"].pk, people["mo"].pk}
    assert nobodys.pk not in photos and closed_only.pk not in photos
    bob = client_as(cast, "bob")
    page = bob.get("/gallery/").content.decode()
    assert sorted(name for _, _, name in IMAGE.findall(page)) == ["Jade Kowalski", "Kyle Brennan", "Mo Adeyemi"]
    image = Image.open(io.BytesIO(bob.get(f"/documents/{photos[people['kyle'].pk].pk}/image/").content))
    assert (image.format, image.size) == ("JPEG", (240, 300))
