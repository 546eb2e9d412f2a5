"""Families, a profile's details (addresses, identifiers, markers, vulnerabilities,
other names) and a profile's sharing page.

The cast in Suffolk (made per test, rolled back), as in test_casework.py:
- Bob: District Council, ASB Team. Owns the records (his team and agency).
- Carl: District Council, Community Safety Team: same agency, so he sees the council's
  families and profiles (and edits them, as the owning agency).
- Dan: Constabulary, Safer Neighbourhood Team: other agency. 404 everywhere: he sees no
  family and no member.
- Vera: District Council, ASB Team, viewer: reads, 403 on every write.
- Nina, in Norfolk, must never reach any of it, whatever ids she types.

Families are seen by their owning team and agency only (never shared); a member the
user may not see is counted ("1 other member you cannot see"), never named.
"""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.test import Client
from django_tenants.utils import schema_context

from tenant_apps.audit.models import AuditAction, AuditEvent
from tenant_apps.casework import selectors, services
from tenant_apps.casework.models import Family, FamilyMember, Profile, ProfileAddress, ProfileIdentifier, Share
from tenant_apps.casework.services import ChangedSinceOpened
from tests.conftest import PASSWORD, sign_in


def client_as(cast, name: str) -> Client:
    client = Client(HTTP_HOST="suffolk.localhost")
    if name in ("alice", "bob"):
        sign_in(client, f"{name}@suffolk.test")
        return client
    first = client.post("/account/sign-in/", {"email": f"{name}@suffolk.test", "password": PASSWORD})
    assert first.status_code == 302 and first["Location"] == "/account/two-factor/"
    second = client.post("/account/two-factor/", {"code": pyotp.TOTP(cast["secrets"][name]).now()})
    assert second.status_code == 302
    return client


def fresh(user):
    user.__dict__.pop("_casework_scope", None)
    return user


@pytest.fixture
def world(cast):
    """Kyle (Bob's), Shaun (the police's, shared with Bob to edit; Carl cannot see him),
    and the Brennan family (Bob's team) with both of them in it."""
    with schema_context("suffolk"):
        bob, dan = fresh(cast["bob"]), fresh(cast["dan"])
        kyle = services.profile_create(user=bob, owning_team=cast["asb"], first_name="Kyle", last_name="Brennan",
                                       date_of_birth=dt.date(2001, 5, 17))  # fmt: skip
        shaun = services.profile_create(user=dan, owning_team=cast["snt"], first_name="Shaun", last_name="Hidden")
        services.share_grant(user=dan, profile=shaun, grantee=bob, can_edit=True)
        family = services.family_create(user=fresh(bob), name="Brennan household", owning_team=cast["asb"])
        services.family_add_member(user=fresh(bob), family=family, profile=kyle, relationship="child")
        services.family_add_member(user=fresh(bob), family=family, profile=shaun, relationship="parent")
        family.refresh_from_db()
    connection.set_schema_to_public()
    return {"kyle": kyle, "shaun": shaun, "family": family}


def in_suffolk(function, *args, **kwargs):
    with schema_context("suffolk"):
        return function(*args, **kwargs)


def version_of(profile) -> int:
    return in_suffolk(lambda: Profile.objects.get(pk=profile.pk).version)


# --- Validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "typed", "stored"),
    [("nhs", "943 476 5919", "9434765919"), ("pnc", "01/123456a", "01/123456A"),
     ("pnc", "2001/123456A", "2001/123456A"), ("ni", "ab 12 34 56 c", "AB123456C"), ("crn", "x123456", "X123456")],
)  # fmt: skip
def test_identifiers_are_normalised(kind, typed, stored):
    assert services.valid_identifier(kind, typed) == stored


@pytest.mark.parametrize(
    ("kind", "typed"),
    [("nhs", "943 476 5918"), ("nhs", "12345"), ("nhs", "1000000010"), ("pnc", "1/123456A"), ("pnc", "01/123456"),
     ("pnc", "01123456A"), ("ni", "QQ 12 34 56 C"), ("ni", "GB 12 34 56 A"), ("ni", "AB 12 34 56 E"), ("ni", "AB1234")],
)  # fmt: skip
def test_bad_identifiers_are_refused_on_value(kind, typed):
    with pytest.raises(ValidationError) as error:
        services.valid_identifier(kind, typed)
    assert set(error.value.message_dict) == {"value"}


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("sw1a1aa", "SW1A 1AA"), (" ip1  2ab ", "IP1 2AB"), ("M1 1AE", "M1 1AE"), ("b338th", "B33 8TH"),
     ("GIR0AA", "GIR 0AA")],
)  # fmt: skip
def test_postcodes_are_normalised(typed, stored):
    assert services.valid_postcode(typed) == stored


