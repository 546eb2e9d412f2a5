"""Bulk-read limits (issue 18, point 3): per person and per partnership, counted in PostgreSQL.

The cast is test_casework_pages.py's, in Suffolk: Bob (council, ASB Team) owns the records;
Carl (council, other team) and Dan (police) are other readers; Alice is Suffolk's admin. Nina is
Norfolk's admin: Suffolk's reads never spend Norfolk's budget, nor Norfolk's Suffolk's.

Each test starts early enough in a minute that its reads fall in one window (``fresh_window``):
the windows are fixed minutes of the database's clock. The thousand reads take longer than the
others: they run in a savepoint, undone and run again if a minute ended while they ran
(``in_one_minute``), rather than always waiting for a fresh minute.
"""

# ruff: noqa: F811 - the cast and records fixtures are imported from test_casework_pages
from __future__ import annotations

import threading
import time
import uuid

import pytest
from django.db import connection, transaction
from django_tenants.utils import schema_context

from tenant_apps.accounts import readlimits
from tenant_apps.accounts.models import ProfileRead, ReadLimits, ReadWindow, User
from tenant_apps.audit.models import AuditEvent
from tenant_apps.outbox.models import OutboundEmail
from tests.conftest import HttpSession, forget_used_codes, free_port, project_env, sign_in
from tests.serving import gunicorn_serving
from tests.test_attachments import add_entry, documents, upload
from tests.test_casework_pages import client_as, in_suffolk, records  # noqa: F401 - fixtures
from tests.test_thumbnails import jpeg

REFUSED_TEXT = "You have read a lot of records in a short time"
API = "/api/v1"


def fresh_window(seconds_needed: float) -> None:
    """Wait, if need be, until the database's current minute has ``seconds_needed`` left."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT extract(epoch FROM clock_timestamp())::float")
        now = cursor.fetchone()[0]
    left = 60 - now % 60
    if left < seconds_needed:
        time.sleep(left + 0.05)


@pytest.fixture
def no_counts(db):
    """No counter left by a committed test (a browser walk, a server) in this minute: removed in the
    test's transaction, so they come back with its rollback."""
    forget_counts()


def forget_counts() -> None:
    for slug in ("suffolk", "norfolk"):
        with schema_context(slug):
            ReadWindow.objects.all().delete()
            ProfileRead.objects.all().delete()
    connection.set_schema_to_public()


def database_minute() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT floor(extract(epoch FROM clock_timestamp()) / 60)::bigint")
        return cursor.fetchone()[0]


def in_one_minute(reads):
    """``reads()``'s result, from a run that started and ended in the same minute of the database's
    clock: a run across a minute's end (its counts restarted halfway) is rolled back to a savepoint
    (the test's transaction holds every write of the test client) and run again, once."""
    for _ in range(2):
        fresh_window(5)
        started = database_minute()
        savepoint = transaction.savepoint()
        result = reads()
        if database_minute() == started:
            transaction.savepoint_commit(savepoint)
            return result
        transaction.savepoint_rollback(savepoint)
    pytest.fail("two runs of the reads each crossed a minute's end")


def set_limits(slug: str, **values) -> None:
    """The partnership's limits, written directly (the settings page is tested on its own)."""
    with schema_context(slug):
        row = ReadLimits.current()
        for name, value in values.items():
            setattr(row, name, value)
        row.save()


def last_event(slug: str = "suffolk") -> int:
    """The newest audit event's id: events committed by earlier tests (servers) are older."""
    with schema_context(slug):
        return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def statuses(client, paths) -> list[int]:
    return [client.get(path).status_code for path in paths]


def assert_refused_page(response) -> None:
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert REFUSED_TEXT in response.content.decode()


def assert_refused_json(response) -> dict:
    assert response.status_code == 429, response.content[:300]
    assert 1 <= int(response["Retry-After"]) <= 60
    error = response.json()["error"]
    assert error["status"] == 429 and error["code"] == "read_limited", error
    assert REFUSED_TEXT in error["message"]
    return error


# --- The volume alert and the page limit -----------------------------------------------------------


