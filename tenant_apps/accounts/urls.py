from django.urls import path

from tenant_apps.accounts import views

app_name = "accounts"

urlpatterns = [
    path("sign-in/", views.sign_in, name="sign-in"),
    path("two-factor/", views.two_factor, name="two-factor"),
    path("two-factor/setup/", views.two_factor_setup, name="two-factor-setup"),
    path("two-factor/backup-codes/", views.backup_codes, name="backup-codes"),
    path("security/", views.security, name="security"),
    path("passkeys/add/", views.passkey_add, name="passkey-add"),
    path("passkeys/<int:passkey_id>/rename/", views.passkey_rename, name="passkey-rename"),
    path("passkeys/<int:passkey_id>/remove/", views.passkey_remove, name="passkey-remove"),
    path("confirm-it-is-you/", views.confirm_it_is_you, name="confirm-it-is-you"),
    path("password/", views.password_change, name="password-change"),
    path("enrol/<uidb64>/<token>/", views.enrolment_link, name="enrol"),
    path("enrol/new-link/", views.enrolment_link_resend, name="enrol-resend"),
    path("not-me/<str:token>/", views.not_me, name="not-me"),
    path("sign-out/", views.sign_out, name="sign-out"),
    path("sign-out/everywhere/", views.sign_out_everywhere, name="sign-out-everywhere"),
    path("password-reset/", views.password_reset, name="password-reset"),
    path("set-password/<uidb64>/<token>/", views.SetPasswordView.as_view(), name="set-password"),
    path("reset-password/<uidb64>/<token>/", views.ResetPasswordView.as_view(), name="reset-password"),
]