@pytest.mark.parametrize("typed", ["", "12345", "SW1A", "ABC 123", "1AA 1AA", "SW1A 1A"])
def test_bad_postcodes_are_refused(typed):
    with pytest.raises(ValidationError) as error:
        services.valid_postcode(typed)
    assert set(error.value.message_dict) == {"postcode"}


# --- Families: services ----------------------------------------------------------------------


def test_family_visibility_and_hidden_members(cast, world):
    family = world["family"]
    with schema_context("suffolk"):
        for name, sees, visible_names, hidden in [("bob", True, {"Kyle", "Shaun"}, 0), ("carl", True, {"Kyle"}, 1),
                                                  ("vera", True, {"Kyle"}, 1), ("dan", False, None, None),
                                                  ("alice", False, None, None)]:  # fmt: skip
            user = fresh(cast[name])
            assert selectors.families_visible_to(user).filter(pk=family.pk).exists() is sees, name
            if not sees:
                with pytest.raises(Http404):
                    selectors.access_family(user=user, family_id=family.pk)
                continue
            members = selectors.members_of(user=user, family=family)
            assert {m.profile.first_name for m in members.visible} == visible_names, name
            assert members.hidden_count == hidden, name
        with pytest.raises(Http404):
            selectors.access_family(user=cast["dan"], family_id=999999)


def test_family_writes_need_an_editor_and_an_editable_profile(cast, world):
    with schema_context("suffolk"):
        family = world["family"]
        with pytest.raises(PermissionDenied):
            services.family_create(user=fresh(cast["vera"]), name="Nope")
        with pytest.raises(PermissionDenied):  # not his family
            services.family_add_member(user=fresh(cast["dan"]), family=family, profile=world["shaun"],
                                              relationship="parent")  # fmt: skip
        dans = services.profile_create(user=fresh(cast["dan"]), owning_team=cast["snt"], first_name="Pat")
        with pytest.raises(ValidationError) as error:  # Bob may not edit (nor see) Pat
            services.family_add_member(user=fresh(cast["bob"]), family=family, profile=dans,
                                              relationship="sibling")  # fmt: skip
        assert set(error.value.message_dict) == {"profile"}
        with pytest.raises(ValidationError) as error:  # already in it
            services.family_add_member(user=fresh(cast["bob"]), family=family, profile=world["kyle"],
                                              relationship="bogus")  # fmt: skip
        assert set(error.value.message_dict) == {"profile", "relationship"}
        # A profile may be in several families.
        other = services.family_create(user=fresh(cast["carl"]), name="Carl's family", owning_team=cast["cst"])
        services.family_add_member(user=fresh(cast["carl"]), family=other, profile=world["kyle"],
                                          relationship="grandparent")  # fmt: skip
        assert FamilyMember.objects.filter(profile=world["kyle"]).count() == 2
        # Stale version refused, nothing written.
        with pytest.raises(ChangedSinceOpened):
            services.family_add_member(user=fresh(cast["bob"]), family=other, profile=world["shaun"],
                                              relationship="parent", version=1)  # fmt: skip
        assert not FamilyMember.objects.filter(family=other, profile=world["shaun"]).exists()
        # Carl cannot remove Shaun (he cannot see him), Bob can.
        shaun_member = FamilyMember.objects.get(family=family, profile=world["shaun"])
        with pytest.raises(PermissionDenied):
            services.family_remove_member(user=fresh(cast["carl"]), member=shaun_member)
        services.family_remove_member(user=fresh(cast["bob"]), member=shaun_member, version=family.version)
        assert not FamilyMember.objects.filter(pk=shaun_member.pk).exists()
        actions = list(AuditEvent.objects.filter(object_type="family").values_list("action", flat=True))
        assert sorted(actions) == sorted(
            ["family.created", "family.created", "family.member_added", "family.member_added",
             "family.member_added", "family.member_removed"]
        )  # fmt: skip