def test_reading_a_thousand_profiles_in_a_minute_is_refused_before_the_end_and_alerts_once(cast, records, no_counts):
    """Bob walks 1,000 profile ids (his Kyle among them) at the defaults: 300 reads a minute, an
    alert past 100 distinct profiles in 10 minutes. The 301st read is refused, and every one after
    it; the admins get exactly one e-mail and the trail one alert, whatever Bob does next."""
    defaults = ReadLimits()
    assert (defaults.reads_per_minute, defaults.alert_profiles, defaults.alert_minutes) == (300, 100, 10)
    kyle = records["profile"].pk
    bob = client_as(cast, "bob")
    since = last_event()
    ids = [kyle, *range(kyle + 1, kyle + 1000)]
    answers = in_one_minute(lambda: [bob.get(f"/profiles/{profile_id}/") for profile_id in ids])
    codes = [answer.status_code for answer in answers]
    assert codes[0] == 200  # his own record
    assert 429 not in codes[:300] and set(codes[1:300]) == {404}
    assert codes[300:] == [429] * 700  # refused before the end, and until the minute is over
    assert_refused_page(answers[300])
    assert "Kyle" not in answers[300].content.decode()  # the refusal shows nothing of any record
    with schema_context("suffolk"):
        alerts = AuditEvent.objects.filter(action="access.read_volume_alert", actor=cast["bob"], id__gt=since)
        assert alerts.count() == 1
        assert "more than 100 distinct profiles in 10 minutes" in alerts.get().summary
        mails = [mail for mail in OutboundEmail.objects.all() if "opened many profiles" in mail.subject]
        assert len(mails) == 1
        [mail] = mails
        assert mail.to == ["alice@suffolk.test"]  # the partnership's admins, nobody else
        assert "bob@suffolk.test" in mail.body and "Kyle" not in mail.body + mail.subject
        assert AuditEvent.objects.filter(action="access.read_limited", actor=cast["bob"], id__gt=since).count() == 1
        # 300 profiles opened in the alert's window: the 700 refused reads opened none.
        assert ProfileRead.objects.filter(holder=cast["bob"].pk).count() == 300
    # Alice, in the same partnership, still reads: the limit is Bob's, not everyone's.
    alice = client_as(cast, "alice")
    assert alice.get(f"/profiles/{kyle}/").status_code in (200, 404)
    assert alice.get("/profiles/").status_code == 200


# --- The API --------------------------------------------------------------------------------------


def test_api_reads_over_the_limit_answer_429_with_retry_after(cast, records, no_counts):
    """A session's API reads and an API client's (its service account) are each counted; the 11th
    read of a minute at a limit of 10 answers 429 ``read_limited`` with Retry-After, in the API's
    error shape; a write is not a read, and who-am-I is not a record."""
    from tests.test_api_clients import bearer, issue

    set_limits("suffolk", reads_per_minute=10, partnership_per_minute=1000)
    since = last_event()
    kyle, case = records["profile"].pk, records["case"].pk
    bob = client_as(cast, "bob")
    fresh_window(10)
    paths = [
        f"{API}/profiles/{kyle}/", f"{API}/cases/{case}/", f"{API}/profiles/", f"{API}/cases/{case}/timeline/",
        f"{API}/families/", f"{API}/profiles/{kyle}/timeline/", f"{API}/tasks/", f"{API}/profiles/{kyle}/addresses/",
        f"{API}/profiles/{kyle + 999}/", f"{API}/cases/{case}/shares/",
    ]  # fmt: skip
    assert [code for code in statuses(bob, paths) if code not in (200, 404)] == []
    assert bob.get(f"{API}/me/").status_code == 200  # not a record read: not counted
    refused = bob.get(f"{API}/profiles/{kyle}/")
    error = assert_refused_json(refused)
    assert "Kyle" not in refused.content.decode() and "Brennan" not in error["message"]
    assert_refused_json(bob.get(f"{API}/cases/"))  # every read, not only that path
    # The page reads share the budget: the person, not the door, is counted.
    assert_refused_page(bob.get(f"/profiles/{kyle}/"))
    # An API client is counted as its service account, on its own budget.
    issued = issue(cast, scopes=("profiles:read",))
    client = bearer(issued.token)
    answers = statuses(client, [f"{API}/profiles/"] * 11)
    assert answers[:10] == [200] * 10 and answers[10] == 429
    assert_refused_json(client.get(f"{API}/profiles/"))
    with schema_context("suffolk"):
        limited = AuditEvent.objects.filter(action="access.read_limited", id__gt=since)
        limited = limited.values_list("actor_id", flat=True)
        assert sorted(limited) == sorted([cast["bob"].pk, issued.client.service_account_id])  # once each


