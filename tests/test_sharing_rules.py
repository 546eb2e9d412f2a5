"""Same rules on every route (issue 8, points 7 and 8): who owns a new record, and who may share it.

The cast (tests/conftest.py ``cast``): Bob (District Council, ASB Team) owns the records; Carl
(District Council, Community Safety Team) is of the same agency, another team; Dan and Erin
(Constabulary, Safer Neighbourhood Team) are another agency; Vera is a viewer; Alice is the
partnership admin (in no agency). Nina, in Norfolk, never reaches any of it.
"""

# ruff: noqa: F811 - fixtures imported from other test modules

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from tenant_apps.casework import services
from tenant_apps.casework.models import Case, Family, Profile, Share
from tests.test_casework_api import API, client_of, error_of, json_post, make_case, make_profile
from tests.test_casework_pages import client_as

# --- Point 7: the owning team is one of the user's own teams, on the page and the API ---------


def test_the_api_refuses_a_profile_case_or_family_owned_by_another_team_of_the_agency(cast):
    bob = client_of(cast, "bob")
    with schema_context("suffolk"):
        before = (Profile.objects.count(), Case.objects.count(), Family.objects.count())
    for team in (cast["cst"], cast["snt"]):  # another team of his agency; a team of another agency
        response = json_post(bob, f"{API}/profiles/", {"first_name": "Jo", "last_name": "Bloggs",
                                                       "owning_team": team.pk})  # fmt: skip
        assert error_of(response, 400)["fields"] == {"owning_team": ["Choose one of your teams."]}
        response = json_post(bob, f"{API}/cases/", {"case_type": "ASB", "title": "Noise", "owning_team": team.pk})
        assert error_of(response, 400)["fields"] == {"owning_team": ["Choose one of your teams."]}
        response = json_post(bob, f"{API}/families/", {"name": "Bloggs household", "owning_team": team.pk})
        assert error_of(response, 400)["fields"] == {"owning_team": ["Choose one of your teams."]}
    with schema_context("suffolk"):
        assert (Profile.objects.count(), Case.objects.count(), Family.objects.count()) == before
    # His own team, named or left out (his only team): accepted, and owned by it.
    for body in ({"owning_team": cast["asb"].pk}, {}):
        created = json_post(bob, f"{API}/profiles/", {"first_name": "Jo", "last_name": "Bloggs", **body})
        assert created.status_code == 201, created.content
        assert created.json()["owning_team"] == {"id": cast["asb"].pk, "name": "ASB Team"}


def test_a_user_of_several_teams_must_choose_one_of_them(cast):
    from tenant_apps.directory.models import TeamMembership

    with schema_context("suffolk"):
        TeamMembership.objects.create(user=cast["carl"], team=cast["asb"])
    carl = client_as(cast, "carl")
    response = json_post(carl, f"{API}/profiles/", {"first_name": "Jo", "last_name": "Bloggs"})
    assert error_of(response, 400)["fields"] == {"owning_team": ["Choose the team that owns this record."]}
    response = json_post(carl, f"{API}/profiles/", {"first_name": "Jo", "last_name": "Bloggs",
                                                    "owning_team": cast["asb"].pk})  # fmt: skip
    assert response.status_code == 201 and response.json()["owning_team"]["id"] == cast["asb"].pk


def test_the_pages_refuse_the_same_teams_with_the_error_on_the_field(cast):
    bob = client_as(cast, "bob")
    for team in (cast["cst"], cast["snt"]):
        response = bob.post("/profiles/new/", {"kind": "person", "first_name": "Jo", "last_name": "Bloggs",
                                               "gender": "not_known", "owning_team": team.pk,
                                               "not_duplicate": "jo|bloggs|"})  # fmt: skip
        assert response.status_code == 200 and response.context["form"].errors == {
            "owning_team": ["Choose one of your teams."]
        }
    with schema_context("suffolk"):
        assert not Profile.objects.filter(last_name="Bloggs").exists()


def test_the_service_refuses_another_team_whatever_the_route(cast):
    from django.core.exceptions import ValidationError

    from tenant_apps.casework import services

    with schema_context("suffolk"):
        with pytest.raises(ValidationError) as refused:
            services.profile_create(user=cast["bob"], first_name="Jo", last_name="Bloggs", owning_team=cast["cst"])
        assert refused.value.message_dict == {"owning_team": ["Choose one of your teams."]}
        with pytest.raises(ValidationError) as refused:
            services.family_create(user=cast["bob"], name="Bloggs", owning_team=cast["cst"])
        assert refused.value.message_dict == {"owning_team": ["Choose one of your teams."]}
        with pytest.raises(ValidationError) as refused:
            services.profile_create(user=cast["bob"], first_name="Jo", last_name="Bloggs", owning_agency=cast["police"])
        assert refused.value.message_dict == {"owning_agency": ["Choose your own agency."]}


