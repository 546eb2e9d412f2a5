"""Casework API paths, under ``/api/v1/`` of a partnership host."""

from django.urls import path

from tenant_apps.casework import api

PROFILE = "profiles/<int:profile_id>"

urlpatterns = [
    path("profiles/", api.ProfileListCreateApi.as_view(), name="api-profiles"),
    path("profiles/duplicates/", api.ProfileDuplicatesApi.as_view(), name="api-profile-duplicates"),
    path(f"{PROFILE}/", api.ProfileDetailApi.as_view(), name="api-profile"),
    path(f"{PROFILE}/timeline/", api.ProfileTimelineApi.as_view(), name="api-profile-timeline"),
    path(f"{PROFILE}/shares/", api.ProfileSharesApi.as_view(), name="api-profile-shares"),
    path(f"{PROFILE}/shares/<int:share_id>/", api.ProfileShareRevokeApi.as_view(), name="api-profile-share"),
    path("case-types/", api.CaseTypeListApi.as_view(), name="api-case-types"),
    path("cases/", api.CaseListCreateApi.as_view(), name="api-cases"),
    path("cases/<int:case_id>/", api.CaseDetailApi.as_view(), name="api-case"),
    path("cases/<int:case_id>/status/", api.CaseStatusApi.as_view(), name="api-case-status"),
    path("cases/<int:case_id>/timeline/", api.CaseTimelineApi.as_view(), name="api-case-timeline"),
    path("cases/<int:case_id>/shares/", api.CaseSharesApi.as_view(), name="api-case-shares"),
    path("cases/<int:case_id>/shares/<int:share_id>/", api.CaseShareRevokeApi.as_view(), name="api-case-share"),
    path("entries/<int:entry_id>/", api.EntryDetailApi.as_view(), name="api-entry"),
    path("entries/<int:entry_id>/delete/", api.EntryDeleteApi.as_view(), name="api-entry-delete"),
    path("families/", api.FamilyListCreateApi.as_view(), name="api-families"),
    path("families/<int:family_id>/", api.FamilyDetailApi.as_view(), name="api-family"),
    path("families/<int:family_id>/members/", api.FamilyMembersApi.as_view(), name="api-family-members"),
    path(
        "families/<int:family_id>/members/<int:member_id>/",
        api.FamilyMemberRemoveApi.as_view(),
        name="api-family-member",
    ),
    *[
        route
        for plural, (list_add, remove) in api.DETAIL_APIS.items()
        for route in (
            path(f"{PROFILE}/{plural}/", list_add.as_view(), name=f"api-profile-{plural}"),
            path(
                f"{PROFILE}/{plural}/<int:item_id>/",
                remove.as_view(),
                name=f"api-profile-{api.DETAIL_KINDS[plural].component.lower()}",
            ),  # fmt: skip
        )
    ],
    path(f"{PROFILE}/merge/", api.ProfileMergeApi.as_view(), name="api-profile-merge"),
    path("entries/<int:entry_id>/attachments/", api.EntryAttachmentsApi.as_view(), name="api-entry-attachments"),
    path(
        "documents/<uuid:document_id>/download-url/",
        api.DocumentDownloadUrlApi.as_view(),
        name="api-document-download-url",
    ),
]