# --- Search and downloads ----------------------------------------------------------------------------


def test_search_and_downloads_are_rate_limited(cast, records, s3, no_counts):
    """Searches (page and API together) and downloads (the download, the thumbnail, the inline
    image, the API's download URL) have budgets of their own; over one, 429; the others still work."""
    set_limits("suffolk", searches_per_minute=5, downloads_per_minute=10, partnership_per_minute=1000)
    since = last_event()
    case = records["case"]
    bob = client_as(cast, "bob")
    assert add_entry(bob, case, upload("doorstep.jpg", jpeg())).status_code == 302
    [photo] = [document for document in documents() if document.original_filename == "doorstep.jpg"]
    fresh_window(10)
    # Searches: three pages and two API calls are five; the sixth of either kind is refused.
    for _ in range(3):
        assert bob.post("/search/", {"query": "Kyle"}).status_code == 200
    for _ in range(2):
        assert bob.post(f"{API}/search/", {"query": "Kyle"}, content_type="application/json").status_code == 200
    assert bob.get("/search/").status_code == 200  # the empty form is not a search
    assert_refused_page(bob.post("/search/", {"query": "Kyle"}))
    assert_refused_json(bob.post(f"{API}/search/", {"query": "Kyle"}, content_type="application/json"))
    # Downloads: ten of the photo's thumbnail, original, and other documents' ids; then refused.
    downloads = [f"/documents/{photo.pk}/thumbnail/"] * 4 + [f"/documents/{photo.pk}/download/"] * 3
    downloads += [f"/documents/{uuid.uuid4()}/image/", f"/documents/{uuid.uuid4()}/download/"]
    downloads += [f"{API}/documents/{photo.pk}/download-url/"]
    assert statuses(bob, downloads) == [200] * 4 + [302] * 3 + [404, 404, 200]
    assert_refused_page(bob.get(f"/documents/{photo.pk}/thumbnail/"))
    assert_refused_page(bob.get(f"/documents/{photo.pk}/download/"))
    assert_refused_page(bob.get(f"/documents/{photo.pk}/image/"))
    assert_refused_json(bob.get(f"{API}/documents/{photo.pk}/download-url/"))
    # Reading records is its own budget: the case page still opens (its thumbnail <img> would not).
    assert bob.get(f"/cases/{case.pk}/").status_code == 200
    with schema_context("suffolk"):
        limited = AuditEvent.objects.filter(action="access.read_limited", id__gt=since)
        summaries = list(limited.values_list("summary", flat=True))
    assert len(summaries) == 2 and {s.split(" in a minute")[0] for s in summaries} == {
        "more than 5 searches",
        "more than 10 downloads",
    }


# --- Per partnership ---------------------------------------------------------------------------------


