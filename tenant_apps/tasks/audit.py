"""What the audit trail hides of tasks, and how it names them (registered with the audit app).

A task is visible to its creator, its assignee and the assigned team's members, partnership
admins included (``selectors.tasks_visible_to``): the trail hides the events of any other task
from its reader (``tenant_apps.audit.redaction``: "[restricted: task not visible to you]", the
summary and changed values replaced; who, when, the action and "Task 12" stay) and never names
it. A task the reader may see is named by its title: "Task: Check CCTV near the address".
"""

from __future__ import annotations

from tenant_apps.audit import naming, redaction
from tenant_apps.tasks.models import Task
from tenant_apps.tasks.selectors import tasks_visible_to

NOT_VISIBLE = "task not visible to you"


def _whole(ids) -> list[int]:
    return [int(value) for value in ids if str(value).isdigit()]


def tasks_hidden_from(user, task_ids) -> dict[str, str]:
    """Of these task ids, those ``user`` may not see (missing ones too: fail closed)."""
    seen = {str(pk) for pk in tasks_visible_to(user).filter(pk__in=_whole(task_ids)).values_list("pk", flat=True)}
    return {str(value): NOT_VISIBLE for value in task_ids if str(value) not in seen}


def tasks_named(task_ids) -> dict[str, str]:
    return {str(pk): title for pk, title in Task.objects.filter(pk__in=_whole(task_ids)).values_list("pk", "title")}


def register() -> None:
    redaction.register("task", tasks_hidden_from)
    naming.register("task", tasks_named, fields={
        "status": naming.Field("Status", choices=Task.Status.choices),
        "due_date": naming.Field("Due date"),
        "assigned_user": naming.Field("Assigned to", names="user"),
        "assigned_team": naming.Field("Assigned to team", names="team"),
    })  # fmt: skip
