"""Assessments pages, mounted at ``assessments/`` in ``concord.urls_partnership``."""

from django.urls import path

from tenant_apps.assessments import views

app_name = "assessments"

urlpatterns = [
    path("bank/", views.bank_list, name="bank"),
    path("bank/questions/<str:code>/", views.bank_question, name="bank-question"),
    path("bank/submissions/", views.bank_submission_list, name="bank-submission-list"),
    path("bank/submissions/new/", views.bank_submission_create, name="bank-submission-create"),
    path("bank/submissions/<int:submission_id>/", views.bank_submission, name="bank-submission"),
    path("bank/submissions/<int:submission_id>/edit/", views.bank_submission_edit, name="bank-submission-edit"),
    path("bank/submissions/<int:submission_id>/submit/", views.bank_submission_submit, name="bank-submission-submit"),
    path(
        "bank/submissions/<int:submission_id>/withdraw/",
        views.bank_submission_withdraw,
        name="bank-submission-withdraw",
    ),
]
