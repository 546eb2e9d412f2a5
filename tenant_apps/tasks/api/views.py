"""The tasks API's classes: thin views with nested input and output serializers."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from concord.api import BaseApi, ChoiceField, DateField, VisibleIdField, page_of, paginated, valid
from tenant_apps.casework.idempotency import IDEMPOTENCY_PARAMETER, api_create_once
from tenant_apps.casework.selectors import cases_visible_to, profiles_visible_to
from tenant_apps.tasks import selectors, services
from tenant_apps.tasks.forms import LIST_STATUS_CHOICES
from tenant_apps.tasks.models import Task

__all__ = ["TaskDetailApi", "TaskListCreateApi", "TaskReplyApi", "TaskSetDueDateApi", "TaskSetStatusApi"]

SCOPES = {"mine": selectors.my_tasks, "team": selectors.my_teams_tasks, "created": selectors.tasks_set_by}


class TaskPersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    full_name = serializers.CharField(source="get_full_name")


class TaskOutputSerializer(serializers.Serializer):
    """A task as its viewer may see it: the case's reference always, its title only if
    they may see the case; a profile's id and name only if they may see the profile."""

    class TaskCaseSerializer(serializers.Serializer):
        reference = serializers.CharField()

    class TaskTeamSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        name = serializers.CharField(source="label")

    id = serializers.IntegerField()
    title = serializers.CharField()
    details = serializers.CharField()
    status = serializers.CharField()
    due_date = serializers.DateField()
    is_overdue = serializers.BooleanField(
        help_text="Open or in progress, and due before today (the partnership's date, Europe/London)."
    )
    is_due_today = serializers.BooleanField(
        help_text="Open or in progress, and due today (the partnership's date, Europe/London)."
    )
    version = serializers.IntegerField()
    case = TaskCaseSerializer(allow_null=True)
    case_id = serializers.SerializerMethodField()
    profile_id = serializers.SerializerMethodField()
    assigned_user = TaskPersonSerializer(allow_null=True)
    assigned_team = TaskTeamSerializer(allow_null=True)
    created_by = TaskPersonSerializer()
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    link = serializers.CharField(help_text="Where in Concord it was set from (an assessment's question), or empty.")

    def get_case_id(self, task) -> int | None:
        return task.case_id if task.case_visible else None

    def get_profile_id(self, task) -> int | None:
        return task.profile_id if task.profile_visible else None


class TaskReplyOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    author = TaskPersonSerializer()
    body = serializers.CharField()
    created_at = serializers.DateTimeField()


class TaskDetailOutputSerializer(TaskOutputSerializer):
    replies = TaskReplyOutputSerializer(many=True, source="replies.all")


class TaskListCreateApi(BaseApi):
    """Tasks assigned to me (``scope=mine``, the default), to my teams (``team``) or set by me
    (``created``); ``status``: active (open or in progress, the default), a status, or all.
    Overdue tasks first (``is_overdue``), then by due date, soonest first."""

    api_area = "tasks"

    class TaskFilterSerializer(serializers.Serializer):
        scope = ChoiceField(choices=list(SCOPES), default="mine")
        status = ChoiceField(choices=[value for value, _ in LIST_STATUS_CHOICES], default="active")

    class TaskCreateInputSerializer(serializers.Serializer):
        title = serializers.CharField(max_length=200, allow_blank=True)
        details = serializers.CharField(max_length=5000, allow_blank=True, required=False, default="")
        due_date = DateField(allow_null=True, required=False, default=None)
        past_due_confirmed = serializers.BooleanField(
            required=False, default=False,
            help_text="Record a task that is already overdue: due_date may then be before today (up to a year "
            "back). Without it a past due_date answers 400 on due_date.",
        )  # fmt: skip
        case = VisibleIdField(cases_visible_to)
        profile = VisibleIdField(profiles_visible_to)
        assigned_user = VisibleIdField(selectors.assignable_people_visible_to)
        assigned_team = VisibleIdField(selectors.assignable_teams_visible_to)

    @extend_schema(
        operation_id="v1_tasks_list",
        parameters=[TaskFilterSerializer, OpenApiParameter("page", int)],
        responses=page_of(TaskOutputSerializer, "PaginatedTaskList"),
    )
    def get(self, request):
        filters = valid(self.TaskFilterSerializer, request.query_params)
        tasks = SCOPES[filters["scope"]](request.user, status=filters["status"])
        return paginated(request, self, tasks, TaskOutputSerializer)

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=TaskCreateInputSerializer,
        responses={201: TaskDetailOutputSerializer},
    )
    def post(self, request):
        """Create a task. Answered from inside the create's transaction (nothing is read after it
        commits), and once per ``Idempotency-Key``: a retry gets the first answer, no second
        task and no second e-mail."""

        def create():
            data = valid(self.TaskCreateInputSerializer, request.data, context={"request": request})
            task = services.task_create(user=request.user, request=request, **data)
            task = selectors.access_task(user=request.user, task_id=task.pk)  # in the transaction
            return Response(TaskDetailOutputSerializer(task).data, status=status.HTTP_201_CREATED)

        return api_create_once(request, create)


