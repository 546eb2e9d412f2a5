"""The partnership admin area, mounted at ``admin/`` in ``concord.urls_partnership``.

Every view here is wrapped by ``partnership_admin_required`` (a test walks this list).
"""

from django.urls import path

from tenant_apps.directory import views

app_name = "directory"

urlpatterns = [
    path("", views.index, name="index"),
    path("users/", views.user_list, name="user-list"),
    path("users/invite/", views.user_invite, name="user-invite"),
    path("users/<int:user_id>/", views.user_detail, name="user-detail"),
    path("users/<int:user_id>/role/", views.user_role, name="user-role"),
    path("users/<int:user_id>/agency-and-teams/", views.user_membership, name="user-membership"),
    path("users/<int:user_id>/deactivate/", views.user_deactivate, name="user-deactivate"),
    path("users/<int:user_id>/reactivate/", views.user_reactivate, name="user-reactivate"),
    path("users/<int:user_id>/reset-second-factor/", views.user_reset_second_factor, name="user-reset-second-factor"),
    path("users/<int:user_id>/resend-invitation/", views.user_resend_invitation, name="user-resend-invitation"),
    path("agencies/", views.agency_list, name="agency-list"),
    path("agencies/new/", views.agency_create, name="agency-create"),
    path("agencies/<int:agency_id>/", views.agency_edit, name="agency-edit"),
    path("teams/new/", views.team_create, name="team-create"),
    path("teams/<int:team_id>/", views.team_edit, name="team-edit"),
    path("settings/", views.partnership_settings, name="settings"),
    path("settings/read-limits/", views.partnership_read_limits, name="settings-read-limits"),
    path("api-clients/", views.api_client_list, name="api-client-list"),
    path("api-clients/new/", views.api_client_issue, name="api-client-issue"),
    path("api-clients/<int:client_id>/", views.api_client_detail, name="api-client-detail"),
    path("api-clients/<int:client_id>/rotate/", views.api_client_rotate, name="api-client-rotate"),
    path("api-clients/<int:client_id>/revoke/", views.api_client_revoke, name="api-client-revoke"),
]
