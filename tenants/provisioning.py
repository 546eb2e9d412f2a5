"""Provisioning: a new partnership is made in one transaction, in about a second.

Route: the tenant apps are migrated once into a template schema
(``TENANT_TEMPLATE_SCHEMA``) that holds no rows; its schema-only DDL is dumped
once per set of migrations (``pg_dump``) and stored in ``TemplateDDL``. A new
partnership replays that DDL into its own schema, records the migrations as
applied, and gets its row, domain and first admin, all in one PostgreSQL
transaction. DDL is transactional in PostgreSQL, so a failure or a killed
process at any step leaves nothing behind; a re-run starts clean. The cost does
not grow with the migration history (the DDL is the end state) nor with the
number of schemas (no catalog-wide clone function).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone
from django_tenants.utils import schema_context, schema_exists

from concord.db_roles import as_owner, ensure_partnership_role, in_own_connection
from tenant_apps.accounts.models import User
from tenant_apps.accounts.services import invitation_send
from tenant_apps.outbox.services import release_held_email
from tenants.hosts import host_cache, partnership_host
from tenants.models import Domain, Partnership, TemplateDDL

logger = logging.getLogger(__name__)

PLACEHOLDER = "__concord_schema__"
SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9]{1,29}\Z")
RESERVED_SLUGS = frozenset(
    {
        "public", "www", "api", "admin", "static", "media", "mail", "smtp", "ftp",
        "information_schema", "concord", "operator", "operators", "platform", "status",
        "healthz", "template", "default", "root", "postgres", "test",
    }
)  # fmt: skip
_LOCK_KEY = 0x636F6E63  # "conc": serialises provisioning and template refreshes


class ProvisioningError(Exception):
    """Bad input or a conflict. The message is one line, fit for a user."""


@dataclass(frozen=True)
class ProvisionResult:
    partnership: Partnership
    admin_email: str
    set_password_url: str
    created: bool  # False when a re-run re-issued the invitation of an existing partnership


def validate_slug(slug: str) -> None:
    """Refuse anything that is not a safe schema name and host label."""
    if not isinstance(slug, str) or not slug:
        raise ProvisioningError("slug is required")
    if slug.startswith("pg_") or slug in RESERVED_SLUGS:
        raise ProvisioningError(f"slug {slug!r} is reserved; choose another")
    if len(slug) > 30:
        raise ProvisioningError(f"slug {slug!r} is longer than 30 characters")
    if not SLUG_PATTERN.match(slug):
        raise ProvisioningError(f"slug {slug!r} must be 2-30 lower-case letters and digits, starting with a letter")


def _validate(slug: str, name: str, admin_email: str) -> tuple[str, str]:
    validate_slug(slug)
    name = (name or "").strip()
    if not name:
        raise ProvisioningError("name is required")
    if len(name) > 200 or any(ord(ch) < 32 for ch in name):
        raise ProvisioningError("name must be at most 200 printable characters")
    admin_email = (admin_email or "").strip().lower()
    try:
        validate_email(admin_email)
    except ValidationError:
        raise ProvisioningError(f"admin e-mail {admin_email!r} is not a valid address") from None
    return name, admin_email


# --- The template ---------------------------------------------------------------


_migration_key_cache: tuple[str, list[list[str]]] | None = None


def code_migrations() -> tuple[str, list[list[str]]]:
    """The migrations on disk (every app, as django_migrations records them) and their hash.

    A squashed migration (django-otp-webauthn ships one) is recorded by ``migrate`` under its
    own name and under each name it replaces, so a replayed schema records both too."""
    global _migration_key_cache
    if _migration_key_cache is None:
        loader = MigrationLoader(None, ignore_no_migrations=True)
        keys = set(loader.graph.nodes)
        for migration in loader.graph.nodes.values():
            keys.update(tuple(replaced) for replaced in migration.replaces or ())
        names = sorted([app, name] for app, name in keys)
        key = hashlib.sha256(json.dumps(names).encode()).hexdigest()
        _migration_key_cache = (key, names)
    return _migration_key_cache


def template_schema() -> str:
    return settings.TENANT_TEMPLATE_SCHEMA


def refresh_template(*, verbosity: int = 0) -> TemplateDDL:
    """Migrate the template schema, dump its DDL and store it with the seeded tables (idempotent).

    It commits as it goes, and pg_dump reads the template from another
    connection: inside a caller's transaction it would wait for that very
    transaction's locks. So inside one it runs on a connection of its own.
    It runs as the database owner (``concord.db_roles``).
    """
    if connection.in_atomic_block:
        return in_own_connection(refresh_template, verbosity=verbosity)
    return as_owner(_refresh_template, verbosity=verbosity)


def _refresh_template(*, verbosity: int) -> TemplateDDL:
    key, names = code_migrations()
    template = template_schema()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [_LOCK_KEY])
    try:
        existing = TemplateDDL.objects.filter(migration_key=key).first()
        if existing is not None:
            return existing
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{template}"')
        call_command("migrate_schemas", schema_name=template, tenant=True, interactive=False, verbosity=verbosity)
        connection.set_schema_to_public()
        ddl = _dump_schema_ddl(template)
        record, _ = TemplateDDL.objects.update_or_create(
            migration_key=key,
            defaults={"ddl": ddl, "migrations": names, "seeded_tables": _seeded_tables(template)},
        )
        TemplateDDL.objects.exclude(migration_key=key).delete()
        return record
    finally:
        connection.set_schema_to_public()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_LOCK_KEY])


# Only migrations ever write to the template, so its rows are exactly what migrating a
# schema produces: content types and permissions (post_migrate) and rows seeded by data
# migrations (case types). They are copied into every new partnership. Nothing else may
# be there: no users, sessions or casework (tests/test_provisioning.py checks).


def _seeded_tables(schema: str) -> list[str]:
    """The template's tables that migrations filled, in name order (django_migrations apart)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename <> 'django_migrations' "
            "ORDER BY tablename",
            [schema],
        )
        tables = [row[0] for row in cursor.fetchall()]
        seeded = []
        for table in tables:
            cursor.execute(f'SELECT EXISTS (SELECT 1 FROM "{schema}"."{table}")')
            if cursor.fetchone()[0]:
                seeded.append(table)
    return seeded


