"""The front door: the home dashboard, the main menu (with my overdue count), the sub-navigation of
tasks and the admin area, the header's search box, and back links inside a landmark.

Cast (tests/conftest.py ``cast``): Bob (ASB Team) owns the records; Carl (Community Safety Team,
same council); Dan (police, Safer Neighbourhood Team) sees only what is shared with him; Alice is
the partnership admin. Nina is Norfolk's admin: nothing of Suffolk's ever reaches her, nor hers Suffolk.
"""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from tenant_apps.audit.services import audit_record
from tenant_apps.casework import services as casework
from tenant_apps.casework.models import CaseType, Share, WarningMarker
from tenant_apps.dashboard.selectors import dashboard_for
from tenant_apps.tasks import services as tasks
from tenant_apps.tasks.models import Task
from tests.conftest import sign_in
from tests.test_casework_pages import client_as

TODAY = dt.date.today


def _case(cast, *, title="Noise on Granary Yard", first="Jade", last="Kowalski", team="asb", lead=None):
    owner = cast["carl" if team == "cst" else "bob"]  # one of the owning team's own
    profile = casework.profile_create(user=owner, owning_team=cast[team], first_name=first, last_name=last)
    case = casework.case_create(user=owner, case_type=CaseType.objects.get(code="ASB"), title=title,
                                owning_team=cast[team], lead_practitioner=lead,
                                subjects=[(profile, "perpetrator")])  # fmt: skip
    return profile, case


def _task(cast, *, title, due, assignee, creator="bob", **about):
    task = tasks.task_create(user=cast[creator], title=title, due_date=TODAY(), **assignee, **about)
    if due != TODAY():  # the service refuses past due dates: an overdue task is one whose day has gone
        Task.objects.filter(pk=task.pk).update(due_date=due)
    return task


def _menu(page: str) -> str:
    match = re.search(r'<nav aria-label="Menu".*?</nav>', page, re.S)
    assert match, "no main menu"
    return match.group(0)


def _links(markup: str) -> dict[str, str]:
    """Menu label -> its aria-current ("" if none), icons and tags aside."""
    links = {}
    for attrs, inner in re.findall(r"<a ([^>]*)>(.*?)</a>", markup, re.S):
        label = html.unescape(re.sub(r"<svg.*?</svg>|<strong.*?</strong>", "", inner, flags=re.S).strip())
        current = re.search(r'aria-current="(\w+)"', attrs)
        links[label] = current.group(1) if current else ""
    return links


# --- The main menu -----------------------------------------------------------------------------


def test_the_menu_has_every_section_with_an_icon_and_its_label_and_marks_the_current_one(cast):
    with schema_context("suffolk"):
        _, case = _case(cast)
    bob = client_as(cast, "bob")
    menu = _menu(bob.get("/cases/").content.decode())
    assert _links(menu) == {"Home": "", "Search": "", "Profiles": "", "Cases": "page", "Families": "",
                            "Tasks": "", "Assessments": "", "Gallery": ""}  # fmt: skip
    assert menu.count("<svg") == 8 and menu.count('aria-hidden="true" focusable="false"') == 8
    assert "govuk-js-service-navigation-toggle" in menu  # folds behind "Menu" on a phone (init.js)
    # Below a section's own page: aria-current="true", the item still marked.
    assert _links(_menu(bob.get(f"/cases/{case.pk}/").content.decode()))["Cases"] == "true"
    assert _links(_menu(bob.get("/families/").content.decode()))["Families"] == "page"
    assert _links(_menu(bob.get("/").content.decode()))["Home"] == "page"
    assert _links(_menu(bob.get("/tasks/team/").content.decode()))["Tasks"] == "true"
    assert _links(_menu(bob.get("/assessments/templates/").content.decode()))["Assessments"] == "page"
    assert _links(_menu(bob.get("/assessments/bank/questions/HOU-01/").content.decode()))["Assessments"] == "true"


def test_admin_is_in_the_menu_of_partnership_admins_only(cast):
    alice = client_as(cast, "alice")
    links = _links(_menu(alice.get("/admin/users/").content.decode()))
    assert links["Admin"] == "true" and len(links) == 9
    assert _links(_menu(alice.get("/admin/audit/").content.decode()))["Admin"] == "true"
    assert "Admin" not in _links(_menu(client_as(cast, "carl").get("/").content.decode()))