# --- Profile details: services ---------------------------------------------------------------


def test_details_bump_the_version_refuse_stale_and_are_audited(cast, world):
    with schema_context("suffolk"):
        bob, kyle = fresh(cast["bob"]), world["kyle"]
        v = Profile.objects.get(pk=kyle.pk).version
        first = services.address_add(user=bob, profile=kyle, version=v, line1="14 Mill Lane", postcode="ip12ab")
        assert first.postcode == "IP1 2AB" and first.is_current
        second = services.address_add(user=bob, profile=kyle, version=v + 1, line1="2 New Road",
                                              postcode="IP3 9ZZ")  # fmt: skip
        assert list(ProfileAddress.objects.filter(profile=kyle, is_current=True)) == [second]  # one current address
        identifier = services.identifier_add(user=bob, profile=kyle, version=v + 2, kind="nhs",
                                                     value="943 476 5919")  # fmt: skip
        with pytest.raises(ValidationError) as error:  # the same again
            services.identifier_add(user=bob, profile=kyle, version=v + 3, kind="nhs", value="9434765919")
        assert set(error.value.message_dict) == {"value"}
        services.warning_add(user=bob, profile=kyle, version=v + 3, kind="dogs", note="Two dogs")
        services.vulnerability_add(user=bob, profile=kyle, version=v + 4, kind="child")
        alias = services.alias_add(user=bob, profile=kyle, version=v + 5, name="Ky")
        with pytest.raises(ChangedSinceOpened):  # opened before the last change
            services.alias_add(user=bob, profile=kyle, version=v + 5, name="K-Dog")
        with pytest.raises(ChangedSinceOpened):
            services.identifier_remove(user=bob, profile=kyle, version=v, identifier_id=identifier.pk)
        assert ProfileIdentifier.objects.filter(pk=identifier.pk).exists()
        services.identifier_remove(user=bob, profile=kyle, version=v + 6, identifier_id=identifier.pk)
        services.alias_remove(user=bob, profile=kyle, version=v + 7, alias_id=alias.pk)
        assert Profile.objects.get(pk=kyle.pk).version == v + 8
        assert kyle.aliases.count() == 0 and kyle.identifiers.count() == 0
        actions = sorted(AuditEvent.objects.filter(object_type="profile", object_id=str(kyle.pk),
                                                   action__in=AuditAction.values)
                         .exclude(action="profile.created").values_list("action", flat=True))  # fmt: skip
        assert actions == sorted(
            ["profile.address_added", "profile.address_added", "profile.identifier_added",
             "profile.warning_added", "profile.vulnerability_added", "profile.alias_added",
             "profile.identifier_removed", "profile.alias_removed"]
        )  # fmt: skip


def test_details_need_an_editor(cast, world):
    with schema_context("suffolk"):
        kyle = world["kyle"]
        v = Profile.objects.get(pk=kyle.pk).version
        for name in ("vera", "dan"):
            with pytest.raises(PermissionDenied):
                services.warning_add(user=fresh(cast[name]), profile=kyle, version=v, kind="dogs")
        services.warning_add(user=fresh(cast["carl"]), profile=kyle, version=v, kind="dogs")  # same agency
        assert kyle.warnings.count() == 1


# --- Pages -----------------------------------------------------------------------------------


def pages(world) -> list[str]:
    f, k = world["family"].pk, world["kyle"].pk
    return [f"/families/{f}/", f"/families/{f}/members/new/", f"/profiles/{k}/details/",
            f"/profiles/{k}/details/addresses/new/", f"/profiles/{k}/details/identifiers/new/",
            f"/profiles/{k}/details/warnings/new/", f"/profiles/{k}/details/vulnerabilities/new/",
            f"/profiles/{k}/details/aliases/new/", f"/profiles/{k}/sharing/"]  # fmt: skip


