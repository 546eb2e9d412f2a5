"""Merging two profiles of the same person, and the create form's duplicate check (htmx fragment).

The cast is test_casework_pages.py's: Bob owns the records (ASB Team), Dan (police) sees
nothing unshared, Vera is a viewer.
"""

# ruff: noqa: F811 - the cast fixture is imported from test_casework_pages

from __future__ import annotations

import datetime as dt

from django_tenants.utils import schema_context

from tenant_apps.casework.models import Family, FamilyMember, Profile, ProfileAlias
from tests.rules_helpers import committed_bob  # noqa: F401 - fixture
from tests.test_casework_pages import (  # noqa: F401 - fixtures
    client_as,
    in_suffolk,
    make_case,
    make_entry,
    make_profile,
)


def _pair(cast):
    keep = make_profile(cast, first_name="Kyle", last_name="Brennan", date_of_birth=dt.date(2001, 5, 17))
    merge = make_profile(cast, first_name="Kyle", last_name="Brenan", date_of_birth=dt.date(2001, 5, 17),
                         aliases=["Ky"])  # fmt: skip
    case = make_case(cast, merge)
    make_entry(cast, case, summary="Spoke to Kyle at the door")
    with schema_context("suffolk"):
        family = Family.objects.create(
            name="Brennan household", owning_team=cast["asb"], owning_agency=cast["council"], created_by=cast["bob"]
        )
        FamilyMember.objects.create(family=family, profile=merge, relationship=FamilyMember.Relationship.values[0])
    return keep, merge, case


def test_bob_merges_a_likely_duplicate_after_confirming_what_moves(cast):
    keep, merge, case = _pair(cast)
    bob = client_as(cast, "bob")
    assert "This is the same person as" in bob.get(f"/profiles/{keep.pk}/").content.decode()
    page = bob.get(f"/profiles/{keep.pk}/merge/").content.decode()
    assert 'name="duplicate"' in page and f'value="{merge.pk}"' in page  # a likely match
    assert 'name="other"' in page
    # Choosing nothing is an error; choosing shows the confirmation, and nothing moves yet.
    assert bob.post(f"/profiles/{keep.pk}/merge/", {}).status_code == 400
    response = bob.post(f"/profiles/{keep.pk}/merge/", {"duplicate": merge.pk})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Merge Kyle Brenan into Kyle Brennan?" in page
    assert case.reference in page and "Brennan household" in page and "1 entry" in page and "Ky" in page
    assert in_suffolk(lambda: Profile.objects.get(pk=merge.pk).merged_into_id) is None
    response = bob.post(f"/profiles/{keep.pk}/merge/", {"other": merge.pk, "confirm": merge.pk})
    assert response.status_code == 302 and response["Location"] == f"/profiles/{keep.pk}/"
    page = bob.get(response["Location"]).content.decode()
    assert "Kyle Brenan has been merged into this profile." in page and case.reference in page
    with schema_context("suffolk"):
        assert Profile.objects.get(pk=merge.pk).merged_into_id == keep.pk
        assert set(ProfileAlias.objects.filter(profile=keep).values_list("name", flat=True)) == {"Ky", "Kyle Brenan"}
        assert FamilyMember.objects.get(family__name="Brennan household").profile_id == keep.pk
        from tenant_apps.audit.models import AuditEvent  # noqa: PLC0415

        assert AuditEvent.objects.filter(action="profile.merged", object_id=str(keep.pk)).exists()
    # The merged profile is gone from view.
    assert bob.get(f"/profiles/{merge.pk}/").status_code == 404


def test_any_editable_profile_can_be_chosen_but_not_itself_nor_another_kind(cast):
    keep = make_profile(cast, first_name="Kyle", last_name="Brennan")
    other = make_profile(cast, first_name="Totally", last_name="Different", date_of_birth=None)
    shop = make_profile(cast, kind="premises", first_name="", last_name="", name="Corner Shop", date_of_birth=None)
    bob = client_as(cast, "bob")
    page = bob.get(f"/profiles/{keep.pk}/merge/").content.decode()
    assert 'name="duplicate"' not in page and f'<option value="{other.pk}">Totally Different' in page
    for bad in (keep.pk, shop.pk, 999999):
        assert bob.post(f"/profiles/{keep.pk}/merge/", {"other": bad, "confirm": bad}).status_code == 400
    response = bob.post(f"/profiles/{keep.pk}/merge/", {"other": other.pk, "confirm": other.pk})
    assert response.status_code == 302
    assert in_suffolk(lambda: Profile.objects.get(pk=other.pk).merged_into_id) == keep.pk


