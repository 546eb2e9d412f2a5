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
import logging

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from concord.errors import ChangedSinceOpened
from tenant_apps.audit.services import audit_changes, audit_record
from tenant_apps.casework.selectors import cases_visible_to, profiles_visible_to
from tenant_apps.outbox.services import mail_send_later
from tenant_apps.tasks.models import DigestPreference, Task, TaskReply, partnership_today
from tenant_apps.tasks.selectors import digest_recipients, digest_tasks, digest_wanted, tasks_visible_to
from tenants.hosts import absolute_url

__all__ = [
    "ChangedSinceOpened",
    "digest_preference_set",
    "task_create",
    "task_digest_send",
    "task_digests_send",
    "task_reply",
    "task_set_due_date",
    "task_set_status",
]

logger = logging.getLogger(__name__)


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


PAST_DUE_LIMIT = dt.timedelta(days=366)  # further back is a mistyped year, not a late task
PAST_DUE_DATE = "past_due_date"  # the code of the refusal that asks to confirm a past due date


def _due_date_errors(due_date: dt.date | None, *, past_confirmed: bool) -> list[ValidationError]:
    """Today or later; or in the past (a task agreed earlier and already late, recorded now) if
    the creator confirms it, and no more than a year back."""
    today = partnership_today()
    if due_date is None:
        return [ValidationError("Enter the date the task is due.", code="required")]
    if due_date < today - PAST_DUE_LIMIT:
        return [ValidationError("The due date is more than a year ago. Check the year.", code="too_old")]
    if due_date < today and not past_confirmed:
        message = ("The due date is in the past, so the task will be overdue as soon as it is created. "
                   "Check the date, or confirm that the task is already overdue.")  # fmt: skip
        return [ValidationError(message, code=PAST_DUE_DATE)]
    return []


def task_create(*, user, request=None, title: str, details: str = "", due_date: dt.date | None,
                case=None, profile=None, assigned_user=None, assigned_team=None,
                past_due_confirmed: bool = False, link: str = "") -> Task:  # fmt: skip
    """Create a task and e-mail a notice to the assignee (or each active member of the team).

    The creator must be able to see the case and the profile it comes from; the
    assigned user must be active; the due date must be today or later, or, with
    ``past_due_confirmed``, up to a year in the past (a task already overdue).
    """
    _writer(user)
    errors: dict[str, list] = {}
    if not (title or "").strip():
        errors["title"] = ["Enter a title for the task."]
    if due_errors := _due_date_errors(due_date, past_confirmed=past_due_confirmed):
        errors["due_date"] = due_errors
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
    if link and not (link.startswith("/") and not link.startswith("//") and len(link) <= 300):
        errors["link"] = ["A task links to a page of Concord only."]
    if errors:
        raise ValidationError(errors)
    task = Task(
        title=title.strip(), details=(details or "").strip(), due_date=due_date, case=case, profile=profile,
        assigned_user=assigned_user, assigned_team=assigned_team, created_by=user, link=link,
    )  # fmt: skip
    task.full_clean(exclude=["case", "profile", "assigned_user", "assigned_team", "created_by"])
    task.save()
    whom = "your team" if assigned_team is not None else "you"
    late = " (already overdue)" if task.is_overdue else ""
    _notify(
        _assignees(task),
        subject="A task has been assigned to " + whom,
        body=(
            f"{user.get_full_name()} has assigned a task to {whom} in Concord, due {task.due_date:%-d %B %Y}{late}.\n\n"
            f"Sign in to read it: {_link(task)}\n"
        ),
        skip=user,
    )
    assignee = f"team {task.assigned_team_id}" if task.assigned_team_id else f"user {task.assigned_user_id}"
    audit_record(action="task.created", request=request, actor=user, object_type="task", object_id=task.pk,
                 summary=f"task {task.pk} created, assigned to {assignee}{late}")  # fmt: skip
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
def task_set_due_date(*, user, request=None, task: Task, due_date: dt.date | None, version: int,
                      past_due_confirmed: bool = False) -> Task:  # fmt: skip
    """Move an open or in-progress task's due date (creator, assignee or a member of the assigned
    team), if nobody saved the task since ``version``; the other party is e-mailed (the assignees
    when the creator moves it, the creator otherwise). The same rule as a new task: today or
    later, or up to a year back if confirmed; keeping the date it has, even a past one, is no
    change and always allowed."""
    _writer(user)
    visible = tasks_visible_to(user).select_related("created_by", "assigned_user", "assigned_team")
    locked = visible.select_for_update(of=("self",)).filter(pk=task.pk).first()
    if locked is None:
        raise PermissionDenied("You may not change this task.")
    if locked.version != version:
        raise ChangedSinceOpened()
    if due_date == locked.due_date:
        return locked
    if not locked.is_active:
        raise ValidationError({"due_date": ["This task is done or cancelled: its due date stays as it was."]})
    if errors := _due_date_errors(due_date, past_confirmed=past_due_confirmed):
        raise ValidationError({"due_date": errors})
    before = locked.due_date
    locked.due_date, locked.updated_at, locked.version = due_date, timezone.now(), F("version") + 1
    locked.save(update_fields=["due_date", "updated_at", "version"])
    locked.refresh_from_db(fields=["version"])
    others = _assignees(locked) if user.pk == locked.created_by_id else [locked.created_by]
    _notify(
        others,
        subject="A task's due date has changed",
        body=(
            f"{user.get_full_name()} has moved the due date of a task in Concord to {due_date:%-d %B %Y}.\n\n"
            f"Sign in to read it: {_link(locked)}\n"
        ),
        skip=user,
    )
    audit_record(action="task.due_date_changed", request=request, actor=user, object_type="task",
                 object_id=locked.pk, summary=f"task {locked.pk} due date changed",
                 changes=audit_changes({"due_date": before}, {"due_date": due_date}))  # fmt: skip
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


