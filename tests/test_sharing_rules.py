"""Same rules on every route (issue 8, points 7 and 8): who owns a new record, and who may share it.

The cast (tests/conftest.py ``cast``): Bob (District Council, ASB Team) owns the records; Carl
(District Council, Community Safety Team) is of the same agency, another team; Dan and Erin
(Constabulary, Safer Neighbourhood Team) are another agency; Vera is a viewer; Alice is the
partnership admin (in no agency). Nina, in Norfolk, never reaches any of it.
"""

# ruff: noqa: F811 - fixtures imported from other test modules

from __future__ import annotations

from django_tenants.utils import schema_context

from tenant_apps.casework.models import Case, Family, Profile
from tests.test_casework_api import API, client_of, error_of, json_post
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
    import pytest
    from django.core.exceptions import ValidationError

    from tenant_apps.casework import family_services, services

    with schema_context("suffolk"):
        with pytest.raises(ValidationError) as refused:
            services.profile_create(user=cast["bob"], first_name="Jo", last_name="Bloggs", owning_team=cast["cst"])
        assert refused.value.message_dict == {"owning_team": ["Choose one of your teams."]}
        with pytest.raises(ValidationError) as refused:
            family_services.family_create(user=cast["bob"], name="Bloggs", owning_team=cast["cst"])
        assert refused.value.message_dict == {"owning_team": ["Choose one of your teams."]}
        with pytest.raises(ValidationError) as refused:
            services.profile_create(user=cast["bob"], first_name="Jo", last_name="Bloggs", owning_agency=cast["police"])
        assert refused.value.message_dict == {"owning_agency": ["Choose your own agency."]}