def test_bob_does_everything_through_the_pages(cast, world):
    bob = client_as(cast, "bob")
    family, kyle = world["family"], world["kyle"]
    for url in [*pages(world), "/families/", "/families/new/"]:
        assert bob.get(url).status_code == 200, url
    response = bob.post("/families/new/", {"name": "Smyth family", "owning_team": cast["asb"].pk})
    assert response.status_code == 302
    smyth = in_suffolk(Family.objects.get, name="Smyth family")
    assert response["Location"] == f"/families/{smyth.pk}/"
    found = bob.get(f"/families/{smyth.pk}/members/new/", {"q": "brennan"}).content.decode()
    assert "Kyle Brennan" in found
    response = bob.post(f"/families/{smyth.pk}/members/new/",
                        {"version": 1, "q": "brennan", "profile": kyle.pk, "relationship": "child"})  # fmt: skip
    assert response.status_code == 302
    member = in_suffolk(FamilyMember.objects.get, family=smyth, profile=kyle)
    detail = bob.get(f"/families/{smyth.pk}/").content.decode()
    assert "Kyle Brennan" in detail and "Child" in detail
    response = bob.post(f"/families/{smyth.pk}/members/{member.pk}/remove/", {"version": 2})
    assert response.status_code == 302
    assert not in_suffolk(FamilyMember.objects.filter(pk=member.pk).exists)
    assert "Shaun Hidden" in bob.get(f"/families/{family.pk}/").content.decode()  # Bob may see Shaun

    k = kyle.pk
    for kind, data in [("addresses", {"line1": "14 Mill Lane", "postcode": "ip1 2ab", "is_current": "yes"}),
                       ("identifiers", {"kind": "pnc", "value": "01/123456a"}),
                       ("warnings", {"kind": "weapons", "note": "Knife"}),
                       ("vulnerabilities", {"kind": "mental_health"}),
                       ("aliases", {"name": "Ky"})]:  # fmt: skip
        response = bob.post(f"/profiles/{k}/details/{kind}/new/", {"version": version_of(kyle), **data})
        assert response.status_code == 302 and response["Location"] == f"/profiles/{k}/details/", kind
    page = bob.get(f"/profiles/{k}/details/").content.decode()
    for text in ("14 Mill Lane", "IP1 2AB", "01/123456A", "Weapons", "Knife", "Mental health", "Ky"):
        assert text in page, text
    address = in_suffolk(ProfileAddress.objects.get, profile=kyle)
    response = bob.post(f"/profiles/{k}/details/addresses/{address.pk}/remove/", {"version": version_of(kyle)})
    assert response.status_code == 302
    assert not in_suffolk(ProfileAddress.objects.filter(profile=kyle).exists)

    # Sharing: grant Dan's team view, then revoke.
    response = bob.post(f"/profiles/{k}/sharing/", {"team": cast["snt"].pk, "access": "view"})
    assert response.status_code == 302
    share = in_suffolk(Share.objects.get, profile=kyle, team=cast["snt"])
    assert "Safer Neighbourhood Team" in bob.get(f"/profiles/{k}/sharing/").content.decode()
    response = bob.post(f"/profiles/{k}/sharing/", {"access": "view"})
    assert response.status_code == 200 and "Choose one team, agency or person" in response.content.decode()
    assert bob.post(f"/profiles/{k}/sharing/{share.pk}/revoke/").status_code == 302
    assert not in_suffolk(Share.objects.filter(pk=share.pk).exists)
    with schema_context("suffolk"):
        actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"family.created", "family.member_added", "family.member_removed", "profile.address_added",
            "profile.address_removed", "profile.identifier_added", "profile.warning_added",
            "profile.vulnerability_added", "profile.alias_added", "share.granted",
            "share.revoked"} <= actions  # fmt: skip


def test_bad_input_is_named_and_nothing_is_saved(cast, world):
    bob = client_as(cast, "bob")
    kyle = world["kyle"]
    before = version_of(kyle)
    for kind, data, field, message in [
        ("identifiers", {"kind": "nhs", "value": "943 476 5918"}, "value", "not a valid NHS number"),
        ("identifiers", {"kind": "pnc", "value": "1/23A"}, "value", "Enter a PNC number"),
        ("addresses", {"line1": "14 Mill Lane", "postcode": "ABC 123", "is_current": "yes"}, "postcode",
         "Enter a real postcode"),
        ("addresses", {"line1": "", "postcode": "IP1 2AB", "is_current": "yes"}, "line1", "Enter the first line"),
    ]:  # fmt: skip
        response = bob.post(f"/profiles/{kyle.pk}/details/{kind}/new/", {"version": before, **data})
        page = response.content.decode()
        assert response.status_code == 200, kind
        assert message in page and f'href="#id_{field}"' in page and f'id="id_{field}_error"' in page, kind
        assert page.count("govuk-error-message") == 1, kind
    with schema_context("suffolk"):
        assert not ProfileAddress.objects.filter(profile=kyle).exists()
        assert not ProfileIdentifier.objects.filter(profile=kyle).exists()
        assert Profile.objects.get(pk=kyle.pk).version == before
        assert not AuditEvent.objects.filter(action__in=["profile.address_added", "profile.identifier_added"]).exists()