# --- Point 8: only the owners, admins and those allowed to share on may share or revoke -------


@pytest.fixture(params=["profile", "case"])
def shared(request, cast):
    """Bob's profile or case (``kind``), with its addresses on both routes, shared by Bob with
    Carl's team (view) and with Dan (edit, not "may share on")."""
    profile = make_profile(cast)
    record = profile if request.param == "profile" else make_case(cast, profile)
    plural = f"{request.param}s"
    with schema_context("suffolk"):
        to_team = services.share_grant(user=cast["bob"], **{request.param: record}, team=cast["cst"])
        to_dan = services.share_grant(user=cast["bob"], **{request.param: record}, grantee=cast["dan"], can_edit=True)
    return {
        "kind": request.param,
        "record": record,
        "to_team": to_team,
        "to_dan": to_dan,
        "api": f"{API}/{plural}/{record.pk}/shares/",
        "page": f"/{plural}/{record.pk}/sharing/",
    }


def _page_revoke(shared, share) -> str:
    return f"{shared['page']}{share.pk}/revoke/"


def _shares(shared) -> set:
    with schema_context("suffolk"):
        rows = Share.objects.filter(**{shared["kind"]: shared["record"]})
        return set(rows.values_list("team_id", "agency_id", "user_id", "can_edit", "can_share"))


def test_an_edit_share_does_not_let_its_holder_share_on_or_revoke_on_either_route(cast, shared):
    dan = client_of(cast, "dan")
    before = _shares(shared)
    # The API: 403 with the error shape, to share (with edit or not) and to revoke.
    for body in ({"team": cast["snt"].pk, "can_edit": True}, {"user": cast["erin"].pk}):
        assert error_of(json_post(dan, shared["api"], body), 403)["code"] == "permission_denied"
    revoke = dan.delete(f"{shared['api']}{shared['to_team'].pk}/")
    assert error_of(revoke, 403)["code"] == "permission_denied"
    # The pages: the 403 page, for the form and both posts.
    dan_page = dan  # the same signed-in browser: the API takes its session
    assert dan_page.get(shared["page"]).status_code == 403
    assert dan_page.post(shared["page"], {"team": cast["snt"].pk, "access": "edit"}).status_code == 403
    assert dan_page.post(_page_revoke(shared, shared["to_team"])).status_code == 403
    assert _shares(shared) == before
    # He still sees the shares and edits the record: only sharing it on is refused.
    assert len(dan.get(shared["api"]).json()) == 2


def test_someone_who_cannot_see_the_record_gets_404_as_for_a_missing_one(cast, shared):
    erin = client_of(cast, "erin")
    missing = shared["api"].replace(str(shared["record"].pk), "999999")
    for path in (shared["api"], missing):
        assert error_of(json_post(erin, path, {"user": cast["erin"].pk}), 404)["code"] == "not_found"
    assert error_of(erin.delete(f"{shared['api']}{shared['to_team'].pk}/"), 404)["code"] == "not_found"
    erin_page = erin
    assert erin_page.get(shared["page"]).status_code == 404
    assert erin_page.post(_page_revoke(shared, shared["to_team"])).status_code == 404


