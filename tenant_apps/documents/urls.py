"""Included by the partnership URLconf: path("documents/", include("tenant_apps.documents.urls"))."""

from django.urls import path

from tenant_apps.documents import views

app_name = "documents"

urlpatterns = [
    path("<uuid:document_id>/download/", views.download, name="download"),
    path("<uuid:document_id>/image/", views.image, name="image"),
    path("<uuid:document_id>/thumbnail/", views.thumbnail, name="thumbnail"),
]
