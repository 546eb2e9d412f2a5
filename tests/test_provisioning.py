"""Provisioning: identical to migrations in structure, atomic, idempotent, strict about input."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from concord.db_roles import owner_mode
from tenants.models import Domain, Partnership
from tenants.provisioning import partnership_provision
from tests.conftest import REPO, manage, project_env, subprocess_database_url

# --- Structure: provisioned == migrated ---------------------------------------------

STRUCTURE_QUERIES = {
    "tables": """
        SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = %(s)s""",
    "columns": """
        SELECT table_name, column_name,
               -- the column's place in its table; attnum itself keeps gaps where migrations
               -- dropped columns, which a replayed table does not have
               row_number() OVER (PARTITION BY table_name ORDER BY ordinal_position),
               data_type, udt_name, character_maximum_length,
               numeric_precision, numeric_scale, datetime_precision, is_nullable, column_default,
               is_identity, identity_generation, identity_start, identity_increment, is_generated,
               generation_expression, collation_name
        FROM information_schema.columns WHERE table_schema = %(s)s""",
    "indexes": """
        SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = %(s)s""",
    "constraints": """
        SELECT c.relname, con.conname, con.contype, con.condeferrable, con.condeferred, con.convalidated,
               pg_get_constraintdef(con.oid, true)
        FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %(s)s""",
    "sequences": """
        SELECT s.sequencename, s.data_type::text, s.start_value, s.min_value, s.max_value, s.increment_by,
               s.cycle, s.cache_size, d.refobjid::regclass::text AS owned_by_table, a.attname AS owned_by_column
        FROM pg_sequences s
        JOIN pg_class c ON c.relname = s.sequencename
        JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = s.schemaname
        LEFT JOIN pg_depend d ON d.objid = c.oid AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
        LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
        WHERE s.schemaname = %(s)s""",
    "triggers": """
        SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid, true)
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %(s)s AND NOT t.tgisinternal""",
    "functions": """
        SELECT p.proname, pg_get_function_identity_arguments(p.oid), pg_get_functiondef(p.oid)
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = %(s)s""",
    "views": """
        SELECT table_name, view_definition FROM information_schema.views WHERE table_schema = %(s)s""",
}


def schema_structure(schema: str) -> dict[str, list[tuple]]:
    """Every table, column, index, constraint, sequence, trigger, function and view, with
    the schema's own name replaced so that two schemas can be compared."""
    structure = {}
    with owner_mode(), connection.cursor() as cursor:  # information_schema shows the owner everything
        cursor.execute("SET LOCAL search_path = pg_catalog") if connection.in_atomic_block else None
        for kind, query in STRUCTURE_QUERIES.items():
            cursor.execute(query, {"s": schema})
            rows = [
                tuple(str(v).replace(f'"{schema}".', "<schema>.").replace(f"{schema}.", "<schema>.") for v in row)
                for row in cursor.fetchall()
            ]
            structure[kind] = sorted(rows)
    return structure


@pytest.fixture(scope="module")
def migrated_schema(django_db_setup, django_db_blocker):
    """A schema built by running every migration, the reference for provisioned ones."""
    name = "migratedref"
    with django_db_blocker.unblock():
        with owner_mode(), connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
            cursor.execute(f'CREATE SCHEMA "{name}"')
        call_command("migrate_schemas", schema_name=name, tenant=True, interactive=False, verbosity=0)
        connection.set_schema_to_public()
        yield name
        with owner_mode(), connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def test_a_provisioned_schema_has_the_structure_of_a_migrated_one(db, migrated_schema):
    partnership_provision(slug="structure", name="Structure Check", admin_email="admin@structure.test")
    provisioned = schema_structure("structure")
    migrated = schema_structure(migrated_schema)
    assert provisioned["tables"], "the comparison must see tables"
    assert len(provisioned["columns"]) > 20
    assert provisioned["indexes"] and provisioned["constraints"] and provisioned["sequences"]
    for kind in STRUCTURE_QUERIES:
        assert provisioned[kind] == migrated[kind], kind