def test_may_share_on_lets_its_holder_share_no_more_than_they_hold_and_revoke_only_their_own(cast, shared):
    from tenant_apps.audit.models import AuditEvent

    bob = client_of(cast, "bob")
    # The owner grants "may share on" (view only) to Erin, on the API; the owner's page offers it.
    granted = json_post(bob, shared["api"], {"user": cast["erin"].pk, "can_share": True})
    assert granted.status_code == 201, granted.content
    assert granted.json()["can_share"] is True and granted.json()["can_edit"] is False
    page = bob.get(shared["page"]).content.decode()
    assert 'name="share_on"' in page and 'value="edit"' in page
    with schema_context("suffolk"):
        event = AuditEvent.objects.filter(action="share.granted", object_id=str(shared["record"].pk)).first()
        assert event.summary.endswith(f"view with user {cast['erin'].pk}, may share on: yes")
        assert event.changes == {"can_edit": [None, False], "can_share": [None, True]}

    erin = client_of(cast, "erin")
    # More than she holds: 400 naming the field, nothing made.
    before = _shares(shared)
    response = json_post(erin, shared["api"], {"team": cast["snt"].pk, "can_edit": True})
    assert error_of(response, 400)["fields"] == {
        "can_edit": ["You may share it to view only: you may not edit it yourself."]
    }
    response = json_post(erin, shared["api"], {"team": cast["snt"].pk, "can_share": True})
    assert error_of(response, 400)["fields"] == {
        "can_share": ["Only the owning team or an admin may let others share it on."]
    }
    assert _shares(shared) == before
    # Her page offers neither edit nor "may share on"; posting edit anyway is an error on the field.
    erin_page = erin
    page = erin_page.get(shared["page"]).content.decode()
    assert 'name="share_on"' not in page and 'value="edit"' not in page and 'value="view"' in page
    response = erin_page.post(shared["page"], {"team": cast["snt"].pk, "access": "edit", "share_on": "on"})
    assert response.status_code == 200 and response.context["form"].errors == {
        "access": ["You may share it to view only."]
    }
    assert _shares(shared) == before
    # What she holds: view, with her team, on the page and on the API.
    assert erin_page.post(shared["page"], {"team": cast["snt"].pk, "access": "view"}).status_code == 302
    by_api = json_post(erin, shared["api"], {"agency": cast["police"].pk})
    assert by_api.status_code == 201 and by_api.json()["can_edit"] is False
    with schema_context("suffolk"):
        hers = list(Share.objects.filter(granted_by=cast["erin"]).order_by("pk"))
    assert [(s.team_id, s.agency_id, s.can_edit, s.can_share) for s in hers] == [
        (cast["snt"].pk, None, False, False),
        (None, cast["police"].pk, False, False),
    ]
    # She revokes what she granted (page and API), never the owner's shares.
    assert error_of(erin.delete(f"{shared['api']}{shared['to_team'].pk}/"), 403)["code"] == "permission_denied"
    assert erin_page.post(_page_revoke(shared, shared["to_dan"])).status_code == 403
    page = erin_page.get(shared["page"]).content.decode()
    assert _page_revoke(shared, hers[0]) in page and _page_revoke(shared, shared["to_team"]) not in page
    assert erin_page.post(_page_revoke(shared, hers[0])).status_code == 302
    assert erin.delete(f"{shared['api']}{hers[1].pk}/").status_code == 204
    with schema_context("suffolk"):
        assert not Share.objects.filter(granted_by=cast["erin"]).exists()
        revoked = AuditEvent.objects.filter(action="share.revoked", actor=cast["erin"]).order_by("pk")
        assert [e.summary for e in revoked] == [
            f"share {hers[0].pk} revoked: view with team {cast['snt'].pk}, may share on: no",
            f"share {hers[1].pk} revoked: view with agency {cast['police'].pk}, may share on: no",
        ]
    # The owner revokes any share, the re-sharer's own included.
    assert bob.delete(f"{shared['api']}{shared['to_dan'].pk}/").status_code == 204


def test_an_edit_share_with_may_share_on_shares_edit_and_the_admin_may_share_anything(cast, shared):
    from tenant_apps.casework.models import CaseworkSettings

    with schema_context("suffolk"):
        Share.objects.filter(pk=shared["to_dan"].pk).update(can_share=True)
    dan = client_of(cast, "dan")
    response = json_post(dan, shared["api"], {"user": cast["erin"].pk, "can_edit": True})
    assert response.status_code == 201 and response.json()["can_edit"] is True
    # A partnership admin (who sees everything) shares and revokes like the owner.
    with schema_context("suffolk"):
        settings = CaseworkSettings.current()
        settings.admins_see_everything = True
        settings.save()
    alice = client_of(cast, "alice")
    response = json_post(alice, shared["api"], {"team": cast["snt"].pk, "can_edit": True, "can_share": True})
    assert response.status_code == 201, response.content
    assert alice.delete(f"{shared['api']}{shared['to_team'].pk}/").status_code == 204


def test_viewers_never_share(cast, shared):
    with schema_context("suffolk"):
        Share.objects.create(**{shared["kind"]: shared["record"]}, user=cast["vera"], can_share=True,
                             granted_by=cast["bob"])  # fmt: skip
    vera = client_as(cast, "vera")
    assert error_of(json_post(vera, shared["api"], {"user": cast["erin"].pk}), 403)["code"] == "permission_denied"
    assert vera.get(shared["page"]).status_code == 403


def test_the_record_pages_link_to_sharing_only_for_those_who_may_share(cast, shared):
    link = f'href="{shared["page"]}"'
    detail = f"/{shared['kind']}s/{shared['record'].pk}/"
    assert link in client_as(cast, "bob").get(detail).content.decode()
    dan = client_of(cast, "dan")  # an edit share: he edits, but may not share on
    assert dan.get(detail).status_code == 200 and link not in dan.get(detail).content.decode()
    with schema_context("suffolk"):
        Share.objects.create(**{shared["kind"]: shared["record"]}, user=cast["erin"], can_share=True,
                             granted_by=cast["bob"])  # fmt: skip
    erin = client_of(cast, "erin")  # view only, may share on
    assert link in erin.get(detail).content.decode()
