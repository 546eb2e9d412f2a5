"""Mounted at ``operators/`` by ``concord.urls_public`` only (never on a partnership host).

Names are not namespaced: ``home`` is where accounts sends an operator after
signing in (``reverse("home")``), as a partnership's URLconf names its home page.
"""

from django.urls import include, path

from concord.operators import views

audit_patterns = (
    [
        path("", views.audit_list, name="list"),
        path("export.csv", views.audit_export, name="export"),
    ],
    "audit",  # the reused audit templates link to audit:list and audit:export
)

urlpatterns = [
    path("", views.dashboard, name="home"),
    path("provision/", views.provision, name="operator-provision"),
    path("partnerships/<slug:slug>/", views.partnership_detail, name="operator-partnership"),
    path("partnerships/<slug:slug>/suspend/", views.suspend, name="operator-suspend"),
    path("partnerships/<slug:slug>/resume/", views.resume, name="operator-resume"),
    path("bank/", views.bank_queue, name="operator-bank"),
    path("bank/submissions/<int:submission_id>/", views.bank_submission_review, name="operator-bank-submission"),
    path("bank/questions/", views.bank_questions, name="operator-bank-questions"),
    path("bank/questions/<str:code>/retire/", views.bank_question_retire, name="operator-bank-retire"),
    path("audit/", include(audit_patterns)),
]