def test_viewers_get_403_dan_404_and_carl_of_the_same_agency_may_merge(cast):
    keep, merge, _ = _pair(cast)
    url = f"/profiles/{keep.pk}/merge/"
    vera = client_as(cast, "vera")
    assert vera.get(url).status_code == 403
    assert vera.post(url, {"other": merge.pk, "confirm": merge.pk}).status_code == 403
    assert "This is the same person as" not in vera.get(f"/profiles/{keep.pk}/").content.decode()
    dan = client_as(cast, "dan")
    assert dan.get(url).status_code == 404
    assert dan.post(url, {"other": merge.pk, "confirm": merge.pk}).status_code == 404
    # Carl, of the same agency, may edit the council's profiles: he may merge them.
    carl = client_as(cast, "carl")
    assert carl.post(url, {"other": merge.pk, "confirm": merge.pk}).status_code == 302
    assert in_suffolk(lambda: Profile.objects.get(pk=merge.pk).merged_into_id) == keep.pk


# --- The duplicate check fragment -----------------------------------------------------------------

FRAGMENT = "/profiles/duplicates/"
KYLE = {"kind": "person", "first_name": "Kyle", "last_name": "Brenan", "date_of_birth_day": "17",
        "date_of_birth_month": "5", "date_of_birth_year": "2001"}  # fmt: skip


def test_the_fragment_lists_visible_likely_duplicates_on_post_only(cast):
    kyle = make_profile(cast)
    bob = client_as(cast, "bob")
    response = bob.post(FRAGMENT, KYLE)
    assert response.status_code == 200
    page = response.content.decode()
    assert "This may be someone who already has a profile" in page and f'href="/profiles/{kyle.pk}/"' in page
    assert "<html" not in page  # a fragment, not a page
    # Names never travel in a URL: GET is refused.
    assert bob.get(FRAGMENT, {"first_name": "Kyle", "last_name": "Brennan"}).status_code == 405
    # An incomplete date is ignored; nothing to look for gives nothing; organisations are not checked.
    assert f"/profiles/{kyle.pk}/" in bob.post(FRAGMENT, {**KYLE, "date_of_birth_year": ""}).content.decode()
    assert bob.post(FRAGMENT, {"kind": "person"}).content.decode().strip() == ""
    assert bob.post(FRAGMENT, {**KYLE, "kind": "premises"}).content.decode().strip() == ""
    # CSRF is enforced as for any POST (htmx sends the form's token).
    from django.test import Client  # noqa: PLC0415

    strict = Client(HTTP_HOST="suffolk.localhost", enforce_csrf_checks=True)
    strict.cookies = bob.cookies
    assert strict.post(FRAGMENT, KYLE).status_code == 403


def test_dan_sees_nothing_and_signed_out_users_are_sent_to_sign_in(cast):
    make_profile(cast)
    dan = client_as(cast, "dan")
    response = dan.post(FRAGMENT, KYLE)
    assert response.status_code == 200 and response.content.decode().strip() == ""
    from django.test import Client  # noqa: PLC0415

    anonymous = Client(HTTP_HOST="suffolk.localhost").post(FRAGMENT, KYLE)
    assert anonymous.status_code == 302 and "sign-in" in anonymous["Location"]


def test_the_create_form_asks_htmx_for_the_check_and_still_works_without_it(cast):
    make_profile(cast)
    bob = client_as(cast, "bob")
    page = bob.get("/profiles/new/").content.decode()
    assert 'hx-post="/profiles/duplicates/"' in page and 'hx-trigger="change"' in page
    assert 'id="duplicate-check" aria-live="polite"' in page and "hx-on" not in page
    assert 'name="htmx-config"' in page and '"includeIndicatorStyles": false' in page
    assert "/static/htmx/htmx.min.js" in page
    # Without JavaScript: the full-page POST still shows the duplicates before creating.
    response = bob.post("/profiles/new/", {**KYLE, "gender": "male", "aliases": "", "owning_team": cast["asb"].pk})
    assert response.status_code == 200
    assert "These are not the same person: create the profile" in response.content.decode()


# --- Opposite merges at the same instant (issue 8, point 14) ----------------------------------
# Committed data and threads with their own connections: "X into Y" and "Y into X" started
# together. Exactly one merges; the other is refused with a clear message (409 on the page and
# the API); one of the two stays visible in lists and search.


def _committed_pair(people, trial: int):
    from tenant_apps.accounts.models import User  # noqa: PLC0415
    from tenant_apps.casework import services  # noqa: PLC0415

    with schema_context("suffolk"):
        bob = User.objects.get(pk=people["bob"].pk)
        name = f"Racer{people['suffix']}x{trial}"
        first = services.profile_create(user=bob, owning_team=people["team"], first_name="Kyle", last_name=name)
        second = services.profile_create(user=bob, owning_team=people["team"], first_name="Kyle", last_name=name)
    return first, second, name


