from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "tenant_apps.outbox"
    label = "outbox"
    verbose_name = "Outbound e-mail"
    default_auto_field = "django.db.models.BigAutoField"
