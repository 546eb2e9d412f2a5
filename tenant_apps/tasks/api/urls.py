"""Tasks API paths, mounted at ``api/v1/tasks/`` in ``concord.urls_partnership``."""

from django.urls import path

from tenant_apps.tasks import api

urlpatterns = [
    path("", api.TaskListCreateApi.as_view(), name="api-tasks"),
    path("<int:task_id>/", api.TaskDetailApi.as_view(), name="api-task-detail"),
    path("<int:task_id>/status/", api.TaskSetStatusApi.as_view(), name="api-task-status"),
    path("<int:task_id>/due-date/", api.TaskSetDueDateApi.as_view(), name="api-task-due-date"),
    path("<int:task_id>/replies/", api.TaskReplyApi.as_view(), name="api-task-replies"),
]
