from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "tenant_apps.audit"
    label = "audit"
    verbose_name = "Audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tenant_apps.audit import naming, selectors

        # Partnerships are the platform's (public): the operators' trail names them.
        naming.register("partnership", selectors.partnerships_named)
