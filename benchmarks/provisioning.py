"""Provisioning: our route against the floor (bare DDL replay), and its flatness.

- floor: ``pg_dump --schema-only -n <schema>`` of a provisioned partnership,
  renamed to a new schema name, replayed in one transaction on an open
  connection. Only the replay is timed (not pg_dump).
- route: ``tenants.provisioning.partnership_provision`` end to end, in-process,
  after the first call has migrated and dumped the template (reported apart).
- flatness: the route with 3 partnerships present against 200 present (the 197
  extra ones made by the same service).

Floor and route samples alternate; every sampled schema is dropped again (with
its rows) outside the timing, so the number of partnerships stays put.
"""

from __future__ import annotations

import os
import re
import subprocess

from benchmarks.common import BENCH_SCHEMA, Goal, Report, fmt_samples, median, ms, say, stopwatch

SAMPLES = int(os.environ.get("BENCH_PROVISION_SAMPLES", "7"))
MANY = int(os.environ.get("BENCH_MANY_PARTNERSHIPS", "200"))
FIRST = [
    (BENCH_SCHEMA, "Suffolk Community Safety Partnership"),
    ("norfolk", "Norfolk Community Safety Partnership"),
    ("staffordshire", "Staffordshire Safer Communities"),
]


def _provision(slug: str, name: str):
    from tenants.provisioning import partnership_provision

    return partnership_provision(slug=slug, name=name, admin_email=f"admin@{slug}.example", admin_name="Admin")


def _drop_partnership(slug: str) -> None:
    from django.db import connection, transaction

    from tenants.models import Domain, Partnership

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{slug}" CASCADE')
        Domain.objects.filter(tenant__schema_name=slug).delete()
        Partnership.objects.filter(schema_name=slug).delete()


_PLACEHOLDER = "__bench_floor_schema__"


def _dump_renamable(schema: str) -> str:
    """``pg_dump --schema-only -n schema``, with the schema name as a placeholder."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    command = [
        os.environ.get("PG_DUMP") or "pg_dump", "--schema-only", "--no-owner", "--no-privileges",
        "--no-tablespaces", "--no-comments", "--schema", schema, "--dbname", db["NAME"],
    ]  # fmt: skip
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if db.get(key):
            command += [flag, str(db[key])]
    dump = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    # psql meta-commands (\restrict ...) are not SQL; everything else is replayed as dumped.
    dump = "\n".join(line for line in dump.splitlines() if not line.startswith("\\"))
    dump = re.sub(rf"^CREATE SCHEMA {re.escape(schema)};", f"CREATE SCHEMA {_PLACEHOLDER};", dump, flags=re.M)
    return re.sub(rf'(?<![\w"]){re.escape(schema)}\.', f"{_PLACEHOLDER}.", dump)


class Floor:
    """Replays a provisioned schema's DDL under a new name, on its own open connection."""

    def __init__(self, source_schema: str):
        import psycopg
        from django.conf import settings

        self.template = _dump_renamable(source_schema)
        db = settings.DATABASES["default"]
        self.conn = psycopg.connect(
            dbname=db["NAME"], host=db.get("HOST") or None, port=db.get("PORT") or None,
            user=db.get("USER") or None, password=db.get("PASSWORD") or None,
        )  # fmt: skip
        self.source_tables = self._tables(source_schema)

    def _tables(self, schema: str) -> int:
        row = self.conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = %s", [schema]).fetchone()
        self.conn.commit()
        return row[0]

    def sample(self, schema: str, into: list[float]) -> None:
        ddl = self.template.replace(_PLACEHOLDER, schema)
        with stopwatch(into), self.conn.transaction():
            self.conn.execute(ddl)
        tables = self._tables(schema)
        if tables != self.source_tables:
            raise RuntimeError(f"floor replay made {tables} tables, expected {self.source_tables}")
        with self.conn.transaction():
            self.conn.execute(f'DROP SCHEMA "{schema}" CASCADE')

    def close(self) -> None:
        self.conn.close()


def _samples(label: str, floor: Floor, tag: str) -> tuple[list[float], list[float]]:
    floors: list[float] = []
    routes: list[float] = []
    for i in range(SAMPLES):
        floor.sample(f"floor{tag}{i}", floors)
        slug = f"sample{tag}{i}"
        with stopwatch(routes):
            _provision(slug, f"Sample partnership {tag}{i}")
        _drop_partnership(slug)
    say(f"  {label}: floor {fmt_samples(floors)}")
    say(f"  {label}: route {fmt_samples(routes)}")
    return floors, routes


def ensure_first_partnerships(report: Report | None = None) -> None:
    """The three demo-like partnerships (the first call also builds the template)."""
    from tenants.models import Partnership

    first: list[float] = []
    for slug, name in FIRST:
        if Partnership.objects.filter(schema_name=slug).exists():
            continue
        timings: list[float] = []
        with stopwatch(timings):
            _provision(slug, name)
        first.append(timings[0])
    if report is not None and first:
        line = (
            f"first call (migrates the template, pg_dumps it, then provisions): {ms(first[0])}; "
            f"next two calls: {', '.join(ms(t) for t in first[1:])}"
        )
        say(f"  {line}")
        report.lines.append(line)


def run(report: Report) -> None:
    from tenants.models import Partnership

    say("== Provisioning ==")
    ensure_first_partnerships(report)
    count = Partnership.objects.count()
    if count != len(FIRST):
        raise RuntimeError(f"expected {len(FIRST)} partnerships before sampling, found {count}")

    floor = Floor(FIRST[1][0])
    try:
        say(f"  floor replays the pg_dump of {FIRST[1][0]!r} ({floor.source_tables} tables); {SAMPLES} samples each")
        floor_3, route_3 = _samples(f"{count} present", floor, "a")

        extra = MANY - count
        say(f"  creating {extra} more partnerships with partnership_provision ...")
        made: list[float] = []
        for i in range(extra):
            with stopwatch(made):
                _provision(f"extra{i:04d}", f"Extra partnership {i}")
            if (i + 1) % 50 == 0:
                say(f"    {i + 1}/{extra} (median so far {ms(median(made))})")
        count_many = Partnership.objects.count()
        if count_many != MANY:
            raise RuntimeError(f"expected {MANY} partnerships, found {count_many}")
        line = f"{extra} extra partnerships made in {sum(made):.1f} s (median {ms(median(made))} each)"
        say(f"  {line}")
        report.lines.append(line)

        floor_n, route_n = _samples(f"{count_many} present", floor, "b")
    finally:
        floor.close()

    f3, r3, fn, rn = median(floor_3), median(route_3), median(floor_n), median(route_n)
    lines = [
        f"floor (DDL replay, one transaction), {count} present: median {ms(f3)}",
        f"route (partnership_provision), {count} present: median {ms(r3)}",
        f"floor, {count_many} present: median {ms(fn)}",
        f"route, {count_many} present: median {ms(rn)}",
        f"route/floor with {count_many} present: {rn / fn:.2f}x",
        f"floor {count_many}/{count} present: {fn / f3:.2f}x",
    ]
    for line in lines:
        say(f"  {line}")
    report.lines.extend(lines)
    report.goals.append(Goal(f"provisioning/floor ({count} present)", r3 / f3, 3.0, at_most=True))
    report.goals.append(Goal(f"provisioning flatness ({count_many}/{count} present)", rn / r3, 1.2, at_most=True))
    for goal in report.goals[-2:]:
        say(f"  {goal.line()}")