def test_the_tasks_item_counts_my_overdue_tasks_in_words(cast):
    carl = client_as(cast, "carl")
    assert "overdue" not in _menu(carl.get("/profiles/").content.decode())
    with schema_context("suffolk"):
        for n in range(2):
            _task(
                cast,
                title=f"Late {n}",
                due=TODAY() - dt.timedelta(days=1 + n),
                assignee={"assigned_user": cast["carl"]},
            )
        _task(cast, title="Today", due=TODAY(), assignee={"assigned_user": cast["carl"]})
        _task(cast, title="Team's", due=TODAY() - dt.timedelta(days=3), assignee={"assigned_team": cast["cst"]})
        done = _task(cast, title="Done", due=TODAY() - dt.timedelta(days=3), assignee={"assigned_user": cast["carl"]})
        Task.objects.filter(pk=done.pk).update(status="done", completed_at=timezone.now())
    menu = _menu(carl.get("/profiles/").content.decode())
    assert '<strong class="govuk-tag govuk-tag--red">2 overdue</strong>' in menu  # mine, active, in words
    assert "overdue" not in _menu(client_as(cast, "bob").get("/profiles/").content.decode())


def test_pages_before_the_second_factor_and_the_public_site_have_no_menu_and_no_search(cast, suffolk_client):
    page = suffolk_client.get("/account/sign-in/").content.decode()
    assert 'aria-label="Menu"' not in page and 'role="search"' not in page
    first = suffolk_client.post("/account/sign-in/", {"email": "bob@suffolk.test", "password": "x" * 3})
    assert 'aria-label="Menu"' not in first.content.decode()
    public = Client(HTTP_HOST="localhost").get("/").content.decode()
    assert 'role="search"' not in public and "Profiles" not in public


def test_tasks_and_the_admin_area_have_their_lists_as_sub_navigation_in_the_page(cast):
    carl = client_as(cast, "carl")
    page = carl.get("/tasks/team/").content.decode()
    sub = re.search(r'<nav aria-label="Tasks".*?</nav>', page, re.S).group(0)
    assert page.index("<main") < page.index(sub)  # in the page, not a second header menu
    assert _links(sub) == {"My tasks": "", "My team's tasks": "page", "Tasks I set": "", "Daily e-mail": ""}
    assert "Tasks menu" not in page and page.count('id="navigation"') == 1
    alice = client_as(cast, "alice")
    for url, current in (("/admin/users/", "Users"), ("/admin/agencies/", "Agencies and teams"),
                         ("/admin/case-types/", "Case types"), ("/admin/api-clients/", "API clients"),
                         ("/admin/settings/", "Settings"), ("/admin/audit/", "Audit log")):  # fmt: skip
        page = alice.get(url).content.decode()
        sub = _links(re.search(r'<nav aria-label="Admin".*?</nav>', page, re.S).group(0))
        assert list(sub) == ["Users", "Agencies and teams", "Case types", "API clients", "Settings", "Audit log"]
        assert sub[current] == "page" and sum(bool(v) for v in sub.values()) == 1, (url, sub)
    assert 'aria-label="Admin"' not in carl.get("/profiles/").content.decode()
    vera = client_as(cast, "vera").get("/tasks/").content.decode()  # a viewer has no daily e-mail to set
    assert "My team&#x27;s tasks" in vera and "daily-email" not in vera


# --- Search from every page ----------------------------------------------------------------------


def test_every_signed_in_page_has_the_search_box_posting_to_search_and_the_search_page_its_own(cast):
    with schema_context("suffolk"):
        profile, case = _case(cast)
    bob = client_as(cast, "bob")
    for url in ("/", "/profiles/", f"/profiles/{profile.pk}/", f"/cases/{case.pk}/", "/tasks/", "/gallery/"):
        page = bob.get(url).content.decode()
        form = re.search(r'<form method="post" action="/search/" role="search".*?</form>', page, re.S)
        assert form, url
        form = form.group(0)
        assert 'name="csrfmiddlewaretoken"' in form and 'name="query"' in form and 'for="header-search"' in form
        assert ">Search</button>" in form and "data-concord-search-box" in form
        assert "search-shortcut.js" in page and "<script>" not in page  # "/" focuses it; no inline script
    assert 'role="search"' not in bob.get("/search/").content.decode()  # the page's own box is the search
    results = bob.post("/search/", {"query": "Kowalski"})
    assert results.status_code == 200 and "Jade Kowalski" in results.content.decode()


