"""The development demo, seeded app by app: every tenant app's ``demo.py``, in ladder order.

A tenant app with demo data has a module ``<app>/demo.py`` with ``seed(demo)``, where
``demo`` is a ``Demo`` below. ``demo_seed`` imports those modules in ``INSTALLED_APPS``
order (the ladder, lower apps first: directory, then casework, then tasks...) and calls
each inside the partnership's schema, so an app's demo may use what a lower app's made.
Each ``seed`` is idempotent (it adds its data once) and goes through its app's services.

Roof (``manage.py seed_demo`` and the tests' demo partnership call it): it finds the
apps at run time and imports none of them by name. The apps do not import this module;
``demo`` is handed to them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType

from django.apps import apps
from django.conf import settings
from django.utils.module_loading import module_has_submodule
from django_tenants.utils import schema_context


def _quiet(line: str) -> None:
    pass


@dataclass(frozen=True)
class Demo:
    """What every app's ``demo.seed(demo)`` is given. The people already exist (accounts)."""

    slug: str  # the partnership (its schema)
    name: str  # its name, for messages
    council: str  # e-mail of the council practitioner (ASB Team): owns most of the casework
    police: str  # e-mail of the police practitioner (Safer Neighbourhood Team; IOM if placed there)
    places: Mapping[str, tuple[str, Sequence[str]]] = field(default_factory=dict)  # e-mail -> (agency, teams)
    files: bool = True  # also put the demo's files (photos) in object storage
    say: Callable[[str], None] = _quiet  # a line for the person seeding (stdout)
    warn: Callable[[str], None] = _quiet  # something that did not work, the seed going on (stderr)


def demo_modules() -> list[ModuleType]:
    """The ``demo`` module of every installed tenant app that has one, in ``INSTALLED_APPS`` order."""
    tenant_apps = set(settings.TENANT_APPS)
    return [
        importlib.import_module(f"{config.name}.demo")
        for config in apps.get_app_configs()
        if config.name in tenant_apps and module_has_submodule(config.module, "demo")
    ]


def demo_seed(demo: Demo) -> None:
    """Seed every app's demo data for ``demo.slug``, inside its schema, lower apps first."""
    with schema_context(demo.slug):
        for module in demo_modules():
            module.seed(demo)
