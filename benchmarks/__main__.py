"""``python -m benchmarks [provisioning|routing|search|case_page|audit|assessment ...]`` (no argument: all of them).

Creates the benchmarks' own database (``<dev name>_bench``, from ``DATABASE_URL``
with the name replaced), migrates it, runs the benchmarks, prints a summary and
drops the database, also on failure or Ctrl-C.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import signal
import sys
import time

from benchmarks.common import FULL_SETTINGS, SOURCE_ROOT, Report, bench_database, create_database, drop_database, say

BENCHMARKS = ("provisioning", "routing", "search", "case_page", "audit", "assessment")


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "names", nargs="*", metavar="{provisioning,routing,search,case_page,audit,assessment}", help="default: all"
    )
    parser.add_argument("--keep-database", action="store_true", help="do not drop the benchmark database at the end")
    args = parser.parse_args()
    names = args.names or list(BENCHMARKS)
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")

    if str(SOURCE_ROOT) not in sys.path:
        sys.path.insert(1, str(SOURCE_ROOT))
    db = bench_database()
    os.environ["BENCH_DATABASE_NAME"] = db.name  # the same name for every child process
    os.environ["DJANGO_SETTINGS_MODULE"] = FULL_SETTINGS
    signal.signal(signal.SIGTERM, _interrupt)

    started = time.monotonic()
    say(f"benchmarks: {', '.join(names)} on database {db.name!r} (dev database {db.dev_name!r} is not touched)")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    say(
        f"machine: {os.cpu_count()} cores, load average {load}, Python {platform.python_version()}, "
        f"{datetime.datetime.now().isoformat(timespec='minutes')}"
    )
    report = Report()
    create_database(db)
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection

        if settings.DATABASES["default"]["NAME"] != db.name:
            raise RuntimeError("the settings do not point at the benchmark database")
        # Migrating first: it runs as the owner and creates the platform's roles, which the
        # connection switches to from its first statement (a fresh cluster has none).
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            say(f"database: {cursor.fetchone()[0].split(' on ')[0]}")

        from benchmarks import case_page, provisioning, routing

        if "provisioning" in names:
            provisioning.run(report)
        else:
            provisioning.ensure_first_partnerships()
        if "routing" in names:
            routing.run(report)
        if "case_page" in names:
            case_page.run(report)
        if "search" in names:
            from benchmarks import search

            search.run(report)
        if "audit" in names:
            from benchmarks import audit

            audit.run(report)
        if "assessment" in names:
            from benchmarks import assessment

            assessment.run(report)
    finally:
        try:
            from django.db import connections

            connections.close_all()
        except Exception as error:  # noqa: BLE001 - the drop below must still run
            say(f"closing connections failed: {error}")
        if args.keep_database:
            say(f"benchmark database {db.name!r} kept (--keep-database)")
        else:
            dropped = drop_database(db)
            say(f"benchmark database {db.name!r} {'dropped' if dropped else 'NOT dropped'}")

    say()
    say(f"== Summary ({time.monotonic() - started:.0f} s) ==")
    for line in report.lines:
        say(f"  {line}")
    for goal in report.goals:
        say(f"  {goal.line()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
