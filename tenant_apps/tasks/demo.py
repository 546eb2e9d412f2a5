"""Demo tasks (``manage.py seed_demo``): one on each demo case, for the other agency's team.

Runs after casework's demo (``tenant_apps.casework.demo``): each case's owner sets a task
from it, the council's for the police's Safer Neighbourhood Team and the police's for the
council's ASB Team, through ``task_create`` (so each team's members get an e-mail notice).
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from tenant_apps.accounts.models import User
from tenant_apps.casework.models import Case
from tenant_apps.directory.models import Team
from tenant_apps.tasks.models import Task
from tenant_apps.tasks.services import task_create


def seed(demo) -> None:
    """The demo's tasks, once (``demo``: a ``tenants.demo.Demo``; inside its partnership's schema)."""
    if Task.objects.exists():
        return
    council = User.objects.get(email=demo.council)
    asb = Team.objects.get(name="ASB Team")
    snt = Team.objects.get(name="Safer Neighbourhood Team")
    for number, case in enumerate(Case.objects.select_related("created_by").order_by("pk")):
        owner = case.created_by
        task_create(
            user=owner, case=case, assigned_team=snt if owner == council else asb,
            title="Check for reports overnight and update the case",
            details="Please look at the overnight log for this address and add anything relevant.",
            due_date=timezone.localdate() + dt.timedelta(days=(number % 4) - 1 if number % 4 else 3),
        )  # fmt: skip
