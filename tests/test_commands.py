"""migrate_all across partnerships, and the demo seed."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django_tenants.utils import schema_context

from concord.db_roles import owner_mode
from tenants.models import Domain, Partnership
from tenants.provisioning import partnership_provision
from tests.conftest import manage


def _drop(slug: str) -> None:
    with owner_mode(), connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{slug}" CASCADE')
    Domain.objects.filter(tenant__schema_name=slug).delete()
    Partnership.objects.filter(schema_name=slug).delete()


def test_migrate_all_reports_each_partnership_and_survives_one_failure(committed_db):
    _drop("migbroken")
    partnership_provision(slug="migbroken", name="Broken CSP", admin_email="admin@migbroken.test")
    # Forget that the sessions migration ran: re-running it fails on the existing table.
    with owner_mode(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM migbroken.django_migrations WHERE app = 'sessions'")
    try:
        result = manage("migrate_all", "--parallel", "2", timeout=300)
        assert result.returncode == 1, result.stdout + result.stderr
        assert "suffolk: ok" in result.stdout and "norfolk: ok" in result.stdout
        failed = [line for line in result.stderr.splitlines() if line.startswith("migbroken: FAILED")]
        assert failed and "already exists" in failed[0], result.stderr
        assert "1 failed" in result.stdout
    finally:
        _drop("migbroken")


def test_migrate_all_succeeds_when_everything_is_current(committed_db):
    result = manage("migrate_all", timeout=300)
    assert result.returncode == 0, result.stderr
    assert "public: migrated" in result.stdout and "0 failed" in result.stdout


def test_seed_demo_is_idempotent_and_prints_how_to_sign_in(db, tmp_path, capsys):
    from tenant_apps.accounts.models import User

    with override_settings(DEBUG=True, DEMO_PASSWORD_FILE=tmp_path / "demo-password"):
        call_command("seed_demo")
        first = capsys.readouterr().out
        call_command("seed_demo")
        second = capsys.readouterr().out
    password = (tmp_path / "demo-password").read_text().strip()
    assert set(Partnership.objects.values_list("schema_name", flat=True)) >= {"suffolk", "norfolk", "staffordshire"}
    for slug in ["suffolk", "norfolk", "staffordshire"]:
        with schema_context(slug):
            demo = User.objects.filter(email__endswith=f"@{slug}.example")
            assert demo.count() == 3
            assert demo.filter(role="admin").count() == 1
            assert all(user.check_password(password) for user in demo)
    assert "Provisioned Staffordshire" in first and "Provisioned" not in second
    assert "Added demo casework" in first and "Added demo casework" not in second
    from tenant_apps.casework.models import Case, Family, Profile, TimelineEntry
    from tenant_apps.tasks.models import Task

    with schema_context("staffordshire"):
        counts = [Profile.objects.count(), Family.objects.count(), Case.objects.count()]
        assert counts == [30, 3, 8]
        assert TimelineEntry.objects.count() >= 40 and Task.objects.count() == 8
        assert TimelineEntry.objects.filter(is_sensitive=True).exists()
    assert password in second and "http://staffordshire.localhost:8000/" in second


def test_seed_demo_refuses_outside_development(db):
    with pytest.raises(CommandError) as error:
        call_command("seed_demo")
    assert error.value.returncode == 2