def test_the_search_shortcut_module_ignores_typing_and_can_be_turned_off():
    from tests.conftest import REPO

    source = (REPO / "platform" / "concord" / "static" / "concord" / "search-shortcut.js").read_text()
    assert 'event.key !== "/"' in source and "input, textarea, select, [contenteditable]" in source
    assert "localStorage" in source and "data-concord-shortcut-toggle" in source


# --- Landmarks -------------------------------------------------------------------------------------


def test_a_back_link_is_inside_a_landmark_and_a_page_without_one_has_no_empty_landmark(cast):
    with schema_context("suffolk"):
        _, case = _case(cast)
    bob = client_as(cast, "bob")
    page = bob.get(f"/cases/{case.pk}/").content.decode()
    assert re.search(r'<nav aria-label="Back"><a href="/cases/" class="govuk-back-link">', page)
    assert page.index('aria-label="Back"') < page.index("<main")  # before main, as GOV.UK places it
    assert 'aria-label="Back"' not in bob.get("/cases/").content.decode()


# --- The dashboard ---------------------------------------------------------------------------------


def test_the_dashboard_counts_my_tasks_and_my_teams_due_today_and_overdue(cast):
    with schema_context("suffolk"):
        _task(cast, title="Mine late", due=TODAY() - dt.timedelta(days=2), assignee={"assigned_user": cast["carl"]})
        _task(cast, title="Mine today", due=TODAY(), assignee={"assigned_user": cast["carl"]})
        _task(cast, title="Mine later", due=TODAY() + dt.timedelta(days=5), assignee={"assigned_user": cast["carl"]})
        for n in range(3):
            _task(
                cast,
                title=f"Team late {n}",
                due=TODAY() - dt.timedelta(days=1),
                assignee={"assigned_team": cast["cst"]},
            )
        _task(cast, title="Team today", due=TODAY(), assignee={"assigned_team": cast["cst"]})
        _task(cast, title="Not Carl's", due=TODAY() - dt.timedelta(days=1), assignee={"assigned_team": cast["snt"]})
        block = dashboard_for(cast["carl"]).tasks
    counts = block.counts
    assert (counts.mine_overdue, counts.mine_due_today, counts.team_overdue, counts.team_due_today) == (1, 1, 3, 1)
    assert [t.title for t in block.mine] == ["Mine late", "Mine today", "Mine later"] and block.mine_total == 3
    page = client_as(cast, "carl").get("/").content.decode()
    assert "Mine late" in page and "Not Carl's" not in page and 'href="/tasks/team/"' in page
    late, today, later = (
        page[page.index(title) :].split("</li>")[0] for title in ("Mine late", "Mine today", "Mine later")
    )
    assert (
        ">Overdue</strong>" in late and ">Due today</strong>" in today and "govuk-tag" not in later
    )  # tasks/_due.html


def test_my_open_cases_show_their_last_contact_longest_without_contact_first(cast):
    with schema_context("suffolk"):
        _, quiet = _case(cast, title="Quiet one", last="Quiet")
        _, busy = _case(cast, title="Busy one", last="Busy")
        _, never = _case(cast, title="Never contacted", last="Never")
        _, closed = _case(cast, title="Closed one", last="Closed")
        _, other = _case(cast, title="Community safety's", last="Other", team="cst")
        now = timezone.now()
        for case, days in ((quiet, 20), (busy, 1), (busy, 30)):
            casework.entry_create(user=cast["bob"], case=case, kind="visit", summary="Visit",
                                  occurred_at=now - dt.timedelta(days=days))  # fmt: skip
        closed.status, closed.outcome, closed.closed_on = "closed", "resolved", TODAY()
        closed.save()
        block = dashboard_for(cast["bob"]).open_cases
    assert [c.title for c in block.cases] == ["Never contacted", "Quiet one", "Busy one"] and block.total == 3
    assert block.cases[0].last_contact is None
    assert block.cases[2].last_contact.date() == (now - dt.timedelta(days=1)).date()
    page = client_as(cast, "bob").get("/").content.decode()
    assert "No contact recorded" in page and "Last contact" in page and "Community safety&#x27;s" not in page
    with schema_context("suffolk"):  # a case Dan leads but may not see is not his to list
        other.lead_practitioner = cast["dan"]
        other.save()
        assert dashboard_for(cast["dan"]).open_cases.total == 0


