"""Mounted at ``search/`` in ``concord.urls_partnership``."""

from django.urls import path

from tenant_apps.search import views

app_name = "search"

urlpatterns = [
    path("", views.search, name="search"),
]