def test_a_provisioned_schema_has_the_migrated_history_and_reference_rows(db, migrated_schema):
    partnership_provision(slug="history", name="History Check", admin_email="admin@history.test")
    with owner_mode(), connection.cursor() as cursor:
        for query in [
            'SELECT app, name FROM "{}".django_migrations ORDER BY app, name',
            'SELECT app_label, model FROM "{}".django_content_type ORDER BY 1, 2',
            'SELECT ct.app_label, p.codename FROM "{0}".auth_permission p '
            'JOIN "{0}".django_content_type ct ON ct.id = p.content_type_id ORDER BY 1, 2',
            'SELECT id, name, code, is_active FROM "{}".casework_casetype ORDER BY id',
        ]:
            cursor.execute(query.format("history"))
            provisioned = cursor.fetchall()
            cursor.execute(query.format(migrated_schema))
            assert provisioned == cursor.fetchall()
            assert provisioned


def test_the_template_holds_only_what_migrations_wrote(db):
    """No users, sessions, audit events or casework: only content types, permissions and
    the rows data migrations seed (case types), which every new partnership gets too."""
    from django.conf import settings

    from tenants.provisioning import current_template

    template = settings.TENANT_TEMPLATE_SCHEMA
    filled = set()
    with owner_mode(), connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [template])
        tables = [row[0] for row in cursor.fetchall()]
        assert "accounts_user" in tables
        for table in tables:
            cursor.execute(f'SELECT count(*) FROM "{template}"."{table}"')
            if cursor.fetchone()[0]:
                filled.add(table)
    assert filled == {"django_migrations", "django_content_type", "auth_permission", "casework_casetype"}
    assert set(current_template().seeded_tables) == filled - {"django_migrations"}


# --- The service and the command ------------------------------------------------------


def test_provisioning_creates_schema_domain_and_an_invited_admin(db):
    from tenant_apps.accounts.models import User

    result = partnership_provision(
        slug="westsuffolk", name="West Suffolk CSP", admin_email="Admin@WestSuffolk.test", admin_name="Ann Admin"
    )
    partnership = Partnership.objects.get(schema_name="westsuffolk")
    assert result.created and partnership.name == "West Suffolk CSP" and partnership.is_active
    assert Domain.objects.get(tenant=partnership).domain == "westsuffolk.localhost"
    with schema_context("westsuffolk"):
        admin = User.objects.get()
        assert (admin.email, admin.role, admin.has_usable_password()) == ("admin@westsuffolk.test", "admin", False)
    assert result.set_password_url.startswith("http://westsuffolk.localhost:8000/account/set-password/")

    # The printed link sets the password once, then leads to enrolling a second factor.
    client = Client(HTTP_HOST="westsuffolk.localhost")
    path = result.set_password_url.split(":8000", 1)[1]
    form = client.get(path, follow=True)
    assert b"Set your password" in form.content
    new_password = "a long enough pass phrase"
    done = client.post(form.redirect_chain[-1][0], {"new_password1": new_password, "new_password2": new_password})
    assert done.status_code == 302 and done["Location"] == "/account/two-factor/setup/"
    again = Client(HTTP_HOST="westsuffolk.localhost").get(path, follow=True)
    assert b"expired or was already used" in again.content
    signed_in = Client(HTTP_HOST="westsuffolk.localhost").post(
        "/account/sign-in/", {"email": "admin@westsuffolk.test", "password": new_password}
    )
    assert signed_in.status_code == 302 and signed_in["Location"] == "/account/two-factor/setup/"


def test_a_rerun_for_an_unfinished_invitation_reissues_it(db):
    first = partnership_provision(slug="rerun", name="Rerun CSP", admin_email="admin@rerun.test")
    second = partnership_provision(slug="rerun", name="Rerun CSP", admin_email="admin@rerun.test")
    assert first.created and not second.created
    assert Partnership.objects.filter(schema_name="rerun").count() == 1


BAD_SLUGS = [
    ("public", "reserved"), ("www", "reserved"), ("api", "reserved"), ("admin", "reserved"),
    ("pg_catalog", "reserved"), ("pg_suffolk", "reserved"), ("information_schema", "reserved"),
    ("Suffolk", "lower-case"), ("suf folk", "lower-case"), ("suf'folk", "lower-case"), ('suf"folk', "lower-case"),
    ("a" * 31, "longer than 30"), ("1suffolk", "starting with a letter"), ("suf-folk", "lower-case"),
    ("suf;drop", "lower-case"), ("", "required"),
]  # fmt: skip