def test_records_i_opened_recently_are_newest_first_once_each_and_only_while_visible(cast):
    with schema_context("suffolk"):
        profile, case = _case(cast)
        share = casework.share_grant(user=cast["bob"], case=case, team=cast["snt"])
        casework.share_grant(user=cast["bob"], profile=profile, team=cast["snt"])
    dan = client_as(cast, "dan")
    for url in (f"/profiles/{profile.pk}/", f"/cases/{case.pk}/", f"/profiles/{profile.pk}/"):
        assert dan.get(url).status_code == 200  # each opening is audited (profile.viewed, case.viewed)
    with schema_context("suffolk"):
        recent = dashboard_for(cast["dan"]).recent
        assert [(r.kind, r.label) for r in recent] == [("Profile", "Jade Kowalski"),
                                                      ("Case", f"{case.reference}: Noise on Granary Yard")]  # fmt: skip
        casework.share_revoke(user=cast["bob"], share=Share.objects.get(pk=share.pk))
        assert [r.kind for r in dashboard_for(cast["dan"]).recent] == ["Profile"]
        assert dashboard_for(cast["carl"]).recent == []  # Bob's and Dan's reads are theirs
    assert case.reference not in dan.get("/").content.decode()


def test_new_replies_are_those_by_others_since_i_last_opened_the_task(cast):
    with schema_context("suffolk"):
        task = _task(cast, title="Check CCTV", due=TODAY(), assignee={"assigned_user": cast["carl"]})
        tasks.task_reply(user=cast["carl"], task=task, body="Asked the shop for the footage.")
        assert [r.body for r in dashboard_for(cast["bob"]).replies] == ["Asked the shop for the footage."]
        assert dashboard_for(cast["carl"]).replies == []  # his own reply is not news to him
        audit_record(action="task.viewed", actor=cast["bob"], object_type="task", object_id=task.pk)
        assert dashboard_for(cast["bob"]).replies == []  # seen
        tasks.task_reply(user=cast["carl"], task=task, body="Footage shows two people.")
        assert [r.body for r in dashboard_for(cast["bob"]).replies] == ["Footage shows two people."]
        assert dashboard_for(cast["dan"]).replies == []  # not his task
    page = client_as(cast, "bob").get("/").content.decode()
    assert "Footage shows two people." in page and 'href="/tasks/' in page


def test_warning_markers_of_the_people_on_my_open_cases(cast):
    with schema_context("suffolk"):
        profile, case = _case(cast)
        WarningMarker.objects.create(profile=profile, kind="dogs")
        WarningMarker.objects.create(profile=profile, kind="violent")
        elsewhere, _ = _case(cast, title="Theirs", first="Sam", last="Other", team="cst")
        WarningMarker.objects.create(profile=elsewhere, kind="weapons")
        warnings = dashboard_for(cast["bob"]).warnings
        assert [(w.name, w.markers) for w in warnings] == [("Jade Kowalski", ("Dangerous dogs", "Violent"))]
        assert dashboard_for(cast["dan"]).warnings == []  # shares nothing: sees none of it
    page = client_as(cast, "bob").get("/").content.decode()
    assert "Dangerous dogs" in page and "Weapons" not in page


def test_the_dashboard_keeps_the_account_links_and_gives_admins_theirs(cast):
    page = client_as(cast, "alice").get("/").content.decode()
    for href in ("/account/two-factor/setup/", "/account/two-factor/backup-codes/", "/account/sign-out/everywhere/",
                 "/admin/", "/admin/audit/"):  # fmt: skip
        assert f'"{href}"' in page, href
    carl = client_as(cast, "carl").get("/").content.decode()
    assert '"/admin/audit/"' not in carl and "data-concord-shortcut-toggle hidden" in carl


