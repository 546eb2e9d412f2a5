"""An audited write against the same write unaudited (``python -m benchmarks audit``).

**Served (the goal).** In the benchmark database, partnership ``suffolk``, gunicorn (2 sync
workers, ``concord.settings.bench``) serves two signed-in views (``benchmarks/views.py``) that
each add a team in one transaction: ``/bench/write/`` unaudited, ``/bench/write-audited/``
with its ``team.created`` event (``audit_record``: the event inserted with the chain head moved,
one statement). ``wrk`` (1 thread, 4 connections) loads them in turn, the order flipping each run, ``BENCH_AUDIT_RUNS``
(5) runs of ``BENCH_AUDIT_SECONDS`` (5) each after a warm-up. Goal: requests/s audited /
unaudited (medians) >= 0.8x. Without wrk, only the in-process figures below are printed.

**In-process (printed, not a goal).** The write alone, no HTTP, so the audit's share is as
large as it can be. One operation is a service-sized write in its own transaction:

- **unaudited**: rename a team (one ``UPDATE`` through the ORM), commit;
- **audited**: the same rename and its ``team.updated`` event (``audit_record`` with the
  change: the event inserted with the chain head moved, one statement), commit;
- **audited, no chain** (printed, not a goal): the same rename and the event inserted as
  before the chain (one plain ``INSERT`` with placeholder links), to show what the chain
  itself costs.

Rounds alternate (unaudited, audited, no chain) ``BENCH_AUDIT_ROUNDS`` times (7) of
``BENCH_AUDIT_WRITES`` operations (300); the figure is each kind's median time per
operation; then 4 threads at once, unaudited and audited (the head serialises a partnership's
audited transactions). ``audit_verify``'s speed is printed too (the Suffolk chain, events/s).
"""

from __future__ import annotations

import itertools
import json
import os
import threading
import time

from benchmarks.common import BENCH_SCHEMA, FULL_SETTINGS, Goal, Report, median, say

ROUNDS = int(os.environ.get("BENCH_AUDIT_ROUNDS", "7"))
WRITES = int(os.environ.get("BENCH_AUDIT_WRITES", "300"))
RUNS = int(os.environ.get("BENCH_AUDIT_RUNS", "5"))
SECONDS = int(os.environ.get("BENCH_AUDIT_SECONDS", "5"))
TARGET = 0.8


def _team():
    from tenant_apps.directory.models import Agency, Team

    agency, _ = Agency.objects.get_or_create(name="Bench Agency", defaults={"kind": "council"})
    team, _ = Team.objects.get_or_create(agency=agency, name="Bench Team")
    return team


_placeholder = itertools.count(1)
_PLAIN_INSERT = (
    "INSERT INTO audit_auditevent (occurred_at, actor_label, user_agent, action, object_type, object_id, summary, "
    "changes, seq, prev_hash, hash) VALUES (now(), '', '', 'team.updated', 'team', %s, 'Team renamed', %s::jsonb, %s, "
    "'-', '-')"
)


def _round(kind: str, team, n: int) -> float:
    from django.db import connection, transaction

    from tenant_apps.audit.services import audit_record
    from tenant_apps.directory.models import Team

    started = time.perf_counter()
    for i in range(n):
        name = f"Bench Team {i % 2}"
        with transaction.atomic():
            Team.objects.filter(pk=team.pk).update(name=name)
            if kind == "audited":
                audit_record(action="team.updated", object_type="team", object_id=team.pk,
                             summary="Team renamed", changes={"name": ["Bench Team", name]})  # fmt: skip
            elif kind == "no chain":
                # What audit_record wrote before the chain: one INSERT (links left as placeholders).
                with connection.cursor() as cursor:
                    cursor.execute(_PLAIN_INSERT, [str(team.pk), json.dumps({"name": ["Bench Team", name]}),
                                                   -next(_placeholder)])  # fmt: skip
    return (time.perf_counter() - started) / n


THREADS = 4


def _concurrent(kind: str, team) -> float:
    """Writes per second, in all, of THREADS threads writing at once in one partnership (the chain
    head serialises audited transactions from their audit write to their commit)."""
    from django.db import connections
    from django_tenants.utils import schema_context

    barrier = threading.Barrier(THREADS + 1)
    failures = []

    def writer() -> None:
        try:
            with schema_context(BENCH_SCHEMA):
                barrier.wait()
                _round(kind, team, WRITES)
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return THREADS * WRITES / (time.perf_counter() - started)


