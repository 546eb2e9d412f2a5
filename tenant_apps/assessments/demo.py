"""Demo templates (``manage.py seed_demo``): the three of ``demo_templates.json``, put in use.

A whole-family assessment (troubled families), a domestic abuse needs assessment and a
ten-domain outcomes tool with worker and family scores, built from the national bank by the
demo's council practitioner through the same services as the template builder.
"""

from __future__ import annotations

import json
from pathlib import Path

from tenant_apps.accounts.models import User
from tenant_apps.assessments.models import Template
from tenant_apps.assessments.services import template_create_from_definition

DEFINITIONS = Path(__file__).resolve().parent / "demo_templates.json"


def seed(demo) -> None:
    """The demo's templates, once (``demo``: a ``tenants.demo.Demo``; inside its partnership's schema)."""
    if Template.objects.exists():
        return
    author = User.objects.get(email=demo.council)
    for definition in json.loads(DEFINITIONS.read_text(encoding="utf-8")):
        template_create_from_definition(user=author, definition=definition)
