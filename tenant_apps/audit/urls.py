"""Mounted at ``admin/audit/`` in ``concord.urls_partnership``."""

from django.urls import path

from tenant_apps.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.event_list, name="list"),
    path("export.csv", views.event_export, name="export"),
]