class TaskDetailApi(BaseApi):
    api_area = "tasks"

    @extend_schema(responses=TaskDetailOutputSerializer)
    def get(self, request, task_id: int):
        task = selectors.access_task(user=request.user, task_id=task_id)
        services.task_viewed(user=request.user, request=request, task=task)
        return Response(TaskDetailOutputSerializer(task).data)


class TaskSetStatusApi(BaseApi):
    """Change the status; send the ``version`` you read. 409 if the task changed since."""

    api_area = "tasks"

    class TaskStatusInputSerializer(serializers.Serializer):
        status = ChoiceField(choices=Task.Status.choices)
        version = serializers.IntegerField(min_value=1)

    @extend_schema(request=TaskStatusInputSerializer, responses={200: TaskDetailOutputSerializer})
    def post(self, request, task_id: int):
        task = selectors.access_task(user=request.user, task_id=task_id)
        data = valid(self.TaskStatusInputSerializer, request.data)
        services.task_set_status(user=request.user, request=request, task=task, **data)  # stale: 409
        task = selectors.access_task(user=request.user, task_id=task.pk)
        return Response(TaskDetailOutputSerializer(task).data)


class TaskSetDueDateApi(BaseApi):
    """Move an open or in-progress task's due date; send the ``version`` you read. 409 if the
    task changed since; 400 on ``due_date`` for a past date without ``past_due_confirmed``."""

    api_area = "tasks"

    class TaskDueDateInputSerializer(serializers.Serializer):
        due_date = DateField(allow_null=True)
        version = serializers.IntegerField(min_value=1)
        past_due_confirmed = serializers.BooleanField(
            required=False, default=False,
            help_text="A due date before today is accepted (up to a year back): the task is then overdue.",
        )  # fmt: skip

    @extend_schema(request=TaskDueDateInputSerializer, responses={200: TaskDetailOutputSerializer})
    def post(self, request, task_id: int):
        task = selectors.access_task(user=request.user, task_id=task_id)
        data = valid(self.TaskDueDateInputSerializer, request.data)
        services.task_set_due_date(user=request.user, request=request, task=task, **data)  # stale: 409
        task = selectors.access_task(user=request.user, task_id=task.pk)
        return Response(TaskDetailOutputSerializer(task).data)


class TaskReplyApi(BaseApi):
    api_area = "tasks"

    class TaskReplyInputSerializer(serializers.Serializer):
        body = serializers.CharField(max_length=5000, allow_blank=True)

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER], request=TaskReplyInputSerializer, responses={201: TaskReplyOutputSerializer}
    )
    def post(self, request, task_id: int):
        task = selectors.access_task(user=request.user, task_id=task_id)

        def create():
            data = valid(self.TaskReplyInputSerializer, request.data)
            reply = services.task_reply(user=request.user, request=request, task=task, **data)
            return Response(TaskReplyOutputSerializer(reply).data, status=status.HTTP_201_CREATED)

        return api_create_once(request, create)
