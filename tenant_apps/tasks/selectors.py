"""Reads of tasks, always through the user: what they may see is decided in the query.

A task is visible to its creator, its assigned user and the members of its
assigned team: nobody else, partnership admins included. Seeing a task shows the
linked case's reference, never the case: ``case_visible`` / ``profile_visible``
say whether the user may open the record itself (through casework's own rules).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Case, Count, Exists, OuterRef, Prefetch, Q, QuerySet, Value, When
from django.http import Http404

from tenant_apps.casework.selectors import cases_visible_to, profiles_visible_to, user_scope
from tenant_apps.directory.models import Team, TeamMembership
from tenant_apps.tasks.models import DigestPreference, Task, TaskReply, partnership_today

STATUS_FILTERS = {
    "active": Task.ACTIVE,
    "open": (Task.Status.OPEN,),
    "in_progress": (Task.Status.IN_PROGRESS,),
    "done": (Task.Status.DONE,),
    "cancelled": (Task.Status.CANCELLED,),
    "all": tuple(Task.Status.values),
}


def _visible_q(user) -> Q:
    scope = user_scope(user)
    return Q(created_by_id=scope.user_id) | Q(assigned_user_id=scope.user_id) | Q(assigned_team_id__in=scope.team_ids)


def _for_display(tasks: QuerySet, user) -> QuerySet[Task]:
    """Joins for lists and pages (constant queries) and the record flags. ``is_overdue`` and
    ``is_due_today`` are the model's properties (no query)."""
    return tasks.select_related("assigned_user", "assigned_team__agency", "created_by", "case", "profile").annotate(
        case_visible=Exists(cases_visible_to(user).filter(pk=OuterRef("case_id"))),
        profile_visible=Exists(profiles_visible_to(user).filter(pk=OuterRef("profile_id"))),
    )


def _overdue_first(tasks: QuerySet[Task]) -> QuerySet[Task]:
    """Overdue (active, due before today) first, then by due date: in the default list of open
    tasks that is simply soonest due first (the most late at the top, then due today); in a list
    of every status it keeps a late open task above old done ones, which also have past dates."""
    late = Case(When(Q(due_date__lt=partnership_today(), status__in=Task.ACTIVE), then=Value(0)), default=Value(1))
    return tasks.order_by(late, "due_date", "pk")


def tasks_visible_to(user) -> QuerySet[Task]:
    """Every task the user may see (creator, assignee, or member of the assigned team)."""
    return Task.objects.filter(_visible_q(user))


def my_tasks(user, *, status: str = "active") -> QuerySet[Task]:
    """Tasks assigned to the user in person, overdue first, then soonest due."""
    tasks = Task.objects.filter(assigned_user_id=user.pk, status__in=STATUS_FILTERS[status])
    return _overdue_first(_for_display(tasks, user))


def my_teams_tasks(user, *, status: str = "active") -> QuerySet[Task]:
    """Tasks assigned to any of the user's teams, overdue first, then soonest due."""
    tasks = Task.objects.filter(assigned_team_id__in=user_scope(user).team_ids, status__in=STATUS_FILTERS[status])
    return _overdue_first(_for_display(tasks, user))


def tasks_set_by(user, *, status: str = "active") -> QuerySet[Task]:
    """Tasks the user created, overdue first, then soonest due."""
    tasks = Task.objects.filter(created_by_id=user.pk, status__in=STATUS_FILTERS[status])
    return _overdue_first(_for_display(tasks, user))


def overdue(tasks: QuerySet[Task]) -> QuerySet[Task]:
    """Due before today and still open or in progress."""
    return tasks.filter(due_date__lt=partnership_today(), status__in=Task.ACTIVE)


@dataclass(frozen=True)
class TaskCounts:
    """The user's active tasks due today and overdue: assigned to them in person (``mine_*``)
    and to any of their teams (``team_*``). A task is in one pair or the other, never both."""

    mine_due_today: int
    mine_overdue: int
    team_due_today: int
    team_overdue: int


def task_counts(user) -> TaskCounts:
    """Counts for the dashboard and the navigation: one query, through ``tasks_visible_to``,
    active tasks only (open or in progress), "today" being the partnership's date."""
    today = partnership_today()
    scope = user_scope(user)
    mine = Q(assigned_user_id=scope.user_id)
    team = Q(assigned_team_id__in=scope.team_ids)
    due_today, late = Q(due_date=today), Q(due_date__lt=today)
    counts = (
        tasks_visible_to(user)
        .filter(status__in=Task.ACTIVE, due_date__lte=today)
        .filter(mine | team)
        .aggregate(
            mine_due_today=Count("pk", filter=mine & due_today),
            mine_overdue=Count("pk", filter=mine & late),
            team_due_today=Count("pk", filter=team & due_today),
            team_overdue=Count("pk", filter=team & late),
        )
    )
    return TaskCounts(**counts)


# --- The daily digest ---------------------------------------------------------------------------


def digest_wanted(user) -> bool:
    """Whether the user wants the daily digest e-mail (yes unless they turned it off)."""
    return not DigestPreference.objects.filter(user_id=user.pk, wants_digest=False).exists()


def digest_tasks(user, *, today) -> list[Task]:
    """The user's active tasks due on or before ``today``, in person or for one of their teams,
    most late first: what their digest lists (through ``tasks_visible_to``)."""
    scope = user_scope(user)
    mine_or_team = Q(assigned_user_id=scope.user_id) | Q(assigned_team_id__in=scope.team_ids)
    tasks = tasks_visible_to(user).filter(mine_or_team, status__in=Task.ACTIVE, due_date__lte=today)
    return list(tasks.order_by("due_date", "pk"))


def digest_recipients(*, today) -> QuerySet:
    """Who gets a digest on ``today``: active users who may change tasks (viewers only read them),
    have not turned the digest off, and have an active task due by then, in person or for one of
    their teams. Whether today's has already gone is ``services.task_digest_send``'s to decide."""
    due = Task.objects.filter(status__in=Task.ACTIVE, due_date__lte=today)
    in_teams = TeamMembership.objects.filter(team_id__in=due.values("assigned_team_id")).values("user_id")
    theirs = Q(pk__in=due.values("assigned_user_id")) | Q(pk__in=in_teams)
    opted_out = DigestPreference.objects.filter(wants_digest=False).values("user_id")
    people = get_user_model().objects.filter(theirs, is_active=True).exclude(pk__in=opted_out)
    return people.exclude(role=get_user_model().Role.VIEWER).order_by("pk")


def access_task(*, user, task_id) -> Task:
    """A task the user may see, with its replies; the same 404 for "missing" and "not yours"."""
    if not str(task_id).isdigit():
        raise Http404("No such task")
    replies = Prefetch("replies", queryset=TaskReply.objects.select_related("author"))
    task = _for_display(tasks_visible_to(user), user).prefetch_related(replies).filter(pk=task_id).first()
    if task is None:
        raise Http404("No such task")
    return task


def assignable_people_visible_to(user) -> QuerySet:
    """Everyone a task may name by id as its assignee: any account of the partnership, inactive
    ones included, so that ``services.task_create`` says "not active" rather than "no such id"."""
    return get_user_model().objects.all()


def assignable_teams_visible_to(user) -> QuerySet[Team]:
    """The teams a task may name by id as its assignee: any team of the partnership."""
    return Team.objects.all()