def _schemas() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace")
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.parametrize(("slug", "reason"), BAD_SLUGS)
def test_bad_slugs_are_refused_with_exit_code_2_and_nothing_is_created(db, slug, reason):
    schemas, partnerships = _schemas(), Partnership.objects.count()
    with pytest.raises(CommandError) as error:
        call_command("provision_partnership", slug, name="X CSP", admin_email="admin@x.test")
    assert error.value.returncode == 2
    assert reason in str(error.value) and "\n" not in str(error.value)
    assert _schemas() == schemas and Partnership.objects.count() == partnerships


@pytest.mark.parametrize(
    ("name", "email", "reason"),
    [("", "admin@x.test", "name is required"), ("X CSP", "not-an-address", "not a valid address")],
)
def test_bad_name_or_email_is_refused(db, name, email, reason):
    with pytest.raises(CommandError, match=reason) as error:
        call_command("provision_partnership", "okslug", name=name, admin_email=email)
    assert error.value.returncode == 2
    assert not Partnership.objects.filter(schema_name="okslug").exists()


def test_a_duplicate_is_refused(db, suffolk):
    with pytest.raises(CommandError, match="already exists") as error:
        call_command("provision_partnership", "suffolk", name="Another", admin_email="alice@suffolk.test")
    assert error.value.returncode == 2
    assert Partnership.objects.get(schema_name="suffolk").name == "Suffolk Community Safety Partnership"


def test_the_command_exits_2_with_one_line():
    result = manage("provision_partnership", "Public", "--name", "X", "--admin-email", "admin@x.test")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "slug 'Public'" in result.stderr


# --- Killed half-way -------------------------------------------------------------------


def _cleanup(slug: str) -> None:
    connection.set_schema_to_public()
    with owner_mode():
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{slug}" CASCADE')
        Domain.objects.filter(tenant__schema_name=slug).delete()
        Partnership.objects.filter(schema_name=slug).delete()


def test_a_provisioning_killed_half_way_leaves_nothing_and_a_rerun_completes(committed_db):
    slug = "killed"
    _cleanup(slug)
    url = subprocess_database_url()
    blocker = psycopg.connect(url)
    process = None
    try:
        # Let the run create its schema, tables and partnership row, then hold it at the
        # domain write (SHARE mode blocks writes but not the reads before them).
        blocker.execute("LOCK TABLE public.tenants_domain IN SHARE MODE")
        process = subprocess.Popen(
            [sys.executable, str(REPO / "manage.py"), "provision_partnership", slug,
             "--name", "Killed CSP", "--admin-email", "admin@killed.test"],
            env=project_env(), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        waiting_pid = None
        with psycopg.connect(url, autocommit=True) as observer:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and waiting_pid is None:
                row = observer.execute(
                    "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE %s",
                    ['%"tenants_domain"%'],
                ).fetchone()
                waiting_pid = row[0] if row else None
                time.sleep(0.05)
            if waiting_pid is None:
                process.kill()
                pytest.fail(f"the provisioning never reached the domain write: {process.communicate()}")
            # Half-way: schema and tables exist inside its transaction; nobody else sees them.
            assert observer.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [slug]).fetchone() is None
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
            blocker.rollback()
            deadline = time.monotonic() + 30
            while observer.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [waiting_pid]).fetchone():
                assert time.monotonic() < deadline, "the killed run's backend did not end"
                time.sleep(0.05)
            assert observer.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [slug]).fetchone() is None
            assert (
                observer.execute("SELECT 1 FROM tenants_partnership WHERE schema_name = %s", [slug]).fetchone() is None
            )
            assert (
                observer.execute("SELECT 1 FROM tenants_domain WHERE domain LIKE %s", [f"{slug}.%"]).fetchone() is None
            )
        assert Client(HTTP_HOST=f"{slug}.localhost").get("/account/sign-in/").status_code == 404

        rerun = manage("provision_partnership", slug, "--name", "Killed CSP", "--admin-email", "admin@killed.test")
        assert rerun.returncode == 0, rerun.stderr
        assert Client(HTTP_HOST=f"{slug}.localhost").get("/account/sign-in/").status_code == 200
    finally:
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        blocker.close()
        _cleanup(slug)
