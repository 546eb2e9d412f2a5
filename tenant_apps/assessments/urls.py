"""Assessments pages, mounted at ``assessments/`` in ``concord.urls_partnership``."""

from django.urls import path

from tenant_apps.assessments import views

app_name = "assessments"

urlpatterns = [
    path("", views.assessment_list, name="list"),
    path("start/", views.assessment_start, name="start"),
    path("<int:assessment_id>/", views.assessment_detail, name="assessment"),
    path("<int:assessment_id>/sections/<int:number>/", views.assessment_section, name="section"),
    path("<int:assessment_id>/complete/", views.assessment_complete, name="complete"),
    path("<int:assessment_id>/restrict/", views.assessment_restrict, name="restrict"),
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
    path("templates/", views.template_list, name="template-list"),
    path("templates/new/", views.template_create, name="template-create"),
    path("templates/<int:template_id>/", views.template_detail, name="template"),
    path("templates/<int:template_id>/edit/", views.template_edit, name="template-edit"),
    path("templates/<int:template_id>/versions/<int:number>/", views.template_version, name="template-version"),
    path("templates/<int:template_id>/draft/", views.template_draft_start, name="template-draft"),
    path("templates/<int:template_id>/publish/", views.template_publish, name="template-publish"),
    path("templates/<int:template_id>/status/", views.template_status, name="template-status"),
    path("templates/<int:template_id>/sections/", views.template_section_add, name="template-section-add"),
    path("templates/<int:template_id>/sections/<int:section_id>/", views.template_section_edit,
         name="template-section"),
    path("templates/<int:template_id>/sections/<int:section_id>/remove/", views.template_section_remove,
         name="template-section-remove"),
    path("templates/<int:template_id>/sections/<int:section_id>/move/", views.template_section_move,
         name="template-section-move"),
    path("templates/<int:template_id>/sections/<int:section_id>/questions/", views.template_item_add,
         name="template-item-add"),
    path("templates/<int:template_id>/questions/<int:template_item_id>/", views.template_item_edit,
         name="template-item"),
    path("templates/<int:template_id>/questions/<int:template_item_id>/remove/", views.template_item_remove,
         name="template-item-remove"),
    path("templates/<int:template_id>/questions/<int:template_item_id>/move/", views.template_item_move,
         name="template-item-move"),
    path("templates/<int:template_id>/domains/", views.template_domain_add, name="template-domain-add"),
    path("templates/<int:template_id>/domains/<int:domain_id>/remove/", views.template_domain_remove,
         name="template-domain-remove"),
    path("questions/", views.local_question_list, name="local-question-list"),
    path("questions/new/", views.local_question_create, name="local-question-create"),
    path("questions/<int:local_question_id>/", views.local_question, name="local-question"),
    path("questions/<int:local_question_id>/edit/", views.local_question_edit, name="local-question-edit"),
    path("questions/<int:local_question_id>/propose/", views.local_question_propose, name="local-question-propose"),
]  # fmt: skip
