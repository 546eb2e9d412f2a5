"""What the case page does to be quick, and why none of it can show anyone more than before.

- The signed-in user is read with their teams and agency (``directory.backends.MemberBackend``):
  the scope it gives equals the one read by two queries.
- "May this user edit the case (the profile)?" and "may they open these subjects?" are answered
  for rows already read (``selectors.may_edit_case``, ``may_edit_profile``, ``openable_profile_ids``): for every member
  of the cast, over records owned, shared by team, agency or user, for view or edit, and merged,
  they equal the querysets every list and search uses.
- Rendered timeline entries are reused from the ``fragments`` cache under a digest of what they
  show: a reader who may not read a sensitive entry, an edit, a renamed recorder, a new attachment
  and a viewer without edit rights each see what they would have seen without the cache.

The cast (tests/conftest.py): Bob and Vera (viewer) in the council's ASB Team, Carl in its
Community Safety Team, Dan and Erin in the police's Safer Neighbourhood Team, Alice the admin in
no agency.
"""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django_tenants.utils import schema_context

from tenant_apps.casework import selectors, services
from tenant_apps.casework.models import CaseType, CaseworkSettings, Profile, TimelineEntry
from tenant_apps.directory.backends import MemberBackend
from tests.test_casework_pages import client_as, make_case, make_entry, make_profile

PEOPLE = ("alice", "bob", "carl", "dan", "erin", "vera")


def _loaded(user):
    """The user as a signed-in request reads them."""
    return MemberBackend().get_user(user.pk)


def _plain(user):
    """The same user read alone (the scope then costs two queries)."""
    from tenant_apps.accounts.models import User

    return User.objects.get(pk=user.pk)


def test_the_user_is_read_with_the_same_teams_and_agency_as_two_queries_give(cast):
    from tenant_apps.directory.models import TeamMembership

    TeamMembership.objects.create(user=cast["carl"], team=cast["snt"])  # a second team, of another agency
    for name in PEOPLE:
        loaded, plain = _loaded(cast[name]), _plain(cast[name])
        assert hasattr(loaded, "member_team_ids") and not hasattr(plain, "member_team_ids")
        assert selectors.user_scope(loaded) == selectors.user_scope(plain), name
    assert selectors.user_scope(_loaded(cast["alice"])).agency_id is None
    assert selectors.user_scope(_loaded(cast["alice"])).team_ids == ()
    assert set(selectors.user_scope(_loaded(cast["carl"])).team_ids) == {cast["cst"].pk, cast["snt"].pk}


def test_a_deactivated_user_is_not_signed_in_by_the_backend(cast):
    cast["carl"].is_active = False
    cast["carl"].save(update_fields=["is_active"])
    assert MemberBackend().get_user(cast["carl"].pk) is None
    assert MemberBackend().get_user(999999) is None


@pytest.fixture
def landscape(cast):
    """Profiles and cases owned, shared every way, and one profile merged into another."""
    bob, dan = cast["bob"], cast["dan"]
    asb, cst, snt, council = cast["asb"], cast["cst"], cast["snt"], cast["council"]
    asb_type = CaseType.objects.get(code="ASB")

    def profile(owner, team, last_name):
        return services.profile_create(user=owner, owning_team=team, first_name="Sam", last_name=last_name)

    profiles = {
        "owned by asb": profile(bob, asb, "Owned"),
        "police, unshared": profile(dan, snt, "Police"),
        "police, cst may view": profile(dan, snt, "Teamview"),
        "police, council may edit": profile(dan, snt, "Agencyedit"),
        "police, carl may view": profile(dan, snt, "Userview"),
        "merged": profile(bob, asb, "Merged"),
    }
    services.share_grant(user=dan, profile=profiles["police, cst may view"], team=cst)
    services.share_grant(user=dan, profile=profiles["police, council may edit"], agency=council, can_edit=True)
    services.share_grant(user=dan, profile=profiles["police, carl may view"], grantee=cast["carl"])
    Profile.objects.filter(pk=profiles["merged"].pk).update(merged_into=profiles["owned by asb"])

    def case(owner, team, title):
        subject = profiles["owned by asb" if owner is bob else "police, unshared"]
        return services.case_create(user=owner, case_type=asb_type, title=title, owning_team=team,
                                    subjects=[(subject, "perpetrator")])  # fmt: skip

    cases = {
        "owned by asb": case(bob, asb, "Owned"),
        "police, unshared": case(dan, snt, "Police"),
        "police, carl may edit": case(dan, snt, "User edit"),
        "police, council may view": case(dan, snt, "Agency view"),
        "police, asb may edit": case(dan, snt, "Team edit"),
        "police, cst may view": case(dan, snt, "Team view"),
    }
    services.share_grant(user=dan, case=cases["police, carl may edit"], grantee=cast["carl"], can_edit=True)
    services.share_grant(user=dan, case=cases["police, council may view"], agency=council)
    services.share_grant(user=dan, case=cases["police, asb may edit"], team=asb, can_edit=True)
    services.share_grant(user=dan, case=cases["police, cst may view"], team=cst)
    return {"profiles": profiles, "cases": cases}