def test_limits_are_set_per_partnership_and_one_partnership_does_not_spend_anothers(
    cast, records, norfolk_client, no_counts
):
    """Alice sets Suffolk's limits on the settings page (bad input refused by field, nothing saved;
    the change audited). Bob and Carl then spend Suffolk's whole budget: Dan is refused with the
    partnership's message. Nina, in Norfolk, at Norfolk's defaults, reads on: her reads are not
    counted in Suffolk, and Norfolk's limits are untouched."""
    since, norfolk_since = last_event(), last_event("norfolk")
    alice = client_as(cast, "alice")
    good = {"reads_per_minute": "10", "searches_per_minute": "5", "downloads_per_minute": "10",
            "partnership_per_minute": "20", "alert_profiles": "50", "alert_minutes": "5"}  # fmt: skip
    page = alice.get("/admin/settings/").content.decode()
    assert "Read limits" in page and 'value="300"' in page and 'value="20000"' in page
    for field, bad in [("reads_per_minute", "ten"), ("reads_per_minute", "9"), ("alert_minutes", "1441"),
                       ("partnership_per_minute", "9"), ("searches_per_minute", ""),
                       ("alert_profiles", "4")]:  # fmt: skip
        response = alice.post("/admin/settings/read-limits/", {**good, field: bad})
        assert response.status_code == 200, (field, bad)
        assert f'href="#id_{field}"' in response.content.decode(), (field, bad)
    response = alice.post("/admin/settings/read-limits/", {**good, "partnership_per_minute": "9"})
    assert "at least each person" not in response.content.decode()  # 9 is refused by its own range first
    response = alice.post("/admin/settings/read-limits/", {**good, "reads_per_minute": "30"})
    assert "The partnership&#x27;s limit must be at least each person&#x27;s (30)." in response.content.decode()
    with schema_context("suffolk"):
        assert not ReadLimits.objects.exists()  # nothing saved by any of them
        assert not AuditEvent.objects.filter(action="settings.read_limits_changed", id__gt=since).exists()
    response = alice.post("/admin/settings/read-limits/", good)
    assert response.status_code == 302 and response["Location"] == "/admin/settings/#read-limits"
    page = alice.get("/admin/settings/").content.decode()
    assert "The read limits have been saved." in page and 'value="20"' in page
    with schema_context("suffolk"):
        event = AuditEvent.objects.get(action="settings.read_limits_changed", id__gt=since)
        assert event.actor_label == "alice@suffolk.test"
        assert event.changes["reads_per_minute"] == [300, 10] and event.changes["partnership_per_minute"] == [20000, 20]
    # Only an admin sets them; Bob's POST changes nothing.
    bob = client_as(cast, "bob")
    assert bob.post("/admin/settings/read-limits/", {**good, "reads_per_minute": "99"}).status_code == 403
    assert in_suffolk(lambda: ReadLimits.current().reads_per_minute) == 10

    kyle = records["profile"].pk
    carl, dan = client_as(cast, "carl"), client_as(cast, "dan")
    nina = norfolk_client
    sign_in(nina, "nina@norfolk.test")
    fresh_window(10)
    assert 429 not in statuses(bob, [f"/profiles/{kyle}/"] * 10)
    assert_refused_page(bob.get(f"/profiles/{kyle}/"))  # Bob's own limit: not counted for Suffolk
    assert 429 not in statuses(carl, [f"/profiles/{kyle}/"] * 10)  # Suffolk's 20 are spent
    refused = dan.get(f"/profiles/{kyle}/")
    assert refused.status_code == 429 and "People in this partnership have read a lot" in refused.content.decode()
    # Norfolk: 25 reads at its own defaults (Suffolk's id is nobody there), none refused.
    assert 429 not in statuses(nina, [f"/profiles/{kyle}/"] * 5 + ["/profiles/"] * 20)
    with schema_context("suffolk"):
        ours = ReadWindow.objects.get(holder=readlimits.PARTNERSHIP, kind="partnership")
        assert ours.count == 21  # Bob's 10, Carl's 10, Dan's refused one; nothing of Norfolk's
    with schema_context("norfolk"):
        assert not ReadLimits.objects.exists()  # Norfolk is at the defaults
        theirs = ReadWindow.objects.get(holder=readlimits.PARTNERSHIP, kind="partnership")
        assert theirs.count == 25  # Nina's reads only
        assert not AuditEvent.objects.filter(action__startswith="access.read", id__gt=norfolk_since).exists()
        assert not AuditEvent.objects.filter(action="settings.read_limits_changed", id__gt=norfolk_since).exists()
    page = nina.get("/admin/settings/").content.decode()  # Norfolk's page shows Norfolk's limits
    assert 'value="300"' in page and 'value="20000"' in page


# --- Across processes --------------------------------------------------------------------------------


@pytest.fixture
def bob_committed(committed_db):
    """Suffolk at a limit of 10 reads a minute, committed (gunicorn serves other connections);
    removed afterwards with the counters the test left."""
    forget_counts()
    set_limits("suffolk", reads_per_minute=10)
    connection.set_schema_to_public()
    try:
        yield
    finally:
        with schema_context("suffolk"):
            ReadLimits.objects.all().delete()
        forget_counts()
        forget_used_codes()
        connection.set_schema_to_public()


