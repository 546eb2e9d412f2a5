"""The layout's rules: platform/ is a source root, dependencies point one way."""

import ast
import importlib
import sys
import sysconfig
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_import_platform_is_the_standard_library_module():
    import platform

    import concord  # noqa: F401 - the project is loaded

    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    assert Path(platform.__file__).resolve().parent == stdlib
    assert callable(platform.python_version)
    assert "concord" in sys.modules


def test_platform_is_a_source_root_without_loose_python_files():
    root = REPO / "platform"
    assert not (root / "__init__.py").exists()
    assert not list(root.glob("*.py"))
    assert [p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "__"))] == ["concord"]


def test_top_level_layout():
    for name in ["platform", "tenants", "shared_apps", "tenant_apps", "infra", "tests", "manage.py",
                 "pyproject.toml", "README.md", ".env.example", ".ci/run"]:  # fmt: skip
        assert (REPO / name).exists(), name


def _imported_modules(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_shared_apps_never_import_tenant_apps():
    offenders = [
        f"{path.relative_to(REPO)} imports {module}"
        for path in (REPO / "shared_apps").rglob("*.py")
        for module in _imported_modules(path)
        if module.split(".")[0] == "tenant_apps"
    ]
    assert offenders == []


def test_app_lists_keep_auth_sessions_and_contenttypes_together():
    from django.conf import settings

    together = {"django.contrib.auth", "django.contrib.sessions", "django.contrib.contenttypes", "django_otp"}
    assert together <= set(settings.SHARED_APPS)
    assert together <= set(settings.TENANT_APPS)
    assert not hasattr(settings, "SESSION_COOKIE_DOMAIN") or settings.SESSION_COOKIE_DOMAIN is None
    assert settings.CSRF_COOKIE_DOMAIN is None


def test_every_tenant_app_is_importable():
    from django.conf import settings

    for app in settings.TENANT_APPS:
        importlib.import_module(app)


FLOOR = [
    *(f"platform/concord/{name}.py" for name in ("env", "crypto", "sql", "jobs", "errors", "pages", "paging",
                                                 "fields", "http")),
    "platform/concord/api",
]  # fmt: skip


def test_the_floor_imports_no_app():
    """The floor (LAYOUT.md's ladder) may import tenants.models, never another module of
    tenants, shared_apps or tenant_apps (function-local imports included)."""
    paths = [
        path for entry in FLOOR for path in ([REPO / entry] if entry.endswith(".py") else (REPO / entry).rglob("*.py"))
    ]
    assert len(paths) > len(FLOOR)
    offenders = [
        f"{path.relative_to(REPO)} imports {module}"
        for path in paths
        for module in _imported_modules(path)
        if module.split(".")[0] in ("shared_apps", "tenant_apps")
        or (module.split(".")[0] == "tenants" and module != "tenants.models")
    ]
    assert offenders == []
