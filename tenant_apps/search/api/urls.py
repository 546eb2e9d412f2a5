"""Search API path, mounted at ``api/v1/search/`` in ``concord.urls_partnership``."""

from django.urls import path

from tenant_apps.search import api

urlpatterns = [
    path("", api.SearchRunApi.as_view(), name="api-search"),
]