# --- The daily digest ------------------------------------------------------------------------------
# What the digest says, and why: e-mail leaves the partnership's systems (forwarded, read on lock
# screens, kept in mailboxes Concord does not control), and a task's title and details are free
# text that often name people and what happened to them. So, as with the notices above, the
# digest names no task, person, case or team: for each task only whether it is the user's or
# their team's, its due date, how late it is, and a link that needs signing in (the link carries
# the task's number, no personal data). That is enough to know there is work waiting and how
# urgent it is; what the work is, the user reads in Concord.

DIGEST_MAX_LISTED = 20  # beyond this the e-mail says how many more, and links to the lists


@transaction.atomic
def digest_preference_set(*, user, request=None, wants_digest: bool) -> DigestPreference:
    """Turn the user's own daily digest on or off; audited when it changes."""
    _writer(user)
    preference, _ = DigestPreference.objects.select_for_update().get_or_create(user_id=user.pk)
    before = preference.wants_digest
    if before != wants_digest:
        preference.wants_digest = wants_digest
        preference.updated_at = timezone.now()
        preference.save(update_fields=["wants_digest", "updated_at"])
        audit_record(action="task.digest_preference_changed", request=request, actor=user, object_type="user",
                     object_id=user.pk, summary="daily task e-mail " + ("on" if wants_digest else "off"),
                     changes=audit_changes({"wants_digest": before}, {"wants_digest": wants_digest}))  # fmt: skip
    return preference


def _digest_line(task: Task, today: dt.date) -> str:
    late = (today - task.due_date).days
    if late <= 0:
        when = "due today"
    else:
        when = f"overdue, due {task.due_date:%-d %B %Y} ({late} day{'s' if late != 1 else ''} late)"
    return f"- A task {when}: {_link(task)}"


def _digest_body(user, tasks: list[Task], today: dt.date) -> str:
    listed = tasks[:DIGEST_MAX_LISTED]
    mine = [_digest_line(t, today) for t in listed if t.assigned_user_id == user.pk]
    team = [_digest_line(t, today) for t in listed if t.assigned_user_id != user.pk]
    parts = ["You have tasks in Concord that are overdue or due today.", ""]
    if mine:
        parts += ["Assigned to you:", *mine, ""]
    if team:
        parts += ["Assigned to your team:", *team, ""]
    if len(tasks) > len(listed):
        parts += [f"And {len(tasks) - len(listed)} more.", ""]
    parts += [f"Sign in to read them: {absolute_url(reverse('tasks:mine'))}"]
    if team:
        parts += [f"Your team's tasks: {absolute_url(reverse('tasks:team'))}"]
    parts += [
        "",
        "This e-mail names no task, person or case: e-mail is less protected than Concord.",
        f"You get it on days when you have tasks overdue or due today. To stop it: "
        f"{absolute_url(reverse('tasks:digest'))}",
    ]
    return "\n".join(parts) + "\n"


def _digest_subject(tasks: list[Task], today: dt.date) -> str:
    late = sum(1 for t in tasks if t.due_date < today)
    due = len(tasks) - late
    counts = [f"{late} overdue"] if late else []
    counts += [f"{due} due today"] if due else []
    return "Your tasks in Concord: " + ", ".join(counts)


def task_digest_send(*, user, today: dt.date | None = None) -> bool:
    """Queue ``user``'s digest for ``today`` (the partnership's date) if they have tasks overdue or
    due today, want it, are active, and have not had today's; return whether it was queued.

    At most once per user and day, whoever calls: the day is claimed by a conditional update of
    the user's ``DigestPreference`` row (created if missing) in the same transaction as the
    e-mail. A second caller, even at the same moment, waits on that row, then finds the day
    claimed and sends nothing; if the transaction rolls back, neither claim nor e-mail remains.
    """
    today = today or partnership_today()
    if not user.is_active or user.is_read_only or not user.email:
        return False
    tasks = digest_tasks(user, today=today)
    if not tasks or not digest_wanted(user):
        return False
    with transaction.atomic():
        DigestPreference.objects.bulk_create([DigestPreference(user_id=user.pk)], ignore_conflicts=True)
        unclaimed = Q(last_sent_on__isnull=True) | Q(last_sent_on__lt=today)
        claimed = DigestPreference.objects.filter(unclaimed, user_id=user.pk, wants_digest=True).update(
            last_sent_on=today, updated_at=timezone.now()
        )
        if not claimed:
            return False
        mail_send_later(to=[user.email], subject=_digest_subject(tasks, today), body=_digest_body(user, tasks, today))
    return True


def task_digests_send(*, today: dt.date | None = None) -> int:
    """Every digest due in the current partnership today; returns how many were queued. One
    transaction per person, so a failure part-way keeps the ones queued and a re-run (the job
    is retried) sends only the rest."""
    today = today or partnership_today()
    queued = 0
    for person in digest_recipients(today=today):
        try:
            queued += task_digest_send(user=person, today=today)
        except ValueError:  # an address the outbox refuses: nobody to send to (logged by id only)
            logger.warning("tasks digest: user %s has no valid e-mail address; skipped", person.pk)
    return queued
