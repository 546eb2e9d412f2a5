"""A case with 2,000 timeline entries: its page and its API timeline against ``/healthz``,
against what every signed-in (and audited) request costs, and against a case of 60 entries.

In the benchmark database, partnership ``suffolk``: a practitioner (District
Council, ASB Team) with a verified session (the cookie routing.py builds), a case
with 2,000 entries (one in three sensitive, restricted to the ASB Team) and a case
with 60 (a full first page, whether 25 or 50). Served by gunicorn (2 sync workers, ``concord.settings.bench``) and
loaded with ``wrk --latency`` (1 thread; 4 connections, then 2 = one per worker,
so without queueing). Runs alternate:

- ``/healthz`` (no session, one ``SELECT 1``);
- ``/bench/signed-in/``: the routing benchmark's signed-in page (session, user,
  second-factor device, 20 rows): what every signed-in request does;
- ``/bench/audited/``: signed in, and the audit row every view of a case or
  profile writes, on a one-line page: the floor of any audited record view;
- the case page ``/cases/<id>/`` (first page: 25 entries) and the API timeline
  ``/api/v1/cases/<id>/timeline/`` (first page: 50), each for the case of 2,000
  entries (its first and its last page) and the case of 60;
- the case page of 2,000 on a second server whose fragment cache is off (every
  entry rendered on every request, as its first reader after a change gets it).

The figure is the median of the runs' median latencies. Goals, at 4 connections:
the issue's (≤ 3x ``/healthz``) and the timeline's size not showing (2,000 entries
≤ 1.2x 60 entries, and the last page of 2,000 ≤ 1.2x the first); the ratios to
the signed-in page and to the audited floor are printed beside them.
docs/benchmarks.md, section C, says why the first cannot be met by a page that
must find the session, the user and their second factor and write an audit row.
If the case page does not answer 200 (not built yet), only the API is measured,
and the summary says so.

Queries per request are counted in-process (``CaptureQueriesContext``, one warm-up
request first) for the case with 60 entries and the one with 2,000: they must be
equal.
"""

from __future__ import annotations

import os
import re
import subprocess

from benchmarks.common import BENCH_SCHEMA, FULL_SETTINGS, Goal, Report, median, say
from benchmarks.routing import HOST, ROWS, _signed_in_session, find_wrk, start_server
from benchmarks.routing import prepare_data as prepare_signed_in

ENTRIES = int(os.environ.get("BENCH_CASE_ENTRIES", "2000"))
SMALL = 60  # more than a page of each (25 on the page, 50 in the API): the same work per page
RUNS = int(os.environ.get("BENCH_CASE_RUNS", "3"))
DURATION = int(os.environ.get("BENCH_CASE_SECONDS", "5"))
CONNECTIONS = tuple(int(c) for c in os.environ.get("BENCH_CASE_CONNECTIONS", "4,2").split(","))  # goal: the first
TARGET = 3.0  # the goal, against /healthz
SIZE_TARGET = 1.2  # a case of 2,000 entries against one of 60: the timeline's size must not show
PAGE_ENTRIES = 25  # the case page's page of entries (the API's is 50)


def prepare_data() -> tuple[str, int, int]:
    """The practitioner's session cookie, the big case's id and the small case's id."""
    import datetime as dt

    from django.conf import settings
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from tenant_apps.accounts.models import User
    from tenant_apps.casework import services
    from tenant_apps.casework.models import CaseType, TimelineEntry
    from tenant_apps.directory.models import Agency, Membership, Team, TeamMembership

    with schema_context(BENCH_SCHEMA):
        council, _ = Agency.objects.get_or_create(name="Bench District Council", defaults={"kind": "council"})
        asb, _ = Team.objects.get_or_create(agency=council, name="Bench ASB Team")
        user, _ = User.objects.get_or_create(
            email=f"caseworker@{BENCH_SCHEMA}.example",
            defaults={"full_name": "Casey Worker", "role": User.Role.PRACTITIONER},
        )
        Membership.objects.get_or_create(user=user, defaults={"agency": council})
        TeamMembership.objects.get_or_create(user=user, team=asb)
        profile = services.profile_create(user=user, first_name="Kyle", last_name="Brennan", owning_team=asb)
        case_type = CaseType.objects.get(code="ASB")
        cases = []
        for count in (ENTRIES, SMALL):
            case = services.case_create(user=user, case_type=case_type, title=f"Mill Lane ({count} entries)",
                                        owning_team=asb, subjects=[(profile, "perpetrator")])  # fmt: skip
            now = timezone.now()
            entries = TimelineEntry.objects.bulk_create(
                TimelineEntry(case=case, kind="visit" if i % 2 else "note", occurred_at=now - dt.timedelta(hours=i),
                              summary=f"Entry {i}", body="Spoke to the household about the noise. " * 8,
                              attendees="Casey Worker; PCSO", recorded_by=user, is_sensitive=i % 3 == 0)
                for i in range(count)
            )  # fmt: skip
            TimelineEntry.restricted_to_teams.through.objects.bulk_create(
                TimelineEntry.restricted_to_teams.through(timelineentry_id=e.pk, team_id=asb.pk)
                for e in entries
                if e.is_sensitive
            )
            TimelineEntry.profiles.through.objects.bulk_create(
                TimelineEntry.profiles.through(timelineentry_id=e.pk, profile_id=profile.pk) for e in entries
            )
            cases.append(case.pk)
        with connection.cursor() as cursor:  # as autovacuum would have, after a bulk load
            cursor.execute("ANALYZE")
        session = SessionStore()
        session.update(_signed_in_session(user))
        session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}", cases[0], cases[1]


