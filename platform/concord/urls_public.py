"""Root URLconf of the bare platform domain: the public site (and, later, the operator area)."""

from django.urls import path

from concord import views

urlpatterns = [
    path("", views.public_home, name="public-home"),
]

handler404 = "concord.views.not_found"
handler500 = "concord.views.server_error"
