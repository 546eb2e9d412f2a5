"""Accounts API path, mounted at ``api/v1/`` in ``concord.urls_partnership``."""

from django.urls import path

from tenant_apps.accounts import api

urlpatterns = [
    path("me/", api.MeDetailApi.as_view(), name="api-me"),
]
