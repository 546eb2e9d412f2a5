"""Root URLconf of the bare platform domain: the public site and the operator area."""

from django.urls import include, path

from concord import views

urlpatterns = [
    path("", views.public_home, name="public-home"),
    path("account/", include("tenant_apps.accounts.urls")),
    path("operators/", include("concord.operators.urls")),
]

handler404 = "concord.views.not_found"
handler500 = "concord.views.server_error"