def test_a_stale_form_is_refused_on_the_page(cast, world):
    bob = client_as(cast, "bob")
    kyle = world["kyle"]
    opened = version_of(kyle)
    in_suffolk(services.alias_add, user=fresh(cast["carl"]), profile=kyle, version=opened, name="Ky")
    response = bob.post(f"/profiles/{kyle.pk}/details/aliases/new/", {"version": opened, "name": "K-Dog"})
    assert response.status_code == 200 and "changed since you opened it" in response.content.decode()
    assert list(in_suffolk(lambda: list(kyle.aliases.values_list("name", flat=True)))) == ["Ky"]


def test_carl_sees_the_family_but_only_counts_the_member_he_cannot_see(cast, world):
    carl = client_as(cast, "carl")
    family = world["family"]
    assert family.name in carl.get("/families/").content.decode()
    page = carl.get(f"/families/{family.pk}/").content.decode()
    assert "Kyle Brennan" in page and "1 other member you cannot see" in page
    assert "Shaun" not in page and "Hidden" not in page and f"/profiles/{world['shaun'].pk}/" not in page
    shaun_member = in_suffolk(FamilyMember.objects.get, profile=world["shaun"])
    assert carl.post(f"/families/{family.pk}/members/{shaun_member.pk}/remove/", {"version": 3}).status_code == 404
    assert in_suffolk(FamilyMember.objects.filter(pk=shaun_member.pk).exists)
    assert carl.get(f"/profiles/{world['kyle'].pk}/details/").status_code == 200


def test_dan_gets_404_everywhere_and_sees_no_family(cast, world):
    dan = client_as(cast, "dan")
    member = in_suffolk(FamilyMember.objects.get, profile=world["kyle"])
    writes = [url for url in pages(world) if url.endswith(("new/", "sharing/"))]
    writes.append(f"/families/{world['family'].pk}/members/{member.pk}/remove/")
    for url in pages(world):
        assert dan.get(url).status_code == 404, url
    for url in writes:
        assert dan.post(url, {"version": 1, "name": "x"}).status_code == 404, url
    with schema_context("suffolk"):
        assert FamilyMember.objects.count() == 2 and not world["kyle"].aliases.exists()
    listing = dan.get("/families/").content.decode()
    assert "Brennan" not in listing and "No families" in listing
    assert dan.get("/families/999999/").status_code == 404


def test_vera_reads_families_but_every_write_is_403(cast, world):
    vera = client_as(cast, "vera")
    family, kyle = world["family"], world["kyle"]
    page = vera.get(f"/families/{family.pk}/").content.decode()
    assert "Kyle Brennan" in page and "Add a member" not in page and "Remove" not in page
    member = in_suffolk(FamilyMember.objects.get, profile=kyle)
    address = in_suffolk(services.address_add, user=fresh(cast["bob"]), profile=kyle,
                         version=version_of(kyle), line1="1 High St", postcode="IP1 1AA")  # fmt: skip
    for url in [*pages(world)[1:], "/families/new/", f"/families/{family.pk}/members/{member.pk}/remove/",
                f"/profiles/{kyle.pk}/details/addresses/{address.pk}/remove/"]:  # fmt: skip
        assert vera.post(url, {"version": version_of(kyle), "name": "x", "line1": "x", "postcode": "IP1 1AA",
                               "is_current": "yes"}).status_code == 403, url  # fmt: skip
    with schema_context("suffolk"):
        assert Family.objects.count() == 1 and FamilyMember.objects.count() == 2
        assert ProfileAddress.objects.filter(profile=kyle).count() == 1 and not kyle.aliases.exists()


def test_nina_gets_404_for_suffolk_ids_on_norfolks_host(cast, world):
    nina = Client(HTTP_HOST="norfolk.localhost")
    sign_in(nina, "nina@norfolk.test")
    for url in pages(world):
        assert nina.get(url).status_code == 404, url
    assert "Brennan" not in nina.get("/families/").content.decode()
