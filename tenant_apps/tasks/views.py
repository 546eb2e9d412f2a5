"""Pages of tasks (``/tasks/``): the lists, a task with its replies, new task, status and due
date changes, the user's daily digest e-mail on or off.

Each view parses a form, calls one selector or service, and redirects after a
successful POST (with a success banner) or re-renders the form with its errors
named by field. Ids in URLs are resolved by ``access_*`` selectors (404 for
"missing" and "not yours" alike). Viewers read; every write page answers 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from concord.pages import GET_POST, REFUSALS, apply_errors, posted, writers_only
from concord.paging import requested_page
from tenant_apps.accounts.readlimits import READ, read_limited
from tenant_apps.casework.idempotency import create_once
from tenant_apps.casework.selectors import access_case, access_profile
from tenant_apps.tasks import selectors, services
from tenant_apps.tasks.forms import DigestForm, DueDateForm, ReplyForm, StatusForm, TaskFilterForm, TaskForm

TASKS_PER_PAGE = 50
FORBIDDEN_PAGE = "tasks/403.html"  # viewers (read-only role) get it before a write page reads anything

LISTS = {
    "mine": (selectors.my_tasks, "My tasks"),
    "team": (selectors.my_teams_tasks, "My team's tasks"),
    "created": (selectors.tasks_set_by, "Tasks I set"),
}


def _task_list(request, section: str):
    selector, title = LISTS[section]
    form = TaskFilterForm(request.GET)
    tasks = selector(request.user, status=form.status_filter())
    page = requested_page(request, tasks, per_page=TASKS_PER_PAGE)
    filter_query = f"status={form.status_filter()}"
    context = {"form": form, "page": page, "title": title, "section": section, "filter_query": filter_query}
    return render(request, "tasks/task_list.html", context)


@require_GET
def my_tasks(request):
    return _task_list(request, "mine")


@require_GET
def my_teams_tasks(request):
    return _task_list(request, "team")


@require_GET
def tasks_set_by_me(request):
    return _task_list(request, "created")


@require_GET
@read_limited(READ)
def task_detail(request, task_id: int):
    task = selectors.access_task(user=request.user, task_id=task_id)
    services.task_viewed(user=request.user, request=request, task=task)
    context = {
        "task": task,
        "reply_form": ReplyForm(),
        "status_form": StatusForm(initial={"status": task.status, "version": task.version}),
    }
    return render(request, "tasks/task_detail.html", context)


@writers_only(FORBIDDEN_PAGE)
@GET_POST
@create_once
def task_create(request):
    """``?case=<id>`` and/or ``?profile=<id>``: the records it comes from (ids, never names)."""
    case_id, profile_id = request.GET.get("case"), request.GET.get("profile")
    case = access_case(user=request.user, case_id=case_id) if case_id else None
    profile = access_profile(user=request.user, profile_id=profile_id) if profile_id else None
    form = TaskForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            task = services.task_create(user=request.user, request=request, case=case, profile=profile,
                                        **form.cleaned_data)  # fmt: skip
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"The task has been created and {task.assignee_label} has been told.")
            return redirect("tasks:detail", task_id=task.pk)
    return render(request, "tasks/task_form.html", {"form": form, "case": case, "profile": profile})


@writers_only(FORBIDDEN_PAGE)
@GET_POST
@read_limited(READ)
def task_status(request, task_id: int):
    task = selectors.access_task(user=request.user, task_id=task_id)
    form = StatusForm(posted(request), initial={"status": task.status, "version": task.version})
    if request.method == "POST" and form.is_valid():
        try:
            data = form.cleaned_data
            services.task_set_status(
                user=request.user, request=request, task=task, status=data["status"], version=data["version"]
            )
        except services.ChangedSinceOpened:
            form.add_error(None, services.ChangedSinceOpened.message)
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, "The task's status has been saved.")
            return redirect("tasks:detail", task_id=task.pk)
    services.task_viewed(user=request.user, request=request, task=task, what="status form")
    return render(request, "tasks/task_status.html", {"form": form, "task": task})


@writers_only(FORBIDDEN_PAGE)
@GET_POST
@read_limited(READ)
def task_due_date(request, task_id: int):
    task = selectors.access_task(user=request.user, task_id=task_id)
    form = DueDateForm(posted(request), initial={"due_date": task.due_date, "version": task.version})
    if request.method == "POST" and form.is_valid():
        try:
            services.task_set_due_date(user=request.user, request=request, task=task, **form.cleaned_data)
        except services.ChangedSinceOpened:
            form.add_error(None, services.ChangedSinceOpened.message)
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, "The task's due date has been saved.")
            return redirect("tasks:detail", task_id=task.pk)
    services.task_viewed(user=request.user, request=request, task=task, what="due date form")
    return render(request, "tasks/task_due_date.html", {"form": form, "task": task})


@writers_only(FORBIDDEN_PAGE)
@require_POST
def task_reply(request, task_id: int):
    task = selectors.access_task(user=request.user, task_id=task_id)
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            services.task_reply(user=request.user, request=request, task=task, body=form.cleaned_data["body"])
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Your reply has been added.")
            return redirect("tasks:detail", task_id=task.pk)
    status_form = StatusForm(initial={"status": task.status, "version": task.version})
    context = {"task": task, "reply_form": form, "status_form": status_form}
    return render(request, "tasks/task_detail.html", context, status=400)


@writers_only(FORBIDDEN_PAGE)
@GET_POST
def digest_settings(request):
    """The user's own daily digest e-mail, on or off (the digest's "to stop it" link comes here)."""
    wanted = selectors.digest_wanted(request.user)
    form = DigestForm(posted(request), initial={"wants_digest": "yes" if wanted else "no"})
    if request.method == "POST" and form.is_valid():
        wants = form.cleaned_data["wants_digest"]
        services.digest_preference_set(user=request.user, request=request, wants_digest=wants)
        if wants:
            messages.success(request, "You will get a daily e-mail on days when you have tasks overdue or due today.")
        else:
            messages.success(request, "You will not get the daily e-mail of your tasks.")
        return redirect("tasks:digest")
    return render(request, "tasks/digest_settings.html", {"form": form, "wanted": wanted})