def test_the_read_limit_holds_across_two_gunicorn_workers(bob_committed):
    """24 reads sent at once by 8 clients to gunicorn's 2 worker processes: exactly 10 answered,
    14 refused, as one counter in PostgreSQL would have it (a per-process count would allow 20)."""
    port = free_port()
    since = last_event()
    connection.set_schema_to_public()
    with gunicorn_serving(["-m", "gunicorn"], env=project_env(), port=port, workers=2, threads=4):
        session = HttpSession(port, "suffolk.localhost")
        session.sign_in("bob@suffolk.test")
        fresh_window(10)
        answers: list[int] = []
        lock = threading.Lock()

        def read(count: int) -> None:
            mine = HttpSession(port, "suffolk.localhost")
            mine.cookies = dict(session.cookies)
            for _ in range(count):
                status, _, _ = mine.get("/profiles/987654/")
                with lock:
                    answers.append(status)

        threads = [threading.Thread(target=read, args=(3,)) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(answers) == [404] * 10 + [429] * 14
    with schema_context("suffolk"):
        bob = User.objects.get(email="bob@suffolk.test")
        assert ReadWindow.objects.get(holder=bob.pk, kind="read").count == 24
        limited = AuditEvent.objects.filter(action="access.read_limited", actor=bob, id__gt=since)
        assert limited.count() == 1  # the first refusal of the window only, whichever worker saw it


def test_an_id_no_profile_can_have_is_counted_as_a_read_and_answers_404(cast, no_counts):
    """A walk past the ids' range (bigint) is still a counted read, never a 500."""
    bob = client_as(cast, "bob")
    fresh_window(5)
    for path in (f"/profiles/{2**63}/", f"/profiles/{10**30}/", f"{API}/profiles/{10**30}/"):
        assert bob.get(path).status_code == 404, path
    with schema_context("suffolk"):
        assert ReadWindow.objects.get(holder=cast["bob"].pk, kind="read").count == 3
        assert not ProfileRead.objects.filter(holder=cast["bob"].pk).exists()


def _routes(patterns=None, prefix: str = ""):
    """(route, callback, name) of every URL pattern of a partnership host."""
    from django.urls import URLPattern, URLResolver, get_resolver

    for pattern in get_resolver("concord.urls_partnership").url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback, pattern.name


def test_every_page_and_api_read_of_a_record_by_id_is_counted(cast, no_counts):
    """A walk of ids through any door is counted: every page whose URL names a record (the audit's
    ``ID_ARGUMENTS``) is ``read_limited`` unless it only takes POSTs (a GET answers 405), and every
    API class with a GET there belongs to an area, so ``ReadLimitThrottle`` counts it."""
    import re

    from concord.api.clients import AREAS
    from tenant_apps.audit.middleware import ID_ARGUMENTS

    bob = client_as(cast, "bob")
    checked, unlimited = [], []
    for route, callback, name in _routes():
        arguments = re.findall(r"<(?:(\w+):)?(\w+)>", route)
        if not any(argument in ID_ARGUMENTS for _, argument in arguments):
            continue
        checked.append(name)
        view_class = getattr(callback, "cls", None)
        if view_class is not None:
            if hasattr(view_class, "get"):
                assert view_class.api_area in AREAS, name
            continue
        if getattr(callback, "read_limited", None):
            continue
        path = "/" + re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: str(uuid.uuid4()) if m[1] == "uuid" else
                            ("address" if m[1] == "str" else "987654"), route)  # fmt: skip
        if bob.get(path).status_code != 405:
            unlimited.append(name)
    assert len(checked) > 30 and unlimited == [], unlimited


def test_a_read_only_database_lets_reads_through_uncounted(committed_db, tmp_path):
    """As for API clients: a fail-over's read-only database keeps people reading (pages and API);
    nothing is counted, and the refused read's audit event waits in the spool. Committed rows
    (Bob's sign-in), counters removed afterwards."""
    from django.test import Client, override_settings

    from tenant_apps.audit import spool

    forget_counts()
    bob = Client(HTTP_HOST="suffolk.localhost")
    sign_in(bob, "bob@suffolk.test")
    connection.set_schema_to_public()
    try:
        with override_settings(AUDIT_SPOOL_DIR=str(tmp_path)):
            with connection.cursor() as cursor:
                cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            try:
                answers = [bob.get("/profiles/987654/").status_code, bob.get(f"{API}/profiles/").status_code]
            finally:
                with connection.cursor() as cursor:
                    cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE")
            spool.replay_spool()
        assert answers == [404, 200]
        with schema_context("suffolk"):
            assert not ReadWindow.objects.exists()
    finally:
        forget_counts()
        forget_used_codes()
        connection.set_schema_to_public()