def _remove_placeholders() -> None:
    from django.db import connection

    from concord.db_roles import owner_mode

    with owner_mode(), connection.cursor() as cursor:  # past the trigger: as the owner
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("DELETE FROM audit_auditevent WHERE seq < 0")
        cursor.execute("SET session_replication_role = DEFAULT")


def run(report: Report) -> None:
    from django.db import connection
    from django_tenants.utils import schema_context

    from tenant_apps.audit.chain import chain_verify

    say("== Audited writes ==")
    with schema_context(BENCH_SCHEMA):
        team = _team()
        for kind in ("unaudited", "audited", "no chain"):
            _round(kind, team, 50)  # warm up
        times: dict[str, list[float]] = {"unaudited": [], "audited": [], "no chain": []}
        for _ in range(ROUNDS):
            for kind in times:
                times[kind].append(_round(kind, team, WRITES))
        _remove_placeholders()
    connection.set_schema_to_public()
    unaudited, audited, plain = (median(times[k]) for k in ("unaudited", "audited", "no chain"))
    ratio = unaudited / audited
    lines = [
        f"unaudited write: {unaudited * 1e3:.3f} ms ({1 / unaudited:.0f}/s); audited: {audited * 1e3:.3f} ms "
        f"({1 / audited:.0f}/s); audited without the chain: {plain * 1e3:.3f} ms ({1 / plain:.0f}/s)",
        f"audited / unaudited throughput: {ratio:.2f}x; the chain's own cost: {(audited - plain) * 1e3:.3f} ms "
        f"per event (audited without the chain / unaudited: {unaudited / plain:.2f}x)",
    ]
    for kind in ("unaudited", "audited"):
        rate = _concurrent(kind, team)
        lines.append(f"{THREADS} writers at once in one partnership, {kind}: {rate:.0f} writes/s in all")
    started = time.perf_counter()
    verified = chain_verify(BENCH_SCHEMA)
    took = time.perf_counter() - started
    lines.append(
        f"audit_verify {BENCH_SCHEMA}: {verified.events:,} events in {took:.2f} s "
        f"({verified.events / took:,.0f} events/s), ok={verified.ok}"
    )
    for line in lines:
        say(f"  {line}")
    report.lines.extend(lines)
    _served(report)


def _served(report: Report) -> None:
    from django.db import connections
    from django_tenants.utils import schema_context

    from benchmarks.routing import find_wrk, load, start_server
    from benchmarks.routing import prepare_data as signed_in_cookie
    from tenant_apps.directory.models import Agency

    wrk = find_wrk()
    if not wrk:
        say("  wrk is unavailable: the served figures are not measured")
        report.lines.append("NOTE audit: wrk unavailable, the served audited/unaudited ratio not measured")
        return
    cookie = signed_in_cookie()
    with schema_context(BENCH_SCHEMA):
        Agency.objects.get_or_create(name="Bench Write Agency", defaults={"kind": "council"})
    connections.close_all()
    server = start_server("audit", FULL_SETTINGS, run_ports=2 * (RUNS + 1))  # a port for each run
    paths = {"unaudited": "/bench/write/", "audited": "/bench/write-audited/"}
    rates: dict[str, list[float]] = {key: [] for key in paths}
    try:
        for path in paths.values():
            status, body = server.get(path, cookie)
            if status != 200 or b'"team"' not in body:
                raise RuntimeError(f"{path} answered {status}: {body[:200]!r}")
            load(wrk, server, path, cookie, 2)  # warm-up
        for run_number in range(RUNS):
            order = list(paths) if run_number % 2 == 0 else list(reversed(paths))  # drift weighs on both
            for key in order:
                rates[key].append(load(wrk, server, paths[key], cookie, SECONDS)[0])
            say(f"    run {run_number + 1}: " + ", ".join(f"{k} {v[-1]:.0f} req/s" for k, v in rates.items()))
    finally:
        server.stop()
        os.unlink(server.log_path)
    unaudited, audited = median(rates["unaudited"]), median(rates["audited"])
    paired = median([a / u for a, u in zip(rates["audited"], rates["unaudited"], strict=True)])
    line = (
        f"served (gunicorn, 2 workers, wrk 4 connections), a team added in one transaction: unaudited "
        f"{unaudited:.0f} req/s, audited {audited:.0f} req/s = {audited / unaudited:.2f}x (paired runs {paired:.2f}x; "
        f"medians of {RUNS} runs of {SECONDS} s)"
    )
    say(f"  {line}")
    report.lines.append(line)
    report.goals.append(Goal("audited write / unaudited write, served (req/s)", audited / unaudited, TARGET, False))
