from django.apps import AppConfig


class AuditAnchorsConfig(AppConfig):
    name = "shared_apps.audit_anchors"
    label = "audit_anchors"
    verbose_name = "Audit anchors"
    default_auto_field = "django.db.models.BigAutoField"
