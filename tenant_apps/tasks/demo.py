"""Demo tasks (``manage.py seed_demo``): one on each demo case, for the other agency.

Runs after casework's demo (``tenant_apps.casework.demo``): each case's owner sets a task from
it, the council's for the police and the police's for the council, through ``task_create`` (so
the assignee, or each team member, gets an e-mail notice). Half go to the other agency's team,
half to its practitioner in person, so that "My tasks", "My team's tasks" and "Tasks I set" all
have something in them, and some are overdue or due today, as a real caseload has: a late task
was set days before it fell due (``created_at < due_date < today``), so the demo reads as work
that has slipped, not as tasks recorded late.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from tenant_apps.accounts.models import User
from tenant_apps.casework.models import Case
from tenant_apps.directory.models import Team
from tenant_apps.tasks.models import Task, partnership_today
from tenant_apps.tasks.services import task_create, task_set_status

# Per case, in turn: (title, days from today it is due, status, to the team rather than a person).
PLANS = [
    ("Check the overnight log for this address", -6, Task.Status.OPEN, True),
    ("Chase the CCTV from the shop on the corner", -2, Task.Status.IN_PROGRESS, False),
    ("Ask the housing officer about the tenancy warning", 0, Task.Status.OPEN, True),
    ("Call the complainant back", 0, Task.Status.OPEN, False),
    ("Arrange a joint visit", -1, Task.Status.OPEN, False),
    ("Update the risk assessment before the meeting", 2, Task.Status.OPEN, True),
    ("Send the warning letter", 5, Task.Status.OPEN, False),
    ("Review the case at the next partnership meeting", 9, Task.Status.OPEN, True),
]
SET_DAYS_BEFORE_DUE = 5  # a task is set this long before it falls due (a late one: before it was late)


def seed(demo) -> None:
    """The demo's tasks, once (``demo``: a ``tenants.demo.Demo``; inside its partnership's schema)."""
    if Task.objects.exists():
        return
    council = User.objects.get(email=demo.council)
    police = User.objects.get(email=demo.police)
    asb = Team.objects.get(name="ASB Team")
    snt = Team.objects.get(name="Safer Neighbourhood Team")
    today = partnership_today()
    for number, case in enumerate(Case.objects.select_related("created_by").order_by("pk")):
        title, due_in, status, to_team = PLANS[number % len(PLANS)]
        owner = case.created_by
        team, person = (snt, police) if owner == council else (asb, council)
        due_date = today + dt.timedelta(days=due_in)
        task = task_create(
            user=owner, case=case, title=title, due_date=due_date, past_due_confirmed=due_in < 0,
            details="Please look into this and add anything relevant to the case.",
            **({"assigned_team": team} if to_team else {"assigned_user": person}),
        )  # fmt: skip
        if status != Task.Status.OPEN:  # the person doing it says so
            task_set_status(user=owner if to_team else person, task=task, status=status, version=task.version)
        set_on = min(due_date - dt.timedelta(days=SET_DAYS_BEFORE_DUE), today - dt.timedelta(days=1))
        created_at = timezone.make_aware(dt.datetime.combine(set_on, dt.time(9, 30)))
        Task.objects.filter(pk=task.pk).update(created_at=created_at)
