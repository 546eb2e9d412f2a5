"""Configuration from the environment: strict, named errors; production refuses weak secrets."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from concord import env
from tests.conftest import REPO, project_env


@pytest.mark.parametrize(
    ("variable", "value", "reader"),
    [
        ("DATABASE_URL", "mysql://x@y/z", lambda: env.env_database_url("DATABASE_URL")),
        ("DATABASE_URL", "postgres://host:notaport/db", lambda: env.env_database_url("DATABASE_URL")),
        ("DATABASE_URL", "postgres://host:5432/", lambda: env.env_database_url("DATABASE_URL")),
        ("DATABASE_URL", "postgres://h/db?evil=1", lambda: env.env_database_url("DATABASE_URL")),
        ("EMAIL_PORT", "twenty-five", lambda: env.env_int("EMAIL_PORT")),
        ("EMAIL_PORT", "70000", lambda: env.env_int("EMAIL_PORT", maximum=65535)),
        ("EMAIL_USE_TLS", "maybe", lambda: env.env_bool("EMAIL_USE_TLS")),
        ("PLATFORM_DOMAIN", "https://concord.example", lambda: env.env_hostname("PLATFORM_DOMAIN")),
        ("SENTRY_DSN", "not a url", lambda: env.env_url("SENTRY_DSN")),
        ("PLATFORM_SCHEME", "ftp", lambda: env.env_choice("PLATFORM_SCHEME", ("http", "https"))),
        ("FIELD_ENCRYPTION_KEYS", "not-a-key", lambda: env.env_fernet_keys("FIELD_ENCRYPTION_KEYS")),
    ],
)
def test_malformed_value_names_the_variable(monkeypatch, variable, value, reader):
    monkeypatch.setenv(variable, value)
    with pytest.raises(env.EnvError, match=variable):
        reader()


def test_database_url_never_echoes_a_password(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u:hunter2secret@host:bad/db")
    with pytest.raises(env.EnvError) as error:
        env.env_database_url("DATABASE_URL")
    assert "hunter2secret" not in str(error.value)


def test_database_url_parses_a_full_url(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://concord:p%40ss@db.internal:6543/concord?sslmode=require")
    parsed = env.env_database_url("DATABASE_URL")
    assert (parsed.user, parsed.password, parsed.host, parsed.port, parsed.name) == (
        "concord", "p@ss", "db.internal", 6543, "concord",
    )  # fmt: skip
    assert parsed.options == {"sslmode": "require"}


def _run_settings(module: str, **variables: str) -> subprocess.CompletedProcess:
    environment = project_env(DJANGO_SETTINGS_MODULE=module, **variables)
    for name in ("SECRET_KEY", "SENTRY_DSN", "FIELD_ENCRYPTION_KEYS"):
        if name not in variables:
            environment.pop(name, None)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        env=environment, capture_output=True, text=True, cwd=REPO, timeout=60,
    )  # fmt: skip


def test_a_malformed_variable_stops_start_up_with_its_name():
    result = _run_settings("concord.settings.development", EMAIL_PORT="abc")
    assert result.returncode != 0
    assert "EMAIL_PORT must be a whole number" in result.stderr


def test_development_starts_with_no_variables():
    environment = {k: v for k, v in project_env().items() if k not in ("DATABASE_URL",)}
    environment["DJANGO_SETTINGS_MODULE"] = "concord.settings.development"
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        env=environment, capture_output=True, text=True, cwd=REPO, timeout=60,
    )  # fmt: skip
    assert result.stdout.strip() == "started", result.stderr


def test_production_refuses_to_start_without_encryption_keys():
    result = _run_settings(
        "concord.settings.production", SECRET_KEY="k2#9vQ!f7Lr0pX@z8Wm4Nc6Bd1Ht5Jy3Ge*Ua&Si^Ro%Tq$Pn+Mv=Kw-Lx_Zb~Cd"
    )
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS must be set" in result.stderr


@pytest.mark.parametrize("secret", [None, "short", "development-only-not-secret-" + "x" * 40])
def test_production_refuses_to_start_without_a_real_secret_key(secret):
    variables = {} if secret is None else {"SECRET_KEY": secret}
    result = _run_settings("concord.settings.production", **variables)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    environment = project_env(
        DJANGO_SETTINGS_MODULE="concord.settings.production",
        SECRET_KEY="k2#9vQ!f7Lr0pX@z8Wm4Nc6Bd1Ht5Jy3Ge*Ua&Si^Ro%Tq$Pn+Mv=Kw-Lx_Zb~Cd",
        FIELD_ENCRYPTION_KEYS="8DqTg2U6H4vYyJ3Hq8pQYxFQk6aZ0kVbq7l1bW3kz2c=",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "DEBUG"],
        env=environment, capture_output=True, text=True, cwd=REPO, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_env_example_documents_every_variable():
    read = set()
    for path in (REPO / "platform" / "concord" / "settings").glob("*.py"):
        read |= set(re.findall(r'env_[a-z_]+\(\s*"([A-Z0-9_]+)"', path.read_text()))
    documented = set(re.findall(r"^#?\s*([A-Z0-9_]+)=", (REPO / ".env.example").read_text(), re.MULTILINE))
    assert read - documented == set()
    assert documented - read - {"DJANGO_SETTINGS_MODULE"} == set()


def test_no_secret_in_the_repository():
    example = (Path(REPO) / ".env.example").read_text()
    assert re.search(r"^SECRET_KEY=\S", example, re.MULTILINE) is None


def test_models_and_migrations_agree():
    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        env=project_env(DJANGO_SETTINGS_MODULE="concord.settings.development"),
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
