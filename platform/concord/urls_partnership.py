"""Root URLconf of every partnership host (``<slug>.<PLATFORM_DOMAIN>``)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from concord.api.docs import api_docs

urlpatterns = [
    path("", include("tenant_apps.dashboard.urls")),
    path("", include("tenant_apps.casework.urls")),
    path("account/", include("tenant_apps.accounts.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", api_docs, name="api-docs"),  # the schema as an accessible page (concord.api.docs)
    path("api/v1/", include("tenant_apps.accounts.api.urls")),
    path("api/v1/search/", include("tenant_apps.search.api.urls")),
    path("api/v1/", include("tenant_apps.casework.api.urls")),
    path("admin/", include("tenant_apps.directory.urls")),
    path("admin/audit/", include("tenant_apps.audit.urls")),
    path("search/", include("tenant_apps.search.urls")),
    path("tasks/", include("tenant_apps.tasks.urls")),
    path("assessments/", include("tenant_apps.assessments.urls")),
    path("documents/", include("tenant_apps.documents.urls")),
    path("api/v1/tasks/", include("tenant_apps.tasks.api.urls")),
    path("api/v1/assessments/", include("tenant_apps.assessments.api.urls")),
]

handler404 = "concord.views.not_found"
handler500 = "concord.views.server_error"
