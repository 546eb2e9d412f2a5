"""The layout's cheap rules, checked on the source (README "Layout" says why each exists).

- The ladder: a module imports only its own package or packages below it; the roof imports
  anything. Function-local imports count too: a local import does not excuse an upward arrow.
- No package-level import cycle outside the roof.
- No ORM in views or API modules: a view parses, calls one selector or service, renders.
- Names: no module named ``*_more*``, ``*_extra*``, ``views_*``, ``api_*``, ``urls_*``,
  ``*_services``, ``*_selectors``, ``*_views`` inside an app.
- Every app's ``__init__`` docstring names its public API, and each name there exists.
- Nobody imports another module's ``_private`` name.

Each rule is a function over parsed modules, so the tests at the bottom also feed it a
synthetic tree that breaks it and check that it says so.

``python tests/test_architecture.py`` prints the package graph and its cycles.
"""

from __future__ import annotations

import ast
import fnmatch
import importlib
import re
import sys
import sysconfig
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE_ROOTS = {  # top-level package -> the folder that holds it
    "concord": ROOT / "platform",
    "tenants": ROOT,
    "tenant_apps": ROOT,
    "shared_apps": ROOT,
}

# The ladder, top to bottom: a module may import its own package and anything on a lower rung,
# never a rung above, never a sibling on its own rung. Patterns match dotted module names; the
# first rung with a matching pattern wins, so the roof's exceptions come before the floors.
# A new app goes on a rung here, in the same commit that creates it.
LADDER: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "roof",
        (
            "concord.settings",
            "concord.urls_partnership",
            "concord.urls_public",
            "concord.middleware",
            "concord.wsgi",
            "concord.views",
            "concord.context_processors",
            "concord.operators",
            "concord.worker",
            "tenants.provisioning",
            "tenants.demo",
            "tenants.migration_worker",
            "tenants.management",
            "tenant_apps.*.management",
            "shared_apps.*.management",
        ),
    ),
    ("dashboard", ("tenant_apps.dashboard",)),
    # Assessments task other teams from a question (tasks) and list subjects' records (casework).
    ("assessments", ("tenant_apps.assessments",)),
    ("leaves", ("tenant_apps.tasks", "tenant_apps.search")),
    ("casework", ("tenant_apps.casework",)),
    ("documents", ("tenant_apps.documents",)),
    ("directory", ("tenant_apps.directory",)),
    ("accounts", ("tenant_apps.accounts",)),
    ("audit and outbox", ("tenant_apps.audit", "tenant_apps.outbox", "shared_apps.*")),
    # The audit chain's anchors (public): audit reads and writes them, they know nothing of audit.
    ("audit anchors", ("shared_apps.audit_anchors",)),
    ("tenancy floor", ("tenants",)),
    ("floor", ("concord",)),
)
ROOF = "roof"
NAMESPACES = {"tenant_apps", "shared_apps"}  # folders of apps, holding a docstring and nothing else


@dataclass(frozen=True)
class Module:
    name: str  # dotted: tenant_apps.casework.selectors.cases
    path: str  # for messages
    tree: ast.Module
    is_package: bool

    @classmethod
    def from_source(cls, name: str, source: str, *, is_package: bool = False) -> Module:
        return cls(name=name, path=name.replace(".", "/") + ".py", tree=ast.parse(source), is_package=is_package)


