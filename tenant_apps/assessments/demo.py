"""Demo assessments (``manage.py seed_demo``): the three templates of ``demo_templates.json``, put
in use, and a family's outcomes over three reviews.

The templates: a whole-family assessment (troubled families), a domestic abuse needs assessment
and a ten-domain outcomes tool with worker and family scores, built from the national bank by the
demo's council practitioner through the same services as the template builder. Then the first
household the practitioner's team owns is assessed with the outcomes tool, reviewed, and reviewed
again (the last review in progress), scores improving, so that the comparison page has a history
to draw: the dates of the completed ones are moved back afterwards (three months and one month
ago), as the services date everything now.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

from django.utils import timezone

from tenant_apps.accounts.models import User
from tenant_apps.assessments import selectors, services
from tenant_apps.assessments.models import Assessment, Template
from tenant_apps.casework.models import Family
from tenant_apps.casework.selectors import families_visible_to
from tenant_apps.tasks.models import partnership_today

DEFINITIONS = Path(__file__).resolve().parent / "demo_templates.json"
OUTCOMES = "Family outcomes tool"


def seed(demo) -> None:
    """The demo's templates and history, once (``demo``: a ``tenants.demo.Demo``; inside its schema)."""
    if Template.objects.exists():
        return
    author = User.objects.get(email=demo.council)
    for definition in json.loads(DEFINITIONS.read_text(encoding="utf-8")):
        services.template_create_from_definition(user=author, definition=definition)
    family = families_visible_to(author, edit=True).order_by("pk").first()
    if family is not None:
        _history(author, family)


def _answer_all(author, assessment: Assessment, rng: random.Random, base: int) -> None:
    page = selectors.assessment_page(user=author, assessment=assessment)
    answers = []
    for section in page.sections:
        for target in section.targets:
            worker = max(1, min(10, base + rng.randint(-1, 2)))
            family = max(1, min(10, worker + rng.randint(-2, 1)))
            answers.append(services.AnswerInput(key=target.key, worker_score=str(worker), family_score=str(family),
                                                version=target.answer.version if target.answer else 0))  # fmt: skip
    services.assessment_save(user=author, assessment=assessment, answers=answers)


def _history(author, family: Family) -> None:
    rng = random.Random(family.pk)  # noqa: S311 - made-up demo scores, not security
    template = Template.objects.get(name=OUTCOMES)
    soon = partnership_today() + dt.timedelta(days=28)
    first = services.assessment_start(user=author, template=template, family=family)
    _answer_all(author, first, rng, base=3)
    services.assessment_complete(user=author, assessment=first, review_date=soon)
    second = services.assessment_review_start(user=author, assessment=first)
    _answer_all(author, second, rng, base=5)
    services.assessment_complete(user=author, assessment=second, review_date=soon)
    third = services.assessment_review_start(user=author, assessment=second)
    _answer_all(author, third, rng, base=6)
    now = timezone.now()
    for assessment, days_ago, review_in in ((first, 91, -63), (second, 30, -2)):
        Assessment.objects.filter(pk=assessment.pk).update(
            started_at=now - dt.timedelta(days=days_ago + 1), completed_at=now - dt.timedelta(days=days_ago),
            review_date=partnership_today() + dt.timedelta(days=review_in),
        )  # fmt: skip
