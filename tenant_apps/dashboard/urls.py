"""The home page, at the root of every partnership host. Its name stays ``home`` (no namespace):
sign-in, the error pages and the admin area send people there by that name."""

from django.urls import path

from tenant_apps.dashboard import views

urlpatterns = [
    path("", views.home, name="home"),
]
