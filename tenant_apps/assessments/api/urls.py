"""Assessments API paths, mounted at ``api/v1/assessments/`` in ``concord.urls_partnership``."""

from django.urls import path

from tenant_apps.assessments import api

urlpatterns = [
    path("", api.AssessmentListStartApi.as_view(), name="api-assessments"),
    path("<int:assessment_id>/", api.AssessmentDetailApi.as_view(), name="api-assessment"),
    path("<int:assessment_id>/answers/", api.AssessmentAnswersApi.as_view(), name="api-assessment-answers"),
    path("<int:assessment_id>/complete/", api.AssessmentCompleteApi.as_view(), name="api-assessment-complete"),
    path("bank/", api.BankQuestionListApi.as_view(), name="api-bank-questions"),
    path("bank/<str:code>/", api.BankQuestionDetailApi.as_view(), name="api-bank-question"),
    path("templates/", api.TemplateListApi.as_view(), name="api-templates"),
    path("templates/<int:template_id>/", api.TemplateDetailApi.as_view(), name="api-template"),
]