def _only_one_remains_visible(people, pair, name) -> None:
    from tenant_apps.accounts.models import User  # noqa: PLC0415
    from tenant_apps.casework.selectors import profiles_visible_to  # noqa: PLC0415
    from tenant_apps.search.selectors import find  # noqa: PLC0415

    with schema_context("suffolk"):
        bob = User.objects.get(pk=people["bob"].pk)
        assert profiles_visible_to(bob).filter(pk__in=[p.pk for p in pair]).count() == 1
        found = [profile.pk for profile in find(user=bob, query=f"Kyle {name}").profiles]
        assert len([pk for pk in found if pk in {p.pk for p in pair}]) == 1, found  # (others are earlier trials)


def test_opposite_merges_at_the_same_instant_one_merges_the_other_is_refused(committed_bob):
    import threading  # noqa: PLC0415

    from tenant_apps.accounts.models import User  # noqa: PLC0415
    from tenant_apps.casework import services  # noqa: PLC0415
    from tests.rules_helpers import in_thread  # noqa: PLC0415

    for trial in range(8):
        x, y, name = _committed_pair(committed_bob, trial)
        barrier = threading.Barrier(2)
        outcomes = {}

        def merge(keep, other, label, barrier=barrier, outcomes=outcomes):
            with schema_context("suffolk"):
                bob = User.objects.get(pk=committed_bob["bob"].pk)
                barrier.wait(timeout=10)
                try:
                    services.profile_merge(user=bob, keep=keep, merge=other)
                    outcomes[label] = "merged"
                except services.AlreadyMerged as error:
                    outcomes[label] = error.message
                except Exception as error:  # noqa: BLE001 - reported by the assertion below
                    outcomes[label] = repr(error)

        threads = [in_thread(merge, x, y, "x<-y"), in_thread(merge, y, x, "y<-x")]
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(outcomes.values()) == sorted(["merged", services.AlreadyMerged.message]), (trial, outcomes)
        _only_one_remains_visible(committed_bob, (x, y), name)


def _merge_while_the_opposite_one_commits(committed_bob, keep, merge, send):
    """Merge ``keep`` into ``merge`` in another connection, hold its transaction open until
    ``send()`` (the opposite merge, through a route) is waiting on its locks, then commit."""
    import threading  # noqa: PLC0415

    from django.db import transaction  # noqa: PLC0415

    from tenant_apps.accounts.models import User  # noqa: PLC0415
    from tenant_apps.casework import services  # noqa: PLC0415
    from tests.rules_helpers import in_thread, wait_for_lock_waiter  # noqa: PLC0415

    merged, waited = threading.Event(), []

    def hold():
        with schema_context("suffolk"), transaction.atomic():
            services.profile_merge(user=User.objects.get(pk=committed_bob["bob"].pk), keep=merge, merge=keep)
            merged.set()
            waited.append(wait_for_lock_waiter(timeout=5))

    thread = in_thread(hold)
    assert merged.wait(timeout=10)
    response = send()
    thread.join(timeout=30)
    return response, waited


def test_the_losing_opposite_merge_answers_409_on_the_api_and_the_page(committed_bob):
    from django.test import Client  # noqa: PLC0415

    from tenant_apps.casework import services  # noqa: PLC0415
    from tests.conftest import sign_in  # noqa: PLC0415

    client = Client(HTTP_HOST="suffolk.localhost")
    sign_in(client, "bob@suffolk.test")

    x, y, name = _committed_pair(committed_bob, 0)
    response, waited = _merge_while_the_opposite_one_commits(
        committed_bob, x, y,
        lambda: client.post(f"/api/v1/profiles/{x.pk}/merge/", {"merge_id": y.pk}, content_type="application/json"),
    )  # fmt: skip
    assert response.status_code == 409, response.content
    assert response.json() == {"error": {"status": 409, "code": "already_merged",
                                         "message": services.AlreadyMerged.message}}  # fmt: skip
    assert waited == [True]  # the API's merge really waited for the other one's locks
    _only_one_remains_visible(committed_bob, (x, y), name)
    listed = client.get("/api/v1/profiles/").json()["results"]
    assert [p["id"] for p in listed if p["id"] in (x.pk, y.pk)] == [y.pk]

    x, y, name = _committed_pair(committed_bob, 1)
    response, waited = _merge_while_the_opposite_one_commits(
        committed_bob, x, y,
        lambda: client.post(f"/profiles/{x.pk}/merge/", {"other": y.pk, "confirm": y.pk}),
    )  # fmt: skip
    assert response.status_code == 409, response.content[:2000]
    assert "One of these profiles has just been merged into another." in response.content.decode()
    assert waited == [True]
    _only_one_remains_visible(committed_bob, (x, y), name)
    assert client.get(f"/profiles/{y.pk}/").status_code == 200
    assert client.get(f"/profiles/{x.pk}/").status_code == 404
