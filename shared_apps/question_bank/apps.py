from django.apps import AppConfig


class QuestionBankConfig(AppConfig):
    name = "shared_apps.question_bank"
    label = "question_bank"
    verbose_name = "National question bank"
    default_auto_field = "django.db.models.BigAutoField"
