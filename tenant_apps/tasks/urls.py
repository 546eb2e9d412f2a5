"""Tasks pages, mounted at ``tasks/`` in ``concord.urls_partnership``."""

from django.urls import path

from tenant_apps.tasks import views

app_name = "tasks"

urlpatterns = [
    path("", views.my_tasks, name="mine"),
    path("team/", views.my_teams_tasks, name="team"),
    path("set-by-me/", views.tasks_set_by_me, name="created"),
    path("new/", views.task_create, name="create"),
    path("daily-email/", views.digest_settings, name="digest"),
    path("<int:task_id>/", views.task_detail, name="detail"),
    path("<int:task_id>/status/", views.task_status, name="status"),
    path("<int:task_id>/due-date/", views.task_due_date, name="due-date"),
    path("<int:task_id>/reply/", views.task_reply, name="reply"),
]
