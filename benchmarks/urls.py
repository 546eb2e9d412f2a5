"""Partnership URLconf for the benchmark settings: the real one plus the benchmark views."""

from django.urls import include, path

from benchmarks import views

urlpatterns = [
    path("bench/one-query/", views.one_query, name="bench-one-query"),
    path("bench/signed-in/", views.signed_in_page, name="bench-signed-in"),
    path("bench/audited/", views.audited_page, name="bench-audited"),
    path("bench/write/", views.write_unaudited, name="bench-write"),
    path("bench/write-audited/", views.write_audited, name="bench-write-audited"),
    path("", include("concord.urls_partnership")),
]

handler404 = "concord.views.not_found"
