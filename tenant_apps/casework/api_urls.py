"""Casework API paths, under ``/api/v1/`` of a partnership host."""

from django.urls import path

from tenant_apps.casework import api

urlpatterns = [
    path("profiles/", api.ProfileListCreateApi.as_view(), name="api-profiles"),
    path("profiles/duplicates/", api.ProfileDuplicatesApi.as_view(), name="api-profile-duplicates"),
    path("profiles/<int:profile_id>/", api.ProfileDetailApi.as_view(), name="api-profile"),
    path("profiles/<int:profile_id>/timeline/", api.ProfileTimelineApi.as_view(), name="api-profile-timeline"),
    path("profiles/<int:profile_id>/shares/", api.ProfileSharesApi.as_view(), name="api-profile-shares"),
    path(
        "profiles/<int:profile_id>/shares/<int:share_id>/",
        api.ProfileShareRevokeApi.as_view(),
        name="api-profile-share",
    ),
    path("cases/", api.CaseListCreateApi.as_view(), name="api-cases"),
    path("cases/<int:case_id>/", api.CaseDetailApi.as_view(), name="api-case"),
    path("cases/<int:case_id>/status/", api.CaseStatusApi.as_view(), name="api-case-status"),
    path("cases/<int:case_id>/timeline/", api.CaseTimelineApi.as_view(), name="api-case-timeline"),
    path("cases/<int:case_id>/shares/", api.CaseSharesApi.as_view(), name="api-case-shares"),
    path("cases/<int:case_id>/shares/<int:share_id>/", api.CaseShareRevokeApi.as_view(), name="api-case-share"),
    path("entries/<int:entry_id>/", api.EntryDetailApi.as_view(), name="api-entry"),
    path("entries/<int:entry_id>/delete/", api.EntryDeleteApi.as_view(), name="api-entry-delete"),
]
