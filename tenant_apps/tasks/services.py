"""Writes of tasks: keyword-only, validated, audited, each in one transaction.

E-mail notices are queued with ``mail_send_later`` in the same transaction, so a
task that rolls back sends nothing. Notices carry no title, details or names
(e-mail leaves the partnership's systems): only that there is a task or reply,
its due date, and a link that needs signing in.

Status changes use optimistic concurrency: the caller passes the ``version`` it
opened; if someone saved in between, ``ChangedSinceOpened`` is raised and
nothing is written.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from concord.errors import ChangedSinceOpened
from tenant_apps.audit.services import audit_changes, audit_record
from tenant_apps.casework.selectors import cases_visible_to, profiles_visible_to
from tenant_apps.outbox.services import mail_send_later
from tenant_apps.tasks.models import Task, TaskReply
from tenant_apps.tasks.selectors import tasks_visible_to
from tenants.hosts import absolute_url

__all__ = ["ChangedSinceOpened", "task_create", "task_reply", "task_set_status"]


def _writer(user) -> None:
    if user.is_read_only:
        raise PermissionDenied("Viewers cannot change records.")


def _team_members(team) -> list:
    # An API client's service account is a member (it sees the team's tasks) but has no mailbox.
    people = get_user_model().objects.filter(team_memberships__team=team, is_active=True, is_integration=False)
    return list(people.order_by("pk"))


def _assignees(task: Task) -> list:
    """The people the task is for: the assigned user, or each active member of the team."""
    if task.assigned_team_id:
        return _team_members(task.assigned_team)
    return [task.assigned_user] if task.assigned_user.is_active else []


def _notify(recipients, *, subject: str, body: str, skip=None) -> None:
    """One e-mail per person (nobody learns who else was told); never to an API client's service account."""
    seen = set()
    for person in recipients:
        wanted = person.is_active and not person.is_integration and person.pk != getattr(skip, "pk", None)
        if wanted and person.email not in seen:
            seen.add(person.email)
            mail_send_later(to=[person.email], subject=subject, body=body)


def _link(task: Task) -> str:
    return absolute_url(reverse("tasks:detail", kwargs={"task_id": task.pk}))


@transaction.atomic
def task_viewed(*, user, request=None, task: Task, what: str = "") -> None:
    """Who read a task (its details, replies and what it links to): page and API alike.
    ``what`` says which view of it (``"status form"``), never what it holds."""
    audit_record(action="task.viewed", request=request, actor=user, object_type="task", object_id=task.pk,
                 summary=what)  # fmt: skip


def task_create(*, user, request=None, title: str, details: str = "", due_date: dt.date | None,
                case=None, profile=None, assigned_user=None, assigned_team=None) -> Task:  # fmt: skip
    """Create a task and e-mail a notice to the assignee (or each active member of the team).

    The creator must be able to see the case and the profile it comes from; the
    assigned user must be active; the due date must be today or later.
    """
    _writer(user)
    errors: dict[str, list[str]] = {}
    if not (title or "").strip():
        errors["title"] = ["Enter a title for the task."]
    if due_date is None:
        errors["due_date"] = ["Enter the date the task is due."]
    elif due_date < timezone.localdate():
        errors["due_date"] = ["The due date must be today or in the future."]
    if assigned_user is None and assigned_team is None:
        errors["assigned_user"] = ["Choose a person or a team to do the task."]
    elif assigned_user is not None and assigned_team is not None:
        errors["assigned_team"] = ["Choose a person or a team, not both."]
    elif assigned_user is not None and not assigned_user.is_active:
        errors["assigned_user"] = ["This person's account is not active. Choose someone else."]
    if case is not None and not cases_visible_to(user).filter(pk=case.pk).exists():
        errors["case"] = ["Choose a case you can see."]
    if profile is not None and not profiles_visible_to(user).filter(pk=profile.pk).exists():
        errors["profile"] = ["Choose a profile you can see."]
    if errors:
        raise ValidationError(errors)
    task = Task(
        title=title.strip(), details=(details or "").strip(), due_date=due_date, case=case, profile=profile,
        assigned_user=assigned_user, assigned_team=assigned_team, created_by=user,
    )  # fmt: skip
    task.full_clean(exclude=["case", "profile", "assigned_user", "assigned_team", "created_by"])
    task.save()
    whom = "your team" if assigned_team is not None else "you"
    _notify(
        _assignees(task),
        subject="A task has been assigned to " + whom,
        body=(
            f"{user.get_full_name()} has assigned a task to {whom} in Concord, due {task.due_date:%-d %B %Y}.\n\n"
            f"Sign in to read it: {_link(task)}\n"
        ),
        skip=user,
    )
    assignee = f"team {task.assigned_team_id}" if task.assigned_team_id else f"user {task.assigned_user_id}"
    audit_record(action="task.created", request=request, actor=user, object_type="task", object_id=task.pk,
                 summary=f"task {task.pk} created, assigned to {assignee}")  # fmt: skip
    return task


@transaction.atomic
def task_set_status(*, user, request=None, task: Task, status: str, version: int) -> Task:
    """Change the status (creator, assignee or a member of the assigned team), if nobody saved
    the task since ``version``. ``completed_at`` is set when done, cleared otherwise."""
    _writer(user)
    if status not in Task.Status.values:
        raise ValidationError({"status": ["Choose a status from the list."]})
    locked = tasks_visible_to(user).select_for_update().filter(pk=task.pk).first()
    if locked is None:
        raise PermissionDenied("You may not change this task.")
    if locked.version != version:
        raise ChangedSinceOpened()
    before = locked.status
    now = timezone.now()
    locked.status = status
    locked.completed_at = now if status == Task.Status.DONE else None
    locked.updated_at = now
    locked.version = F("version") + 1
    locked.save(update_fields=["status", "completed_at", "updated_at", "version"])
    locked.refresh_from_db(fields=["version"])
    audit_record(action="task.status_changed", request=request, actor=user, object_type="task",
                 object_id=locked.pk, summary=f"task {locked.pk} status changed",
                 changes=audit_changes({"status": before}, {"status": status}))  # fmt: skip
    return locked


@transaction.atomic
def task_reply(*, user, request=None, task: Task, body: str) -> TaskReply:
    """Reply on a task the user sees, and e-mail the other party: the creator when an assignee
    replies, the assignee (or each active team member) when the creator replies."""
    _writer(user)
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": ["Enter your reply."]})
    if len(body) > 5000:
        raise ValidationError({"body": ["A reply must be 5000 characters or fewer."]})
    visible = tasks_visible_to(user).select_related("created_by", "assigned_user", "assigned_team")
    task = visible.filter(pk=task.pk).first()
    if task is None:
        raise PermissionDenied("You may not reply to this task.")
    reply = TaskReply.objects.create(task=task, author=user, body=body)
    Task.objects.filter(pk=task.pk).update(updated_at=reply.created_at)
    others = _assignees(task) if user.pk == task.created_by_id else [task.created_by]
    _notify(
        others,
        subject="New reply on a task",
        body=f"{user.get_full_name()} has replied on a task in Concord.\n\nSign in to read it: {_link(task)}\n",
        skip=user,
    )
    audit_record(action="task.replied", request=request, actor=user, object_type="task", object_id=task.pk,
                 summary=f"reply {reply.pk} on task {task.pk}")  # fmt: skip
    return reply
