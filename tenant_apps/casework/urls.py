"""Casework pages, mounted at the root of every partnership host (``/profiles/``, ``/cases/``...)."""

from django.urls import path

from tenant_apps.casework import views

app_name = "casework"

urlpatterns = [
    path("profiles/", views.profile_list, name="profile-list"),
    path("profiles/new/", views.profile_create, name="profile-create"),
    path("profiles/<int:profile_id>/", views.profile_detail, name="profile-detail"),
    path("profiles/<int:profile_id>/edit/", views.profile_edit, name="profile-edit"),
    path("profiles/<int:profile_id>/merge/", views.profile_merge, name="profile-merge"),
    path("profiles/duplicates/", views.profile_duplicates, name="profile-duplicates"),
    path("cases/", views.case_list, name="case-list"),
    path("cases/new/", views.case_create, name="case-create"),
    path("cases/<int:case_id>/", views.case_detail, name="case-detail"),
    path("cases/<int:case_id>/status/", views.case_status, name="case-status"),
    path("cases/<int:case_id>/sharing/", views.case_sharing, name="case-sharing"),
    path("cases/<int:case_id>/sharing/<int:share_id>/revoke/", views.share_revoke, name="share-revoke"),
    path("cases/<int:case_id>/timeline/new/", views.entry_create, name="entry-create"),
    path("timeline/<int:entry_id>/edit/", views.entry_edit, name="entry-edit"),
    path("timeline/<int:entry_id>/delete/", views.entry_delete, name="entry-delete"),
    path("gallery/", views.gallery, name="gallery"),
]