def test_a_user_who_may_not_see_a_case_sees_it_in_no_block(cast):
    with schema_context("suffolk"):
        profile, case = _case(cast, title="Bob's secret case")
        WarningMarker.objects.create(profile=profile, kind="drugs")
        case.lead_practitioner = cast["dan"]
        case.save()
        task = _task(cast, title="About the case", due=TODAY() - dt.timedelta(days=1),
                     assignee={"assigned_user": cast["dan"]}, case=case)  # fmt: skip
        tasks.task_reply(user=cast["bob"], task=task, body="See the case.")
        audit_record(action="case.viewed", actor=cast["dan"], object_type="case", object_id=case.pk)
        audit_record(action="profile.viewed", actor=cast["dan"], object_type="profile", object_id=profile.pk)
    page = client_as(cast, "dan").get("/").content.decode()
    assert case.reference not in page and "Bob&#x27;s secret case" not in page and "Kowalski" not in page
    assert "Drugs" not in page and f'href="/cases/{case.pk}/"' not in page
    assert "About the case" in page  # the task is his; the case it comes from is not


@pytest.fixture
def nina_with_a_case(norfolk):
    from tenant_apps.accounts.models import User
    from tenant_apps.directory.models import Agency, Membership, Team, TeamMembership

    with schema_context("norfolk"):
        nina = User.objects.get(email="nina@norfolk.test")
        agency = Agency.objects.create(name="Norfolk Council", kind="council")
        team = Team.objects.create(agency=agency, name="Norfolk ASB")
        Membership.objects.create(user=nina, agency=agency)
        TeamMembership.objects.create(user=nina, team=team)
        nina = User.objects.get(pk=nina.pk)
        profile = casework.profile_create(user=nina, owning_team=team, first_name="Norah", last_name="Norwich")
        case = casework.case_create(user=nina, case_type=CaseType.objects.get(code="ASB"), title="Norfolk's noise",
                                    owning_team=team, lead_practitioner=nina,
                                    subjects=[(profile, "perpetrator")])  # fmt: skip
        WarningMarker.objects.create(profile=profile, kind="weapons")
        audit_record(action="case.viewed", actor=nina, object_type="case", object_id=case.pk)
        return case


def test_norfolks_records_never_reach_a_suffolk_dashboard_nor_suffolks_norfolks(cast, nina_with_a_case,
                                                                               norfolk_client):  # fmt: skip
    with schema_context("suffolk"):
        _case(cast, title="Suffolk's noise", first="Sid", last="Suffolk")
    bob_page = client_as(cast, "bob").get("/").content.decode()
    assert "Suffolk&#x27;s noise" in bob_page
    # (References and ids are numbered per partnership: Norfolk's first case is ASB-...-0001 too.)
    assert "Norfolk" not in bob_page and "Norah" not in bob_page and "Weapons" not in bob_page
    sign_in(norfolk_client, "nina@norfolk.test")
    nina_page = norfolk_client.get("/").content.decode()
    assert "Norfolk&#x27;s noise" in nina_page and "Weapons" in nina_page  # her own blocks work
    assert "Suffolk&#x27;s noise" not in nina_page and "Sid Suffolk" not in nina_page


def test_the_landmark_tag_wraps_content_leaves_a_landmark_alone_and_renders_nothing_for_nothing():
    from django.template import Context, Template

    def render(inner: str) -> str:
        return Template('{% load concord %}{% landmark "Back" %}' + inner + "{% endlandmark %}").render(
            Context({"x": "<b>"})
        )

    assert render('<a href="/cases/">Back</a>') == '<nav aria-label="Back"><a href="/cases/">Back</a></nav>'
    assert render("  \n ") == ""
    crumbs = '<nav class="govuk-breadcrumbs" aria-label="Breadcrumb"><ol></ol></nav>'
    assert render(crumbs) == crumbs
    assert render("{{ x }}") == '<nav aria-label="Back">&lt;b&gt;</nav>'  # escaped once, not twice
