"""Casework core: who sees what (in the query), the timeline, edits without overwrites.

The cast in Suffolk (made per test, rolled back):
- Bob: District Council, ASB Team. Owns the records (his team and agency).
- Carl: District Council, Community Safety Team: same agency, other team.
- Dan: Constabulary, Safer Neighbourhood Team: other agency. Sees nothing until shared.
- Vera: District Council, ASB Team, viewer: reads, never writes.
- Alice: partnership admin in no agency: sees casework only if the partnership chooses.
- Nina, in Norfolk, must never reach any of it.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.utils import timezone
from django_tenants.utils import schema_context

from tenant_apps.casework import selectors, services
from tenant_apps.casework.models import CaseType, CaseworkSettings, Profile, TimelineEntry


def fresh(user):
    """The same person in a new request: their teams and agency are read again."""
    user.__dict__.pop("_casework_scope", None)
    return user


def make_profile(cast, **fields):
    defaults = {"first_name": "Kyle", "last_name": "Brennan", "date_of_birth": dt.date(2001, 5, 17)}
    return services.profile_create(user=cast["bob"], owning_team=cast["asb"], **{**defaults, **fields})


def make_case(cast, profile, **fields):
    return services.case_create(
        user=cast["bob"], case_type=CaseType.objects.get(code="ASB"), title="Noise and intimidation, Mill Lane",
        owning_team=cast["asb"], subjects=[(profile, "perpetrator")], **fields,
    )  # fmt: skip


def test_case_types_are_seeded_in_every_partnership(db):
    for slug in ("suffolk", "norfolk"):
        with schema_context(slug):
            assert set(CaseType.objects.values_list("code", flat=True)) == {"ASB", "TF", "IOM", "DA", "HC"}


def test_the_trigram_extension_lives_in_public(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE extname = 'pg_trgm'"
        )
        assert cursor.fetchone() == ("public",)


def test_visibility_follows_owning_team_and_agency(cast):
    profile = make_profile(cast)
    case = make_case(cast, profile)
    for name, expected in [("bob", True), ("carl", True), ("vera", True), ("dan", False), ("alice", False)]:
        user = fresh(cast[name])
        assert selectors.profiles_visible_to(user).filter(pk=profile.pk).exists() is expected, name
        assert selectors.cases_visible_to(user).filter(pk=case.pk).exists() is expected, name
        assert selectors.profiles_visible_to(user).count() == (1 if expected else 0), name
        if not expected:
            with pytest.raises(Http404):
                selectors.access_profile(user=user, profile_id=profile.pk)
            with pytest.raises(Http404):
                selectors.access_case(user=user, case_id=case.pk)
    # The same 404 for an id that does not exist at all: no oracle.
    with pytest.raises(Http404):
        selectors.access_profile(user=cast["dan"], profile_id=999999)


def test_admins_see_everything_only_if_the_partnership_chooses(cast):
    profile = make_profile(cast)
    assert not selectors.profiles_visible_to(fresh(cast["alice"])).filter(pk=profile.pk).exists()
    CaseworkSettings.objects.update_or_create(pk=1, defaults={"admins_see_everything": True})
    assert selectors.profiles_visible_to(fresh(cast["alice"])).filter(pk=profile.pk).exists()
    assert not selectors.profiles_visible_to(fresh(cast["alice"]), edit=True).filter(pk=profile.pk).exists()
    assert not selectors.profiles_visible_to(fresh(cast["dan"])).filter(pk=profile.pk).exists()


def test_norfolk_never_reaches_suffolk_records(cast):
    profile = make_profile(cast)
    with schema_context("norfolk"):
        from tenant_apps.accounts.models import User

        nina = User.objects.get(email="nina@norfolk.test")
        assert Profile.objects.count() == 0
        assert selectors.profiles_visible_to(nina).count() == 0
        with pytest.raises(Http404):
            selectors.access_profile(user=nina, profile_id=profile.pk)


def test_sharing_grants_and_revokes_and_is_audited(cast):
    from tenant_apps.audit.models import AuditEvent

    profile = make_profile(cast)
    case = make_case(cast, profile)
    share = services.share_grant(user=cast["bob"], case=case, team=cast["snt"])
    assert selectors.cases_visible_to(fresh(cast["dan"])).filter(pk=case.pk).exists()
    assert not selectors.cases_visible_to(fresh(cast["dan"]), edit=True).filter(pk=case.pk).exists()
    assert not selectors.profiles_visible_to(fresh(cast["dan"])).filter(pk=profile.pk).exists()  # only the case
    with pytest.raises(PermissionDenied):  # view-only: Dan cannot pass it on
        services.share_grant(user=fresh(cast["dan"]), case=case, grantee=cast["alice"])
    services.share_revoke(user=cast["bob"], share=share)
    assert not selectors.cases_visible_to(fresh(cast["dan"])).filter(pk=case.pk).exists()

    services.share_grant(user=cast["bob"], profile=profile, grantee=cast["dan"], can_edit=True)
    assert selectors.profiles_visible_to(fresh(cast["dan"]), edit=True).filter(pk=profile.pk).exists()
    services.share_grant(user=cast["bob"], profile=profile, agency=cast["police"])
    assert selectors.profiles_visible_to(fresh(cast["dan"])).filter(pk=profile.pk).count() == 1  # no duplicates
    actions = list(AuditEvent.objects.filter(action__startswith="share.").values_list("action", flat=True))
    assert sorted(actions) == ["share.granted", "share.granted", "share.granted", "share.revoked"]


def test_sensitive_entries_show_that_they_exist_but_not_their_content(cast):
    profile = make_profile(cast)
    case = make_case(cast, profile)
    now = timezone.now()
    services.entry_create(user=cast["bob"], case=case, kind="visit", occurred_at=now - dt.timedelta(hours=2),
                          summary="Home visit", body="Spoke to Kyle at the door.")  # fmt: skip
    services.entry_create(user=cast["bob"], case=case, kind="note", occurred_at=now - dt.timedelta(hours=1),
                          summary="Disclosure", body="Sensitive detail", is_sensitive=True,
                          restricted_to_teams=[cast["asb"]])  # fmt: skip
    bobs = list(selectors.timeline_for_case(user=fresh(cast["bob"]), case=case))
    carls = list(selectors.timeline_for_case(user=fresh(cast["carl"]), case=case))
    assert [e.summary for e in bobs] == ["Disclosure", "Home visit"]  # newest first
    assert [e.can_read for e in bobs] == [True, True]
    assert [e.can_read for e in carls] == [False, True]  # same agency, other team: exists, unreadable
    with pytest.raises(ValidationError, match="restricted_to_teams"):
        services.entry_create(user=cast["bob"], case=case, kind="note", occurred_at=now, summary="x",
                              is_sensitive=True)  # fmt: skip


def test_a_profile_stream_hides_entries_of_cases_the_user_may_not_see(cast):
    profile = make_profile(cast)
    services.share_grant(user=cast["bob"], profile=profile, team=cast["snt"], can_edit=True)
    police_case = services.case_create(
        user=fresh(cast["dan"]), case_type=CaseType.objects.get(code="IOM"), title="IOM cohort",
        owning_team=cast["snt"],
        subjects=[(profile, "offender")],
    )  # fmt: skip
    services.entry_create(user=cast["dan"], case=police_case, kind="visit", occurred_at=timezone.now(),
                          summary="Police visit")  # fmt: skip
    services.entry_create(user=cast["bob"], profiles=[profile], kind="phone_call", occurred_at=timezone.now(),
                          summary="Council call")  # fmt: skip
    dans = [e.summary for e in selectors.timeline_for_profile(user=fresh(cast["dan"]), profile=profile)]
    bobs = [e.summary for e in selectors.timeline_for_profile(user=fresh(cast["bob"]), profile=profile)]
    assert sorted(dans) == ["Council call", "Police visit"]
    assert bobs == ["Council call"]


def test_a_second_save_of_the_same_version_is_refused(cast):
    profile = make_profile(cast)
    opened = profile.version
    services.profile_update(user=cast["bob"], profile=profile, version=opened, phone="01473 000000")
    with pytest.raises(services.ChangedSinceOpened):
        services.profile_update(user=fresh(cast["carl"]), profile=profile, version=opened, phone="07700 900000")
    assert Profile.objects.get(pk=profile.pk).phone == "01473 000000"

    case = make_case(cast, profile)
    entry = services.entry_create(user=cast["bob"], case=case, kind="visit", occurred_at=timezone.now(),
                                  summary="Visit")  # fmt: skip
    services.entry_update(user=cast["bob"], entry=entry, version=1, summary="Visit, no answer")
    with pytest.raises(services.ChangedSinceOpened):
        services.entry_update(user=cast["carl"], entry=entry, version=1, summary="Visit with Kyle")
    entry.refresh_from_db()
    assert entry.summary == "Visit, no answer" and entry.version == 2
    assert [v.data["summary"] for v in entry.history.all()] == ["Visit"]


def test_deleting_an_entry_needs_a_reason_and_keeps_it(cast):
    from tenant_apps.audit.models import AuditEvent

    case = make_case(cast, make_profile(cast))
    entry = services.entry_create(user=cast["bob"], case=case, kind="note", occurred_at=timezone.now(),
                                  summary="Wrong family")  # fmt: skip
    with pytest.raises(ValidationError, match="reason"):
        services.entry_delete(user=cast["bob"], entry=entry, version=1, reason=" ")
    services.entry_delete(user=cast["bob"], entry=entry, version=1, reason="Recorded on the wrong case")
    assert not selectors.timeline_for_case(user=fresh(cast["bob"]), case=case).exists()
    assert TimelineEntry.objects.get(pk=entry.pk).history.get().data["summary"] == "Wrong family"
    assert AuditEvent.objects.filter(action="timeline.entry_deleted", object_id=str(entry.pk)).exists()


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda c: make_profile(c, date_of_birth=timezone.localdate() + dt.timedelta(days=1)), "date_of_birth"),
        (lambda c: make_profile(c, first_name="", last_name=""), "last_name"),
        (lambda c: make_case(c, make_profile(c), opened_on=timezone.localdate() + dt.timedelta(days=2)), "opened_on"),
        (lambda c: services.entry_create(user=c["bob"], profiles=[make_profile(c)], kind="visit",
                                         occurred_at=timezone.now() + dt.timedelta(hours=1), summary="x"),
         "occurred_at"),
        (lambda c: services.entry_create(user=c["bob"], profiles=[make_profile(c)], kind="enforcement",
                                         occurred_at=timezone.now(), summary="ABC"), "action"),
        (lambda c: services.entry_create(user=c["bob"], profiles=[make_profile(c)], kind="visit",
                                         occurred_at=timezone.now(), summary="  "), "summary"),
    ],
)  # fmt: skip
def test_bad_input_names_the_field_and_saves_nothing(cast, call, field):
    profiles, entries = Profile.objects.count(), TimelineEntry.objects.count()
    with pytest.raises(ValidationError) as error:
        call(cast)
    assert field in error.value.message_dict
    assert TimelineEntry.objects.count() == entries
    assert Profile.objects.count() <= profiles + 1  # at most the helper profile of this very call


def test_closing_a_case_needs_an_outcome_and_a_date_after_opening(cast):
    case = make_case(cast, make_profile(cast), opened_on=timezone.localdate() - dt.timedelta(days=10))
    with pytest.raises(ValidationError, match="outcome"):
        services.case_set_status(user=cast["bob"], case=case, version=1, status="closed")
    with pytest.raises(ValidationError, match="closed_on"):
        services.case_set_status(user=cast["bob"], case=case, version=1, status="closed", outcome="resolved",
                                 closed_on=timezone.localdate() - dt.timedelta(days=20))  # fmt: skip
    closed = services.case_set_status(user=cast["bob"], case=case, version=1, status="closed", outcome="resolved")
    assert closed.status == "closed" and closed.closed_on == timezone.localdate() and closed.version == 2


def test_viewers_read_but_never_write(cast):
    profile = make_profile(cast)
    vera = fresh(cast["vera"])
    assert selectors.access_profile(user=vera, profile_id=profile.pk)
    with pytest.raises(PermissionDenied):
        services.profile_update(user=vera, profile=profile, version=1, phone="1")
    with pytest.raises(PermissionDenied):
        services.entry_create(user=vera, profiles=[profile], kind="note", occurred_at=timezone.now(), summary="x")


def test_case_references_count_per_type_and_year(cast):
    profile = make_profile(cast)
    first, second = make_case(cast, profile), make_case(cast, profile)
    year = timezone.localdate().year
    assert (first.reference, second.reference) == (f"ASB-{year}-0001", f"ASB-{year}-0002")


def test_likely_duplicates_are_found_by_similar_name_and_date_of_birth(cast):
    existing = make_profile(cast, first_name="John", last_name="Smith", date_of_birth=dt.date(1990, 3, 1))
    make_profile(cast, first_name="Joan", last_name="Smithers", date_of_birth=dt.date(1972, 8, 9))
    found = services.profile_likely_duplicates(
        user=fresh(cast["bob"]), first_name="Jon", last_name="Smyth", date_of_birth=dt.date(1990, 3, 1)
    )
    assert [p.pk for p in found][:1] == [existing.pk]
    # Someone who may not see the profile is not told about it.
    assert not services.profile_likely_duplicates(
        user=fresh(cast["dan"]), first_name="John", last_name="Smith", date_of_birth=dt.date(1990, 3, 1)
    )


def test_merging_keeps_both_histories(cast):
    keep = make_profile(cast, first_name="Kyle", last_name="Brennan")
    merge = make_profile(cast, first_name="Kyle", last_name="Brenan")
    services.entry_create(user=cast["bob"], profiles=[keep], kind="visit", occurred_at=timezone.now(), summary="A")
    services.entry_create(user=cast["bob"], profiles=[merge], kind="visit", occurred_at=timezone.now(), summary="B")
    case = make_case(cast, merge)
    services.profile_merge(user=cast["bob"], keep=keep, merge=merge)
    stream = sorted(e.summary for e in selectors.timeline_for_profile(user=fresh(cast["bob"]), profile=keep))
    assert stream == ["A", "B"]
    assert case.subjects.get().profile_id == keep.pk
    assert keep.aliases.filter(name="Kyle Brenan").exists()
    assert Profile.objects.get(pk=merge.pk).merged_into_id == keep.pk
    assert not selectors.profiles_visible_to(fresh(cast["bob"])).filter(pk=merge.pk).exists()


def test_documents_on_entries_follow_who_may_read_the_entry(cast):
    from tenant_apps.documents import access

    profile = make_profile(cast)
    case = make_case(cast, profile)
    open_entry = services.entry_create(user=cast["bob"], case=case, kind="visit", occurred_at=timezone.now(),
                                       summary="Visit")  # fmt: skip
    sensitive = services.entry_create(
        user=cast["bob"], case=case, kind="note", occurred_at=timezone.now(), summary="Disclosure",
        is_sensitive=True, restricted_to_teams=[cast["asb"]],
    )  # fmt: skip
    assert access.can_access(fresh(cast["bob"]), attached_to_type="timeline_entry", attached_to_id=str(sensitive.pk))
    assert access.can_access(fresh(cast["carl"]), attached_to_type="timeline_entry", attached_to_id=str(open_entry.pk))
    assert not access.can_access(
        fresh(cast["carl"]), attached_to_type="timeline_entry", attached_to_id=str(sensitive.pk)
    )
    assert not access.can_access(
        fresh(cast["dan"]), attached_to_type="timeline_entry", attached_to_id=str(open_entry.pk)
    )
    assert access.can_access(fresh(cast["bob"]), attached_to_type="profile_photo", attached_to_id=str(profile.pk))
    assert not access.can_access(fresh(cast["dan"]), attached_to_type="profile_photo", attached_to_id=str(profile.pk))


def test_only_those_who_may_read_a_sensitive_entry_may_change_it(cast):
    profile = make_profile(cast)
    case = make_case(cast, profile)
    sensitive = services.entry_create(
        user=cast["bob"], case=case, kind="note", occurred_at=timezone.now(), summary="Disclosure",
        is_sensitive=True, restricted_to_teams=[cast["asb"]],
    )  # fmt: skip
    carl = fresh(cast["carl"])  # may edit the case (same agency), may not read this entry
    with pytest.raises(PermissionDenied):
        services.entry_update(user=carl, entry=sensitive, version=1, summary="Overwritten")
    with pytest.raises(PermissionDenied):
        services.entry_delete(user=carl, entry=sensitive, version=1, reason="Not needed")
    loose = services.entry_create(user=cast["bob"], profiles=[profile], kind="note", occurred_at=timezone.now(),
                                  summary="About Kyle, on no case")  # fmt: skip
    with pytest.raises(PermissionDenied):
        services.entry_update(user=fresh(cast["dan"]), entry=loose, version=1, summary="x")
    assert services.entry_update(user=fresh(cast["bob"]), entry=loose, version=1, summary="Edited").version == 2