def _pg_dump_binary() -> str:
    binary = os.environ.get("PG_DUMP") or shutil.which("pg_dump")
    if not binary:
        raise ProvisioningError("pg_dump was not found on PATH (install the PostgreSQL client or set PG_DUMP)")
    return binary


def pg_dump_schema(schema: str) -> str:
    """Schema-only DDL of one schema, as pg_dump writes it."""
    db = {**settings.DATABASES["default"], **connection.settings_dict}  # the owner's, in owner mode
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    for option, variable in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT")):
        if db.get("OPTIONS", {}).get(option):
            env[variable] = db["OPTIONS"][option]
    command = [
        _pg_dump_binary(), "--schema-only", "--no-owner", "--no-privileges", "--no-tablespaces",
        "--no-comments", "--schema", schema, "--dbname", db["NAME"],
    ]  # fmt: skip
    if db.get("HOST"):
        command += ["--host", db["HOST"]]
    if db.get("PORT"):
        command += ["--port", str(db["PORT"])]
    if db.get("USER"):
        command += ["--username", db["USER"]]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        first_line = (result.stderr.strip().splitlines() or ["unknown error"])[0]
        raise ProvisioningError(f"pg_dump failed: {first_line}")
    return result.stdout


def ddl_for_replay(dump: str, schema: str) -> str:
    """Turn a pg_dump of ``schema`` into statements with a placeholder schema name.

    Session settings, psql meta-commands, comments and the CREATE SCHEMA line are
    dropped; every qualified name points at the placeholder.
    """
    kept = []
    for line in dump.splitlines():
        if line.startswith(("--", "\\", "SET ", "SELECT pg_catalog.set_config(", "CREATE SCHEMA ")):
            continue
        kept.append(line)
    text = "\n".join(kept).strip()
    qualified = re.compile(rf'(?<![\w"])("{re.escape(schema)}"|{re.escape(schema)})\.')
    return qualified.sub(f"{PLACEHOLDER}.", text)


def _dump_schema_ddl(schema: str) -> str:
    return ddl_for_replay(pg_dump_schema(schema), schema)


_ddl_cache: dict[str, TemplateDDL] = {}


def current_template() -> TemplateDDL:
    """The stored DDL for the migrations on disk, refreshing the template if needed."""
    key, _ = code_migrations()
    record = _ddl_cache.get(key)
    if record is None:
        record = TemplateDDL.objects.filter(migration_key=key).first() or refresh_template()
        _ddl_cache.clear()
        _ddl_cache[key] = record
    return record