@pytest.mark.parametrize("admins_see_everything", [False, True])
def test_edit_rights_and_openable_subjects_equal_the_querysets_for_everyone(cast, landscape, admins_see_everything):
    CaseworkSettings.objects.all().delete()
    CaseworkSettings.objects.create(admins_see_everything=admins_see_everything)
    profiles = list(Profile.objects.filter(pk__in=[p.pk for p in landscape["profiles"].values()]))
    for name in PEOPLE:
        user = _loaded(cast[name])
        visible = selectors.profiles_visible_to(user).filter(pk__in=[p.pk for p in profiles])
        expected = set(visible.values_list("pk", flat=True))
        assert selectors.openable_profile_ids(user, profiles) == expected, name
        for label, case in landscape["cases"].items():
            editable = selectors.cases_visible_to(user, edit=True).filter(pk=case.pk).exists()
            assert selectors.may_edit_case(user, case) is editable, (name, label)
        for profile in profiles:
            editable = selectors.profiles_visible_to(user, edit=True).filter(pk=profile.pk).exists()
            assert selectors.may_edit_profile(user, profile) is editable, (name, profile.last_name)
    # The landscape does cover every answer.
    carl = _loaded(cast["carl"])
    assert {p.last_name for p in profiles if p.pk in selectors.openable_profile_ids(carl, profiles)} == {
        "Owned", "Teamview", "Agencyedit", "Userview"
    }  # fmt: skip
    assert selectors.may_edit_case(carl, landscape["cases"]["police, carl may edit"])
    assert not selectors.may_edit_case(carl, landscape["cases"]["police, cst may view"])
    assert not selectors.may_edit_case(_loaded(cast["vera"]), landscape["cases"]["owned by asb"])


def test_the_case_page_links_only_the_subjects_the_reader_may_open(cast, landscape):
    owned, police = landscape["profiles"]["owned by asb"], landscape["profiles"]["police, unshared"]
    case = landscape["cases"]["owned by asb"]
    CaseSubjectModel = case.subjects.model
    CaseSubjectModel.objects.create(case=case, profile=police, role="victim")
    page = client_as(cast, "carl").get(f"/cases/{case.pk}/").content.decode()
    assert f'href="/profiles/{owned.pk}/"' in page  # same agency owns it
    assert f'href="/profiles/{police.pk}/"' not in page and "Sam Police" in page  # named on the case, not opened


# --- Rendered entries reused ------------------------------------------------------------------------


@pytest.fixture
def sensitive_case(cast):
    case = make_case(cast, make_profile(cast))
    entry = make_entry(cast, case, summary="Disclosure from the school", body="The child said SECRET-DETAIL.",
                       is_sensitive=True, restricted_to_teams=[cast["asb"]])  # fmt: skip
    return case, entry


