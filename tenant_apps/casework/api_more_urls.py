"""More casework API paths (families, profile details, merging, attachments), under ``/api/v1/``."""

from django.urls import path

from tenant_apps.casework import api_more

PROFILE = "profiles/<int:profile_id>"

urlpatterns = [
    path("families/", api_more.FamilyListCreateApi.as_view(), name="api-families"),
    path("families/<int:family_id>/", api_more.FamilyDetailApi.as_view(), name="api-family"),
    path("families/<int:family_id>/members/", api_more.FamilyMembersApi.as_view(), name="api-family-members"),
    path(
        "families/<int:family_id>/members/<int:member_id>/",
        api_more.FamilyMemberRemoveApi.as_view(),
        name="api-family-member",
    ),
    path(f"{PROFILE}/addresses/", api_more.ProfileAddressesApi.as_view(), name="api-profile-addresses"),
    path(f"{PROFILE}/addresses/<int:item_id>/", api_more.ProfileAddressRemoveApi.as_view(), name="api-profile-address"),
    path(f"{PROFILE}/identifiers/", api_more.ProfileIdentifiersApi.as_view(), name="api-profile-identifiers"),
    path(
        f"{PROFILE}/identifiers/<int:item_id>/",
        api_more.ProfileIdentifierRemoveApi.as_view(),
        name="api-profile-identifier",
    ),
    path(f"{PROFILE}/warnings/", api_more.ProfileWarningsApi.as_view(), name="api-profile-warnings"),
    path(f"{PROFILE}/warnings/<int:item_id>/", api_more.ProfileWarningRemoveApi.as_view(), name="api-profile-warning"),
    path(
        f"{PROFILE}/vulnerabilities/", api_more.ProfileVulnerabilitiesApi.as_view(), name="api-profile-vulnerabilities"
    ),
    path(
        f"{PROFILE}/vulnerabilities/<int:item_id>/",
        api_more.ProfileVulnerabilityRemoveApi.as_view(),
        name="api-profile-vulnerability",
    ),
    path(f"{PROFILE}/aliases/", api_more.ProfileAliasesApi.as_view(), name="api-profile-aliases"),
    path(f"{PROFILE}/aliases/<int:item_id>/", api_more.ProfileAliasRemoveApi.as_view(), name="api-profile-alias"),
    path(f"{PROFILE}/merge/", api_more.ProfileMergeApi.as_view(), name="api-profile-merge"),
    path("entries/<int:entry_id>/attachments/", api_more.EntryAttachmentsApi.as_view(), name="api-entry-attachments"),
    path(
        "documents/<uuid:document_id>/download-url/",
        api_more.DocumentDownloadUrlApi.as_view(),
        name="api-document-download-url",
    ),
]