def count_queries(path: str, cookie: str) -> int:
    from django.db import close_old_connections, connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    name, _, value = cookie.partition("=")
    client = Client(HTTP_HOST=HOST)
    client.cookies[name] = value
    client.get(path)  # warm-up
    close_old_connections()
    with CaptureQueriesContext(connection) as captured:
        status = client.get(path).status_code
    if status != 200:
        raise RuntimeError(f"{path} answered {status} in-process")
    return len(captured)


def latency_ms(wrk: str, port: int, path: str, cookie: str | None, connections: int) -> tuple[float, float]:
    """Median latency (ms) and requests/s of one wrk run; fails on any non-2xx answer or socket error."""
    command = [wrk, "-t1", f"-c{connections}", f"-d{DURATION}s", "--latency", "-H", f"Host: {HOST}"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run([*command, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True,
                         check=True).stdout  # fmt: skip
    errors = re.search(r"Socket errors: (.*)", out)
    if "Non-2xx" in out or (errors and re.search(r"(read|write|timeout) [1-9]", errors.group(1))):
        raise RuntimeError(f"{path}: errors under load:\n{out}")
    value, unit = re.search(r"50%\s+([\d.]+)(us|ms|s)", out).groups()
    factor = {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return float(value) * factor, float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def run(report: Report) -> None:
    from django.db import connections

    say("== Case page: a case with 2,000 timeline entries ==")
    cookie, big, small = prepare_data()
    signed_in_cookie = prepare_signed_in()
    targets = {
        "page": ("case page", "/cases/{}/"),
        "api": ("API timeline", "/api/v1/cases/{}/timeline/"),
    }
    counts = {}
    for key, (title, pattern) in list(targets.items()):
        try:
            counts[key] = (count_queries(pattern.format(small), cookie), count_queries(pattern.format(big), cookie))
        except RuntimeError as error:
            if key != "page":
                raise
            say(f"  the case page is not available ({error}): only the API timeline is measured")
            report.lines.append("NOTE case page: /cases/<id>/ did not answer 200; only the API timeline was measured")
            del targets[key]
            continue
        line = f"{title}: queries per request with {SMALL} entries {counts[key][0]}, with {ENTRIES} {counts[key][1]}"
        say(f"  {line}")
        report.lines.append(line)
        if counts[key][0] != counts[key][1]:
            report.lines.append(f"NOTE {title}: the query count grows with the entries (N+1)")
    connections.close_all()

    wrk = find_wrk()
    if not wrk:
        say("  wrk is unavailable: latencies not measured (install wrk, or unset BENCH_NO_INSTALL)")
        report.lines.append("NOTE case page: wrk unavailable, latencies not measured")
        return
    connection_list = ", ".join(str(c) for c in CONNECTIONS)
    say(f"  load: wrk {wrk} --latency, {connection_list} connections, {DURATION} s per run, {RUNS} runs, "
        f"interleaved; gunicorn 2 sync workers, {FULL_SETTINGS}")  # fmt: skip
    server = start_server("case-page", FULL_SETTINGS)
    servers = [server]
    # key -> (server, path, cookie)
    paths = {
        "healthz": (server, "/healthz", None),
        "signed_in": (server, "/bench/signed-in/", signed_in_cookie),
        "audited": (server, "/bench/audited/", cookie),
    }
    for key, (_, pattern) in targets.items():
        paths[key] = (server, pattern.format(big), cookie)
        paths[f"{key}_small"] = (server, pattern.format(small), cookie)
        per_page = PAGE_ENTRIES if key == "page" else 50
        paths[f"{key}_last"] = (server, f"{pattern.format(big)}?page={-(-ENTRIES // per_page)}", cookie)
    if "page" in targets:  # the same page with every entry rendered on every request
        cold = start_server("case-page-cold", FULL_SETTINGS, env={"FRAGMENT_CACHE_ENTRIES": "0"})
        servers.append(cold)
        paths["page_cold"] = (cold, paths["page"][1], cookie)
    results: dict[tuple[int, str], list[float]] = {(c, key): [] for c in CONNECTIONS for key in paths}
    try:
        for target, path, path_cookie in paths.values():  # warm-up, and check the answers are 200 with content
            status, body = target.get(path, path_cookie)
            if status != 200:
                raise RuntimeError(f"{path} answered {status} under gunicorn")
        status, body = server.get(*paths["api"][1:])
        if body.count(b'"restricted"') != 50:
            raise RuntimeError("the API timeline did not answer with 50 entries")
        status, body = server.get(*paths["signed_in"][1:])
        if body.count(b"<tr><td>") != ROWS:
            raise RuntimeError(f"the signed-in page did not answer with its {ROWS} rows")
        if "page" in targets:  # the same timeline with and without the cache (the rest has per-response nonces)
            timelines = []
            for target, path, path_cookie in (paths["page"], paths["page_cold"]):
                body = target.get(path, path_cookie)[1]
                timelines.append(body[body.index(b'<ol class="govuk-list concord-timeline">') : body.index(b"</ol>")])
            if timelines[0].count(b'id="entry-') != PAGE_ENTRIES or timelines[0] != timelines[1]:
                raise RuntimeError(f"the case page did not show the same {PAGE_ENTRIES} entries with and without "
                                   "the fragment cache")  # fmt: skip
        for run_number in range(RUNS):
            for connections in CONNECTIONS:
                rates = []
                for key, (target, path, path_cookie) in paths.items():
                    latency, rps = latency_ms(wrk, target.port, path, path_cookie, connections)
                    results[connections, key].append(latency)
                    rates.append(f"{key} {latency:.2f} ms ({rps:.0f} req/s)")
                say(f"    run {run_number + 1}, {connections} connections: " + ", ".join(rates))
    finally:
        for each in servers:
            each.stop()
            os.unlink(each.log_path)

    titles = {key: title for key, (title, _) in targets.items()}
    if "page" in targets:
        titles["page_cold"] = "case page, every entry rendered (fragment cache off)"
    for connections in CONNECTIONS:
        at = {key: median(results[connections, key]) for key in paths}
        base, signed_in, audited = at["healthz"], at["signed_in"], at["audited"]
        line = (
            f"{connections} connections: /healthz {base:.2f} ms; signed-in page (session, user, device, {ROWS} rows) "
            f"{signed_in:.2f} ms = {signed_in / base:.1f}x /healthz; audited floor (signed in, one audit row) "
            f"{audited:.2f} ms = {audited / base:.1f}x /healthz"
        )
        say(f"  {line}")
        report.lines.append(line)
        for key, title in titles.items():
            value = at[key]
            shown = f"first page of {PAGE_ENTRIES if key.startswith('page') else 50}"
            small_value, last_value = at.get(f"{key}_small"), at.get(f"{key}_last")
            sizes = (
                f"; its last page {last_value:.2f} ms ({last_value / value:.2f}x); a case of {SMALL} entries "
                f"{small_value:.2f} ms ({value / small_value:.2f}x)"
                if small_value
                else ""
            )
            line = (
                f"{title} ({ENTRIES} entries, {shown}), {connections} connections: median {value:.2f} ms = "
                f"{value / base:.1f}x /healthz, {value / signed_in:.2f}x the signed-in page, "
                f"{value / audited:.2f}x the audited floor{sizes} (medians of {RUNS} runs of {DURATION} s)"
            )
            say(f"  {line}")
            report.lines.append(line)
            if connections == CONNECTIONS[0] and key in targets:
                for name, ratio, target in (
                    (f"{title} / healthz latency (the issue's goal)", value / base, TARGET),
                    (f"{title}, {ENTRIES} / {SMALL} entries latency", value / small_value, SIZE_TARGET),
                    (f"{title}, last / first page latency ({ENTRIES} entries)", last_value / value, SIZE_TARGET),
                ):
                    goal = Goal(f"case page, {name} ({connections} connections)", ratio, target, at_most=True)
                    report.goals.append(goal)
                    say(f"  {goal.line()}")
