"""Casework pages, mounted at the root of every partnership host (``/profiles/``, ``/cases/``, ``/families/``...,
and the admin area's ``/admin/case-types/``)."""

from django.urls import path

from tenant_apps.casework import views

app_name = "casework"

PROFILE = "profiles/<int:profile_id>"

urlpatterns = [
    path("profiles/", views.profile_list, name="profile-list"),
    path("profiles/new/", views.profile_create, name="profile-create"),
    path(f"{PROFILE}/", views.profile_detail, name="profile-detail"),
    path(f"{PROFILE}/edit/", views.profile_edit, name="profile-edit"),
    path(f"{PROFILE}/merge/", views.profile_merge, name="profile-merge"),
    path("profiles/duplicates/", views.profile_duplicates, name="profile-duplicates"),
    path(f"{PROFILE}/details/", views.profile_details, name="profile-details"),
    path(f"{PROFILE}/details/<str:kind>/new/", views.detail_add, name="detail-add"),
    path(f"{PROFILE}/details/<str:kind>/<int:item_id>/remove/", views.detail_remove, name="detail-remove"),
    path(f"{PROFILE}/sharing/", views.profile_sharing, name="profile-sharing"),
    path(f"{PROFILE}/sharing/<int:share_id>/revoke/", views.profile_sharing_revoke, name="profile-sharing-revoke"),
    path("cases/", views.case_list, name="case-list"),
    path("cases/new/", views.case_create, name="case-create"),
    path("cases/<int:case_id>/", views.case_detail, name="case-detail"),
    path("cases/<int:case_id>/status/", views.case_status, name="case-status"),
    path("cases/<int:case_id>/sharing/", views.case_sharing, name="case-sharing"),
    path("cases/<int:case_id>/sharing/<int:share_id>/revoke/", views.share_revoke, name="share-revoke"),
    path("cases/<int:case_id>/timeline/new/", views.entry_create, name="entry-create"),
    path("timeline/<int:entry_id>/edit/", views.entry_edit, name="entry-edit"),
    path("timeline/<int:entry_id>/delete/", views.entry_delete, name="entry-delete"),
    path("timeline/<int:entry_id>/history/", views.entry_history, name="entry-history"),
    path("gallery/", views.gallery, name="gallery"),
    # The admin area's case types: mounted with casework at the root (casework's URLconf is included
    # before directory's ``admin/``), guarded by directory's ``partnership_admin_required``.
    path("admin/case-types/", views.case_type_list, name="case-type-list"),
    path("admin/case-types/new/", views.case_type_create, name="case-type-create"),
    path("admin/case-types/<int:case_type_id>/", views.case_type_edit, name="case-type-edit"),
    path("admin/case-types/<int:case_type_id>/retire/", views.case_type_retire, name="case-type-retire"),
    path("admin/case-types/<int:case_type_id>/restore/", views.case_type_restore, name="case-type-restore"),
    path("families/", views.family_list, name="family-list"),
    path("families/new/", views.family_create, name="family-create"),
    path("families/<int:family_id>/", views.family_detail, name="family-detail"),
    path("families/<int:family_id>/members/new/", views.family_add_member, name="family-add-member"),
    path(
        "families/<int:family_id>/members/<int:member_id>/remove/",
        views.family_remove_member,
        name="family-remove-member",
    ),
]