def test_a_reader_who_may_not_read_a_sensitive_entry_never_gets_its_cached_html(cast, sensitive_case):
    case, entry = sensitive_case
    caches["fragments"].clear()
    bob = client_as(cast, "bob")
    bob_page = bob.get(f"/cases/{case.pk}/").content.decode()
    assert "SECRET-DETAIL" in bob_page  # rendered, and now cached
    carl_page = client_as(cast, "carl").get(f"/cases/{case.pk}/").content.decode()
    assert "SECRET-DETAIL" not in carl_page and "Disclosure from the school" not in carl_page
    assert "Restricted entry: visit" in carl_page and f'id="entry-{entry.pk}"' in carl_page
    assert "SECRET-DETAIL" in bob.get(f"/cases/{case.pk}/").content.decode()


def test_edits_renames_attachments_and_rights_show_at_once(cast, sensitive_case):
    from tenant_apps.accounts.models import User
    from tenant_apps.documents.models import Document

    case, entry = sensitive_case
    bob = client_as(cast, "bob")
    url = f"/cases/{case.pk}/"
    first = bob.get(url).content.decode()
    assert "SECRET-DETAIL" in first and f'href="/timeline/{entry.pk}/edit/"' in first

    services.entry_update(user=cast["bob"], entry=entry, version=entry.version, body="Now it reads NEW-WORDS.")
    edited = bob.get(url).content.decode()
    assert "NEW-WORDS" in edited and "SECRET-DETAIL" not in edited and "(edited: " in edited

    User.objects.filter(pk=cast["bob"].pk).update(full_name="Robert Practitioner")
    assert "recorded by Robert Practitioner" in bob.get(url).content.decode()

    Document.objects.create(
        attached_to_type="timeline_entry", attached_to_id=str(entry.pk), status=Document.Status.STORED,
        original_filename="statement.pdf", size=2048, content_type="application/pdf", sha256="0" * 64,
        storage_key=f"suffolk/documents/test-{entry.pk}", uploaded_by=cast["bob"],
    )  # fmt: skip
    assert "statement.pdf" in bob.get(url).content.decode()

    vera_page = client_as(cast, "vera").get(url).content.decode()  # same team, so she reads it; a viewer
    assert "NEW-WORDS" in vera_page and f'href="/timeline/{entry.pk}/edit/"' not in vera_page


def test_the_same_entry_in_another_partnership_is_rendered_from_its_own_content(cast, sensitive_case):
    from tenant_apps.casework.timeline_html import render_entries

    case, entry = sensitive_case
    page = list(selectors.timeline_for_case(user=_loaded(cast["bob"]), case=case))
    for item in page:
        item.attachments = []
    render_entries(page, may_edit=False, show_case=False)
    assert "SECRET-DETAIL" in page[0].html
    with schema_context("norfolk"):  # an entry with the same id, version and recorder, other words
        twin = TimelineEntry(pk=entry.pk, kind=entry.kind, occurred_at=entry.occurred_at, summary="Norfolk words",
                             body="NORFOLK-BODY", recorded_by=entry.recorded_by, version=entry.version)  # fmt: skip
        twin.can_read, twin.attachments = True, []
        twin.recorder_full_name, twin.recorder_email = entry.recorded_by.full_name, entry.recorded_by.email
        render_entries([twin], may_edit=False, show_case=False)
    assert "NORFOLK-BODY" in twin.html and "SECRET-DETAIL" not in twin.html


def test_a_long_entry_is_shown_whole_and_not_kept(cast, sensitive_case):
    from tenant_apps.casework.timeline_html import LARGEST_KEPT, render_entries

    case, _ = sensitive_case
    long_body = "Word " * 4000  # 20,000 characters: the most a body may hold
    make_entry(cast, case, summary="Long letter", body=long_body.strip())
    fragments = caches["fragments"]
    fragments.clear()
    page = list(selectors.timeline_for_case(user=_loaded(cast["bob"]), case=case))
    for item in page:
        item.attachments = []
    render_entries(page, may_edit=True, show_case=False)
    long_html = next(item.html for item in page if item.summary == "Long letter")
    assert len(long_html) > LARGEST_KEPT and long_html.count("Word") == 4000
    assert len(fragments._cache) == 1  # the short entry only (LocMemCache's own store)