def tree_modules() -> list[Module]:
    """Every module of the project's own packages, migrations left out (Django writes them)."""
    found = []
    for top, base in SOURCE_ROOTS.items():
        for path in sorted((base / top).rglob("*.py")):
            relative = path.relative_to(base)
            if "migrations" in relative.parts:
                continue
            parts = list(relative.with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts = parts[:-1]
            found.append(
                Module(
                    name=".".join(parts),
                    path=str(path.relative_to(ROOT)),
                    tree=ast.parse(path.read_text(), filename=str(path)),
                    is_package=is_package,
                )
            )
    return found


def _matches(name: str, pattern: str) -> str | None:
    """The matched prefix of ``name`` if ``pattern`` (dotted, ``*`` for one part) covers it."""
    want = pattern.split(".")
    have = name.split(".")
    if len(have) < len(want):
        return None
    if all(fnmatch.fnmatchcase(h, w) for h, w in zip(have, want, strict=False)):
        return ".".join(have[: len(want)])
    return None


def place(name: str) -> tuple[int, str, str] | None:
    """(rung index, rung name, package) of a module of ours, None for anything else. The most
    specific pattern wins (``shared_apps.audit_anchors`` over ``shared_apps.*``), then the highest rung."""
    found = None
    for index, (rung, patterns) in enumerate(LADDER):
        for pattern in patterns:
            prefix = _matches(name, pattern)
            if prefix is not None:
                specific = (pattern.count(".") + 1, -pattern.count("*"))
                if found is None or specific > found[0]:
                    package = prefix if rung == ROOF else _package(name, prefix)
                    found = (specific, (index, rung, package))
    return None if found is None else found[1]


def _package(name: str, prefix: str) -> str:
    parts = name.split(".")
    if parts[0] in ("tenant_apps", "shared_apps") and len(parts) > 1:
        return ".".join(parts[:2])
    return prefix


def _ours(name: str) -> bool:
    return name.split(".")[0] in SOURCE_ROOTS


def imports_of(module: Module) -> Iterable[tuple[int, str, tuple[str, ...]]]:
    """(line, imported module, names taken from it) for every import, at any depth."""
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, ()
        elif isinstance(node, ast.ImportFrom):
            if node.module == "__future__":
                continue
            if node.level:
                package = module.name if module.is_package else module.name.rpartition(".")[0]
                base = package.split(".")
                if node.level > 1:
                    base = base[: -(node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            yield node.lineno, target, tuple(alias.name for alias in node.names)


def _targets(target: str, names: tuple[str, ...], known: set[str]) -> list[str]:
    """``from a import b`` imports module ``a.b`` when that is a module, else names of ``a``."""
    modules = [f"{target}.{n}" for n in names if f"{target}.{n}" in known]
    if len(modules) < len(names) or not names:
        modules.append(target)
    return modules


def upward_imports(modules: list[Module]) -> list[str]:
    known = {m.name for m in modules}
    problems = []
    for module in modules:
        if module.name in NAMESPACES:
            continue
        here = place(module.name)
        if here is None:
            problems.append(f"{module.path}: {module.name} is on no rung of the ladder (tests/test_architecture.py)")
            continue
        if here[1] == ROOF:
            continue
        for line, target, names in imports_of(module):
            for imported in _targets(target, names, known):
                if not _ours(imported):
                    continue
                there = place(imported)
                if there is None or there[2] == here[2]:
                    continue
                if there[0] < here[0]:
                    problems.append(
                        f"{module.path}:{line}: {module.name} ({here[1]}) imports {imported} ({there[1]}), a rung above"
                    )
                elif there[0] == here[0]:
                    problems.append(
                        f"{module.path}:{line}: {module.name} imports {imported}, a sibling on its own rung ({here[1]})"
                    )
    return problems


def package_graph(modules: list[Module]) -> dict[str, set[str]]:
    """Package -> the packages it imports; the roof's modules are one node, ``roof``."""
    known = {m.name for m in modules}
    graph: dict[str, set[str]] = {}
    for module in modules:
        here = place(module.name)
        source = ROOF if here is None or here[1] == ROOF else here[2]
        graph.setdefault(source, set())
        for _line, target, names in imports_of(module):
            for imported in _targets(target, names, known):
                there = place(imported) if _ours(imported) else None
                if there is None:
                    continue
                destination = ROOF if there[1] == ROOF else there[2]
                if destination != source:
                    graph[source].add(destination)
    return graph


def package_cycles(modules: list[Module]) -> list[list[str]]:
    """Strongly connected groups of more than one package, the roof left out."""
    graph = {p: {d for d in ds if d != ROOF} for p, ds in package_graph(modules).items() if p != ROOF}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def _is_view_or_api(name: str) -> bool:
    parts = name.split(".")
    if parts[0] not in ("tenant_apps", "shared_apps", "concord"):
        return False
    return any(part in ("views", "api") for part in parts[1:])


ORM_MANAGERS = {"objects", "_default_manager", "_base_manager"}


def orm_in_views(modules: list[Module]) -> list[str]:
    problems = []
    for module in modules:
        if not _is_view_or_api(module.name) or module.name == "concord.api" or module.name.startswith("concord.api."):
            continue  # concord.api is the floor's API toolkit, not a module of API views
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Attribute) and node.attr in ORM_MANAGERS:
                problems.append(f"{module.path}:{node.lineno}: .{node.attr} in a view or API module")
    return problems


BAD_NAMES = ("*_more*", "*_extra*", "views_*", "api_*", "urls_*", "*_services", "*_selectors", "*_views")
ALLOWED_NAMES = {"concord.urls_partnership", "concord.urls_public"}  # the roof's two URLconfs


def badly_named(modules: list[Module]) -> list[str]:
    problems = []
    for module in modules:
        if module.name in ALLOWED_NAMES:
            continue
        for part in module.name.split(".")[1:]:
            if any(fnmatch.fnmatchcase(part, pattern) for pattern in BAD_NAMES):
                problems.append(f'{module.path}: {part!r} is named by suffix, not by one word (README "Layout")')
    return problems


def app_packages(modules: list[Module]) -> list[Module]:
    return [
        m
        for m in modules
        if m.is_package and len(m.name.split(".")) == 2 and m.name.split(".")[0] in ("tenant_apps", "shared_apps")
    ]


_ENTRY = re.compile(r"^\s*[-*]\s+``([A-Za-z_][\w.]*)")
_NAME = re.compile(r"``([A-Za-z_][\w.]*)")


def public_api_problems(package: str, docstring: str | None) -> list[str]:
    """The docstring has a ``Public API`` section; each of its entries names something that exists.

    An entry is a bullet whose first ``code`` is a dotted name relative to the package
    (``selectors.access_case(...)``, ``register(...)``); what follows the name is prose.
    """
    if not docstring or "Public API" not in docstring:
        return [f'{package}: its __init__ docstring has no "Public API" section']
    section = docstring.split("Public API", 1)[1]
    entries = [m.group(1) for line in section.splitlines() if (m := _ENTRY.match(line))]
    if not entries:
        return [f'{package}: its "Public API" section lists nothing (bullets starting with ``name``)']
    # Further names in the section count too when they start with one of the package's own
    # modules or names (``selectors.access_case`` after ``selectors.access_profile``); prose such
    # as ``concord.errors`` or an audit action's name does not.
    for name in _NAME.findall(section):
        if "." in name and not name.endswith(".py") and name not in entries and _resolves(package, name.split(".")[0]):
            entries.append(name)
    problems = []
    for entry in entries:
        if not _resolves(package, entry):
            problems.append(f"{package}: the public API names {entry}, which does not exist")
    return problems


def _resolves(package: str, dotted: str) -> bool:
    obj = importlib.import_module(package)
    path = package
    for part in dotted.split("."):
        path = f"{path}.{part}"
        if hasattr(obj, part):
            obj = getattr(obj, part)
            continue
        try:
            obj = importlib.import_module(path)
        except ModuleNotFoundError:
            return False
    return True


def private_imports(modules: list[Module]) -> list[str]:
    problems = []
    for module in modules:
        for line, target, names in imports_of(module):
            if not _ours(target):
                continue
            for name in names:
                if name.startswith("_") and not name.startswith("__"):
                    problems.append(f"{module.path}:{line}: imports {target}.{name}, a private name of another module")
    return problems


# --- the tree as it is ---------------------------------------------------------------------

TREE = tree_modules()


def test_every_module_is_on_the_ladder_and_imports_only_downwards():
    assert upward_imports(TREE) == []


def test_no_package_level_import_cycle_outside_the_roof():
    assert package_cycles(TREE) == []


def test_no_orm_in_view_or_api_modules():
    assert orm_in_views(TREE) == []


def test_modules_are_named_by_one_word():
    assert badly_named(TREE) == []


def test_every_app_names_its_public_api_in_its_docstring():
    problems = []
    for package in app_packages(TREE):
        problems += public_api_problems(package.name, ast.get_docstring(package.tree))
    assert problems == []


def test_nobody_imports_a_private_name_of_another_module():
    assert private_imports(TREE) == []


# --- each rule says so when it is broken ------------------------------------------------------


def _tree(**sources: str) -> list[Module]:
    return [Module.from_source(name.replace("__", "."), source) for name, source in sources.items()]


def test_the_ladder_refuses_an_upward_import_a_floor_importing_an_app_and_a_sibling():
    broken = _tree(
        tenant_apps__audit__services="from tenant_apps.casework import selectors\n",
        tenant_apps__casework__selectors="def f():\n    from tenant_apps.tasks.models import Task\n",
        tenant_apps__tasks__models="",
        concord__pages="from tenant_apps.directory.selectors import teams\n",
        tenant_apps__directory__selectors="",
        tenant_apps__search__selectors="from tenant_apps.tasks import models\n",
        tenants__hosts="from concord.middleware import cache\n",
        concord__middleware="",
        tenant_apps__newapp__views="",
    )
    problems = "\n".join(upward_imports(broken))
    assert "tenant_apps.audit.services (audit and outbox) imports tenant_apps.casework.selectors" in problems
    assert "tenant_apps.casework.selectors (casework) imports tenant_apps.tasks.models" in problems  # local import
    assert "concord.pages (floor) imports tenant_apps.directory.selectors" in problems
    assert "tenant_apps.search.selectors imports tenant_apps.tasks.models, a sibling" in problems
    assert "tenants.hosts (tenancy floor) imports concord.middleware (roof)" in problems
    assert "tenant_apps.newapp.views is on no rung" in problems
    allowed = _tree(
        concord__operators__views="from tenant_apps.audit import selectors\n",
        tenant_apps__casework__views="from tenant_apps.directory import selectors\nfrom . import services\n",
        tenant_apps__casework__services="",
    )
    assert upward_imports(allowed) == []


def test_the_cycle_check_finds_a_knot_and_ignores_the_roof():
    knot = _tree(
        tenant_apps__outbox__jobs="import tenants.models\n",
        tenants__models="from tenant_apps.outbox import jobs\n",
        concord__urls_partnership="import tenant_apps.outbox.jobs\n",
    )
    assert package_cycles(knot) == [["tenant_apps.outbox", "tenants"]]


def test_the_orm_rule_finds_objects_in_a_view_package_and_an_api_module():
    broken = _tree(
        tenant_apps__casework__views__cases="def v(r):\n    return Case.objects.get(pk=1)\n",
        tenant_apps__tasks__api="def v(r):\n    return Task._default_manager.all()\n",
        tenant_apps__tasks__selectors="def s():\n    return Task.objects.all()\n",
    )
    problems = "\n".join(orm_in_views(broken))
    assert "tenant_apps/casework/views/cases.py:2: .objects" in problems
    assert "tenant_apps/tasks/api.py:2: ._default_manager" in problems
    assert "selectors" not in problems


def test_the_naming_rule_finds_suffixes():
    broken = _tree(
        tenant_apps__casework__api_more="",
        tenant_apps__casework__views_details="",
        tenant_apps__casework__details_services="",
        tenant_apps__casework__family_selectors="",
        tenant_apps__casework__urls_more="",
        concord__urls_partnership="",
        tenant_apps__casework__selectors__families="",
    )
    problems = "\n".join(badly_named(broken))
    for name in ("api_more", "views_details", "details_services", "family_selectors", "urls_more"):
        assert f"{name!r} is named by suffix" in problems
    assert "urls_partnership" not in problems
    assert "families" not in problems


def test_the_public_api_rule_wants_a_section_whose_names_exist():
    assert public_api_problems("tenant_apps.documents", None) == [
        'tenant_apps.documents: its __init__ docstring has no "Public API" section'
    ]
    assert public_api_problems("tenant_apps.documents", "Documents.\n\nPublic API:\n\nsome prose\n") == [
        'tenant_apps.documents: its "Public API" section lists nothing (bullets starting with ``name``)'
    ]
    docstring = "Documents.\n\nPublic API:\n\n- ``access.register(kind, check)``\n- ``services.no_such_thing()``\n"
    assert public_api_problems("tenant_apps.documents", docstring) == [
        "tenant_apps.documents: the public API names services.no_such_thing, which does not exist"
    ]
    later = "Public API:\n\n- ``access.register()``, ``selectors.no_such_read()``; see ``concord.errors``\n"
    assert public_api_problems("tenant_apps.documents", later) == [
        "tenant_apps.documents: the public API names selectors.no_such_read, which does not exist"
    ]


def test_the_private_name_rule_finds_an_underscored_import():
    broken = _tree(tenant_apps__tasks__views="from tenant_apps.casework.views import _apply_errors, GET_POST\n")
    assert private_imports(broken) == [
        "tenant_apps/tasks/views.py:1: imports tenant_apps.casework.views._apply_errors,"
        " a private name of another module"
    ]


# --- the project's frame ----------------------------------------------------------------------


def test_import_platform_is_the_standard_library_module():
    import platform

    import concord  # noqa: F401 - the project is loaded

    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    assert Path(platform.__file__).resolve().parent == stdlib
    assert callable(platform.python_version)
    assert "concord" in sys.modules


def test_platform_is_a_source_root_without_loose_python_files():
    root = ROOT / "platform"
    assert not (root / "__init__.py").exists()
    assert not list(root.glob("*.py"))
    assert [p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "__"))] == ["concord"]


def test_top_level_layout():
    for name in ["platform", "tenants", "shared_apps", "tenant_apps", "infra", "tests", "manage.py",
                 "pyproject.toml", "README.md", ".env.example", ".ci/run"]:  # fmt: skip
        assert (ROOT / name).exists(), name


def test_shared_apps_never_import_tenant_apps():
    offenders = [
        f"{module.path}:{line} imports {target}"
        for module in TREE
        if module.name.startswith("shared_apps.")
        for line, target, _names in imports_of(module)
        if target.split(".")[0] == "tenant_apps"
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


if __name__ == "__main__":
    graph = package_graph(TREE)
    for package in sorted(graph):
        print(f"{package} -> {', '.join(sorted(graph[package])) or '(nothing of ours)'}")
    cycles = package_cycles(TREE)
    print("cycles outside the roof:", cycles or "none")
    sys.exit(1 if cycles else 0)
