"""The home dashboard's one read: ``dashboard_for(user)``, a frozen ``Dashboard`` of small blocks.

Every block reads through its owning app's selectors (``tasks_visible_to`` and the task lists,
``cases_visible_to``, ``profiles_visible_to``, the audit trail's ``reads_by``), so a block shows
nothing the user could not open from its list. The number of queries does not depend on how
many tasks, cases, replies or records there are (pinned in tests/test_hot_page_queries.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import F, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone

from tenant_apps.assessments import selectors as assessments
from tenant_apps.audit.selectors import last_reads_by, reads_by
from tenant_apps.casework.models import Case, TimelineEntry, WarningMarker
from tenant_apps.casework.selectors import cases_visible_to, profiles_visible_to, user_scope
from tenant_apps.tasks import selectors as tasks
from tenant_apps.tasks.models import Task, TaskReply, partnership_today
from tenant_apps.tasks.selectors import TaskCounts

LIST_LENGTH = 5  # rows per block; each block links to its full list
RECENT_LENGTH = 8  # records opened recently
RECENT_EVENTS = 200  # of the user's latest reads, de-duplicated into RECENT_LENGTH records
REPLIES_DAYS = 30  # a reply older than this is no longer "new", looked at or not
REPLY_CANDIDATES = 100  # the latest replies by others, of which those not yet seen are shown
_READS = ("profile.viewed", "case.viewed")


@dataclass(frozen=True)
class TaskBlock:
    """Counts of active tasks (open or in progress) due today and overdue, mine and my teams'
    (``tasks.selectors.TaskCounts``), and the first of my own, overdue first then soonest due."""

    counts: TaskCounts
    mine: list[Task]
    mine_total: int


@dataclass(frozen=True)
class OpenCases:
    """The user's open (or on hold) cases: those they lead or their teams own, that they may see.
    Longest without contact first (never contacted first of all): those are the ones to look at.
    Each case has ``last_contact``, its latest timeline entry's time (None without one)."""

    cases: list[Case]
    total: int


@dataclass(frozen=True)
class RecentRecord:
    kind: str  # "Profile" or "Case"
    label: str
    url: str
    viewed_at: dt.datetime


@dataclass(frozen=True)
class CaseloadWarning:
    """A profile on one of the user's open cases, with its warning markers."""

    profile_id: int
    name: str
    markers: tuple[str, ...]


@dataclass(frozen=True)
class AssessmentsBlock:
    due: list  # the user's completed assessments due for review within two weeks, or overdue
    in_progress: list  # the user's assessments in progress, latest change first
    today: dt.date  # the partnership's date: a review before it is overdue


@dataclass(frozen=True)
class Dashboard:
    tasks: TaskBlock
    assessments: AssessmentsBlock
    open_cases: OpenCases
    recent: list[RecentRecord]
    replies: list[TaskReply]  # with task and author; newest first
    warnings: list[CaseloadWarning]


def _task_block(user) -> TaskBlock:
    mine = tasks.my_tasks(user)
    return TaskBlock(counts=tasks.task_counts(user), mine=list(mine[:LIST_LENGTH]), mine_total=mine.count())


def my_open_cases(user):
    """Open and on-hold cases the user may see and leads, or that one of their teams owns."""
    scope = user_scope(user)
    mine = Q(lead_practitioner_id=user.pk) | Q(owning_team_id__in=scope.team_ids)
    return cases_visible_to(user).filter(mine, status__in=(Case.Status.OPEN, Case.Status.ON_HOLD))


def _open_cases(user) -> OpenCases:
    latest = TimelineEntry.objects.filter(case_id=OuterRef("pk"), deleted_at__isnull=True).order_by("-occurred_at")
    cases = (
        my_open_cases(user)
        .select_related("case_type")
        .annotate(last_contact=Subquery(latest.values("occurred_at")[:1]))
        .order_by(F("last_contact").asc(nulls_first=True), "pk")
    )
    return OpenCases(cases=list(cases[:LIST_LENGTH]), total=my_open_cases(user).count())


