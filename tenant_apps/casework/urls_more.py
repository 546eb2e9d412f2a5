"""Families, a profile's details and a profile's sharing (mounted at the root of every partnership host)."""

from django.urls import path

from tenant_apps.casework import views_details, views_families

app_name = "casework_more"

urlpatterns = [
    path("families/", views_families.family_list, name="family-list"),
    path("families/new/", views_families.family_create, name="family-create"),
    path("families/<int:family_id>/", views_families.family_detail, name="family-detail"),
    path("families/<int:family_id>/members/new/", views_families.family_add_member, name="family-add-member"),
    path(
        "families/<int:family_id>/members/<int:member_id>/remove/",
        views_families.family_remove_member,
        name="family-remove-member",
    ),
    path("profiles/<int:profile_id>/details/", views_details.details, name="profile-details"),
    path("profiles/<int:profile_id>/details/<str:kind>/new/", views_details.detail_add, name="detail-add"),
    path(
        "profiles/<int:profile_id>/details/<str:kind>/<int:item_id>/remove/",
        views_details.detail_remove,
        name="detail-remove",
    ),
    path("profiles/<int:profile_id>/sharing/", views_details.sharing, name="profile-sharing"),
    path(
        "profiles/<int:profile_id>/sharing/<int:share_id>/revoke/",
        views_details.sharing_revoke,
        name="profile-sharing-revoke",
    ),
]