def replay_ddl(*, schema: str, template: TemplateDDL) -> None:
    """Create ``schema`` with the template's tables, its migrations recorded as applied and
    the rows migrations seeded (content types, permissions, case types) copied with their
    ids. Foreign keys are deferred to commit, so the copying order does not matter."""
    source = template_schema()
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA "{schema}"')
        cursor.execute(template.ddl.replace(PLACEHOLDER, f'"{schema}"'))
        cursor.execute(
            f'INSERT INTO "{schema}".django_migrations (app, name, applied) '
            "SELECT m.app, m.name, now() FROM jsonb_to_recordset(%s::jsonb) AS m(app text, name text)",
            [json.dumps([{"app": app, "name": name} for app, name in template.migrations])],
        )
        for table in template.seeded_tables:
            cursor.execute(
                f'INSERT INTO "{schema}"."{table}" OVERRIDING SYSTEM VALUE SELECT * FROM "{source}"."{table}"'
            )
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE(max(id), 0) + 1, false) "
                f'FROM "{schema}"."{table}"',
                [f'"{schema}"."{table}"'],
            )


# --- The service ----------------------------------------------------------------


def _invite_admin(admin, partnership_name: str) -> str:
    """E-mail the first admin their invitation (inside the partnership's schema); returns the link."""
    return invitation_send(request=None, user=admin, partnership_name=partnership_name)


def partnership_provision(*, slug: str, name: str, admin_email: str, admin_name: str = "") -> ProvisionResult:
    """Create a partnership: schema, tables, role, row, domain and first admin, atomically.

    The admin's invitation is e-mailed through the job queue, in the same
    transaction, and its link returned. Re-running for an existing partnership
    with the same admin, who has not yet set a password, re-issues the
    invitation (the earlier run may have died before it was shown). Any other
    existing slug is refused. It runs as the database owner (``concord.db_roles``): from a
    request of the operator area, on an owner connection of its own.
    """
    name, admin_email = _validate(slug, name, admin_email)
    template = current_template()
    return as_owner(_provision, slug=slug, name=name, admin_email=admin_email, admin_name=admin_name, template=template)


def _provision(*, slug: str, name: str, admin_email: str, admin_name: str, template: TemplateDDL) -> ProvisionResult:
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        existing = Partnership.objects.filter(schema_name=slug).first()
        if existing is not None:
            with schema_context(slug):
                admin = User.objects.filter(email__iexact=admin_email, role=User.Role.ADMIN).first()
                if admin is None or admin.has_usable_password() or admin.last_login:
                    raise ProvisioningError(f"a partnership with slug {slug!r} already exists")
                return ProvisionResult(existing, admin_email, _invite_admin(admin, existing.name), created=False)
        if schema_exists(slug):
            raise ProvisioningError(f"a schema named {slug!r} already exists in the database")
        if Domain.objects.filter(domain=partnership_host(slug)).exists():
            raise ProvisioningError(f"the host {partnership_host(slug)} is already in use")

        replay_ddl(schema=slug, template=template)
        ensure_partnership_role(slug)  # its role and grants, in the same transaction
        partnership = Partnership.objects.create(schema_name=slug, name=name)
        Domain.objects.create(domain=partnership_host(slug), tenant=partnership, is_primary=True)
        with schema_context(slug):
            admin = User.objects.create_user(admin_email, full_name=admin_name.strip(), role=User.Role.ADMIN)
            url = _invite_admin(admin, name)
    return ProvisionResult(partnership, admin_email, url, created=True)


def _set_status(partnership: Partnership, status: str) -> Partnership:
    partnership.status = status
    partnership.status_changed = timezone.now()
    partnership.save(update_fields=["status", "status_changed"])
    host_cache.clear()  # this process at once; others within TENANT_CACHE_SECONDS
    return partnership


def partnership_suspend(*, partnership: Partnership) -> Partnership:
    """Refuse every request to the partnership (a clear page); keep all its data. Its e-mail
    is held, queued and unsent, until it is resumed (``tenant_apps.outbox.mail``)."""
    return _set_status(partnership, Partnership.Status.SUSPENDED)


def partnership_resume(*, partnership: Partnership) -> Partnership:
    """Serve the partnership again, and send the e-mail held while it was suspended."""
    with transaction.atomic():
        _set_status(partnership, Partnership.Status.ACTIVE)
        released = release_held_email(partnership.schema_name)
    if released:
        logger.info("partnership %s resumed: %d held e-mail(s) queued", partnership.schema_name, released)
    return partnership


def partnership_get(slug: str) -> Partnership:
    partnership = Partnership.objects.filter(schema_name=slug).first()
    if partnership is None:
        raise ProvisioningError(f"no partnership has the slug {slug!r}")
    return partnership
