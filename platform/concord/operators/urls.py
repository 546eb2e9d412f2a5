from django.urls import path

from concord.operators import views

urlpatterns = [
    path("", views.dashboard, name="home"),
]