def _recent(user) -> list[RecentRecord]:
    """Profiles and cases the user opened lately, newest first, each once, only those still visible."""
    wanted: list[tuple[str, int, dt.datetime]] = []
    seen: set[tuple[str, int]] = set()
    for object_type, object_id, when in reads_by(user=user, actions=_READS, limit=RECENT_EVENTS):
        key = (object_type, int(object_id)) if str(object_id).isdigit() else None
        if key is None or key in seen:
            continue
        seen.add(key)
        wanted.append((*key, when))
    profile_ids = [pk for kind, pk, _ in wanted if kind == "profile"]
    case_ids = [pk for kind, pk, _ in wanted if kind == "case"]
    profiles = {p.pk: p for p in profiles_visible_to(user).filter(pk__in=profile_ids)} if profile_ids else {}
    cases = {c.pk: c for c in cases_visible_to(user).filter(pk__in=case_ids)} if case_ids else {}
    records = []
    for kind, pk, when in wanted:
        if kind == "profile" and pk in profiles:
            url = reverse("casework:profile-detail", kwargs={"profile_id": pk})
            records.append(RecentRecord("Profile", profiles[pk].display_name, url, when))
        elif kind == "case" and pk in cases:
            url = reverse("casework:case-detail", kwargs={"case_id": pk})
            records.append(RecentRecord("Case", f"{cases[pk].reference}: {cases[pk].title}", url, when))
        if len(records) == RECENT_LENGTH:
            break
    return records


def _replies(user) -> list[TaskReply]:
    """Replies by others, in the last REPLIES_DAYS, on tasks the user set or is assigned in person,
    written since the user last opened that task (every opening is audited: ``task.viewed``)."""
    since = timezone.now() - dt.timedelta(days=REPLIES_DAYS)
    involved = tasks.tasks_visible_to(user).filter(Q(created_by_id=user.pk) | Q(assigned_user_id=user.pk))
    candidates = list(
        TaskReply.objects.filter(task__in=involved, created_at__gte=since)
        .exclude(author_id=user.pk)
        .select_related("task", "author")
        .order_by("-created_at", "-pk")[:REPLY_CANDIDATES]
    )
    # Only an opening after a reply makes it seen: the events before the oldest candidate are not read.
    oldest = min((r.created_at for r in candidates), default=since)
    seen = last_reads_by(user=user, action="task.viewed", object_ids={r.task_id for r in candidates}, since=oldest)
    fresh = [r for r in candidates if str(r.task_id) not in seen or r.created_at > seen[str(r.task_id)]]
    return fresh[:LIST_LENGTH]


def _warnings(user) -> list[CaseloadWarning]:
    """Warning markers of the visible profiles on the user's open cases, by name."""
    subjects = profiles_visible_to(user).filter(case_roles__case__in=my_open_cases(user))
    markers = (
        WarningMarker.objects.filter(profile__in=subjects)
        .select_related("profile")
        .order_by("profile__last_name", "profile__first_name", "profile__name", "profile_id", "kind")
    )
    by_profile: dict[int, CaseloadWarning] = {}
    for marker in markers[:100]:
        known = by_profile.get(marker.profile_id)
        label = marker.get_kind_display()
        if known is None:
            by_profile[marker.profile_id] = CaseloadWarning(marker.profile_id, marker.profile.display_name, (label,))
        elif label not in known.markers:
            by_profile[marker.profile_id] = CaseloadWarning(known.profile_id, known.name, (*known.markers, label))
    return list(by_profile.values())


def dashboard_for(user) -> Dashboard:
    """The signed-in user's home page: each block read through the owning app's selectors."""
    return Dashboard(
        tasks=_task_block(user),
        assessments=AssessmentsBlock(
            due=list(assessments.assessments_due(user=user)[:LIST_LENGTH]),
            in_progress=list(assessments.assessments_in_progress(user=user)[:LIST_LENGTH]),
            today=partnership_today(),
        ),
        open_cases=_open_cases(user),
        recent=_recent(user),
        replies=_replies(user),
        warnings=_warnings(user),
    )
